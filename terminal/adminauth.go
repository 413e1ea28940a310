package terminal

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"log/slog"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cherga/kiosk/httpapi"
	"github.com/cherga/kiosk/httpapi/auth"
)

// Signing in to an admin listener off loopback: POST /admin/login with the
// password gives a session cookie (HttpOnly, Secure, SameSite=Strict) and
// a CSRF token, which every POST must carry in X-CSRF-Token besides
// passing the origin checks. A session unused for adminIdle ends. Failed
// passwords are limited per client address (auth.Limiter: 429 with
// Retry-After), logged, and counted in
// cherga_kioskd_admin_login_failures_total. Sessions live in memory: a
// restart of kioskd signs the technician out.

const (
	adminCookie      = "kioskd_admin"
	adminCSRFHeader  = "X-CSRF-Token"
	adminIdle        = 15 * time.Minute
	adminMaxSessions = 16
)

// adminAuth is the admin listener's sessions; with required false (a
// loopback listener) every request passes.
type adminAuth struct {
	hash     string
	required bool
	clock    clockwork.Clock
	log      *slog.Logger
	failures prometheus.Counter
	limiter  *auth.Limiter
	hashing  chan struct{} // one argon2 hash at a time: 19 MiB each

	mu       sync.Mutex
	sessions map[[32]byte]*adminSession // by the SHA-256 of the cookie's value
}

type adminSession struct {
	csrf string
	last time.Time
}

func newAdminAuth(hash string, required bool, clock clockwork.Clock, log *slog.Logger, failures prometheus.Counter) *adminAuth {
	return &adminAuth{hash: hash, required: required, clock: clock, log: log, failures: failures,
		limiter: auth.NewLimiter(1000), hashing: make(chan struct{}, 1), sessions: map[[32]byte]*adminSession{}}
}

func (a *adminAuth) register(mux *httpapi.Mux) {
	mux.HandleFunc("POST /admin/login", a.login)
	mux.HandleFunc("POST /admin/logout", a.logout)
	mux.HandleFunc("GET /api/v1/admin/session", a.session)
}

// public are the paths answered without a session: the page's files
// (which hold no data), the catalogue, signing in.
func public(r *http.Request) bool {
	switch {
	case r.Method == http.MethodGet && (r.URL.Path == "/" || r.URL.Path == "/favicon.ico" || r.URL.Path == "/i18n.json" || r.URL.Path == "/i18n.js" ||
		r.URL.Path == "/api/v1/admin/session" || strings.HasPrefix(r.URL.Path, "/admin/")):
		return true
	case r.Method == http.MethodPost && r.URL.Path == "/admin/login":
		return true
	}
	return false
}

// gate passes a request with a live session (and, for anything but GET
// and HEAD, its CSRF token); others get 401 or 403 JSON.
func (a *adminAuth) gate(h http.Handler) http.Handler {
	if !a.required {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if public(r) || r.URL.Path == "/metrics" { // /metrics: metricsGate
			h.ServeHTTP(w, r)
			return
		}
		s := a.find(r)
		if s == nil {
			httpapi.WriteError(w, http.StatusUnauthorized, "sign_in_required", "sign in at /admin/ with the admin password first")
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead &&
			subtle.ConstantTimeCompare([]byte(r.Header.Get(adminCSRFHeader)), []byte(s.csrf)) != 1 {
			httpapi.WriteError(w, http.StatusForbidden, "csrf", "the request lacks the session's "+adminCSRFHeader+" header")
			return
		}
		h.ServeHTTP(w, r)
	})
}

// metricsGate lets a scraper on this machine read /metrics without a
// session (a node exporter or Prometheus agent on the terminal); from
// elsewhere it needs one.
func (a *adminAuth) metricsGate(h http.Handler) http.Handler {
	local := loopbackOnly(h)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !a.required || a.find(r) != nil {
			h.ServeHTTP(w, r)
			return
		}
		local.ServeHTTP(w, r)
	})
}

// find is r's live session, nil if none; finding it counts as a use.
func (a *adminAuth) find(r *http.Request) *adminSession {
	c, err := r.Cookie(adminCookie)
	if err != nil || c.Value == "" {
		return nil
	}
	key := sha256.Sum256([]byte(c.Value))
	now := a.clock.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	s, ok := a.sessions[key]
	if !ok {
		return nil
	}
	if now.Sub(s.last) >= adminIdle {
		delete(a.sessions, key)
		return nil
	}
	s.last = now
	return s
}

// clientHost is the address a request came from, without its port.
func clientHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// adminMaxPassword bounds a password's bytes: a pasted file is not hashed.
const adminMaxPassword = 1024

func (a *adminAuth) login(w http.ResponseWriter, r *http.Request) {
	if !a.required {
		httpapi.WriteError(w, http.StatusConflict, "no_password", "this admin listener is on loopback and asks no password")
		return
	}
	var body struct {
		Password string `json:"password"`
	}
	if err := httpapi.Decode(w, r, 4096, &body); err != nil {
		httpapi.Fail(w, err)
		return
	}
	addr := clientHost(r)
	if d := a.limiter.LockedFor(addr, a.clock.Now()); d > 0 {
		secs := int(math.Ceil(d.Seconds()))
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		httpapi.WriteError(w, http.StatusTooManyRequests, "locked_out", "too many wrong passwords: try again in "+strconv.Itoa(secs)+" s")
		return
	}
	select {
	case a.hashing <- struct{}{}:
	case <-r.Context().Done():
		return
	}
	ok := false
	if len(body.Password) <= adminMaxPassword {
		var err error
		if ok, err = auth.VerifyPassword(a.hash, body.Password); err != nil {
			a.log.Error("admin.password_hash cannot be checked: make it again with kioskctl admin hash-password", "err", err)
		}
	}
	<-a.hashing
	if !ok {
		a.failures.Inc()
		lock := a.limiter.Fail(addr, a.clock.Now())
		a.log.Warn("admin sign-in: wrong password", "address", addr, "locked_out_for", lock)
		httpapi.WriteError(w, http.StatusUnauthorized, "bad_password", "the password is wrong")
		return
	}
	a.limiter.Clear(addr)
	id, csrf := randomToken(), randomToken()
	a.mu.Lock()
	now := a.clock.Now()
	for k, s := range a.sessions { // the idle ones, and the oldest beyond the bound
		if now.Sub(s.last) >= adminIdle {
			delete(a.sessions, k)
		}
	}
	for len(a.sessions) >= adminMaxSessions {
		var oldest [32]byte
		var at time.Time
		for k, s := range a.sessions {
			if at.IsZero() || s.last.Before(at) {
				oldest, at = k, s.last
			}
		}
		delete(a.sessions, oldest)
	}
	a.sessions[sha256.Sum256([]byte(id))] = &adminSession{csrf: csrf, last: now}
	a.mu.Unlock()
	a.log.Info("admin sign-in", "address", addr)
	http.SetCookie(w, &http.Cookie{Name: adminCookie, Value: id, Path: "/", HttpOnly: true, Secure: true,
		SameSite: http.SameSiteStrictMode})
	_ = httpapi.WriteJSON(w, http.StatusOK, map[string]any{"csrf": csrf})
}

func (a *adminAuth) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(adminCookie); err == nil {
		a.mu.Lock()
		delete(a.sessions, sha256.Sum256([]byte(c.Value)))
		a.mu.Unlock()
	}
	http.SetCookie(w, &http.Cookie{Name: adminCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: true,
		SameSite: http.SameSiteStrictMode})
	w.WriteHeader(http.StatusNoContent)
}

// session tells the page whether it must ask for the password, and gives
// a signed-in page (reloaded) its CSRF token again.
func (a *adminAuth) session(w http.ResponseWriter, r *http.Request) {
	out := map[string]any{"password_required": a.required, "signed_in": !a.required}
	if a.required {
		if s := a.find(r); s != nil {
			out["signed_in"], out["csrf"] = true, s.csrf
		}
	}
	_ = httpapi.WriteJSON(w, http.StatusOK, out)
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
