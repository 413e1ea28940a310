// Package queuetest runs a real queue server on loopback for other
// packages' tests: the demo office of configs/office.yaml, its database in
// the test's temporary directory. It is the peer of link tests, not a mock,
// and it can be stopped and started again on the same address, as a
// server restart or outage would.
package queuetest

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/jonboulle/clockwork"

	"github.com/cherga/kiosk/configs"
	"github.com/cherga/kiosk/queue"
	"github.com/cherga/kiosk/queue/access"
)

// Office is a queue server that can be stopped and started again.
type Office struct {
	t     testing.TB
	Queue *queue.Queue
	addr  string
	// Token is an API token with every scope, for the tests' requests
	// (Authorization: Bearer); Request adds it.
	Token  string
	access string

	mu  sync.Mutex
	ts  *httptest.Server
	API *queue.Server
}

// Config is the demo office's configuration.
func Config(t testing.TB) *configs.Office {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	cfg, err := configs.LoadOffice(filepath.Join(filepath.Dir(file), "../../configs/office.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// BookingKey is the test office's booking key.
var BookingKey = []byte("queuetest booking key, 32 bytes")

// Start serves the demo office until the test ends. clock is the office's
// time (a clockwork.FakeClock, usually); nil: the real clock.
func Start(t testing.TB, clock clockwork.Clock) *Office {
	t.Helper()
	q, err := queue.Open(filepath.Join(t.TempDir(), "queued.db"), Config(t), queue.Options{Clock: clock, Version: "test", BookingKey: BookingKey})
	if err != nil {
		t.Fatal(err)
	}
	o := &Office{t: t, Queue: q, addr: "127.0.0.1:0", access: filepath.Join(t.TempDir(), "access.json")}
	store, err := access.OpenStore(o.access, access.StoreOptions{HashParams: access.HashParams{Memory: 64, Time: 1, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if o.Token, err = store.AddToken("tests", []string{access.ScopeAdmin}); err != nil {
		t.Fatal(err)
	}
	o.Restart()
	t.Cleanup(func() { o.Stop(); q.Close() })
	return o
}

// Stop closes the server and every connection, like a crash of queued
// that keeps its database.
func (o *Office) Stop() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.ts == nil {
		return
	}
	o.API.Close()
	o.ts.CloseClientConnections()
	o.ts.Close()
	o.ts = nil
}

// Restart serves again on the same address.
func (o *Office) Restart() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.ts != nil {
		return
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		o.t.Fatalf("queuetest: listen again on %s: %v", o.addr, err)
	}
	o.addr = ln.Addr().String()
	api, err := queue.NewServer(o.Queue, queue.ServerOptions{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), AccessFile: o.access})
	if err != nil {
		o.t.Fatalf("queuetest: %v", err)
	}
	o.API = api
	o.ts = httptest.NewUnstartedServer(o.API)
	o.ts.Listener.Close()
	o.ts.Listener = ln
	o.ts.Start()
}

// Request is a request to the server with the tests' token, and a JSON
// content type when there is a body.
func (o *Office) Request(method, path, body string) *http.Request {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, o.URL()+path, r)
	if err != nil {
		o.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+o.Token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return req
}

// URL is the server's base address, http://127.0.0.1:port.
func (o *Office) URL() string { return "http://" + o.addr }

// Addr is the server's host:port.
func (o *Office) Addr() string { return o.addr }

// LinkURL is the terminals' websocket address.
func (o *Office) LinkURL() string {
	return "ws" + strings.TrimPrefix(o.URL(), "http") + "/api/v1/link"
}
