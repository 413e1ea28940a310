package terminal

import (
	"context"
	"crypto/tls"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/cherga/kiosk/configs"
	"github.com/cherga/kiosk/httpapi"
	"github.com/cherga/kiosk/i18n"
	"github.com/cherga/kiosk/pageclock"
)

// The admin listener is the technician's: a second HTTP server of the
// terminal (admin.listen, 127.0.0.1:8081 by default) with the admin page
// at /admin/, its JSON API under /api/v1/admin/ (adminapi.go), and the
// Prometheus exposition at /metrics. The main listener serves visitors'
// pages and hall TVs, possibly on 0.0.0.0; nothing of this is there.
//
// Every answer carries the security headers (a CSP of 'self' with no
// inline script, no framing, nosniff, no referrer); every request's Host
// must be this listener's (DNS rebinding); every state-changing request
// passes http.CrossOriginProtection, so the kiosk page (another origin,
// http://127.0.0.1:8080) can never drive it. On loopback that is all:
// whoever is at the terminal is its technician. Off loopback, kioskd
// refuses to start without admin.password_hash and TLS, and the page and
// API need a session (adminauth.go): the password at /admin/login, a
// cookie, and a CSRF token in a header on every POST.

//go:embed admin
var adminFiles embed.FS

// adminPart is the admin listener and what it remembers (adminlog.go).
type adminPart struct {
	t        *Terminal
	mux      *httpapi.Mux
	loopback bool // admin.listen is a loopback address: no password
	tls      *tls.Config
	ln       net.Listener // set by Listening
	closeLn  sync.Once

	errors *deviceErrors
	scans  *scanLog
	auth   *adminAuth
	tests  *actionLimit
}

func newAdminPart(b *build) (part, error) {
	t := b.Terminal
	if t.cfg.Admin.Listen == configs.AdminOff && t.adminListener == nil {
		return nil, nil
	}
	p := &adminPart{t: t, mux: httpapi.NewMux(), loopback: t.cfg.Admin.Loopback(), errors: newDeviceErrors(),
		scans: b.scans, tests: newActionLimit(t.clock, adminActionEvery)}
	if !p.loopback {
		tc, err := adminTLS(t.cfg.Admin)
		if err != nil {
			return nil, err
		}
		p.tls = tc
	}
	failures := prometheus.NewCounter(prometheus.CounterOpts{Name: "cherga_kioskd_admin_login_failures_total",
		Help: "Wrong passwords given at the admin listener's /admin/login, since kioskd started."})
	t.metrics.reg.MustRegister(failures)
	p.auth = newAdminAuth(t.cfg.Admin.PasswordHash, !p.loopback, t.clock, t.log, failures)

	p.mux.Handle("GET /metrics", p.auth.metricsGate(promhttp.HandlerFor(t.metrics.reg,
		promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})))
	i18n.Register(p.mux)
	static, _ := fs.Sub(adminFiles, "admin")
	p.mux.Handle("GET /admin/", http.StripPrefix("/admin/", httpapi.Files(static)))
	p.mux.Handle("GET /admin/clock.js", pageclock.Handler())
	p.mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	p.mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/admin/", http.StatusFound)
	})
	p.auth.register(p.mux)
	p.registerAPI(p.mux)
	return p, nil
}

// adminActionEvery is how often each test action (a test print, the
// speaker test) and each device's restart may be asked for.
const adminActionEvery = 5 * time.Second

// adminTLS loads the listener's certificate, refusing a key file others
// may read.
func adminTLS(a configs.Admin) (*tls.Config, error) {
	if a.TLSCert == "" || a.TLSKey == "" {
		return nil, errors.New("admin.tls_cert: tls_cert and tls_key are required when admin.listen is not a loopback address")
	}
	if err := privateFile(a.TLSKey); err != nil {
		return nil, fmt.Errorf("admin.tls_key: %w", err)
	}
	cert, err := tls.LoadX509KeyPair(a.TLSCert, a.TLSKey)
	if err != nil {
		return nil, fmt.Errorf("admin.tls_cert: %w", err)
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}, nil
}

// adminMaxConnections bounds the admin listener's connections at once.
const adminMaxConnections = 16

func (*adminPart) Name() string            { return "admin" }
func (*adminPart) Register(httpapi.Routes) {}

// Listening opens the admin listener (or takes Env.AdminListener) before
// the terminal serves, so that a port taken stops kioskd at start.
func (p *adminPart) Listening(net.Addr) error {
	ln := p.t.adminListener
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", p.t.cfg.Admin.Listen); err != nil {
			return fmt.Errorf("admin.listen: %w", err)
		}
	}
	p.ln = ln
	return nil
}

// handler is the admin listener's whole handler: the headers, the Host,
// the origin, then the session, then the routes.
func (p *adminPart) handler() http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		httpapi.WriteError(w, http.StatusForbidden, "forbidden_origin",
			"the admin listener takes changes from its own page only, not from another site or the kiosk page")
	}))
	h := p.auth.gate(p.mux)
	h = cop.Handler(h)
	h = httpapi.ListenHosts(p.ln.Addr(), nil, p.t.clock).Check(h,
		"open the admin page at the admin listener's own address, like http://127.0.0.1:8081/admin/")
	return securityHeaders(h)
}

// securityHeaders sets on every answer what keeps the page to itself.
func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Cache-Control", "no-store")
		h.ServeHTTP(w, r)
	})
}

// Run serves the admin listener and watches the devices' errors until
// the terminal stops.
func (p *adminPart) Run(ctx context.Context) error {
	if p.ln == nil {
		return nil
	}
	hs := httpapi.NewServer(p.t.requests.track(httpapi.Recover(p.handler(), p.t.log, nil)), p.tls, p.t.httpTimeouts)
	// TLS handshake failures and the like go to kioskd's log, not stderr.
	hs.ErrorLog = slog.NewLogLogger(p.t.log.With("listener", "admin").Handler(), slog.LevelWarn)
	// A handful of technicians and a scraper: a flood of connections is
	// turned away, not queued (httpapi.Limit).
	lim := httpapi.Limit(p.ln, adminMaxConnections, p.t.metrics.connectionRefused)
	var ln net.Listener = lim
	if p.tls != nil {
		lim.Silent = true
		ln = tls.NewListener(ln, p.tls)
	}
	scheme := "http://"
	if p.tls != nil {
		scheme = "https://"
	}
	p.t.log.Info("admin listener", "listen", scheme+p.ln.Addr().String()+"/admin/", "password", !p.loopback)
	serveErr := make(chan error, 1)
	go func() { serveErr <- hs.Serve(ln) }()
	tick := p.t.clock.NewTicker(deviceReportEvery)
	defer tick.Stop()
	var err error
loop:
	for {
		p.errors.observe(p.t.deviceStates(), p.t.clock.Now())
		select {
		case <-ctx.Done():
			break loop
		case err = <-serveErr:
			err = fmt.Errorf("admin listener: %w", err)
			break loop
		case <-tick.Chan():
		}
	}
	p.closeListener()
	hs.SetKeepAlivesEnabled(false)
	if cerr := hs.Close(); cerr != nil && !errors.Is(cerr, net.ErrClosed) {
		p.t.log.Warn("admin listener shutdown", "err", cerr)
	}
	return err
}

func (p *adminPart) closeListener() {
	p.closeLn.Do(func() {
		if p.ln != nil {
			p.ln.Close()
		}
	})
}

// Close closes the listener if Run never did.
func (p *adminPart) Close() error {
	p.closeListener()
	return nil
}

// actionLimit lets each key (a device, a test action) be done once per
// every on the terminal's clock.
type actionLimit struct {
	mu    sync.Mutex
	clock interface{ Now() time.Time }
	every time.Duration
	last  map[string]time.Time
}

func newActionLimit(clock interface{ Now() time.Time }, every time.Duration) *actionLimit {
	return &actionLimit{clock: clock, every: every, last: map[string]time.Time{}}
}

// take reports how long key must still wait, 0 after taking its turn.
func (l *actionLimit) take(key string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clock.Now()
	if last, ok := l.last[key]; ok && now.Sub(last) < l.every {
		return l.every - now.Sub(last)
	}
	l.last[key] = now
	return 0
}
