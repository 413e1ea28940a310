package link

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/jonboulle/clockwork"

	"github.com/cherga/kiosk/link/proto"
)

// rejectingServer speaks the link protocol as a server that refuses some
// events for good: hello → welcome (resuming after what it committed),
// then for each event either applies it or answers rejected, and acks it,
// in that order, on the one connection.
type rejectingServer struct {
	url     string
	reject  func(*proto.Message) *proto.Error
	repeat  int                 // how many times each rejected is sent
	applied chan *proto.Message // events applied, in order

	mu        sync.Mutex
	committed uint64 // applied or rejected, like queued's dedup record
}

func newRejectingServer(t *testing.T, repeat int, reject func(*proto.Message) *proto.Error) *rejectingServer {
	s := &rejectingServer{reject: reject, repeat: repeat, applied: make(chan *proto.Message, 64)}
	up := websocket.Upgrader{Subprotocols: []string{proto.Subprotocol}}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer conn.Close()
		read := func() (*proto.Message, error) {
			_, b, err := conn.ReadMessage()
			if err != nil {
				return nil, err
			}
			return proto.Decode(b)
		}
		send := func(m *proto.Message) error {
			b, err := proto.Encode(m)
			if err != nil {
				t.Errorf("server: %v", err)
				return err
			}
			return conn.WriteMessage(websocket.TextMessage, b)
		}
		if m, err := read(); err != nil || m.Type != proto.TypeHello {
			t.Errorf("server: expected hello, got %v %v", m, err)
			return
		}
		s.mu.Lock()
		resume := s.committed
		s.mu.Unlock()
		if send(&proto.Message{Type: proto.TypeWelcome, Welcome: &proto.Welcome{
			Office: proto.Office{ID: "test-office", Timezone: "Europe/Kyiv"}, ServerTime: time.Now(), Resume: resume, Slot: 1}}) != nil {
			return
		}
		for {
			m, err := read()
			if err != nil {
				return
			}
			if !m.IsEvent() {
				continue
			}
			s.mu.Lock()
			dup := m.Seq <= s.committed
			if !dup {
				s.committed = m.Seq
			}
			acked := s.committed
			s.mu.Unlock()
			if !dup {
				if e := s.reject(m); e != nil {
					for range s.repeat {
						if send(&proto.Message{Type: proto.TypeRejected, Seq: m.Seq, Error: e}) != nil {
							return
						}
					}
				} else {
					s.applied <- m
				}
			}
			if send(&proto.Message{Type: proto.TypeAck, Seq: acked}) != nil {
				return
			}
		}
	}))
	t.Cleanup(ts.Close)
	s.url = "ws" + strings.TrimPrefix(ts.URL, "http") + "/api/v1/link"
	return s
}

// logTap hands the test every log record, so it can wait for a line.
type logTap struct{ records chan slog.Record }

func (l *logTap) Enabled(context.Context, slog.Level) bool { return true }
func (l *logTap) Handle(_ context.Context, r slog.Record) error {
	select {
	case l.records <- r.Clone():
	default: // a test that stopped reading must not block the link
	}
	return nil
}
func (l *logTap) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logTap) WithGroup(string) slog.Handler      { return l }

// waitLog waits for the record with msg and returns its attributes.
func waitLog(t *testing.T, l *logTap, msg string) (slog.Level, map[string]string) {
	t.Helper()
	for {
		r := receive(t, l.records, "log line "+msg)
		if r.Message != msg {
			continue
		}
		attrs := map[string]string{}
		r.Attrs(func(a slog.Attr) bool { attrs[a.Key] = a.Value.String(); return true })
		return r.Level, attrs
	}
}

func keypad(window int) *proto.Message {
	return &proto.Message{Type: proto.TypeKeypad, Keypad: &proto.Keypad{Window: window, Key: proto.KeyNext, At: time.Now()}}
}

// An event the server can never apply is rejected, recorded with the
// event itself, counted and shown as an alarm; the outbox moves past it,
// later events are delivered, and the record survives a restart.
func TestRejectedEvent(t *testing.T) {
	noWindow99 := func(m *proto.Message) *proto.Error {
		if m.Keypad != nil && m.Keypad.Window == 99 {
			return &proto.Error{Code: proto.CodeBadEvent, Message: "keypad: window 99 is not in this office"}
		}
		return nil
	}
	srv := newRejectingServer(t, 1, noWindow99)
	dir := t.TempDir()
	clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 23, 10, 35, 0, 0, time.UTC))
	run := func(logs *logTap) (*Client, *Store, func()) {
		store, err := OpenStore(filepath.Join(dir, "kioskd.db"), StoreOptions{Clock: clock})
		if err != nil {
			t.Fatal(err)
		}
		c := New(Config{URL: srv.url, Device: "window-03", Roles: []string{"window"}, Version: "test",
			HandshakeTimeout: 5 * time.Second}, store, newRecorder(), slog.New(logs))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { _ = c.Run(ctx); close(done) }()
		return c, store, func() { cancel(); <-done; store.Close() }
	}
	report := func(c *Client, window int) uint64 {
		t.Helper()
		seq, err := c.Report(keypad(window))
		if err != nil {
			t.Fatal(err)
		}
		return seq
	}
	applied := func(wantSeq uint64, wantWindow int) {
		t.Helper()
		m := receive(t, srv.applied, "an applied event")
		if m.Seq != wantSeq || m.Keypad.Window != wantWindow {
			t.Fatalf("server applied seq %d window %d, want seq %d window %d", m.Seq, m.Keypad.Window, wantSeq, wantWindow)
		}
	}

	logs := &logTap{records: make(chan slog.Record, 256)}
	c, store, stop := run(logs)
	ctx := t.Context()
	if err := c.WaitUp(ctx); err != nil {
		t.Fatal(err)
	}
	s1, s2, s3 := report(c, 3), report(c, 99), report(c, 4)
	if err := c.WaitAck(ctx, s3); err != nil {
		t.Fatal(err)
	}
	applied(s1, 3)
	applied(s3, 4)

	level, attrs := waitLog(t, logs, "the server rejected an event and will never apply it")
	if level != slog.LevelError || attrs["seq"] != "2" || attrs["type"] != proto.TypeKeypad || attrs["code"] != proto.CodeBadEvent {
		t.Errorf("log: %s %v", level, attrs)
	}

	want := Rejection{Seq: s2, At: clock.Now(), Type: proto.TypeKeypad, Code: proto.CodeBadEvent,
		Message: "keypad: window 99 is not in this office"}
	checkStatus := func(c *Client, alarm bool) {
		t.Helper()
		st := c.Status()
		if st.Rejected != 1 || st.LastRejected == nil || *st.LastRejected != want {
			t.Fatalf("status: %d rejected, last %+v; want 1, %+v", st.Rejected, st.LastRejected, want)
		}
		if alarm != (st.Alarm != "") {
			t.Fatalf("status alarm %q, want raised: %v", st.Alarm, alarm)
		}
		if alarm && (!strings.Contains(st.Alarm, "event 2 (keypad)") || !strings.Contains(st.Alarm, "bad_event: keypad: window 99")) {
			t.Errorf("alarm %q", st.Alarm)
		}
	}
	checkStatus(c, true)
	checkRecord := func(store *Store) {
		t.Helper()
		recs, err := store.Rejected()
		if err != nil || len(recs) != 1 || recs[0].Rejection != want {
			t.Fatalf("rejected bucket: %+v, %v", recs, err)
		}
		ev, err := proto.Decode(recs[0].Event)
		if err != nil || ev.Seq != s2 || ev.Keypad == nil || ev.Keypad.Window != 99 {
			t.Fatalf("kept event %s: %+v, %v", recs[0].Event, ev, err)
		}
	}
	checkRecord(store)

	// The ack after the rejection took the event out of the outbox (the
	// prune runs in the background; Ack again is the same prune, at once).
	if err := store.Ack(c.Acked()); err != nil {
		t.Fatal(err)
	}
	if ob := store.Outbox(); ob.Events != 0 || ob.Acked != s3 || ob.Alarm != "" {
		t.Errorf("outbox %+v", ob)
	}
	s4 := report(c, 5)
	applied(s4, 5)
	stop()

	// Reopened: the record, the count and the alarm are still there, before
	// and after the link is up, and nothing is resent.
	logs = &logTap{records: make(chan slog.Record, 256)}
	c, store, stop = run(logs)
	defer stop()
	checkStatus(c, true)
	checkRecord(store)
	if err := c.WaitUp(ctx); err != nil {
		t.Fatal(err)
	}
	s5 := report(c, 6)
	applied(s5, 6) // seq 5, not a resent 2
	if s5 != s4+1 {
		t.Errorf("seq %d after %d", s5, s4)
	}

	// A day later the alarm is over; the count stays.
	clock.Advance(24 * time.Hour)
	checkStatus(c, false)
}

// A server may say rejected again (after a reconnect it cannot know what
// the terminal heard): the terminal counts it once.
func TestRejectedTwice(t *testing.T) {
	srv := newRejectingServer(t, 2, func(*proto.Message) *proto.Error {
		return &proto.Error{Code: proto.CodeBadEvent, Message: "no"}
	})
	logs := &logTap{records: make(chan slog.Record, 256)}
	store := openStore(t, t.TempDir(), StoreOptions{})
	c := New(Config{URL: srv.url, Device: "window-03", Roles: []string{"window"}, Version: "test"}, store, newRecorder(), slog.New(logs))
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { _ = c.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	seq, err := c.Report(keypad(3))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.WaitAck(ctx, seq); err != nil {
		t.Fatal(err)
	}
	waitLog(t, logs, "the server rejected an event and will never apply it")
	waitLog(t, logs, "server repeated a rejection already recorded")
	if st := c.Status(); st.Rejected != 1 || st.LastRejected == nil || st.LastRejected.Seq != seq {
		t.Errorf("status %+v", st)
	}
}

func TestRejectedRecord(t *testing.T) {
	clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC))
	dir := t.TempDir()
	s := openStore(t, dir, StoreOptions{Clock: clock, RejectedAlarm: time.Hour})
	bad := &proto.Error{Code: proto.CodeBadEvent, Message: "no such window"}
	for range keepRejected + 5 {
		if _, err := s.Append(keypad(3)); err != nil {
			t.Fatal(err)
		}
	}
	if r := s.Rejections(); r.Total != 0 || r.Last != nil || r.Alarm != "" {
		t.Fatalf("fresh store: %+v", r)
	}

	// The server acked event 1 before rejecting it (out of order): the
	// rejection is kept without the event.
	if err := s.Ack(1); err != nil {
		t.Fatal(err)
	}
	if r, fresh, err := s.RecordRejected(1, bad); err != nil || !fresh || r.Type != "" {
		t.Fatalf("%+v %v %v", r, fresh, err)
	}
	for seq := uint64(2); seq <= keepRejected+5; seq++ {
		clock.Advance(time.Second)
		if r, fresh, err := s.RecordRejected(seq, bad); err != nil || !fresh || r.Type != proto.TypeKeypad {
			t.Fatalf("seq %d: %+v %v %v", seq, r, fresh, err)
		}
	}
	recs, err := s.Rejected()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != keepRejected || recs[0].Seq != 6 || recs[len(recs)-1].Seq != keepRejected+5 {
		t.Fatalf("kept %d, seq %d to %d", len(recs), recs[0].Seq, recs[len(recs)-1].Seq)
	}
	// Seen again: not counted, whether still kept or pruned as old.
	for _, seq := range []uint64{keepRejected + 5, 3} {
		if _, fresh, err := s.RecordRejected(seq, bad); err != nil || fresh {
			t.Errorf("seq %d again: fresh %v, %v", seq, fresh, err)
		}
	}
	// A seq this outbox never numbered is the server's mistake.
	if _, _, err := s.RecordRejected(keepRejected+6, bad); !errors.Is(err, errNoSuchEvent) {
		t.Errorf("unknown seq: %v", err)
	}
	// The server's words are bounded.
	huge := &proto.Error{Code: strings.Repeat("c", 500), Message: strings.Repeat("я", 100_000)}
	if _, err := s.Append(keypad(3)); err != nil {
		t.Fatal(err)
	}
	r, _, err := s.RecordRejected(keepRejected+6, huge)
	if err != nil || len(r.Code) > 70 || len(r.Message) > 1010 || !strings.HasSuffix(r.Message, "я…") {
		t.Errorf("%d-byte code, %d-byte message, %v", len(r.Code), len(r.Message), err)
	}

	st := s.Rejections()
	if st.Total != keepRejected+6 || st.Last == nil || st.Last.Seq != keepRejected+6 || st.Alarm == "" {
		t.Fatalf("%+v", st)
	}
	clock.Advance(time.Hour)
	if st := s.Rejections(); st.Alarm != "" || st.Total != keepRejected+6 {
		t.Errorf("an hour later: %+v", st)
	}
	s.Close()
	s = openStore(t, dir, StoreOptions{Clock: clock, RejectedAlarm: time.Hour})
	if st := s.Rejections(); st.Total != keepRejected+6 || st.Last == nil || st.Last.Seq != keepRejected+6 {
		t.Errorf("reopened: %+v", st)
	}
}
