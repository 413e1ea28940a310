package access

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
)

// maxLoginBody is far above any real {"name","password"} and far below
// anything worth hashing.
const maxLoginBody = 4 << 10

//go:embed login
var loginFiles embed.FS

// Routes registers the sign-in API and the /login page on mux. The page
// loads /i18n.js, which the server registers with i18n.Register.
func (g *Guard) Routes(mux interface {
	HandleFunc(pattern string, handler func(http.ResponseWriter, *http.Request))
}) {
	mux.HandleFunc("POST /api/v1/login", g.login)
	mux.HandleFunc("POST /api/v1/logout", g.logout)
	mux.HandleFunc("GET /api/v1/me", g.me)
	mux.HandleFunc("GET /login", serveLoginFile("index.html", "text/html; charset=utf-8"))
	mux.HandleFunc("GET /login/login.css", serveLoginFile("login.css", "text/css; charset=utf-8"))
	mux.HandleFunc("GET /login/login.js", serveLoginFile("login.js", "text/javascript; charset=utf-8"))
}

func serveLoginFile(name, contentType string) http.HandlerFunc {
	body, err := loginFiles.ReadFile("login/" + name)
	if err != nil {
		panic("access: " + err.Error()) // embedded at build time
	}
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(body)
	}
}

// account is the answer of sign-in and /api/v1/me.
type account struct {
	Kind        string   `json:"kind"`
	Name        string   `json:"name"`
	DisplayName string   `json:"display_name,omitempty"`
	Role        Role     `json:"role,omitempty"`
	Windows     []int    `json:"windows"` // empty: all
	Scopes      []string `json:"scopes"`
}

func accountOf(p *Principal) account {
	a := account{Kind: p.Kind, Name: p.Name, DisplayName: p.DisplayName, Role: p.Role, Windows: p.Windows, Scopes: p.Scopes}
	if a.Windows == nil {
		a.Windows = []int{}
	}
	if a.Scopes == nil {
		a.Scopes = []string{}
	}
	return a
}

type loginRequest struct {
	Name     *string `json:"name"`
	Password *string `json:"password"`
}

// decodeLogin reads the sign-in body strictly; on failure it returns the
// status, code and message to answer.
func decodeLogin(w http.ResponseWriter, r *http.Request) (name, password string, status int, code, msg string) {
	const shape = `send {"name":"…","password":"…"}`
	body := http.MaxBytesReader(w, r.Body, maxLoginBody)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	var req loginRequest
	err := dec.Decode(&req)
	var tooBig *http.MaxBytesError
	if err == nil {
		// Exactly one object: anything after it is a client bug.
		if err = dec.Decode(&struct{}{}); err == io.EOF {
			err = nil
		} else if !errors.As(err, &tooBig) {
			err = errTrailing
		}
	}
	var typeErr *json.UnmarshalTypeError
	switch {
	case err == nil:
	case errors.As(err, &tooBig):
		return "", "", http.StatusRequestEntityTooLarge, "body_too_large",
			fmt.Sprintf("the body is larger than %d bytes: %s", maxLoginBody, shape)
	case errors.As(err, &typeErr) && typeErr.Field != "":
		return "", "", http.StatusBadRequest, "bad_request", typeErr.Field + ": expected a string; " + shape
	case errors.As(err, &typeErr):
		return "", "", http.StatusBadRequest, "bad_request", "the body is not a JSON object: " + shape
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return "", "", http.StatusBadRequest, "bad_request",
			strings.TrimPrefix(err.Error(), "json: ") + ": " + shape
	case err == errTrailing:
		return "", "", http.StatusBadRequest, "bad_request", "data after the JSON object: " + shape
	case err == io.EOF:
		return "", "", http.StatusBadRequest, "bad_request", "the body is empty: " + shape
	default:
		return "", "", http.StatusBadRequest, "bad_request", "the body is not JSON: " + shape
	}
	switch {
	case req.Name == nil || strings.TrimSpace(*req.Name) == "":
		return "", "", http.StatusBadRequest, "bad_request", "name: missing; " + shape
	case req.Password == nil || *req.Password == "":
		return "", "", http.StatusBadRequest, "bad_request", "password: missing; " + shape
	}
	return strings.ToLower(strings.TrimSpace(*req.Name)), *req.Password, 0, "", ""
}

var errTrailing = errors.New("data after the JSON object")

// remoteHost is the address sign-in failures are counted for.
func remoteHost(r *http.Request) string {
	if h, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return h
	}
	return r.RemoteAddr
}

// login signs a person in. Whether the name exists never shows: the
// answer, and the time it takes (a dummy hash is checked for an unknown
// name), are the same for a wrong name and a wrong password.
func (g *Guard) login(w http.ResponseWriter, r *http.Request) {
	name, password, status, code, msg := decodeLogin(w, r)
	if status != 0 {
		writeError(w, status, code, msg)
		return
	}
	nameKey, addr := clip(name), remoteHost(r)
	if !g.takeHashSlot(r) {
		return // the client went away
	}
	defer func() { <-g.hashSlots }()
	// Checked after taking a slot, so sign-ins waiting for one cannot
	// all pass the check before the first failure counts.
	now := g.now()
	if d := max(g.byName.lockedFor(nameKey, now), g.byAddr.lockedFor(addr, now)); d > 0 {
		secs := int(math.Ceil(d.Seconds()))
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		writeError(w, http.StatusTooManyRequests, "locked_out",
			fmt.Sprintf("too many failed sign-ins: try again in %d s", secs))
		return
	}
	u, known := g.store.User(name)
	hash := u.PasswordHash
	if !known {
		hash = g.dummy()
	}
	match, err := VerifyPassword(hash, password)
	if err != nil {
		g.log.Error("account has a password hash that cannot be checked: set a new password with queued user passwd",
			"name", name, "err", err)
	}
	if !known || !match || u.Disabled {
		now = g.now()
		lockName, lockAddr := g.byName.fail(nameKey, now), g.byAddr.fail(addr, now)
		// What was typed as an unknown name is not logged: it is often a
		// password typed in the wrong field.
		logName := "(no such account)"
		if known {
			logName = u.Name
		}
		if d := max(lockName, lockAddr); d > 0 {
			g.log.Warn("sign-in locked out", "name", logName, "address", addr, "for", d)
		} else {
			g.log.Info("sign-in failed", "name", logName, "address", addr, "disabled", known && u.Disabled)
		}
		writeError(w, http.StatusUnauthorized, "bad_login", "the name or the password is wrong")
		return
	}
	g.byName.clear(nameKey)
	id, err := g.createSession(u.Name)
	if err != nil {
		g.log.Error("cannot start a session", "name", u.Name, "err", err)
		writeError(w, http.StatusInternalServerError, "internal", "the server cannot start a session now; its log says why")
		return
	}
	if err := g.PruneSessions(); err != nil {
		g.log.Warn("cannot prune sessions", "err", err)
	}
	g.setSessionCookie(w, r, id)
	g.log.Info("signed in", "name", u.Name, "role", string(u.Role), "address", addr)
	writeJSON(w, http.StatusOK, accountOf(userPrincipal(u)))
}

func (g *Guard) takeHashSlot(r *http.Request) bool {
	select {
	case g.hashSlots <- struct{}{}:
		return true
	case <-r.Context().Done():
		return false
	}
}

// dummy returns a hash of a password nobody has, made with the costs of
// real ones, for unknown names.
func (g *Guard) dummy() string {
	g.dummyOnce.Do(func() {
		h, err := HashPassword("no account has this password", g.store.params)
		if err != nil {
			h, _ = HashPassword("no account has this password", DefaultHashParams)
		}
		g.dummyHash = h
	})
	return g.dummyHash
}

// logout ends the request's session, if any, and always succeeds.
func (g *Guard) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(CookieName); err == nil && validSessionID(c.Value) {
		if u, err := g.session(c.Value); err == nil {
			g.log.Info("signed out", "name", u.Name)
		}
		if err := g.deleteSession(sessionKey(c.Value)); err != nil {
			g.log.Error("cannot end a session", "err", err)
			writeError(w, http.StatusInternalServerError, "internal", "the server cannot end the session now; its log says why")
			return
		}
	}
	g.clearSessionCookie(w, r)
	writeJSON(w, http.StatusOK, struct{}{})
}

// me answers who the credential belongs to: a page asks it to know
// whether to send its user to /login.
func (g *Guard) me(w http.ResponseWriter, r *http.Request) {
	p, err := g.Authenticate(r)
	if err != nil {
		g.refuse(w, r, err, "")
		return
	}
	writeJSON(w, http.StatusOK, accountOf(p))
}
