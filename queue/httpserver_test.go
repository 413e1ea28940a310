package queue_test

import (
	"bufio"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/cherga/kiosk/httpapi"
	"github.com/cherga/kiosk/queue"
	"github.com/cherga/kiosk/queue/access"
	"github.com/cherga/kiosk/queue/queuetest"
)

const httpGuard = 30 * time.Second

// serveQueued serves the demo office as cmd/queued does: HTTPServer with
// timeouts on a Limit listener of max connections. It returns the address
// and an API token with every scope.
func serveQueued(t *testing.T, timeouts httpapi.Timeouts, max int) (addr, token string, lim net.Listener) {
	t.Helper()
	clock := clockwork.NewFakeClockAt(time.Now())
	q, err := queue.Open(filepath.Join(t.TempDir(), "queued.db"), queuetest.Config(t), queue.Options{Clock: clock, Version: "test", BookingKey: queuetest.BookingKey})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	accessFile := filepath.Join(t.TempDir(), "access.json")
	store, err := access.OpenStore(accessFile, access.StoreOptions{HashParams: access.HashParams{Memory: 64, Time: 1, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if token, err = store.AddToken("tests", []string{access.ScopeAdmin}); err != nil {
		t.Fatal(err)
	}
	srv, err := queue.NewServer(q, queue.ServerOptions{Log: slog.New(slog.DiscardHandler), AccessFile: accessFile})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lim = srv.Limit(ln, max, false)
	hs := srv.HTTPServer(nil, timeouts)
	go func() { _ = hs.Serve(lim) }()
	t.Cleanup(func() { hs.Close() })
	return ln.Addr().String(), token, lim
}

// rawGet sends GET path on conn, keeping it alive, and reads the answer.
func rawGet(conn net.Conn, br *bufio.Reader, addr, path, token string) (*http.Response, string, error) {
	req := "GET " + path + " HTTP/1.1\r\nHost: " + addr + "\r\n"
	if token != "" {
		req += "Authorization: Bearer " + token + "\r\n"
	}
	if _, err := io.WriteString(conn, req+"\r\n"); err != nil {
		return nil, "", err
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return nil, "", err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b), nil
}

// 1,013 idle connections — keep-alive ones after a request and ones that
// never sent one, as a flood or a thousand terminals gone quiet would
// leave — do not exhaust queued: a new request is answered while they are
// open, and the server closes each once the idle (or header) timeout
// passes.
func TestIdleConnectionsDoNotExhaust(t *testing.T) {
	const n = 1013
	// Timeouts long enough for all of them to be open at once on a busy
	// machine, short enough for the test.
	addr, _, _ := serveQueued(t, httpapi.Timeouts{ReadHeader: 2 * time.Second, Idle: 2 * time.Second}, 0)
	conns := make([]net.Conn, n)
	readers := make([]*bufio.Reader, n)
	errs := make(chan error, n)
	for i := range n {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		t.Cleanup(func() { c.Close() })
		_ = c.SetDeadline(time.Now().Add(httpGuard))
		conns[i], readers[i] = c, bufio.NewReader(c)
		if i%2 == 1 {
			continue // one that never sends a request
		}
		// One on keep-alive after a request, sent as it connects.
		resp, _, err := rawGet(c, readers[i], addr, "/healthz", "")
		switch {
		case err != nil:
			t.Fatalf("connection %d: %v", i, err)
		case resp.StatusCode != http.StatusOK || resp.Close:
			t.Fatalf("connection %d not answered 200 on keep-alive: %s", i, resp.Status)
		}
	}
	var wg sync.WaitGroup
	// A new client is answered while all of them are open.
	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatalf("a new request with %d idle connections open: %v", n, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("a new request with %d idle connections open: %s", n, resp.Status)
	}
	// And the server lets each idle one go.
	for i := range n {
		wg.Go(func() {
			if _, err := readers[i].ReadByte(); !errors.Is(err, io.EOF) {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("idle connection: %v", err)
	}
}

// Connections over max_connections are refused at once with 503 and
// counted in the metrics, while the ones within go on being served.
func TestConnectionLimit(t *testing.T) {
	addr, token, _ := serveQueued(t, httpapi.Timeouts{}, 5)
	var held []net.Conn
	var heldR []*bufio.Reader
	for i := range 5 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		_ = c.SetDeadline(time.Now().Add(httpGuard))
		br := bufio.NewReader(c)
		if resp, body, err := rawGet(c, br, addr, "/healthz", ""); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("connection %d within the limit: %v %s", i, err, body)
		}
		held, heldR = append(held, c), append(heldR, br)
	}
	for i := range 3 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		_ = c.SetDeadline(time.Now().Add(httpGuard))
		resp, body, err := rawGet(c, bufio.NewReader(c), addr, "/healthz", "")
		c.Close()
		if err != nil || resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "too_many_connections") {
			t.Fatalf("connection %d over the limit: %v %v %s", i, err, resp, body)
		}
	}
	// The metrics, on a connection held.
	resp, body, err := rawGet(held[0], heldR[0], addr, "/metrics", token)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %v %s", err, body)
	}
	for _, want := range []string{"\ncherga_queued_http_refused_connections_total 3\n", "\ncherga_queued_http_connections 5\n"} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", strings.TrimSpace(want))
		}
	}
}
