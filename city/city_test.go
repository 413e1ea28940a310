package city

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cherga/kiosk/city/pgtest"
	"github.com/cherga/kiosk/queue/record"
)

func TestMigrateTwiceAndConcurrently(t *testing.T) {
	dsn := newDSN(t)
	ctx := ctxT(t)
	// Before any migration, a non-migrating Open refuses clearly.
	if _, err := Open(ctx, dsn, Options{Log: quiet}); !errors.Is(err, ErrSchema) || !strings.Contains(err.Error(), "start cityd first") {
		t.Fatalf("Open of an empty database: %v, want ErrSchema saying start cityd first", err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db, err := Open(ctx, dsn, Options{Migrate: true, Log: quiet})
			if err == nil {
				err = db.Migrate(ctx) // and again: nothing to do
				db.Close()
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	db, err := Open(ctx, dsn, Options{Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n, v int
	if err := db.pool.QueryRow(ctx, `select count(*), max(version) from schema_migrations`).Scan(&n, &v); err != nil {
		t.Fatal(err)
	}
	if n != len(migrations) || v != SchemaVersion() {
		t.Fatalf("schema_migrations: %d rows, version %d; want %d", n, v, SchemaVersion())
	}
	// A database newer than this build is refused by both kinds of Open.
	if _, err := db.pool.Exec(ctx, `insert into schema_migrations (version, name) values ($1, 'future')`, SchemaVersion()+1); err != nil {
		t.Fatal(err)
	}
	for _, migrate := range []bool{false, true} {
		if _, err := Open(ctx, dsn, Options{Migrate: migrate, Log: quiet}); !errors.Is(err, ErrSchema) || !strings.Contains(err.Error(), "upgrade this program") {
			t.Fatalf("Open(Migrate=%v) of a newer schema: %v", migrate, err)
		}
	}
}

func TestAppendIdempotent(t *testing.T) {
	db := newDB(t)
	ctx := ctxT(t)
	if n, err := db.Shipped(ctx, "kyiv-1"); err != nil || n != 0 {
		t.Fatalf("Shipped of nothing: %d, %v", n, err)
	}
	evs := someEvents(1, 100, "2026-03-10")
	for i, want := range []int{100, 0} { // the same batch twice
		n, err := db.Append(ctx, "kyiv-1", evs)
		if err != nil || n != want {
			t.Fatalf("Append #%d: %d, %v; want %d", i, n, err, want)
		}
	}
	// Overlapping: 51..150 adds 101..150.
	if n, err := db.Append(ctx, "kyiv-1", someEvents(51, 100, "2026-03-10")); err != nil || n != 50 {
		t.Fatalf("overlapping Append: %d, %v; want 50", n, err)
	}
	if n, err := db.Shipped(ctx, "kyiv-1"); err != nil || n != 150 {
		t.Fatalf("Shipped: %d, %v; want 150", n, err)
	}
	// Out of order and duplicates inside a batch are refused whole.
	bad := someEvents(151, 3, "2026-03-10")
	bad[1], bad[2] = bad[2], bad[1]
	if _, err := db.Append(ctx, "kyiv-1", bad); !errors.Is(err, ErrOrder) {
		t.Fatalf("out of order: %v", err)
	}
	dup := someEvents(151, 2, "2026-03-10")
	dup[1].Seq = 151
	if _, err := db.Append(ctx, "kyiv-1", dup); !errors.Is(err, ErrOrder) {
		t.Fatalf("duplicate seq: %v", err)
	}
	if _, err := db.Append(ctx, "nowhere", someEvents(1, 1, "2026-03-10")); !errors.Is(err, ErrNotRegistered) {
		t.Fatalf("unregistered office: %v", err)
	}
	for _, day := range []string{"", "2026-3-1", "10.03.2026"} {
		if _, err := db.Append(ctx, "kyiv-1", []record.Event{{Seq: 151, At: time.Now(), Day: day, Type: record.Issued}}); err == nil {
			t.Fatalf("day %q accepted", day)
		}
	}
	if n, _ := db.Shipped(ctx, "kyiv-1"); n != 150 {
		t.Fatalf("refused batches changed Shipped: %d", n)
	}
}

// collect reads Events fully.
func collect(t *testing.T, db *DB, offices []string, from, to string) []OfficeEvent {
	t.Helper()
	var out []OfficeEvent
	for e, err := range db.Events(ctxT(t), offices, from, to) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

func TestEventsRoundTripOrderAndRange(t *testing.T) {
	db := newDB(t)
	ctx := ctxT(t)
	if err := db.Register(ctx, Office{ID: "lviv-2", Timezone: "Europe/Kyiv"}, "inst-b"); err != nil {
		t.Fatal(err)
	}
	// Across months and a year's end; an office's days rise with its seq.
	days := []string{"2025-12-31", "2026-01-01", "2026-01-31", "2026-02-01", "2026-03-15"}
	var sent []record.Event
	seq := uint64(1)
	for _, d := range days {
		evs := someEvents(seq, 7, d)
		seq += 7
		sent = append(sent, evs...)
	}
	sent = append(sent, record.Event{Seq: seq, At: time.Date(2026, 3, 15, 10, 0, 0, 123456000, time.UTC), Day: "2026-03-15",
		Type: record.Transferred, Ticket: "Б001", Service: "passport", Group: "docs", Window: 2, ToService: "tax", ToGroup: "money",
		ToWindow: 4, Operator: "ivan", Terminal: "operator", Reason: "x", Priority: 2, Offline: true})
	// lviv-2 first, in two batches, to see the order is by office, not by arrival.
	if _, err := db.Append(ctx, "lviv-2", sent[:20]); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Append(ctx, "lviv-2", sent[20:]); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Append(ctx, "kyiv-1", sent); err != nil {
		t.Fatal(err)
	}
	var parts int
	if err := db.pool.QueryRow(ctx, `select count(*) from pg_inherits where inhparent = 'events'::regclass`).Scan(&parts); err != nil || parts != 4 {
		t.Fatalf("partitions: %d, %v; want 4 (2025-12, 2026-01, -02, -03)", parts, err)
	}

	all := collect(t, db, nil, "2000-01-01", "2100-01-01")
	if len(all) != 2*len(sent) {
		t.Fatalf("%d events, want %d", len(all), 2*len(sent))
	}
	for i, e := range all {
		wantOffice, want := "kyiv-1", sent[i%len(sent)]
		if i >= len(sent) {
			wantOffice = "lviv-2"
		}
		if e.Office != wantOffice || !e.At.Equal(want.At) {
			t.Fatalf("event %d: %s %v, want %s %v", i, e.Office, e.At, wantOffice, want.At)
		}
		e.At, want.At = time.Time{}, time.Time{}
		if e.Event != want {
			t.Fatalf("event %d:\n got %+v\nwant %+v", i, e.Event, want)
		}
	}

	// The text format (simple protocol, as behind pgbouncer) decodes alike.
	simple := openDB(t, db.pool.Config().ConnString()+" default_query_exec_mode=simple_protocol")
	for i, e := range collect(t, simple, nil, "2000-01-01", "2100-01-01") {
		if !e.At.Equal(all[i].At) {
			t.Fatalf("simple protocol: event %d at %v, want %v", i, e.At, all[i].At)
		}
		e.At = all[i].At
		if e != all[i] {
			t.Fatalf("simple protocol: event %d:\n got %+v\nwant %+v", i, e, all[i])
		}
	}

	jan := collect(t, db, []string{"lviv-2"}, "2026-01-01", "2026-01-31")
	if len(jan) != 14 || jan[0].Day != "2026-01-01" || jan[13].Day != "2026-01-31" || jan[0].Seq != 8 {
		t.Fatalf("January of lviv-2: %d events %+v", len(jan), jan)
	}
	if got := collect(t, db, []string{}, "2000-01-01", "2100-01-01"); len(got) != 0 {
		t.Fatalf("no offices: %d events", len(got))
	}
	for _, err := range db.Events(ctx, nil, "2026-13-01", "2026-01-01") {
		if err == nil {
			t.Fatal("bad range: no error")
		}
	}
	// Stopping early is fine.
	for range db.Events(ctx, nil, "2000-01-01", "2100-01-01") {
		break
	}

	// Retention: keep ~ since 2026-02-10 by the DB's clock: drops 2025-12 and 2026-01.
	var now time.Time
	if err := db.pool.QueryRow(ctx, `select now()`).Scan(&now); err != nil {
		t.Fatal(err)
	}
	if err := db.Retain(ctx, now.Sub(time.Date(2026, 2, 10, 12, 0, 0, 0, time.UTC))); err != nil {
		t.Fatal(err)
	}
	left := collect(t, db, nil, "2000-01-01", "2100-01-01")
	if len(left) != 2*15 || left[0].Day != "2026-02-01" {
		t.Fatalf("after retention: %d events, first %+v", len(left), left[0])
	}
	// A late event for a dropped month makes its partition again.
	if n, err := db.Append(ctx, "kyiv-1", []record.Event{{Seq: 100, At: now, Day: "2026-01-05", Type: record.Cancelled}}); err != nil || n != 1 {
		t.Fatalf("append after retention: %d, %v", n, err)
	}
}

func TestRegisterConflict(t *testing.T) {
	db := newDB(t)
	ctx := ctxT(t)
	// Same instance again: fine (a restart), and names update.
	if err := db.Register(ctx, Office{ID: "kyiv-1", Name: map[string]string{"uk": "Київ, Хрещатик"}}, "inst-a"); err != nil {
		t.Fatal(err)
	}
	err := db.Register(ctx, Office{ID: "kyiv-1"}, "inst-z")
	if !errors.Is(err, ErrOfficeTaken) || !strings.Contains(err.Error(), "inst-a") || !strings.Contains(err.Error(), "inst-z") {
		t.Fatalf("second instance: %v", err)
	}
	sts, err := db.Statuses(ctx)
	if err != nil || len(sts) != 1 || sts[0].Office.Name["uk"] != "Київ, Хрещатик" {
		t.Fatalf("statuses: %+v, %v", sts, err)
	}
}

func TestStatuses(t *testing.T) {
	db := newDB(t)
	ctx := ctxT(t)
	if err := db.Register(ctx, Office{ID: "dnipro-3", Name: map[string]string{"uk": "Дніпро"}, Timezone: "Europe/Kyiv"}, "inst-c"); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 10, 9, 30, 0, 0, time.UTC)
	st := Status{Office: "kyiv-1", At: at, Open: true, WindowsOpen: 3, Waiting: map[string]int{"docs": 4},
		WaitMinutes: map[string]int{"docs": 12}, GroupNames: map[string]map[string]string{"docs": {"uk": "Документи", "en": "Documents"}}, LastSeq: 9}
	if err := db.PutStatus(ctx, st); err != nil {
		t.Fatal(err)
	}
	st.Waiting["docs"], st.LastSeq = 5, 10
	if err := db.PutStatus(ctx, st); err != nil { // replaces
		t.Fatal(err)
	}
	if _, err := db.Append(ctx, "kyiv-1", someEvents(1, 8, "2026-03-10")); err != nil {
		t.Fatal(err)
	}
	if err := db.PutStatus(ctx, Status{Office: "ghost", At: at}); !errors.Is(err, ErrNotRegistered) {
		t.Fatalf("status of an unregistered office: %v", err)
	}
	sts, err := db.Statuses(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(sts) != 2 || sts[0].Office.ID != "dnipro-3" || sts[0].Status != nil || sts[0].ShippedSeq != 0 || !sts[0].ReceivedAt.IsZero() {
		t.Fatalf("dnipro-3: %+v", sts)
	}
	k := sts[1]
	if k.Office.ID != "kyiv-1" || k.Office.Timezone != "Europe/Kyiv" || k.ShippedSeq != 8 || k.Status == nil || k.ReceivedAt.IsZero() {
		t.Fatalf("kyiv-1: %+v", k)
	}
	got := *k.Status
	if !got.At.Equal(at) || got.Waiting["docs"] != 5 || got.LastSeq != 10 || got.WaitMinutes["docs"] != 12 ||
		got.GroupNames["docs"]["en"] != "Documents" || !got.Open || got.WindowsOpen != 3 || got.Office != "kyiv-1" {
		t.Fatalf("kyiv-1 status: %+v", got)
	}
}

// TestKillMidTransaction kills the server between Append's insert and its
// commit: after recovery nothing of the batch is there, and sending it
// again stores it once.
func TestKillMidTransaction(t *testing.T) {
	c := pgtest.Start(t)
	dsn := c.CreateDB(t, "city")
	db := openDB(t, dsn)
	ctx := ctxT(t)
	if err := db.Register(ctx, Office{ID: "kyiv-1"}, "inst-a"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Append(ctx, "kyiv-1", someEvents(1, 500, "2026-04-01")); err != nil {
		t.Fatal(err)
	}
	testHookBeforeCommit = func() { c.Kill(t) }
	_, err := db.Append(ctx, "kyiv-1", someEvents(501, 500, "2026-05-02")) // a new month, too
	testHookBeforeCommit = nil
	if err == nil {
		t.Fatal("Append survived the kill")
	}
	c.Restart(t)
	if n, err := db.Shipped(ctx, "kyiv-1"); err != nil || n != 500 {
		t.Fatalf("after the kill: shipped %d, %v; want 500", n, err)
	}
	var count int
	if err := db.pool.QueryRow(ctx, `select count(*) from events`).Scan(&count); err != nil || count != 500 {
		t.Fatalf("after the kill: %d rows, %v", count, err)
	}
	// Against the rule, an event resent with another day: still once.
	moved := someEvents(500, 1, "2026-04-02")
	if n, err := db.Append(ctx, "kyiv-1", moved); err != nil || n != 0 {
		t.Fatalf("seq 500 with another day: %d, %v; want 0", n, err)
	}
	resend := append(someEvents(401, 100, "2026-04-01"), someEvents(501, 500, "2026-05-02")...)
	if n, err := db.Append(ctx, "kyiv-1", resend); err != nil || n != 500 {
		t.Fatalf("resend: %d, %v; want 500 (401..500 were there)", n, err)
	}
}

// Events decodes pgx's binary rows itself; the text format goes through
// Scan. Both must be taken where expected.
func TestEventsDecoderFormats(t *testing.T) {
	db := newDB(t)
	ctx := ctxT(t)
	if _, err := db.Append(ctx, "kyiv-1", someEvents(1, 3, "2026-03-10")); err != nil {
		t.Fatal(err)
	}
	simple := openDB(t, db.pool.Config().ConnString()+" default_query_exec_mode=simple_protocol")
	for _, c := range []struct {
		db     *DB
		binary bool
	}{{db, true}, {simple, false}} {
		rows, err := c.db.pool.Query(ctx, `select office, seq, at, day, type, ticket, service, grp, "window", operator, terminal,
			to_service, to_group, to_window, reason, score, priority, booked, offline from events`)
		if err != nil {
			t.Fatal(err)
		}
		if !rows.Next() {
			t.Fatal(rows.Err())
		}
		if got := newEventDecoder(rows.FieldDescriptions()).binary; got != c.binary {
			t.Errorf("binary decoding %v, want %v", got, c.binary)
		}
		rows.Close()
	}
}
