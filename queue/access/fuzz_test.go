package access

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// FuzzLogin posts arbitrary bodies to the sign-in handler: never a 5xx,
// never a panic, and a session only for the right password.
func FuzzLogin(f *testing.F) {
	for _, seed := range []string{
		`{"name":"olena","password":"correct horse battery"}`,
		`{"name":"olena","password":"wrong"}`,
		`{"name":"OLENA ","password":"correct horse battery"}`,
		`{"name":"olena","password":"x","extra":1}`,
		`{"name":1,"password":[]}`,
		`{"name":"olena","password":"x"}{}`,
		`{"name":"\u0000","password":"\ud800"}`,
		`null`, `[]`, `"x"`, ``, `{`, `{"name":"` + strings.Repeat("a", 5000) + `"}`,
	} {
		f.Add([]byte(seed))
	}
	dir := f.TempDir()
	store, err := OpenStore(filepath.Join(dir, "access.json"), StoreOptions{HashParams: testHash})
	if err != nil {
		f.Fatal(err)
	}
	if err := store.AddUser(User{Name: "olena", Role: RoleOperator}, testPassword); err != nil {
		f.Fatal(err)
	}
	db, err := bolt.Open(filepath.Join(dir, "queued.db"), 0o600, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { db.Close() })
	c := newClock()
	g, err := New(store, db, Options{Clock: c, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		f.Fatal(err)
	}
	mux := http.NewServeMux()
	g.Routes(mux)
	h := g.Protect(mux)
	f.Fuzz(func(t *testing.T, body []byte) {
		// Lockouts would hide every later input's path through the
		// handler; a fresh limiter each time keeps them all reachable.
		g.byName, g.byAddr = newLimiter(maxLimited), newLimiter(maxLimited)
		req := httptest.NewRequest("POST", "/api/v1/login", bytes.NewReader(body))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%d %s for %q", rec.Code, rec.Body, body)
		}
		if rec.Header().Get("Content-Type") != "application/json; charset=utf-8" {
			t.Fatalf("Content-Type %q", rec.Header().Get("Content-Type"))
		}
		hasCookie := strings.Contains(rec.Header().Get("Set-Cookie"), CookieName+"=")
		if hasCookie != (rec.Code == http.StatusOK) {
			t.Fatalf("%d with cookie %v for %q", rec.Code, hasCookie, body)
		}
		if rec.Code == http.StatusOK && !bytes.Contains(body, []byte("horse")) {
			t.Fatalf("signed in without the password: %q", body)
		}
		_, _ = io.Copy(io.Discard, rec.Body)
	})
}

// FuzzLoadStore feeds the access.json parser arbitrary bytes: never a
// panic, and whatever it accepts it writes back to something it reads
// the same.
func FuzzLoadStore(f *testing.F) {
	hash, _ := HashPassword(testPassword, testHash)
	for _, seed := range []string{
		``, `{}`, `{"version":1,"users":[],"tokens":[]}`,
		`{"users":[{"name":"olena","display_name":"Олена","role":"operator","windows":[3,1],"password_hash":"` + hash +
			`","password_changed":"2026-11-23T09:00:00+02:00"}]}`,
		`{"tokens":[{"name":"site","sha256":"` + strings.Repeat("0f", 32) + `","scopes":["hall","admin"],"created":"2026-11-23T09:00:00Z"}]}`,
		`{"users":[{"name":"a","role":"admin","password_hash":"$argon2id$v=19$m=99999999,t=1,p=1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA"}]}`,
		`{"version":2}`, `[]`, `{"users":null}`, `{"users":[{}]}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		sf, err := parseStore(b)
		if err != nil {
			return
		}
		out := sf.encode()
		again, err := parseStore(out)
		if err != nil {
			t.Fatalf("wrote %s, which reads back as %v", out, err)
		}
		if !bytes.Equal(again.encode(), out) {
			t.Fatalf("not stable:\n%s\n%s", out, again.encode())
		}
	})
}
