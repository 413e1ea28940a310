package access

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	bolt "go.etcd.io/bbolt"
)

// testHash keeps argon2 cheap in tests; production uses DefaultHashParams.
var testHash = HashParams{Memory: 64, Time: 1, Threads: 1}

const testPassword = "correct horse battery"

// newClock is the tests' clock, moved by hand.
func newClock() *clockwork.FakeClock {
	return clockwork.NewFakeClockAt(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
}

// logBuffer collects log lines written from server goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// office is a guard over a real access.json and a real bbolt file, behind
// a real HTTP server, with a few protected routes.
type office struct {
	t      *testing.T
	clock  *clockwork.FakeClock
	dir    string
	store  *Store
	db     *bolt.DB
	guard  *Guard
	log    *logBuffer
	server *httptest.Server
	swap   *switchHandler
	opts   Options
}

func openDB(t *testing.T, path string) *bolt.DB {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// newOffice starts an office; tweak may change the options (and ask for
// TLS by returning true).
func newOffice(t *testing.T, tweak func(*Options) (tls bool)) *office {
	t.Helper()
	o := &office{t: t, clock: newClock(), dir: t.TempDir(), log: &logBuffer{}}
	var err error
	o.store, err = OpenStore(filepath.Join(o.dir, "access.json"), StoreOptions{Clock: o.clock, HashParams: testHash})
	if err != nil {
		t.Fatal(err)
	}
	o.db = openDB(t, filepath.Join(o.dir, "queued.db"))
	o.opts = Options{Clock: o.clock, Log: slog.New(slog.NewTextHandler(o.log, nil)),
		IdleTimeout: 10 * time.Minute, MaxAge: time.Hour, Names: []string{"queue.office.example"}}
	tls := false
	if tweak != nil {
		tls = tweak(&o.opts)
	}
	o.guard, err = New(o.store, o.db, o.opts)
	if err != nil {
		t.Fatal(err)
	}
	h := &switchHandler{}
	h.set(o.handler())
	if tls {
		o.server = httptest.NewTLSServer(h)
	} else {
		o.server = httptest.NewServer(h)
	}
	o.swap = h
	t.Cleanup(func() {
		o.server.Close()
		o.db.Close()
	})
	return o
}

// switchHandler lets a test replace the guard behind a running server,
// as a restart would.
type switchHandler struct {
	mu sync.Mutex
	h  http.Handler
}

func (s *switchHandler) set(h http.Handler) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.h = h
}

func (s *switchHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	h := s.h
	s.mu.Unlock()
	h.ServeHTTP(w, r)
}

func (o *office) handler() http.Handler {
	g := o.guard
	mux := http.NewServeMux()
	g.Routes(mux)
	echo := func(w http.ResponseWriter, r *http.Request) {
		p := FromContext(r.Context())
		name := ""
		if p != nil {
			name = p.Kind + ":" + p.Name
		}
		writeJSON(w, http.StatusOK, map[string]string{"principal": name})
	}
	mux.Handle("GET /api/v1/windows/{n}/queue", g.Require(ScopeWindows, http.HandlerFunc(echo)))
	mux.Handle("POST /api/v1/windows/{n}/next", g.Require(ScopeWindows, http.HandlerFunc(echo)))
	mux.Handle("GET /api/v1/stats", g.Require(ScopeStats, http.HandlerFunc(echo)))
	mux.Handle("POST /api/v1/windows/{n}/sign-in", g.RequireSession(http.HandlerFunc(echo)))
	mux.Handle("GET /api/v1/public/status", g.OptionalPrincipal(http.HandlerFunc(echo)))
	return g.Protect(mux)
}

// restart makes a new guard on the same files, as a restarted queued.
func (o *office) restart() {
	o.t.Helper()
	path := o.db.Path()
	if err := o.db.Close(); err != nil {
		o.t.Fatal(err)
	}
	o.db = openDB(o.t, path)
	store, err := OpenStore(o.store.Path(), StoreOptions{Clock: o.clock, HashParams: testHash})
	if err != nil {
		o.t.Fatal(err)
	}
	o.store = store
	if o.guard, err = New(o.store, o.db, o.opts); err != nil {
		o.t.Fatal(err)
	}
	o.swap.set(o.handler())
}

func (o *office) addUser(name string, role Role, windows ...int) {
	o.t.Helper()
	if err := o.store.AddUser(User{Name: name, Role: role, Windows: windows}, testPassword); err != nil {
		o.t.Fatal(err)
	}
}

// answer is a response read whole.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(a.body, &m); err != nil {
		t.Fatalf("answer %d %q: %v", a.status, a.body, err)
	}
	return m
}

// code returns the error code of an error answer.
func (a answer) code(t *testing.T) string {
	t.Helper()
	if ct := a.header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	c, _ := a.json(t)["code"].(string)
	return c
}

func (a answer) message(t *testing.T) string {
	t.Helper()
	m, _ := a.json(t)["error"].(string)
	return m
}

func (a answer) cookie() *http.Cookie {
	for _, c := range (&http.Response{Header: a.header}).Cookies() {
		if c.Name == CookieName {
			return c
		}
	}
	return nil
}

// do sends a request; headers are name, value pairs; cookie may be nil.
func (o *office) do(method, path, body string, cookie *http.Cookie, headers ...string) answer {
	o.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, o.server.URL+path, r)
	if err != nil {
		o.t.Fatal(err)
	}
	if cookie != nil {
		req.AddCookie(&http.Cookie{Name: cookie.Name, Value: cookie.Value})
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i] == "Host" {
			req.Host = headers[i+1]
			continue
		}
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := o.server.Client().Do(req)
	if err != nil {
		o.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		o.t.Fatal(err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: b}
}

func (o *office) login(name, password string) answer {
	o.t.Helper()
	b, _ := json.Marshal(map[string]string{"name": name, "password": password})
	return o.do("POST", "/api/v1/login", string(b), nil, "Content-Type", "application/json")
}

// session signs name in and returns the cookie.
func (o *office) session(name string) *http.Cookie {
	o.t.Helper()
	a := o.login(name, testPassword)
	if a.status != http.StatusOK || a.cookie() == nil {
		o.t.Fatalf("sign-in of %s: %d %s", name, a.status, a.body)
	}
	return a.cookie()
}
