package link

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/jonboulle/clockwork"

	"github.com/cherga/kiosk/link/proto"
)

// The reporter tells the server of an outbox only while it is large or
// old, again only when that changed, and once when it is over.
func TestOutboxReporter(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	var r outboxReporter
	r.started(&proto.OutboxState{}, t0)
	steps := []struct {
		at    time.Duration
		st    proto.OutboxState
		sends bool
	}{
		{15 * time.Second, proto.OutboxState{Events: 2, OldestAt: t0.Add(14 * time.Second), LastSeq: 9}, false},  // acknowledged as it goes
		{30 * time.Second, proto.OutboxState{Events: 2, OldestAt: t0.Add(14 * time.Second), LastSeq: 9}, true},   // 16 s old now
		{45 * time.Second, proto.OutboxState{Events: 5, OldestAt: t0.Add(14 * time.Second), LastSeq: 12}, false}, // the server ages it itself
		{60 * time.Second, proto.OutboxState{Events: 40, OldestAt: t0.Add(14 * time.Second), LastSeq: 47}, true}, // grew
		{75 * time.Second, proto.OutboxState{Events: 1, OldestAt: t0.Add(70 * time.Second), LastSeq: 48}, true},  // young again: over…
		{90 * time.Second, proto.OutboxState{}, false},                                                           // …and said once only
		{105 * time.Second, proto.OutboxState{Events: 150, OldestAt: t0.Add(100 * time.Second), LastSeq: 200}, true},
		{120 * time.Second, proto.OutboxState{Events: 0}, true},
	}
	for i, s := range steps {
		got := r.next(&s.st, t0.Add(s.at))
		if (got != nil) != s.sends {
			t.Errorf("step %d (%+v at %s): sent %v, want %v", i, s.st, s.at, got != nil, s.sends)
		}
	}
}

// silentServer takes a terminal's hello and events and never acknowledges
// them; it hands the hello and every outbox report to the test.
type silentServer struct {
	url     string
	hellos  chan *proto.Hello
	reports chan *proto.OutboxState
	events  chan uint64
	acks    chan uint64 // the test's: acknowledge up to
}

func newSilentServer(t *testing.T) *silentServer {
	s := &silentServer{hellos: make(chan *proto.Hello, 4), reports: make(chan *proto.OutboxState, 16), events: make(chan uint64, 1000), acks: make(chan uint64)}
	up := websocket.Upgrader{Subprotocols: []string{proto.Subprotocol}}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer conn.Close()
		m, err := readMessage(conn)
		if err != nil || m.Type != proto.TypeHello {
			return
		}
		s.hellos <- m.Hello
		welcome, _ := proto.Encode(&proto.Message{Type: proto.TypeWelcome, Welcome: &proto.Welcome{
			Office: proto.Office{ID: "silent", Timezone: "Europe/Kyiv"}, ServerTime: m.Hello.Time, Slot: 1}})
		if conn.WriteMessage(websocket.TextMessage, welcome) != nil {
			return
		}
		go func() { // the only writer from here on
			for seq := range s.acks {
				ack, _ := proto.Encode(&proto.Message{Type: proto.TypeAck, Seq: seq})
				_ = conn.WriteMessage(websocket.TextMessage, ack)
			}
		}()
		for {
			m, err := readMessage(conn)
			if err != nil {
				return
			}
			switch {
			case m.Type == proto.TypeOutbox:
				s.reports <- m.Outbox
			case m.IsEvent():
				s.events <- m.Seq
			}
		}
	}))
	t.Cleanup(func() { close(s.acks); ts.Close() })
	s.url = "ws" + strings.TrimPrefix(ts.URL, "http")
	return s
}

// A terminal says in its hello what it buffered while away, and while
// connected reports its outbox when its events are not acknowledged, a
// ping period on (its own clock), and once more when they are.
func TestOutboxReportedToServer(t *testing.T) {
	clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
	store, err := OpenStore(filepath.Join(t.TempDir(), "kioskd.db"), StoreOptions{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	status := func() *proto.Message {
		return &proto.Message{Type: proto.TypeDeviceStatus, Status: &proto.DeviceStatus{At: clock.Now(),
			Devices: []proto.DeviceState{{Name: "printer", Kind: "printer", State: "ok"}}}}
	}
	for range 150 { // buffered while the server was away
		if _, err := store.Append(status()); err != nil {
			t.Fatal(err)
		}
	}
	oldest := clock.Now()
	srv := newSilentServer(t)
	c := New(Config{URL: srv.url, Device: "kiosk-01", Roles: []string{"kiosk"}, Version: "test", HandshakeTimeout: 5 * time.Second, Clock: clock},
		store, newRecorder(), quiet)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = c.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	h := receive(t, srv.hellos, "hello")
	if h.Outbox == nil || h.Outbox.Events != 150 || h.Outbox.LastSeq != 150 || !h.Outbox.OldestAt.Equal(oldest) {
		t.Fatalf("hello's outbox %+v", h.Outbox)
	}
	for seq := uint64(1); seq <= 150; seq++ {
		if got := receive(t, srv.events, "event"); got != seq {
			t.Fatalf("event %d, want %d", got, seq)
		}
	}
	// 50 more, none acknowledged: reported a ping period on, on the
	// terminal's clock.
	for range 50 {
		if _, err := store.Append(status()); err != nil {
			t.Fatal(err)
		}
	}
	for range 50 {
		receive(t, srv.events, "event")
	}
	clock.Advance(outboxReportEvery)
	r := receive(t, srv.reports, "an outbox report")
	if r.Events != 200 || r.LastSeq != 200 || !r.OldestAt.Equal(oldest) {
		t.Fatalf("report %+v", r)
	}
	// Acknowledged at last: the next report says it is over.
	srv.acks <- 200
	if err := c.WaitAck(ctx, 200); err != nil {
		t.Fatal(err)
	}
	for guard := time.Now().Add(10 * time.Second); store.Buffered() > 0; time.Sleep(time.Millisecond) {
		if time.Now().After(guard) {
			t.Fatalf("the outbox still holds %d events", store.Buffered())
		}
	}
	clock.Advance(outboxReportEvery)
	if r := receive(t, srv.reports, "the report that it is over"); r.Events != 0 || r.LastSeq != 0 {
		t.Fatalf("report %+v", r)
	}
}
