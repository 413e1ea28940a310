package link

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/cherga/kiosk/link/proto"
	"github.com/cherga/kiosk/queue/queuetest"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// recorder is a Handler that hands every push to the test over channels.
type recorder struct {
	welcomes chan *proto.Welcome
	calls    chan proto.Call
	cancels  chan proto.Cancel
	queues   chan []proto.QueueLen
	messages chan *proto.HallMessage
	updates  chan *proto.Update
}

func newRecorder() *recorder {
	return &recorder{make(chan *proto.Welcome, 64), make(chan proto.Call, 4096), make(chan proto.Cancel, 16),
		make(chan []proto.QueueLen, 4096), make(chan *proto.HallMessage, 16), make(chan *proto.Update, 16)}
}

func (r *recorder) Welcome(w *proto.Welcome)         { r.welcomes <- w }
func (r *recorder) Call(c proto.Call)                { r.calls <- c }
func (r *recorder) Cancel(c proto.Cancel)            { r.cancels <- c }
func (r *recorder) Queues(q []proto.QueueLen)        { drop(r.queues, q) }
func (r *recorder) HallMessage(m *proto.HallMessage) { r.messages <- m }
func (r *recorder) Update(u *proto.Update)           { r.updates <- u }
func (r *recorder) Link(bool)                        {}
func (r *recorder) Window(proto.WindowState)         {}

// drop sends v unless the channel is full: queue lengths are a state, the
// latest is all that counts.
func drop[T any](ch chan T, v T) {
	select {
	case ch <- v:
	default:
	}
}

func receive[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("no %s within 10 s", what)
		panic("unreachable")
	}
}

type running struct {
	dir    string
	c      *Client
	rec    *recorder
	store  *Store
	cancel context.CancelFunc
	done   chan struct{}
}

func (r *running) stop() {
	r.cancel()
	<-r.done
	r.store.Close()
}

type startOpt func(*Config)

func start(t testing.TB, url, dir string, roles []string, opts ...startOpt) *running {
	t.Helper()
	store, err := OpenStore(filepath.Join(dir, "kioskd.db"), StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rec := newRecorder()
	cfg := Config{URL: url, Device: "kiosk-01", Roles: roles, Version: "test", HandshakeTimeout: 5 * time.Second}
	for _, o := range opts {
		o(&cfg)
	}
	c := New(cfg, store, rec, quiet)
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{dir: dir, c: c, rec: rec, store: store, cancel: cancel, done: make(chan struct{})}
	go func() { _ = c.Run(ctx); close(r.done) }()
	return r
}

var kioskHall = []string{"kiosk", "hall"}

// post sends a bodiless POST to the office with its API token.
func post(t testing.TB, office *queuetest.Office, path string, want int) {
	t.Helper()
	resp, err := http.DefaultClient.Do(office.Request("POST", path, ""))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != want {
		t.Fatalf("POST %s: %s, want %d", path, resp.Status, want)
	}
}

func issue(t testing.TB, c *Client, service string) *Issued {
	t.Helper()
	is, err := c.IssueTicket(context.Background(), service)
	if err != nil {
		t.Fatal(err)
	}
	return is
}

func TestOnlineTicketAndCall(t *testing.T) {
	office := queuetest.Start(t, nil)
	r := start(t, office.LinkURL(), t.TempDir(), kioskHall)
	defer r.stop()
	w := receive(t, r.rec.welcomes, "welcome")
	if len(w.Catalogue.Groups) != 10 || w.Slot != 1 || len(w.Leases) != 0 || len(w.Series) != 0 {
		t.Fatalf("welcome: %d groups, slot %d, %d leases, series %+v", len(w.Catalogue.Groups), w.Slot, len(w.Leases), w.Series)
	}
	if err := r.c.WaitUp(context.Background()); err != nil { // the handler hears the welcome first
		t.Fatal(err)
	}
	if st := r.c.Status(); st.State != StateUp {
		t.Fatalf("status %+v", st)
	}
	is := issue(t, r.c, "pension-age")
	if is.Number != "П001" || is.Mode != ModeOnline || is.Offline || is.Seq != 1 {
		t.Fatalf("ticket %+v", is)
	}
	if err := r.c.WaitAck(context.Background(), is.Seq); err != nil {
		t.Fatal(err)
	}
	var perr *proto.Error
	if _, err := r.c.IssueTicket(context.Background(), "teleport"); !errors.As(err, &perr) || perr.Code != proto.CodeUnknownService {
		t.Fatalf("unknown service: %v", err)
	}
	post(t, office, "/api/v1/windows/3/next", http.StatusOK)
	c := receive(t, r.rec.calls, "call")
	if c.Ticket != "П001" || c.Window != 3 {
		t.Errorf("call %+v", c)
	}
	seq, err := r.c.Report(&proto.Message{Type: proto.TypeCallShown, Seen: &proto.CallSeen{Call: c.ID, At: time.Now()}})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.c.WaitAck(context.Background(), seq); err != nil {
		t.Fatal(err)
	}
	log, _ := office.Queue.CallLog(office.Queue.Today())
	if len(log) != 1 || len(log[0].ShownBy) != 1 {
		t.Errorf("call log %+v", log)
	}
	if r.store.Buffered() != 0 {
		// The pruner runs beside the reader; give it the ack it had.
		if err := r.store.Ack(r.c.Acked()); err != nil || r.store.Buffered() != 0 {
			t.Errorf("outbox still has %d events", r.store.Buffered())
		}
	}
}

// With the server gone, tickets come from the kiosk's own series
// ("А1-001": prefix, slot, dash, counter), never from numbers that look
// like the day's count; each shows the visitors ahead as the kiosk knows
// them (the last queue lengths and its own tickets since); when the server
// is back they all arrive, once, in issue order, and the server's record
// of the series comes back in the next welcome.
func TestOfflineTicketsArriveWhenServerReturns(t *testing.T) {
	office := queuetest.Start(t, nil)
	r := start(t, office.LinkURL(), t.TempDir(), kioskHall, func(c *Config) { c.ReserveTimeout = 200 * time.Millisecond })
	defer func() { r.stop() }()
	receive(t, r.rec.welcomes, "welcome")
	online := issue(t, r.c, "subsidy-housing")
	if err := r.c.WaitAck(context.Background(), online.Seq); err != nil {
		t.Fatal(err)
	}
	// The queue lengths that say one is waiting in А arrive (or already did).
	for q := r.c.Snapshot().Queues; waitingIn(q, "subsidies") != 1; q = receive(t, r.rec.queues, "queue lengths") {
	}
	office.Stop()

	var numbers []string
	for i := range 22 {
		is := issue(t, r.c, "subsidy-housing")
		if !is.Offline || is.Mode != ModeOffline {
			t.Fatalf("ticket %s issued online with the server stopped", is.Number)
		}
		if is.Ahead != 1+i {
			t.Errorf("%s: %d ahead, want %d", is.Number, is.Ahead, 1+i)
		}
		numbers = append(numbers, is.Number)
	}
	if numbers[0] != "А1-001" || numbers[21] != "А1-022" {
		t.Fatalf("offline numbers %v", numbers)
	}
	if n := r.c.Numbering(); n.Mode != ModeOffline {
		t.Errorf("numbering %+v", n)
	}
	last := issue(t, r.c, "pension-age")
	if last.Number != "П1-001" || last.Ahead != 0 {
		t.Errorf("first offline ticket of П: %+v", last)
	}

	office.Restart()
	w := receive(t, r.rec.welcomes, "welcome after the restart")
	if err := r.c.WaitAck(context.Background(), last.Seq); err != nil {
		t.Fatal(err)
	}
	tickets, err := office.Queue.Tickets(office.Queue.Today())
	if err != nil {
		t.Fatal(err)
	}
	want := append([]string{online.Number}, numbers...)
	want = append(want, last.Number)
	var got []string
	for _, tk := range tickets {
		if tk.State == proto.StateReserved {
			// The server numbered it as it stopped, but the answer was lost
			// and the kiosk numbered that ticket itself: never queued.
			continue
		}
		got = append(got, tk.Number)
		if tk.State != proto.StateWaiting {
			t.Errorf("%s is %s", tk.Number, tk.State)
		}
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("server has\n%v\nwant\n%v", got, want)
	}
	// The welcome was sent before the backlog arrived; the next one says
	// what the server has of this kiosk's series.
	if len(w.Series) != 0 {
		t.Errorf("welcome before the backlog: series %+v", w.Series)
	}
	r.stop()
	r = start(t, office.LinkURL(), r.dir, kioskHall)
	w = receive(t, r.rec.welcomes, "saved welcome")
	for w.Series == nil {
		w = receive(t, r.rec.welcomes, "welcome")
	}
	if fmt.Sprint(w.Series) != fmt.Sprintf("[{%s А 22} {%s П 1}]", office.Queue.Today(), office.Queue.Today()) {
		t.Errorf("series in the welcome: %+v", w.Series)
	}
}

// waitingIn is the waiting count of group in q.
func waitingIn(q []proto.QueueLen, group string) int {
	for _, l := range q {
		if l.Group == group {
			return l.Waiting
		}
	}
	return -1
}

// A push that arrives twice (resent after a reconnect) reaches the handler
// once, also after a restart of the terminal.
func TestPushesActedOnOnce(t *testing.T) {
	office := queuetest.Start(t, nil)
	dir := t.TempDir()
	r := start(t, office.LinkURL(), dir, kioskHall)
	receive(t, r.rec.welcomes, "welcome")
	m := &proto.Message{Type: proto.TypeCall, ID: "2026-11-23/1", Push: 7,
		Call: &proto.Call{ID: "2026-11-23/1", Ticket: "А001", Window: 2}}
	r.c.dispatch(&session{}, m)
	r.c.dispatch(&session{}, m)
	receive(t, r.rec.calls, "call")
	select {
	case c := <-r.rec.calls:
		t.Fatalf("call acted on twice: %+v", c)
	default:
	}
	if r.store.LastPush() != 7 {
		t.Errorf("last push %d", r.store.LastPush())
	}
	r.stop()
	r = start(t, office.LinkURL(), dir, kioskHall)
	defer r.stop()
	receive(t, r.rec.welcomes, "saved welcome")
	if fresh, err := r.store.Receive(7, m.ID); fresh || err != nil {
		t.Errorf("after a restart the push is fresh again: %v %v", fresh, err)
	}
}

// With no server, and a snapshot saved earlier, the catalogue is there at
// once and tickets are numbered offline.
func TestOfflineFromTheStart(t *testing.T) {
	office := queuetest.Start(t, nil)
	dir := t.TempDir()
	r := start(t, office.LinkURL(), dir, kioskHall)
	receive(t, r.rec.welcomes, "welcome")
	r.stop()
	office.Stop()

	r = start(t, office.LinkURL(), dir, kioskHall)
	defer r.stop()
	w := receive(t, r.rec.welcomes, "saved welcome")
	if len(w.Catalogue.Services) == 0 || r.c.Snapshot() == nil {
		t.Fatal("saved snapshot not loaded")
	}
	if is := issue(t, r.c, "pension-age"); is.Mode != ModeOffline || is.Number != "П1-001" {
		t.Fatalf("offline ticket %+v", is)
	}
}

// A terminal that never reached the server has no catalogue and says so.
func TestNeverConnected(t *testing.T) {
	r := start(t, "ws://127.0.0.1:1/api/v1/link", t.TempDir(), kioskHall)
	defer r.stop()
	if _, err := r.c.IssueTicket(context.Background(), "pension-age"); !errors.Is(err, ErrOffline) {
		t.Fatalf("got %v", err)
	}
}

func TestReconnectsAfterCut(t *testing.T) {
	office := queuetest.Start(t, nil)
	proxy := newChaosProxy(t, office.Addr(), 1)
	r := start(t, "ws://"+proxy.Addr()+"/api/v1/link", t.TempDir(), kioskHall)
	defer r.stop()
	receive(t, r.rec.welcomes, "welcome")
	proxy.cut()
	receive(t, r.rec.welcomes, "welcome after reconnect")
	// The welcome reaches the handler a moment before the link counts as
	// up: wait for that, not for time.
	if err := r.c.WaitUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	if is := issue(t, r.c, "pension-age"); is.Mode != ModeOnline {
		t.Fatalf("after reconnect: %+v", is)
	}
	if st := r.c.Status(); st.State != StateUp || st.Retries != 0 {
		t.Errorf("status after reconnect %+v", st)
	}
}

func TestCheckURL(t *testing.T) {
	for url, ok := range map[string]bool{
		"ws://127.0.0.1:8090/api/v1/link":   true,
		"ws://[::1]:8090/api/v1/link":       true,
		"ws://localhost/api/v1/link":        true,
		"wss://queue.office.local/link":     true,
		"ws://10.0.0.2:8090/api/v1/link":    false,
		"http://127.0.0.1:8090/api/v1/link": false,
	} {
		if err := CheckURL(url); (err == nil) != ok {
			t.Errorf("%s: %v", url, err)
		}
	}
}

// waitRedial waits until the link waits on clock to redial (its
// housekeeping ticker is the other waiter) and returns the wait.
func waitRedial(t testing.TB, c *Client, clock *clockwork.FakeClock) time.Duration {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := clock.BlockUntilContext(ctx, 2); err != nil {
		t.Fatalf("the link never waited to redial: %+v", c.Status())
	}
	return c.loop.Status().RetryAt.Sub(clock.Now())
}

// The retry waits grow exponentially, with jitter, up to the cap, on the
// injected clock: no test waits for real time.
func TestBackoffOnInjectedClock(t *testing.T) {
	clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
	r := start(t, "ws://127.0.0.1:1/api/v1/link", t.TempDir(), kioskHall, func(c *Config) { c.Clock = clock })
	defer r.stop()
	for attempt := 1; attempt <= 10; attempt++ {
		d := waitRedial(t, r.c, clock)
		ceiling := min(30*time.Second, 500*time.Millisecond<<attempt) + time.Millisecond
		if d <= 0 || d > ceiling {
			t.Fatalf("attempt %d waits %s, ceiling %s", attempt, d, ceiling)
		}
		if st := r.c.Status(); st.State != StateDown || st.Retries != attempt || st.LastError == "" {
			t.Fatalf("attempt %d status %+v", attempt, st)
		}
		clock.Advance(d)
	}
}

// A link that drops soon after it came up waits longer each time; one
// that stayed up 30 s starts again from the shortest wait
// (docs/protocol.md), all on the link's clock.
func TestBackoffResetsOnlyAfterHealthy(t *testing.T) {
	office := queuetest.Start(t, nil)
	proxy := newChaosProxy(t, office.Addr(), 1)
	clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
	r := start(t, "ws://"+proxy.Addr()+"/api/v1/link", t.TempDir(), kioskHall, func(c *Config) { c.Clock = clock })
	defer r.stop()
	receive(t, r.rec.welcomes, "welcome")
	cut := func(want int) {
		t.Helper()
		proxy.cut()
		d := waitRedial(t, r.c, clock)
		if st := r.c.Status(); st.State != StateDown || st.Retries != want || d <= 0 || d > (Backoff{}).Ceiling(want) {
			t.Fatalf("cut %d: %+v, waits %s", want, st, d)
		}
		clock.Advance(d)
		receive(t, r.rec.welcomes, "welcome after the cut")
	}
	cut(1)
	cut(2)
	cut(3)
	// The welcome is handled just before the link is up.
	if err := r.c.WaitUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	clock.Advance(30 * time.Second)
	if st := r.c.Status(); st.Retries != 0 {
		t.Fatalf("up for 30 s: %+v", st)
	}
	cut(1)
}

// The link's waits are the documented ones: n-th up to min(30 s, 0.5 s·2ⁿ),
// with jitter.
func TestBackoffIsCappedWithJitter(t *testing.T) {
	seen := map[time.Duration]bool{}
	b := Backoff{}
	for attempt := 1; attempt < 70; attempt++ {
		if want := min(30*time.Second, 500*time.Millisecond<<min(attempt, 20)); b.Ceiling(attempt) != want {
			t.Fatalf("attempt %d: ceiling %s, want %s", attempt, b.Ceiling(attempt), want)
		}
		for range 50 {
			d := b.Wait(attempt)
			if d <= 0 || d > 30*time.Second+time.Millisecond {
				t.Fatalf("attempt %d: %s", attempt, d)
			}
			seen[d] = true
		}
	}
	if len(seen) < 1000 {
		t.Errorf("only %d distinct waits: no jitter?", len(seen))
	}
}
