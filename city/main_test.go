package city

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cherga/kiosk/city/pgtest"
	"github.com/cherga/kiosk/queue/record"
)

// shared is one cluster for the package's tests; each test gets its own
// database in it. Tests that kill the server start their own.
var quiet = slog.New(slog.DiscardHandler)

var (
	shared   *pgtest.Cluster
	sharedOK error
	dbSeq    atomic.Int64
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "city-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if c, err := pgtest.Init(dir, pgtest.Options{}); err != nil {
		sharedOK = err
	} else if err := c.Launch(); err != nil {
		sharedOK = err
	} else {
		shared = c
	}
	code := m.Run()
	if shared != nil {
		shared.Shutdown()
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

// newDSN is a fresh, empty database in the shared cluster.
func newDSN(t testing.TB) string {
	t.Helper()
	if shared == nil {
		if os.Getenv("CI") != "" || !errors.Is(sharedOK, pgtest.ErrNoPostgres) {
			t.Fatal(sharedOK)
		}
		t.Skip(sharedOK)
	}
	return shared.CreateDB(t, fmt.Sprintf("t%d", dbSeq.Add(1)))
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // a guard against hanging only
	t.Cleanup(cancel)
	return ctx
}

// openDB opens (and migrates) dsn, closed at cleanup.
func openDB(t testing.TB, dsn string) *DB {
	t.Helper()
	db, err := Open(ctxT(t), dsn, Options{Migrate: true, Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	return db
}

// newDB is a migrated DB in a fresh database with office "kyiv-1" registered.
func newDB(t testing.TB) *DB {
	t.Helper()
	db := openDB(t, newDSN(t))
	if err := db.Register(ctxT(t), Office{ID: "kyiv-1", Name: map[string]string{"uk": "Київ 1", "en": "Kyiv 1"}, Timezone: "Europe/Kyiv"}, "inst-a"); err != nil {
		t.Fatal(err)
	}
	return db
}

// someEvents are n events of one ticket-ish life from seq first, on day.
func someEvents(first uint64, n int, day string) []record.Event {
	at, _ := time.Parse(time.DateOnly, day)
	at = at.Add(9 * time.Hour)
	types := []string{record.Issued, record.Called, record.Came, record.Finished, record.Rated}
	evs := make([]record.Event, n)
	for i := range evs {
		seq := first + uint64(i)
		e := record.Event{Seq: seq, At: at.Add(time.Duration(seq) * time.Second), Day: day, Type: types[int(seq)%len(types)],
			Ticket: fmt.Sprintf("А%03d", seq/5), Service: "passport", Group: "docs", Terminal: "kiosk-1"}
		switch e.Type {
		case record.Called, record.Came, record.Finished:
			e.Window, e.Operator = 3, "olena"
		case record.Rated:
			e.Window, e.Score = 3, 5
		case record.Issued:
			e.Priority, e.Booked = 1, seq%2 == 0
		}
		evs[i] = e
	}
	return evs
}

// contextWithoutGuard drops ctxT's two-minute guard for the long benchmark.
func contextWithoutGuard(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithCancel(context.WithoutCancel(ctx))
}
