package cityd

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	bolt "go.etcd.io/bbolt"

	"github.com/cherga/kiosk/city"
	"github.com/cherga/kiosk/city/pgtest"
	"github.com/cherga/kiosk/configs"
	"github.com/cherga/kiosk/queue/access"
	"github.com/cherga/kiosk/queue/record"
)

var kyiv = mustZone("Europe/Kyiv")

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// newDB starts a PostgreSQL cluster for the test and opens its city
// database, migrated.
func newDB(t testing.TB) (*city.DB, string) {
	t.Helper()
	c := pgtest.StartWith(t, pgtest.Options{Fast: true})
	dsn := c.CreateDB(t, "city")
	db, err := city.Open(context.Background(), dsn, city.Options{Migrate: true, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	return db, dsn
}

// testPassword is the supervisor olena's.
const testPassword = "каштани цвітуть у травні"

// fixture is a cityd serving one test's database.
type fixture struct {
	t      testing.TB
	db     *city.DB
	srv    *Server
	http   *httptest.Server
	clock  *clockwork.FakeClock
	cfg    *configs.CityServer
	tokens map[string]string // name → secret
}

func newFixture(t testing.TB, offices []string) *fixture {
	t.Helper()
	db, _ := newDB(t)
	dir := t.TempDir()
	cfg := configs.DefaultCityServer()
	cfg.DataDir = dir
	cfg.Database.DSN = "host=/nonexistent dbname=city" // unused: the test's db is given
	cfg.Offices = offices
	cfg.Names = []string{"city.example"}
	f := &fixture{t: t, db: db, cfg: &cfg, clock: clockwork.NewFakeClockAt(time.Now()), tokens: map[string]string{}}

	// Tokens made before the server reads the file.
	store, err := access.OpenStore(filepath.Join(dir, "access.json"),
		access.StoreOptions{Clock: f.clock, HashParams: access.HashParams{Memory: 64, Time: 1, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	for name, scopes := range map[string][]string{"stats": {access.ScopeStats}, "tickets": {access.ScopeTickets}} {
		secret, err := store.AddToken(name, scopes)
		if err != nil {
			t.Fatal(err)
		}
		f.tokens[name] = secret
	}
	if err := store.AddUser(access.User{Name: "olena", DisplayName: "Олена Коваль", Role: access.RoleSupervisor}, testPassword); err != nil {
		t.Fatal(err)
	}
	sessions, err := bolt.Open(filepath.Join(dir, "cityd.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sessions.Close() })
	f.srv, err = New(Options{Config: f.cfg, DB: db, AccessFile: filepath.Join(dir, "access.json"),
		Sessions: sessions, Clock: f.clock, StatusCache: -1})
	if err != nil {
		t.Fatal(err)
	}
	f.http = httptest.NewServer(f.srv)
	t.Cleanup(f.http.Close)
	return f
}

// get sends GET path with the token named (or none: "").
func (f *fixture) get(path, token string, header ...string) *http.Response {
	f.t.Helper()
	req, err := http.NewRequest(http.MethodGet, f.http.URL+path, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+f.tokens[token])
	}
	for i := 0; i+1 < len(header); i += 2 {
		if header[i] == "Host" {
			req.Host = header[i+1]
			continue
		}
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// groupNames are the names of n groups of an office.
func groupNames(n int) map[string]map[string]string {
	long := []string{"Соціальні виплати та субсидії для родин з дітьми", "Паспорти", "Реєстрація місця проживання",
		"Земельні питання", "Транспорт", "Бізнес", "Пенсії", "Довідки", "Нерухомість", "Інше"}
	m := map[string]map[string]string{}
	for i := range n {
		id := fmt.Sprintf("g%02d", i)
		m[id] = map[string]string{"uk": long[i%len(long)], "en": fmt.Sprintf("Group %d", i)}
	}
	return m
}

func register(t testing.TB, db *city.DB, id, nameUK string) {
	t.Helper()
	err := db.Register(context.Background(), city.Office{ID: id, Name: map[string]string{"uk": nameUK, "en": "Centre " + id}, Timezone: "Europe/Kyiv"}, "instance-"+id)
	if err != nil {
		t.Fatal(err)
	}
}

// simulateDays makes an office's record of days (YYYY-MM-DD) in log
// order, Seq from 1: visitors issued from 08:00 to 17:00 to ten groups'
// services, called, served, some no-shows, transfers, cancellations and
// ratings, window events between, as a queued writes it.
func simulateDays(seed uint64, days []string, perDay int) []record.Event {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	var out []record.Event
	for _, day := range days {
		d0, _ := time.ParseInLocation(time.DateOnly, day, kyiv)
		var evs []record.Event
		add := func(e record.Event) { e.Day = day; evs = append(evs, e) }
		for w := 1; w <= 6; w++ {
			add(record.Event{At: d0.Add(8 * time.Hour), Type: record.SignedIn, Window: w, Operator: fmt.Sprintf("op%d", w)})
		}
		prefixes := []string{"А", "Б", "В", "Г", "Д", "Е", "Є", "Ж", "З", "И"}
		count := map[string]int{}
		for range perDay {
			g := rng.IntN(10)
			group := fmt.Sprintf("g%02d", g)
			service := fmt.Sprintf("s%02d-%d", g, rng.IntN(2))
			count[group]++
			ticket := fmt.Sprintf("%s%03d", prefixes[g], count[group])
			at := d0.Add(8*time.Hour + time.Duration(rng.IntN(9*3600))*time.Second)
			add(record.Event{At: at, Type: record.Issued, Ticket: ticket, Service: service, Group: group, Terminal: "kiosk-1"})
			w := 1 + rng.IntN(6)
			op := fmt.Sprintf("op%d", w)
			if rng.IntN(25) == 0 { // cancelled by the API before a call
				add(record.Event{At: at.Add(time.Minute), Type: record.Cancelled, Ticket: ticket, Service: service, Group: group, Terminal: "api"})
				continue
			}
			if rng.IntN(40) == 0 { // still waiting when the day's record ends
				continue
			}
			called := at.Add(time.Duration(30+rng.IntN(1800)) * time.Second)
			add(record.Event{At: called, Type: record.Called, Ticket: ticket, Service: service, Group: group, Window: w, Operator: op})
			if rng.IntN(12) == 0 {
				add(record.Event{At: called.Add(2 * time.Minute), Type: record.Recalled, Ticket: ticket, Service: service, Group: group, Window: w, Operator: op})
				add(record.Event{At: called.Add(4 * time.Minute), Type: record.NoShow, Ticket: ticket, Service: service, Group: group, Window: w, Operator: op})
				continue
			}
			came := called.Add(time.Duration(10+rng.IntN(90)) * time.Second)
			add(record.Event{At: came, Type: record.Came, Ticket: ticket, Service: service, Group: group, Window: w, Operator: op})
			end := came.Add(time.Duration(120+rng.IntN(1200)) * time.Second)
			if rng.IntN(10) == 0 { // transferred to another window's service, then served
				to := fmt.Sprintf("s%02d-%d", (g+1)%10, 0)
				add(record.Event{At: end, Type: record.Transferred, Ticket: ticket, Service: service, Group: group, Window: w, Operator: op, ToService: to, ToGroup: fmt.Sprintf("g%02d", (g+1)%10)})
				w2 := 1 + (w % 6)
				op2 := fmt.Sprintf("op%d", w2)
				c2 := end.Add(time.Duration(60+rng.IntN(600)) * time.Second)
				add(record.Event{At: c2, Type: record.Called, Ticket: ticket, Window: w2, Operator: op2})
				end = c2.Add(time.Duration(120+rng.IntN(600)) * time.Second)
				add(record.Event{At: end, Type: record.Finished, Ticket: ticket, Service: to, Group: fmt.Sprintf("g%02d", (g+1)%10), Window: w2, Operator: op2})
				w = w2
			} else {
				add(record.Event{At: end, Type: record.Finished, Ticket: ticket, Service: service, Group: group, Window: w, Operator: op})
			}
			if rng.IntN(3) == 0 {
				add(record.Event{At: end.Add(20 * time.Second), Type: record.Rated, Ticket: ticket, Window: w, Score: 1 + rng.IntN(5)})
			}
		}
		slices.SortStableFunc(evs, func(a, b record.Event) int { return a.At.Compare(b.At) })
		out = append(out, evs...)
	}
	for i := range out {
		out[i].Seq = uint64(i + 1)
	}
	return out
}

// appendAll ships events to the database in batches, as a shipper does.
func appendAll(t testing.TB, db *city.DB, office string, events []record.Event) {
	t.Helper()
	for i := 0; i < len(events); i += 500 {
		batch := events[i:min(i+500, len(events))]
		n, err := db.Append(context.Background(), office, batch)
		if err != nil {
			t.Fatal(err)
		}
		if n != len(batch) {
			t.Fatalf("office %s: %d of %d events new", office, n, len(batch))
		}
	}
}

func readAll(t testing.TB, resp *http.Response) string {
	t.Helper()
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return b.String()
}

// realClock is the real time as a clockwork.Clock, for a test whose page
// compares with the database's clock.
type realClock struct{ clockwork.Clock }

func (realClock) Now() time.Time { return time.Now() }
