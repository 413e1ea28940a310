package ship_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jonboulle/clockwork"

	"github.com/cherga/kiosk/city"
	"github.com/cherga/kiosk/city/pgtest"
	"github.com/cherga/kiosk/configs"
	"github.com/cherga/kiosk/devices/supervise"
	"github.com/cherga/kiosk/queue"
	"github.com/cherga/kiosk/queue/record"
	"github.com/cherga/kiosk/queue/ship"
)

const officeYAML = `id: test-office
name: {uk: Тестовий офіс, en: Test office}
data_dir: unused
groups:
  - {id: subsidies, name: {uk: Субсидії, en: Subsidies}, prefix: А, minutes: 12}
  - {id: pensions, name: {uk: Пенсії, en: Pensions}, prefix: П, minutes: 15}
services:
  - {id: subsidy-housing, group: subsidies, name: {uk: Житлова субсидія, en: Housing subsidy}}
  - {id: pension-age, group: pensions, name: {uk: Пенсія за віком, en: Old-age pension}}
windows:
  - {number: 1}
  - {number: 3}
`

// fastBackoff reconnects within a few tens of milliseconds: the tests
// stop and start the database.
var fastBackoff = supervise.Backoff{Min: 5 * time.Millisecond, Max: 50 * time.Millisecond, HealthyAfter: time.Second}

// cityDB is a migrated city database on a throwaway cluster, and the
// city's view of it (as cityd would open it).
func cityDB(t testing.TB) (*pgtest.Cluster, string, *city.DB) {
	t.Helper()
	return cityDBWith(t, pgtest.Options{})
}

func cityDBWith(t testing.TB, opts pgtest.Options) (*pgtest.Cluster, string, *city.DB) {
	t.Helper()
	c := pgtest.StartWith(t, opts)
	dsn := c.CreateDB(t, "city")
	db, err := city.Open(context.Background(), dsn, city.Options{Migrate: true, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	return c, dsn, db
}

func openQueue(t testing.TB, dir string, clock clockwork.Clock) *queue.Queue {
	t.Helper()
	cfg, err := configs.ParseOffice("office.yaml", []byte(officeYAML))
	if err != nil {
		t.Fatal(err)
	}
	q, err := queue.Open(filepath.Join(dir, "queued.db"), cfg, queue.Options{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// shipper runs a shipper of q to dsn until the test ends (or stop).
func shipper(t testing.TB, q *queue.Queue, dsn string, clock clockwork.Clock, batch int) (*ship.Shipper, func()) {
	t.Helper()
	cfg := q.Config()
	s, err := ship.New(q, ship.Config{DSN: dsn, Shown: "test", Batch: batch, Clock: clock, Backoff: fastBackoff,
		Office: city.Office{ID: cfg.ID, Name: map[string]string{"uk": cfg.Name.UK, "en": cfg.Name.EN}, Timezone: cfg.Timezone}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Run(ctx)
	}()
	stop := func() {
		cancel()
		<-done
	}
	t.Cleanup(stop)
	return s, stop
}

// eventually polls cond (another goroutine's progress against a real
// database) until it holds; the deadline only guards against a hang.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 60 s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// busy makes n tickets and calls and finishes some of them: about 3n
// events.
func busy(t testing.TB, q *queue.Queue, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		svc := "subsidy-housing"
		if i%2 == 1 {
			svc = "pension-age"
		}
		if _, _, err := q.Issue(svc, "api"); err != nil {
			t.Fatal(err)
		}
		if i%3 == 0 {
			if _, _, err := q.Next(1 + 2*(i%2)); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// cityEvents is every event of the office in the city's database.
func cityEvents(t testing.TB, db *city.DB) []record.Event {
	t.Helper()
	var out []record.Event
	for e, err := range db.Events(context.Background(), []string{"test-office"}, "2000-01-01", "2100-01-01") {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e.Event)
	}
	return out
}

// checkExactlyOnce checks the city holds the office's log 1..q.LastSeq,
// each event once, equal to the office's.
func checkExactlyOnce(t testing.TB, q *queue.Queue, db *city.DB) {
	t.Helper()
	want, err := q.EventsAfter(0, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	got := cityEvents(t, db)
	if len(got) != len(want) || uint64(len(want)) != q.LastSeq() {
		t.Fatalf("city has %d events, the office %d (last seq %d)", len(got), len(want), q.LastSeq())
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Seq != uint64(i+1) {
			t.Fatalf("city event %d has seq %d", i, g.Seq)
		}
		// PostgreSQL keeps microseconds.
		if !g.At.Equal(w.At.Truncate(time.Microsecond)) {
			t.Errorf("seq %d: at %s, office %s", w.Seq, g.At, w.At)
		}
		g.At, w.At = time.Time{}, time.Time{}
		if g != w {
			t.Errorf("seq %d:\ncity   %+v\noffice %+v", w.Seq, g, w)
		}
		if t.Failed() {
			t.FailNow()
		}
	}
}

func shippedIs(db *city.DB, want uint64) func() bool {
	return func() bool {
		n, err := db.Shipped(context.Background(), "test-office")
		return err == nil && n == want
	}
}

// Every event reaches the city once and in order, the first batch and
// those that follow as the office works; a shipper started again sends
// nothing twice.
func TestShipsOnceInOrder(t *testing.T) {
	_, dsn, db := cityDB(t)
	clock := clockwork.NewRealClock()
	q := openQueue(t, t.TempDir(), clock)
	defer q.Close()
	busy(t, q, 40)
	s, stop := shipper(t, q, dsn, clock, 7)
	eventually(t, "first backlog shipped", shippedIs(db, q.LastSeq()))
	busy(t, q, 10)
	eventually(t, "new events shipped", shippedIs(db, q.LastSeq()))
	checkExactlyOnce(t, q, db)
	st := s.Status()
	if !st.Connected || st.Backlog != 0 || st.ShippedNew != q.LastSeq() || st.Alarm != "" {
		t.Errorf("status %+v", st)
	}
	stop()
	if pos, _ := q.CityPosition(); pos != q.LastSeq() {
		t.Errorf("position stored at stop %d, want %d", pos, q.LastSeq())
	}
	s2, _ := shipper(t, q, dsn, clock, 7)
	busy(t, q, 2)
	eventually(t, "shipped after a restart", shippedIs(db, q.LastSeq()))
	if n := s2.Status().ShippedNew; n != q.LastSeq()-s.Status().Shipped {
		t.Errorf("restarted shipper stored %d new events, want only the %d since", n, q.LastSeq()-s.Status().Shipped)
	}
	checkExactlyOnce(t, q, db)
}

// The database stopped: the office issues and calls on, the backlog and
// its age show; started again, the backlog ships, once.
func TestDatabaseDown(t *testing.T) {
	c, dsn, db := cityDB(t)
	clock := clockwork.NewRealClock()
	q := openQueue(t, t.TempDir(), clock)
	defer q.Close()
	s, _ := shipper(t, q, dsn, clock, 50)
	busy(t, q, 5)
	eventually(t, "shipped", shippedIs(db, q.LastSeq()))
	c.Stop(t)
	before := q.LastSeq()
	busy(t, q, 100) // every call answers while the database is away
	eventually(t, "the loss seen", func() bool { return !s.Status().Connected })
	st := s.Status()
	if st.Backlog != q.LastSeq()-before || st.Oldest == nil || st.LastError == "" {
		t.Errorf("status while down %+v, want a backlog of %d", st, q.LastSeq()-before)
	}
	c.Restart(t)
	eventually(t, "backlog shipped", shippedIs(db, q.LastSeq()))
	checkExactlyOnce(t, q, db)
	if st := s.Status(); st.Backlog != 0 || st.Errors == 0 {
		t.Errorf("status after %+v", st)
	}
}

// The database killed (as a crash) in the middle of a large backlog,
// and started again: nothing lost, nothing twice.
func TestDatabaseKilledMidBatch(t *testing.T) {
	c, dsn, db := cityDB(t)
	clock := clockwork.NewRealClock()
	q := openQueue(t, t.TempDir(), clock)
	defer q.Close()
	busy(t, q, 1500)
	s, _ := shipper(t, q, dsn, clock, 20)
	eventually(t, "shipping under way", func() bool { return s.Status().Shipped > 100 })
	c.Kill(t)
	if s.Status().Shipped == q.LastSeq() {
		t.Fatal("the backlog shipped before the kill; make it larger")
	}
	c.Restart(t)
	eventually(t, "backlog shipped", shippedIs(db, q.LastSeq()))
	checkExactlyOnce(t, q, db)
}

// A second queued with the same office id is refused with a clear
// message and ships nothing; it tries again after TakenRetry.
func TestOfficeTaken(t *testing.T) {
	_, dsn, db := cityDB(t)
	real := clockwork.NewRealClock()
	q1 := openQueue(t, t.TempDir(), real)
	defer q1.Close()
	busy(t, q1, 3)
	shipper(t, q1, dsn, real, 50)
	eventually(t, "first shipped", shippedIs(db, q1.LastSeq()))

	fake := clockwork.NewFakeClockAt(time.Now())
	q2 := openQueue(t, t.TempDir(), fake)
	defer q2.Close()
	busy(t, q2, 10)
	s2, _ := shipper(t, q2, dsn, fake, 50)
	want := "office id test-office is used by another queued; give this office its own id"
	eventually(t, "refused", func() bool { return s2.Status().Alarm == want })
	if st := s2.Status(); st.Connected || st.Shipped != 0 || st.Backlog != q2.LastSeq() {
		t.Errorf("refused shipper %+v", st)
	}
	if n, _ := db.Shipped(context.Background(), "test-office"); n != q1.LastSeq() {
		t.Errorf("the city has %d of the office's events, want the first queued's %d", n, q1.LastSeq())
	}
	// It waits TakenRetry on its clock, then (after the reconnect's
	// backoff) claims again, and is refused again: the first still holds
	// the id.
	ctx := context.Background()
	if err := fake.BlockUntilContext(ctx, 1); err != nil {
		t.Fatal(err)
	}
	fake.Advance(ship.TakenRetry)
	if err := fake.BlockUntilContext(ctx, 1); err != nil { // the backoff
		t.Fatal(err)
	}
	fake.Advance(time.Second)
	if err := fake.BlockUntilContext(ctx, 1); err != nil { // refused again, waiting
		t.Fatal(err)
	}
	if st := s2.Status(); st.Errors != 1 || st.Alarm != want || st.Shipped != 0 {
		t.Errorf("after the retry %+v", st)
	}
}

// The status page learns the office's waiting counts and windows.
func TestStatus(t *testing.T) {
	_, dsn, db := cityDB(t)
	clock := clockwork.NewRealClock()
	q := openQueue(t, t.TempDir(), clock)
	defer q.Close()
	busy(t, q, 4)
	shipper(t, q, dsn, clock, 50)
	status := func() *city.Status {
		all, err := db.Statuses(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range all {
			if o.Office.ID == "test-office" {
				return o.Status
			}
		}
		return nil
	}
	eventually(t, "status sent", func() bool { st := status(); return st != nil && st.LastSeq == q.LastSeq() })
	st := status()
	if st.Waiting["subsidies"] != 1 || st.Waiting["pensions"] != 1 || st.WindowsOpen != 2 || !st.Open ||
		st.GroupNames["pensions"]["uk"] != "Пенсії" {
		t.Errorf("status %+v", st)
	}
	if _, _, err := q.Issue("pension-age", "api"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "status changed", func() bool { st := status(); return st != nil && st.Waiting["pensions"] == 2 })
}

// The office's "next" with shipping on costs what it costs without.
func BenchmarkNext(b *testing.B) {
	for _, on := range []bool{false, true} {
		b.Run(fmt.Sprintf("shipping=%v", on), func(b *testing.B) {
			clock := clockwork.NewRealClock()
			q := openQueue(b, b.TempDir(), clock)
			defer q.Close()
			if on {
				// The city's database is on another machine in an office:
				// here it shares the disk, so it does not fsync.
				_, dsn, _ := cityDBWith(b, pgtest.Options{Fast: true})
				shipper(b, q, dsn, clock, 500)
			}
			// The visitors first (issued, and shipped meanwhile), then
			// "next" alone is timed, each call an event to ship.
			for range b.N {
				if _, _, err := q.Issue("subsidy-housing", "api"); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			for range b.N {
				if _, _, err := q.Next(1); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
		})
	}
}

// A DSN naming a dead host first and the live database second connects
// to the live one (libpq's multi-host fail-over, as the city's standby
// pair is named).
func TestFailoverDSN(t *testing.T) {
	c, _, db := cityDB(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().(*net.TCPAddr).Port
	ln.Close() // nothing answers there now
	dsn := fmt.Sprintf("host=127.0.0.1,127.0.0.1 port=%d,%d dbname=city user=postgres sslmode=disable target_session_attrs=read-write connect_timeout=5", dead, c.Port)
	clock := clockwork.NewRealClock()
	q := openQueue(t, t.TempDir(), clock)
	defer q.Close()
	busy(t, q, 5)
	shipper(t, q, dsn, clock, 50)
	eventually(t, "shipped through the second host", shippedIs(db, q.LastSeq()))
	checkExactlyOnce(t, q, db)
}

// The position is written to the office's database at most once a
// second (on the office's clock), however many batches go.
func TestPositionCoalesced(t *testing.T) {
	_, dsn, db := cityDB(t)
	clock := clockwork.NewFakeClockAt(time.Now())
	q := openQueue(t, t.TempDir(), clock)
	defer q.Close()
	busy(t, q, 10)
	s, _ := shipper(t, q, dsn, clock, 2)
	eventually(t, "shipped", shippedIs(db, q.LastSeq()))
	// The heartbeat and the position's timer wait on the clock.
	if err := clock.BlockUntilContext(context.Background(), 2); err != nil {
		t.Fatal(err)
	}
	if pos, _ := q.CityPosition(); pos != 2 {
		t.Errorf("position stored %d before a second passed, want the first batch's 2", pos)
	}
	clock.Advance(ship.PositionEvery)
	eventually(t, "position stored", func() bool { pos, _ := q.CityPosition(); return pos == q.LastSeq() })
	if st := s.Status(); st.Shipped != q.LastSeq() {
		t.Errorf("status %+v", st)
	}
}

// A city database cityd has not set up yet: the shipper says to start
// cityd first, and ships once the schema is there.
func TestSchemaMissing(t *testing.T) {
	c := pgtest.Start(t)
	dsn := c.CreateDB(t, "city")
	clock := clockwork.NewRealClock()
	q := openQueue(t, t.TempDir(), clock)
	defer q.Close()
	busy(t, q, 3)
	s, _ := shipper(t, q, dsn, clock, 50)
	eventually(t, "told to start cityd", func() bool { return strings.Contains(s.Status().LastError, "start cityd first") })
	db, err := city.Open(context.Background(), dsn, city.Options{Migrate: true, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	eventually(t, "shipped once migrated", shippedIs(db, q.LastSeq()))
}

// An office whose clock is an hour slow: its events reach the city at
// the database's time (corrected by the measured offset), their day as
// the office numbered them; the status carries the corrected time.
func TestClockOffCorrected(t *testing.T) {
	_, dsn, db := cityDB(t)
	slow := time.Hour
	clock := clockwork.NewFakeClockAt(time.Now().Add(-slow))
	q := openQueue(t, t.TempDir(), clock)
	defer q.Close()
	busy(t, q, 3)
	s, _ := shipper(t, q, dsn, clock, 50)
	eventually(t, "shipped", shippedIs(db, q.LastSeq()))
	if off := s.Offset(); (off - slow).Abs() > 10*time.Second {
		t.Errorf("measured offset %s, want about %s", off, slow)
	}
	office, err := q.EventsAfter(0, 100)
	if err != nil {
		t.Fatal(err)
	}
	got := cityEvents(t, db)
	if len(got) != len(office) {
		t.Fatalf("%d events in the city, %d in the office", len(got), len(office))
	}
	for i := range office {
		if d := got[i].At.Sub(office[i].At) - s.Offset(); d.Abs() > time.Millisecond || got[i].Day != office[i].Day {
			t.Errorf("seq %d: city %s %s, office %s %s (offset %s)", office[i].Seq, got[i].At, got[i].Day, office[i].At, office[i].Day, s.Offset())
		}
	}
	var st *city.Status
	eventually(t, "a status", func() bool {
		all, err := db.Statuses(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range all {
			if o.Office.ID == "test-office" && o.Status != nil {
				st = o.Status
			}
		}
		return st != nil
	})
	if st.At.Sub(time.Now()).Abs() > 10*time.Second {
		t.Errorf("status at %s, want its time corrected to about now", st.At)
	}
}

// The city's database lost the last events it had taken (a fail-over to a
// standby that had not received them, a restore): the office sends them
// again from the database's own count, and the city has every event once.
func TestReshipsWhatTheDatabaseLost(t *testing.T) {
	_, dsn, db := cityDB(t)
	clock := clockwork.NewRealClock()
	q := openQueue(t, t.TempDir(), clock)
	defer q.Close()
	busy(t, q, 30)
	_, stop := shipper(t, q, dsn, clock, 10)
	eventually(t, "shipped", shippedIs(db, q.LastSeq()))
	stop()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	lost := q.LastSeq() - 25
	if _, err := conn.Exec(context.Background(), "delete from events where office = 'test-office' and seq > $1", lost); err != nil {
		t.Fatal(err)
	}
	if n, _ := db.Shipped(context.Background(), "test-office"); n != lost {
		t.Fatalf("after the loss the database has up to %d, want %d", n, lost)
	}
	shipper(t, q, dsn, clock, 10)
	eventually(t, "sent again", shippedIs(db, q.LastSeq()))
	checkExactlyOnce(t, q, db)
}

// An office whose queued.db was restored from an older copy has a log
// shorter than what the city holds of it: its new events would reuse
// numbers the city has and be dropped as resends. It ships nothing and
// says why, rather than lose them silently.
func TestRestoredOfficeShipsNothing(t *testing.T) {
	_, dsn, db := cityDB(t)
	clock := clockwork.NewRealClock()
	dirA, dirB := t.TempDir(), t.TempDir()
	q := openQueue(t, dirA, clock)
	busy(t, q, 5)
	_, stop := shipper(t, q, dsn, clock, 10)
	eventually(t, "shipped", shippedIs(db, q.LastSeq()))
	stop()
	old := q.LastSeq()
	q.Close()
	backup, err := os.ReadFile(filepath.Join(dirA, "queued.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dirB, "queued.db"), backup, 0o600); err != nil {
		t.Fatal(err)
	}
	q = openQueue(t, dirA, clock)
	busy(t, q, 10)
	_, stop = shipper(t, q, dsn, clock, 10)
	eventually(t, "shipped", shippedIs(db, q.LastSeq()))
	stop()
	inCity := q.LastSeq()
	q.Close()

	restored := openQueue(t, dirB, clock)
	defer restored.Close()
	if restored.LastSeq() != old {
		t.Fatalf("the restored log ends at %d, want %d", restored.LastSeq(), old)
	}
	busy(t, restored, 3)
	s, _ := shipper(t, restored, dsn, clock, 10)
	eventually(t, "the clash said", func() bool { return strings.Contains(s.Status().LastError, "restored from an older copy") })
	if n, _ := db.Shipped(context.Background(), "test-office"); n != inCity {
		t.Errorf("the city has up to %d after the restored office connected, want its %d untouched", n, inCity)
	}
}
