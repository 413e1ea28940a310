package link

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	bolt "go.etcd.io/bbolt"

	"github.com/cherga/kiosk/link/proto"
	"github.com/cherga/kiosk/queue/queuetest"
)

func openStore(t testing.TB, dir string, opts StoreOptions) *Store {
	t.Helper()
	s, err := OpenStore(filepath.Join(dir, "kioskd.db"), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func statusEvent() *proto.Message {
	return &proto.Message{Type: proto.TypeDeviceStatus, Status: &proto.DeviceStatus{At: time.Now()}}
}

// Appends that arrive together share a commit: a burst does not pay one
// fsync per event.
func TestGroupCommit(t *testing.T) {
	s := openStore(t, t.TempDir(), StoreOptions{})
	before := s.committed.Load()
	const n = 200
	gate := make(chan struct{})
	var wg sync.WaitGroup
	seqs := make([]uint64, n)
	for i := range n {
		wg.Go(func() {
			<-gate
			seq, err := s.Append(statusEvent())
			if err != nil {
				t.Error(err)
			}
			seqs[i] = seq
		})
	}
	close(gate)
	wg.Wait()
	commits := s.committed.Load() - before
	if commits >= n/2 {
		t.Errorf("%d appends took %d commits", n, commits)
	}
	seen := map[uint64]bool{}
	for _, q := range seqs {
		if q < 1 || q > n || seen[q] {
			t.Fatalf("seqs not 1..%d once each: %v", n, seqs)
		}
		seen[q] = true
	}
	if s.Buffered() != n {
		t.Errorf("buffered %d", s.Buffered())
	}
	t.Logf("%d appends, %d commits", n, commits)
}

// One caller's failing function does not fail the others in its batch.
func TestFailingWriterAlone(t *testing.T) {
	s := openStore(t, t.TempDir(), StoreOptions{})
	boom := errors.New("boom")
	gate := make(chan struct{})
	var wg sync.WaitGroup
	errs := make([]error, 20)
	for i := range 20 {
		wg.Go(func() {
			<-gate
			if i == 7 {
				errs[i] = s.update(func(*bolt.Tx) error { return boom })
				return
			}
			_, errs[i] = s.Append(statusEvent())
		})
	}
	close(gate)
	wg.Wait()
	for i, err := range errs {
		if (i == 7) != (err != nil) || (i == 7 && !errors.Is(err, boom)) {
			t.Errorf("caller %d: %v", i, err)
		}
	}
	if s.Buffered() != 19 {
		t.Errorf("buffered %d, want 19", s.Buffered())
	}
}

func TestOutboxPendingAckAndReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenStore(filepath.Join(dir, "kioskd.db"), StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if _, err := s.Append(statusEvent()); err != nil {
			t.Fatal(err)
		}
	}
	p, _ := s.Pending(2, 10)
	if len(p) != 3 || p[0].seq != 3 {
		t.Fatalf("pending after 2: %+v", p)
	}
	m, err := proto.Decode(p[0].body)
	if err != nil || m.Seq != 3 || m.Type != proto.TypeDeviceStatus {
		t.Fatalf("stored event %+v %v", m, err)
	}
	if err := s.Ack(3); err != nil {
		t.Fatal(err)
	}
	epoch := s.Epoch()
	s.Close()

	s = openStore(t, dir, StoreOptions{})
	if st := s.Outbox(); st.Events != 2 || st.Acked != 3 || st.NextSeq != 6 || s.Epoch() != epoch {
		t.Fatalf("after reopen %+v epoch %s/%s", st, s.Epoch(), epoch)
	}
	if seq, _ := s.Append(statusEvent()); seq != 6 {
		t.Errorf("next seq %d", seq)
	}
}

// Past the alarm the outbox says so; past the limit it refuses, never
// drops.
func TestOutboxBounds(t *testing.T) {
	clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
	s := openStore(t, t.TempDir(), StoreOptions{AlarmEvents: 3, MaxEvents: 5, AlarmAge: time.Hour, Clock: clock})
	for i := range 5 {
		if _, err := s.Append(statusEvent()); err != nil {
			t.Fatal(err)
		}
		if alarm := s.Outbox().Alarm; (i >= 2) != (alarm != "") {
			t.Errorf("after %d events alarm %q", i+1, alarm)
		}
	}
	if _, err := s.Append(statusEvent()); !errors.Is(err, ErrOutboxFull) {
		t.Fatalf("sixth append: %v", err)
	}
	if err := s.Ack(4); err != nil {
		t.Fatal(err)
	}
	if st := s.Outbox(); st.Events != 1 || st.Alarm != "" {
		t.Fatalf("after ack %+v", st)
	}
	clock.Advance(2 * time.Hour)
	if alarm := s.Outbox().Alarm; alarm == "" {
		t.Error("no alarm for an event two hours old")
	}
}

// Offline numbers come from the kiosk's own series, prefix, slot, dash,
// counter; the server's record moves the counter up, never down, and the
// days before today are forgotten.
func TestOfflineNumbering(t *testing.T) {
	s := openStore(t, t.TempDir(), StoreOptions{})
	day := "2026-11-23"
	next := func(prefix string) string {
		t.Helper()
		var n string
		err := s.update(func(tx *bolt.Tx) error {
			var err error
			n, err = nextOffline(tx, day, prefix, 4)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	got := []string{next("А"), next("А"), next("Б")}
	if want := "А4-001 А4-002 Б4-001"; joinStrings(got) != want {
		t.Errorf("numbers %q, want %q", got, want)
	}
	// The server saw А4-007 (this file was restored from an older copy):
	// the next is А4-008; a lower record and nonsense change nothing.
	series := []proto.Series{{Day: day, Prefix: "А", Last: 7}, {Day: day, Prefix: "Б", Last: 0},
		{Day: day, Prefix: "В", Last: -3}, {Day: day, Prefix: "Г", Last: 1 << 40}, {Day: "2026-11-22", Prefix: "А", Last: 3}}
	for range 2 { // merging twice changes nothing
		if err := s.MergeSeries(day, series); err != nil {
			t.Fatal(err)
		}
	}
	if n := next("А"); n != "А4-008" {
		t.Errorf("after the server's record: %s", n)
	}
	if n := next("Б"); n != "Б4-002" {
		t.Errorf("Б after a record of 0: %s", n)
	}
	st, err := s.Series(day, 4, []string{"Б", "А", "Г"})
	if err != nil {
		t.Fatal(err)
	}
	if len(st) != 3 || st[0] != (SeriesState{Prefix: "А", Last: "А4-008", Next: "А4-009"}) ||
		st[2] != (SeriesState{Prefix: "Г", Next: "Г4-001"}) {
		t.Errorf("series %+v", st)
	}
	// Yesterday's record was not kept: the days before today are forgotten.
	err = s.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketNumbers).Get([]byte("2026-11-22")) != nil {
			t.Error("yesterday's numbers kept")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Without a slot from the server there is no series.
	if err := s.update(func(tx *bolt.Tx) error { _, err := nextOffline(tx, day, "А", 0); return err }); err == nil {
		t.Error("numbered offline with slot 0")
	}
}

func joinStrings(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += " "
		}
		out += x
	}
	return out
}

// A server that already has later events of this outbox (the file was
// restored from an older copy) moves the numbering on, so new events are
// not taken for duplicates.
func TestRestoredOutboxContinuesAfterServer(t *testing.T) {
	office := queuetest.Start(t, nil)
	dir := t.TempDir()
	backup := filepath.Join(t.TempDir(), "kioskd.db")
	r := start(t, office.LinkURL(), dir, kioskHall)
	receive(t, r.rec.welcomes, "welcome")
	r.stop()
	copyFile(t, filepath.Join(dir, "kioskd.db"), backup)

	r = start(t, office.LinkURL(), dir, kioskHall)
	receive(t, r.rec.welcomes, "welcome")
	for range 3 {
		is := issue(t, r.c, "pension-age")
		if err := r.c.WaitAck(t.Context(), is.Seq); err != nil {
			t.Fatal(err)
		}
	}
	r.stop()

	copyFile(t, backup, filepath.Join(dir, "kioskd.db")) // the older copy comes back
	r = start(t, office.LinkURL(), dir, kioskHall)
	defer r.stop()
	receive(t, r.rec.welcomes, "saved welcome")
	receive(t, r.rec.welcomes, "welcome")
	is := issue(t, r.c, "pension-age")
	if err := r.c.WaitAck(t.Context(), is.Seq); err != nil {
		t.Fatal(err)
	}
	tickets, _ := office.Queue.Tickets(office.Queue.Today())
	waiting := 0
	for _, tk := range tickets {
		if tk.State == proto.StateWaiting {
			waiting++
		}
	}
	if is.Seq <= 3 || waiting != 4 {
		t.Errorf("after the restore: seq %d, %d tickets waiting, want 4", is.Seq, waiting)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// A mark lands with its event or not at all, and survives a reopen.
func TestAppendMarked(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, StoreOptions{})
	if v, err := s.Mark("bus/1/abcd"); err != nil || v != nil {
		t.Fatalf("mark before any: %q %v", v, err)
	}
	m := &proto.Message{Type: proto.TypeKeypad, Keypad: &proto.Keypad{Window: 3, Key: proto.KeyNext}}
	seq, err := s.AppendMarked(m, "bus/1/abcd", []byte{0, 42})
	if err != nil || seq != 1 {
		t.Fatalf("append marked: %d %v", seq, err)
	}
	bad := &proto.Message{Type: proto.TypeKeypad, Keypad: &proto.Keypad{}}
	if _, err := s.AppendMarked(bad, "bus/1/abcd", []byte{0, 43}); err == nil {
		t.Fatal("an invalid event was appended")
	}
	s.Close()
	s = openStore(t, dir, StoreOptions{})
	if v, _ := s.Mark("bus/1/abcd"); string(v) != string([]byte{0, 42}) {
		t.Errorf("mark after reopen %v, want [0 42]", v)
	}
	if st := s.Outbox(); st.Events != 1 {
		t.Errorf("events %d, want 1", st.Events)
	}
}
