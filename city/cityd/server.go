package cityd

import (
	"cmp"
	"context"
	"crypto/tls"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"iter"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/jonboulle/clockwork"
	bolt "go.etcd.io/bbolt"

	"github.com/cherga/kiosk/city"
	"github.com/cherga/kiosk/configs"
	"github.com/cherga/kiosk/httpapi"
	"github.com/cherga/kiosk/i18n"
	"github.com/cherga/kiosk/pageclock"
	"github.com/cherga/kiosk/queue/access"
)

//go:embed web
var webFS embed.FS

// Database is what cityd reads of the city's database (*city.DB).
type Database interface {
	Statuses(ctx context.Context) ([]city.OfficeStatus, error)
	Events(ctx context.Context, offices []string, from, to string) iter.Seq2[city.OfficeEvent, error]
	Ping(ctx context.Context) error
}

// Options are a Server's parts; Config, DB, AccessFile and Sessions are
// required.
type Options struct {
	Config *configs.CityServer
	DB     Database
	// AccessFile holds the accounts and tokens (data_dir/access.json,
	// edited by cityd user/token).
	AccessFile string
	// Sessions is the bbolt database of the signed-in sessions
	// (data_dir/cityd.db).
	Sessions *bolt.DB
	Clock    clockwork.Clock // nil: the real clock
	Log      *slog.Logger    // nil: discard
	// StatusCache is how long one answer of the status query serves
	// everyone asking: a crowd of phones polling costs the database one
	// query a second. 0: 1 s; negative: none.
	StatusCache time.Duration
	// SecureCookies marks the session cookie Secure on plain HTTP too,
	// for a TLS proxy in front.
	SecureCookies bool
}

// Server is cityd's HTTP side.
type Server struct {
	cfg     *configs.CityServer
	db      Database
	clock   clockwork.Clock
	log     *slog.Logger
	guard   *access.Guard
	store   *access.Store
	mux     *httpapi.Mux
	handler http.Handler
	status  *statusCache
	metrics *serverMetrics // GET /metrics (metrics.go)

	badRequests atomic.Int64
}

// New makes cityd's server.
func New(opts Options) (*Server, error) {
	if opts.Config == nil || opts.DB == nil || opts.Sessions == nil || opts.AccessFile == "" {
		return nil, errors.New("cityd: Options.Config, DB, Sessions and AccessFile are required")
	}
	s := &Server{cfg: opts.Config, db: opts.DB, clock: opts.Clock, log: opts.Log, mux: httpapi.NewMux()}
	if s.clock == nil {
		s.clock = clockwork.NewRealClock()
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	store, err := access.OpenStore(opts.AccessFile, access.StoreOptions{Clock: s.clock, Log: s.log})
	if err != nil {
		return nil, err
	}
	guard, err := access.New(store, opts.Sessions, access.Options{Clock: s.clock, Log: s.log,
		IdleTimeout: s.cfg.Sessions.Idle, MaxAge: s.cfg.Sessions.MaxAge, SecureCookies: opts.SecureCookies, Names: s.cfg.Names})
	if err != nil {
		return nil, err
	}
	s.store, s.guard = store, guard
	ttl := opts.StatusCache
	if ttl == 0 {
		ttl = time.Second
	}
	s.metrics = newServerMetrics(s)
	s.status = &statusCache{ttl: ttl, hits: s.metrics.cacheHits, misses: s.metrics.cacheMisses}
	s.routes()
	s.handler = s.metrics.count(httpapi.Recover(guard.Protect(s.mux), s.log, func() { s.badRequests.Add(1) }))
	return s, nil
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// HTTPServer is cityd's http.Server: timeouts and a header cap
// (httpapi.NewServer). tc nil: plain HTTP.
func (s *Server) HTTPServer(tc *tls.Config) *http.Server {
	return httpapi.NewServer(s, tc, httpapi.Timeouts{})
}

// Limit serves at most n connections of ln at once (0:
// configs.DefaultCityMaxConnections), refusing the others at once.
func (s *Server) Limit(ln net.Listener, n int, tls bool) net.Listener {
	l := httpapi.Limit(ln, cmp.Or(n, configs.DefaultCityMaxConnections), nil)
	l.Silent = tls
	return l
}

// SetNames replaces the host names cityd answers to.
func (s *Server) SetNames(names []string) { s.guard.SetNames(names) }

func (s *Server) routes() {
	s.mux.HandleFunc("GET /healthz", s.handleHealth)
	s.mux.Handle("GET /metrics", s.guard.Require(access.ScopeStats, s.metrics.handler()))
	s.mux.HandleFunc("GET /api/v1/city/status", s.handleStatus)
	s.mux.HandleFunc("OPTIONS /api/v1/city/status", s.handleStatusPreflight)
	s.mux.Handle("GET /{$}", page("web/index.html"))
	s.mux.Handle("GET /city.css", file("web/city.css", "text/css; charset=utf-8"))
	s.mux.Handle("GET /city.js", file("web/city.js", "text/javascript; charset=utf-8"))
	s.mux.Handle("GET /clock.js", pageclock.Handler())
	s.mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	s.statsRoutes()
	s.guard.Routes(s.mux)
	i18n.Register(s.mux)
}

func mustRead(name string) []byte {
	b, err := fs.ReadFile(webFS, name)
	if err != nil {
		panic(fmt.Sprintf("cityd: %v", err)) // embedded at build time
	}
	return b
}

func file(name, contentType string) http.Handler {
	b := mustRead(name)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(b)
	})
}

func page(name string) http.Handler { return file(name, "text/html; charset=utf-8") }

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	if err := s.db.Ping(ctx); err != nil {
		s.log.Warn("health: the database does not answer", "err", err)
		_ = httpapi.WriteJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "unavailable", "database": "down"})
		return
	}
	_ = httpapi.WriteJSON(w, http.StatusOK, map[string]any{"status": "ok", "database": "ok"})
}

// officeOrder sorts ids as the configuration's offices: lists them, the
// others after by id.
func officeOrder(order []string) func(a, b string) int {
	rank := map[string]int{}
	for i, id := range order {
		rank[id] = i + 1
	}
	return func(a, b string) int {
		ra, rb := rank[a], rank[b]
		switch {
		case ra != 0 && rb != 0:
			return cmp.Compare(ra, rb)
		case ra != 0:
			return -1
		case rb != 0:
			return 1
		}
		return cmp.Compare(a, b)
	}
}
