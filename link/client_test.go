package link

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/cherga/kiosk/link/proto"
	"github.com/cherga/kiosk/queue/queuetest"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// recorder is a Handler that hands every push to the test over channels.
type recorder struct {
	welcomes chan *proto.Welcome
	calls    chan proto.Call
	queues   chan []proto.QueueLen
}

func newRecorder() *recorder {
	return &recorder{make(chan *proto.Welcome, 16), make(chan proto.Call, 16), make(chan []proto.QueueLen, 64)}
}

func (r *recorder) Welcome(w *proto.Welcome)  { r.welcomes <- w }
func (r *recorder) Call(c proto.Call)         { r.calls <- c }
func (r *recorder) Queues(q []proto.QueueLen) { r.queues <- q }

func receive[T any](t *testing.T, ch <-chan T, what string) T {
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

func start(t *testing.T, url, dir string) *running {
	t.Helper()
	store, err := OpenStore(filepath.Join(dir, "kioskd.db"))
	if err != nil {
		t.Fatal(err)
	}
	rec := newRecorder()
	c := New(Config{URL: url, Device: "kiosk-01", Roles: []string{"kiosk", "hall"}, Version: "test",
		HandshakeTimeout: 5 * time.Second}, store, rec, quiet)
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{c: c, rec: rec, store: store, cancel: cancel, done: make(chan struct{})}
	go func() { _ = c.Run(ctx); close(r.done) }()
	return r
}

func post(t *testing.T, url string) {
	t.Helper()
	resp, err := http.Post(url, "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: %s", url, resp.Status)
	}
}

func TestTicketAndCall(t *testing.T) {
	office := queuetest.Start(t)
	ts, url := office.Server, office.LinkURL()
	r := start(t, url, t.TempDir())
	defer r.stop()
	w := receive(t, r.rec.welcomes, "welcome")
	if len(w.Catalogue.Groups) != 10 {
		t.Fatalf("welcome has %d groups", len(w.Catalogue.Groups))
	}
	if st := r.c.Status(); st.State != StateUp {
		t.Fatalf("status %+v", st)
	}
	tk, err := r.c.TakeTicket(context.Background(), "pension-age")
	if err != nil || tk.Number != "П001" {
		t.Fatalf("ticket %+v %v", tk, err)
	}
	var perr *proto.Error
	if _, err := r.c.TakeTicket(context.Background(), "teleport"); !errors.As(err, &perr) || perr.Code != proto.CodeUnknownService {
		t.Fatalf("unknown service: %v", err)
	}
	post(t, ts.URL+"/api/v1/windows/3/next")
	c := receive(t, r.rec.calls, "call")
	if c.Ticket != "П001" || c.Window != 3 {
		t.Errorf("call %+v", c)
	}
	// The queue lengths pushed after the call update the snapshot too.
	for q := receive(t, r.rec.queues, "queues"); ; q = receive(t, r.rec.queues, "queues") {
		if waiting(q, "pensions") == 0 {
			break
		}
	}
	if n := waiting(r.c.Snapshot().Queues, "pensions"); n != 0 {
		t.Errorf("snapshot still shows %d waiting", n)
	}
}

func waiting(q []proto.QueueLen, group string) int {
	for _, l := range q {
		if l.Group == group {
			return l.Waiting
		}
	}
	return -1
}

// With no server, requests fail at once and the saved snapshot still
// serves the catalogue.
func TestOfflineUsesSavedSnapshot(t *testing.T) {
	url := queuetest.Start(t).LinkURL()
	dir := t.TempDir()
	r := start(t, url, dir)
	receive(t, r.rec.welcomes, "welcome")
	r.stop()

	r = start(t, "ws://127.0.0.1:1/api/v1/link", dir) // nothing listens on port 1
	defer r.stop()
	w := receive(t, r.rec.welcomes, "saved welcome")
	if len(w.Catalogue.Services) == 0 || r.c.Snapshot() == nil {
		t.Fatal("saved snapshot not loaded")
	}
	if _, err := r.c.TakeTicket(context.Background(), "pension-age"); !errors.Is(err, ErrOffline) {
		t.Fatalf("offline ticket: %v", err)
	}
}

// cutter is a TCP proxy on loopback that can cut every connection through
// it, as a network fault or a server restart would.
type cutter struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
}

func newCutter(t *testing.T, target string) *cutter {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &cutter{ln: ln, target: target}
	t.Cleanup(func() { ln.Close(); c.cut() })
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", target)
			if err != nil {
				in.Close()
				continue
			}
			c.mu.Lock()
			c.conns = append(c.conns, in, out)
			c.mu.Unlock()
			go func() { _, _ = io.Copy(out, in); out.Close() }()
			go func() { _, _ = io.Copy(in, out); in.Close() }()
		}
	}()
	return c
}

func (c *cutter) cut() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, conn := range c.conns {
		conn.Close()
	}
	c.conns = nil
}

func TestReconnectsAfterCut(t *testing.T) {
	ts := queuetest.Start(t)
	proxy := newCutter(t, ts.Listener.Addr().String())
	r := start(t, "ws://"+proxy.ln.Addr().String()+"/api/v1/link", t.TempDir())
	defer r.stop()
	receive(t, r.rec.welcomes, "welcome")
	proxy.cut()
	receive(t, r.rec.welcomes, "welcome after reconnect")
	if tk, err := r.c.TakeTicket(context.Background(), "pension-age"); err != nil || tk.Number == "" {
		t.Fatalf("after reconnect: %+v %v", tk, err)
	}
	if st := r.c.Status(); st.State != StateUp || st.Retries != 0 {
		t.Errorf("status after reconnect %+v", st)
	}
}

func TestSecondStoreFailsFast(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenStore(filepath.Join(dir, "kioskd.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := OpenStore(filepath.Join(dir, "kioskd.db")); !errors.Is(err, ErrLocked) {
		t.Fatalf("second open: %v", err)
	}
}

func TestBackoffIsCappedWithJitter(t *testing.T) {
	for attempt := 1; attempt < 40; attempt++ {
		for range 50 {
			d := backoff(attempt)
			if d <= 0 || d > backoffMax+time.Millisecond {
				t.Fatalf("attempt %d: %s", attempt, d)
			}
		}
	}
}
