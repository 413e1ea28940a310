// Package terminal is one kioskd: the parts its configuration asks for
// (the kiosk, hall and window roles with their devices), the link to
// queued they share, and the HTTP server their pages and APIs are on.
//
// Only entry points like cmd/kioskd build a Terminal (and tests that run a
// whole one). Other packages never import terminal: each takes the small
// interfaces it needs (kiosk.Tickets, display.Board, announce.Output), and
// this package is where configuration meets drivers.
//
// A role or device group is a part (part.go): it registers its routes,
// runs until the terminal stops, closes its devices, and may report its
// devices for /healthz and take what the server pushes. A new one is a new
// file with its constructor and one line in builders.
package terminal

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"github.com/cherga/kiosk/httpapi"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/cherga/kiosk/configs"
	"github.com/cherga/kiosk/i18n"
	"github.com/cherga/kiosk/link"
	"github.com/cherga/kiosk/link/proto"
)

// shutdownBudget is how long a terminal may take to stop after its context
// ends before systemd would kill it; devices and the bbolt file are closed
// within it.
const shutdownBudget = 5 * time.Second

// Env is what a terminal takes from outside its configuration.
type Env struct {
	Log     *slog.Logger // nil: discarded
	Version string       // reported at hello and in /healthz
	// Clock is the time every timer, timeout and timestamp of the terminal
	// runs on; nil: the real clock. Tests pass a clockwork fake.
	Clock clockwork.Clock
	// Stdin feeds the simulated scanner with kiosk.scanner.source: stdin,
	// one code a line; nil: nothing is read.
	Stdin io.Reader
	// Listener is where the terminal serves HTTP; nil: it listens on
	// http.listen. Tests pass a loopback listener.
	Listener net.Listener
	// AdminListener is where the admin listener serves (admin.go); nil:
	// it listens on admin.listen. Tests pass a loopback listener.
	AdminListener net.Listener
	// Listening, if set, is told the address once Run listens (after the
	// data directory's lock is held, so a second kioskd on the same
	// directory says so, not that the port is taken): kioskd's systemd
	// watchdog checks /healthz there.
	Listening func(net.Addr)
	// HTTP bounds the server's connections (httpapi.Timeouts); zero
	// fields: the defaults. Tests pass short ones.
	HTTP httpapi.Timeouts
}

// Terminal is one running kioskd.
type Terminal struct {
	cfg      *configs.Terminal
	log      *slog.Logger
	clock    clockwork.Clock
	version  string
	stdin    io.Reader
	listener net.Listener
	onListen func(net.Addr)
	started  time.Time

	httpTimeouts httpapi.Timeouts
	// adminListener is Env.AdminListener.
	adminListener net.Listener

	store *link.Store
	link  *link.Client
	mux   *httpapi.Mux
	// parts in the order they were built and start; they close in the
	// reverse order. Fixed once New returns.
	parts    []part
	requests requests
	metrics  *terminalMetrics // GET /metrics (metrics.go)
}

// New builds the terminal cfg describes: its data directory and outbox,
// its credentials, and every part. Nothing runs until Run.
func New(cfg *configs.Terminal, env Env) (*Terminal, error) {
	if err := CheckConfig(cfg); err != nil {
		return nil, err
	}
	if env.Log == nil {
		env.Log = slog.New(slog.DiscardHandler)
	}
	if env.Clock == nil {
		env.Clock = clockwork.NewRealClock()
	}
	t := &Terminal{cfg: cfg, log: env.Log, clock: env.Clock, version: env.Version, stdin: env.Stdin,
		listener: env.Listener, adminListener: env.AdminListener, onListen: env.Listening, started: env.Clock.Now(), mux: httpapi.NewMux(), httpTimeouts: env.HTTP}
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("data_dir: %w", err)
	}
	store, err := link.OpenStore(filepath.Join(cfg.DataDir, "kioskd.db"), link.StoreOptions{
		AlarmEvents: cfg.Buffer.AlarmEvents, AlarmAge: cfg.Buffer.AlarmAge, MaxEvents: cfg.Buffer.MaxEvents,
		Clock: t.clock, Log: t.log,
	})
	if err != nil {
		return nil, err
	}
	t.store = store
	lc, err := credentials(cfg)
	if err != nil {
		store.Close()
		return nil, err
	}
	roles := make([]string, len(cfg.Roles))
	for i, r := range cfg.Roles {
		roles[i] = string(r)
	}
	lc.URL, lc.Device, lc.Roles, lc.Version, lc.HandshakeTimeout = cfg.Server.URL, cfg.DeviceID, roles, t.version, cfg.Server.HandshakeTimeout
	if cfg.Has(configs.RoleWindow) && !cfg.Has(configs.RoleHall) {
		lc.Window = cfg.Window.Number // only its own window's calls; a hall needs them all
	}
	for _, n := range cfg.BusWindows() { // the calls and states of its bus devices' windows too
		if n != lc.Window {
			lc.Windows = append(lc.Windows, n)
		}
	}
	lc.Backoff.Max = cfg.Server.ReconnectMax
	lc.Clock = t.clock
	t.link = link.New(lc, store, fanout{t}, t.log)

	t.metrics = newTerminalMetrics(t)
	b := &build{Terminal: t}
	for _, newPart := range builders {
		p, err := newPart(b)
		if err != nil {
			t.closeParts()
			store.Close()
			return nil, err
		}
		if p != nil {
			t.parts = append(t.parts, p)
		}
	}
	i18n.Register(t.mux)
	for _, p := range t.parts {
		p.Register(t.mux)
	}
	// /metrics is on the admin listener (admin.go), not this one.
	return t, nil
}

// report commits an event for the server; failing that, it is logged.
func (t *Terminal) report(m *proto.Message) {
	if _, err := t.link.Report(m); err != nil {
		t.log.Error("event not recorded", "type", m.Type, "err", err)
	}
}

// Run serves and runs every part until ctx ends, then stops everything
// within shutdownBudget: the parts' work and pages first, then requests
// still being handled (a ticket being printed), then the devices in the
// reverse order of their parts, the outbox last. Run a Terminal once.
func (t *Terminal) Run(ctx context.Context) error {
	ln := t.listener
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", t.cfg.HTTP.Listen); err != nil {
			t.close()
			return fmt.Errorf("http.listen: %w", err)
		}
	}
	if t.onListen != nil {
		t.onListen(ln.Addr())
	}
	for _, p := range t.parts {
		if l, ok := p.(listening); ok {
			if err := l.Listening(ln.Addr()); err != nil {
				ln.Close()
				t.close()
				return err
			}
		}
	}
	// Timeouts so that idle or slow clients cannot hold connections (and
	// descriptors); the pages' websockets outlive them (see httpapi.Timeouts).
	// Every route and websocket answers only to this terminal's names
	// (hosts.go), and to so many connections at once.
	hs := httpapi.NewServer(t.requests.track(httpapi.Recover(t.checkHost(ln.Addr(), t.mux), t.log, nil)), nil, t.httpTimeouts)
	ln = httpapi.Limit(ln, cmp.Or(t.cfg.HTTP.MaxConnections, configs.DefaultMaxConnections), t.metrics.connectionRefused)
	serveErr := make(chan error, 1)
	go func() { serveErr <- hs.Serve(ln) }()

	workCtx, stopWork := context.WithCancel(ctx)
	defer stopWork()
	var wg sync.WaitGroup
	for _, p := range t.parts {
		wg.Go(func() {
			if err := p.Run(workCtx); err != nil && workCtx.Err() == nil {
				t.log.Error("part stopped", "part", p.Name(), "err", err)
			}
		})
	}
	t.log.Info("kioskd started", "version", t.version, "device", t.cfg.DeviceID, "roles", t.cfg.Roles,
		"listen", "http://"+ln.Addr().String())

	var runErr error
	select {
	case <-ctx.Done():
	case err := <-serveErr:
		runErr = fmt.Errorf("http: %w", err)
	}
	t.log.Info("kioskd stopping")
	deadline := t.clock.Now().Add(shutdownBudget)
	stopWork()
	// Every part ends its work and disconnects its pages, whose websockets
	// are requests too.
	partsDone := make(chan struct{})
	go func() { wg.Wait(); close(partsDone) }()
	if !t.waitUntil(partsDone, deadline) {
		runErr = errors.Join(runErr, fmt.Errorf("shutdown took longer than %s", shutdownBudget))
	}
	// No new connections; the requests being handled finish, then every
	// connection is closed at once. http.Server.Shutdown would find idle
	// connections by polling at up to 500 ms intervals: that was kioskd's
	// half-second stop.
	ln.Close()
	hs.SetKeepAlivesEnabled(false)
	if !t.waitUntil(t.requests.drained(), deadline) {
		t.log.Warn("http shutdown: requests still running", "requests", t.requests.count())
	}
	if err := hs.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		t.log.Warn("http shutdown", "err", err)
	}
	if err := t.close(); err != nil {
		runErr = errors.Join(runErr, err)
	}
	if runErr == nil {
		t.log.Info("kioskd stopped")
	}
	return runErr
}

// waitUntil waits for done until the terminal's clock reaches deadline.
func (t *Terminal) waitUntil(done <-chan struct{}, deadline time.Time) bool {
	timer := t.clock.NewTimer(deadline.Sub(t.clock.Now()))
	defer timer.Stop()
	select {
	case <-done:
		return true
	case <-timer.Chan():
		return false
	}
}

// close closes every part in the reverse order of building, then the
// outbox. A device that fails to close is logged: the terminal stopped.
func (t *Terminal) close() error {
	t.closeParts()
	if err := t.store.Close(); err != nil {
		return fmt.Errorf("close store: %w", err)
	}
	return nil
}

func (t *Terminal) closeParts() {
	for i := len(t.parts) - 1; i >= 0; i-- {
		if err := t.parts[i].Close(); err != nil {
			t.log.Warn("close device", "part", t.parts[i].Name(), "err", err)
		}
	}
}

// requests counts the HTTP requests being handled, so that shutdown waits
// for exactly those and then closes every connection.
type requests struct {
	mu   sync.Mutex
	n    int
	idle chan struct{} // closed when n reaches 0 after drained
}

func (r *requests) track(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.n++
		r.mu.Unlock()
		defer r.done()
		h.ServeHTTP(w, req)
	})
}

func (r *requests) done() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n--
	if r.n == 0 && r.idle != nil {
		close(r.idle)
		r.idle = nil
	}
}

// drained is closed once no request is being handled.
func (r *requests) drained() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	ch := make(chan struct{})
	if r.n == 0 {
		close(ch)
	} else {
		r.idle = ch
	}
	return ch
}

func (r *requests) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}
