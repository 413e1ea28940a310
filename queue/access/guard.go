package access

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	bolt "go.etcd.io/bbolt"

	"github.com/cherga/kiosk/httpapi"
)

// Options configure a Guard; zero fields take the documented defaults.
type Options struct {
	// Clock is the time of sessions and lockouts; nil: the real clock.
	// Nothing in this package reads real time but through it.
	Clock clockwork.Clock
	// Log receives sign-ins, sign-outs, lockouts and failures; nil:
	// discard.
	Log *slog.Logger
	// IdleTimeout ends a session unused this long; 0: 2 hours.
	IdleTimeout time.Duration
	// MaxAge ends a session this long after sign-in, however busy; 0:
	// 12 hours (a working day and some).
	MaxAge time.Duration
	// SecureCookies marks the session cookie Secure even on plain HTTP
	// requests: set it when a TLS proxy is in front of queued.
	SecureCookies bool
	// Names are the host names (or addresses) the server answers to,
	// the office's names:. Loopback names are always allowed.
	Names []string
}

const (
	defaultIdle   = 2 * time.Hour
	defaultMaxAge = 12 * time.Hour
)

// Guard checks who is asking and what they may do: sessions, API tokens,
// the Host and cross-origin checks, and the sign-in endpoints.
type Guard struct {
	store  *Store
	db     *bolt.DB
	clock  clockwork.Clock
	log    *slog.Logger
	idle   time.Duration
	maxAge time.Duration
	secure bool
	hosts  *httpapi.Hosts

	byName, byAddr *limiter
	// hashSlots bounds concurrent argon2 hashes (19 MiB each), so a flood
	// of sign-ins cannot exhaust memory.
	hashSlots chan struct{}
	dummyOnce sync.Once
	dummyHash string
}

// now is the guard's time now.
func (g *Guard) now() time.Time { return g.clock.Now() }

// New makes a guard over the accounts in store, keeping sessions in db's
// bucket "sessions" (made if missing), and prunes dead sessions.
func New(store *Store, db *bolt.DB, opts Options) (*Guard, error) {
	g := &Guard{store: store, db: db, clock: opts.Clock, log: opts.Log, idle: opts.IdleTimeout, maxAge: opts.MaxAge,
		secure: opts.SecureCookies,
		byName: newLimiter(maxLimited), byAddr: newLimiter(maxLimited),
		hashSlots: make(chan struct{}, max(2, runtime.GOMAXPROCS(0))),
		hosts:     httpapi.NewHosts(httpapi.HostsOptions{Names: opts.Names})}
	if g.clock == nil {
		g.clock = clockwork.NewRealClock()
	}
	if g.log == nil {
		g.log = slog.New(slog.DiscardHandler)
	}
	if g.idle <= 0 {
		g.idle = defaultIdle
	}
	if g.maxAge <= 0 {
		g.maxAge = defaultMaxAge
	}
	err := db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(sessionsBucket)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("access: sessions: %w", err)
	}
	if err := g.PruneSessions(); err != nil {
		return nil, err
	}
	return g, nil
}

// Authenticate returns who sent r: the API token of an Authorization:
// Bearer header, else the account of the session cookie. Errors are
// ErrNoCredential, ErrBadToken, ErrSessionEnded, or a database failure.
func (g *Guard) Authenticate(r *http.Request) (*Principal, error) {
	// A program's explicit token wins over a cookie a browser may also
	// carry.
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, secret, _ := strings.Cut(h, " ")
		secret = strings.TrimSpace(secret)
		if !strings.EqualFold(scheme, "Bearer") || secret == "" {
			return nil, ErrBadToken
		}
		t, ok := g.store.tokenFor(secret)
		if !ok {
			return nil, ErrBadToken
		}
		return tokenPrincipal(t), nil
	}
	c, err := r.Cookie(CookieName)
	if err != nil {
		return nil, ErrNoCredential
	}
	u, err := g.session(c.Value)
	if err != nil {
		return nil, err
	}
	return userPrincipal(u), nil
}

// Require passes to h only requests whose credential has scope, with the
// principal in the context (FromContext); others get 401 unauthorized or
// 403 forbidden. An unknown scope is a programming error and panics when
// the route is made.
func (g *Guard) Require(scope string, h http.Handler) http.Handler {
	if !slices.Contains(Scopes, scope) {
		panic(fmt.Sprintf("access: Require(%q): not a scope; expected one of %s", scope, strings.Join(Scopes, ", ")))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := g.Authenticate(r)
		if err != nil {
			g.refuse(w, r, err, scope)
			return
		}
		if !p.Has(scope) {
			if p.Kind == KindToken {
				w.Header().Set("WWW-Authenticate", `Bearer realm="queued", error="insufficient_scope", scope="`+scope+`"`)
			}
			writeError(w, http.StatusForbidden, "forbidden", fmt.Sprintf("this needs scope %s; %s", scope, p.describe()))
			return
		}
		h.ServeHTTP(w, r.WithContext(WithPrincipal(r.Context(), p)))
	})
}

// RequireSession passes to h only requests of a signed-in account, of
// any role: what a person does for themselves, like signing in to a
// window. An API token is refused.
func (g *Guard) RequireSession(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := g.Authenticate(r)
		if err != nil {
			g.refuse(w, r, err, "")
			return
		}
		if p.Kind != KindUser {
			writeError(w, http.StatusForbidden, "forbidden",
				fmt.Sprintf("this needs a signed-in account (sign in at /login); token %s is for programs", p.Name))
			return
		}
		h.ServeHTTP(w, r.WithContext(WithPrincipal(r.Context(), p)))
	})
}

// OptionalPrincipal attaches the principal to the context when the
// request has a valid credential, and passes every request to h: for
// public pages that show more to those signed in.
func (g *Guard) OptionalPrincipal(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p, err := g.Authenticate(r); err == nil {
			r = r.WithContext(WithPrincipal(r.Context(), p))
		}
		h.ServeHTTP(w, r)
	})
}

// refuse answers a request whose credential failed, saying what would
// do; scope is what the route needs ("" for a session).
func (g *Guard) refuse(w http.ResponseWriter, r *http.Request, err error, scope string) {
	need := "sign in at /login"
	if scope != "" {
		need = "sign in at /login or send Authorization: Bearer <token> with scope " + scope
	}
	challenge := `Bearer realm="queued"`
	switch {
	case errors.Is(err, ErrNoCredential):
		w.Header().Set("WWW-Authenticate", challenge)
		writeError(w, http.StatusUnauthorized, "unauthorized", need)
	case errors.Is(err, ErrBadToken):
		w.Header().Set("WWW-Authenticate", challenge+`, error="invalid_token"`)
		writeError(w, http.StatusUnauthorized, "unauthorized",
			"the Authorization header is not a known Bearer token (mistyped, or removed): "+need)
	case errors.Is(err, ErrSessionEnded):
		w.Header().Set("WWW-Authenticate", challenge)
		g.clearSessionCookie(w, r)
		writeError(w, http.StatusUnauthorized, "unauthorized", "the session has ended: "+need)
	default:
		g.log.Error("cannot check a credential", "err", err)
		writeError(w, http.StatusInternalServerError, "internal", "the server cannot check credentials now; its log says why")
	}
}

// ContentSecurityPolicy is the policy Protect sets on every answer: only
// queued's own scripts, styles and connections, no framing. A handler
// that needs another sets its own header.
const ContentSecurityPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; " +
	"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"

// Protect is the outermost wrapper of the whole server: security headers
// on every answer, then the Host check, then the cross-origin check.
func (g *Guard) Protect(h http.Handler) http.Handler {
	csrf := http.NewCrossOriginProtection()
	csrf.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		from := r.Header.Get("Origin")
		if from == "" {
			from = "another site"
		}
		writeError(w, http.StatusForbidden, "cross_origin",
			fmt.Sprintf("a request from %s may not change anything here: use queued's own pages, or a program with a Bearer token", clip(from)))
	}))
	inner := csrf.Handler(h)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Content-Security-Policy", ContentSecurityPolicy)
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "same-origin")
		// A page of another site whose name was made to resolve to this
		// server (DNS rebinding) would be same-origin to the browser;
		// only the Host header tells.
		if !g.hosts.Allowed(r.Host) {
			writeError(w, http.StatusForbidden, "bad_host", fmt.Sprintf(
				"this server answers to %s; got %s: add it to names: in the office configuration",
				g.hosts, strconv.Quote(clip(r.Host))))
			return
		}
		inner.ServeHTTP(w, r)
	})
}

// SetNames replaces Options.Names, for a configuration reloaded while
// the server runs.
func (g *Guard) SetNames(names []string) { g.hosts.SetNames(names) }

// clip keeps what a client sent short enough to quote in an answer or a
// log line.
func clip(s string) string {
	const n = 100
	if len(s) > n {
		s = s[:n] + "…"
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}
