package terminal

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cherga/kiosk/httpapi"
)

// FuzzAdminLogin: whatever a client sends to /admin/login, or as a
// session cookie or CSRF token, the admin listener answers it in JSON,
// never with a 5xx, and signs nobody in without the password.
func FuzzAdminLogin(f *testing.F) {
	f.Add([]byte(`{"password":"correct horse battery"}`), "", "")
	f.Add([]byte(`{"password":"wrong"}`), "x", "y")
	f.Add([]byte(`{"password":1}`), "\x00", "")
	f.Add([]byte(`{"password":"a"}garbage`), "", "")
	hash, err := cheapHashF("correct horse battery")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte, cookie, csrf string) {
		a := newAdminAuth(hash, true, clockwork.NewFakeClock(), slog.New(slog.DiscardHandler), prometheus.NewCounter(prometheus.CounterOpts{Name: "x"}))
		mux := httpapi.NewMux()
		a.register(mux)
		mux.HandleFunc("POST /api/v1/admin/printer/test", func(w http.ResponseWriter, r *http.Request) {
			t.Fatal("a POST passed without a session")
		})
		h := a.gate(mux)
		req := httptest.NewRequest("POST", "/admin/login", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%d %s for %q", rec.Code, rec.Body, body)
		}
		if rec.Code == http.StatusOK && !bytes.Contains(body, []byte("correct horse battery")) {
			t.Fatalf("signed in with %q", body)
		}
		req = httptest.NewRequest("POST", "/api/v1/admin/printer/test", nil)
		req.Header.Set("Cookie", adminCookie+"="+cookie)
		req.Header.Set(adminCSRFHeader, csrf)
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusUnauthorized {
			t.Fatalf("a forged session: %d %s", rec.Code, rec.Body)
		}
	})
}
