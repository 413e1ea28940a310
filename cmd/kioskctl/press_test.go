package main

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// fakeKioskd answers the simulator's and the printer's POSTs as kioskd
// does (202 or 204, or a refusal for a path with BUSY) and records them.
type fakeKioskd struct {
	addr string
	mu   sync.Mutex
	got  []string
}

func newFakeKioskd(t *testing.T, health string) *fakeKioskd {
	t.Helper()
	f := &fakeKioskd{}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.got = append(f.got, r.Method+" "+r.URL.Path+" "+r.Header.Get("Content-Type")+" "+string(b))
		f.mu.Unlock()
		switch {
		case strings.Contains(r.URL.Path, "BUSY"):
			http.Error(w, `{"code":"pin_busy"}`, http.StatusServiceUnavailable)
		case r.URL.Path == "/healthz":
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, health)
		case r.URL.Path == "/api/v1/printer/new-roll":
			w.WriteHeader(http.StatusNoContent)
		default:
			w.WriteHeader(http.StatusAccepted)
		}
	}))
	t.Cleanup(ts.Close)
	f.addr = strings.TrimPrefix(ts.URL, "http://")
	return f
}

func (f *fakeKioskd) requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.got...)
}

// press sends a bare POST (a press) or, with -level, the level as JSON,
// and says what it did; kioskd's refusal comes back as the error.
func TestPress(t *testing.T) {
	k := newFakeKioskd(t, "")
	out, _, err := kioskctl(t, "press", "-addr", k.addr, "BUTTON")
	if err != nil {
		t.Fatal(err)
	}
	if want := "Натиснуто BUTTON на kioskd на " + k.addr + " / Pressed BUTTON on kioskd at " + k.addr + "\n"; out != want {
		t.Errorf("press said %q, want %q", out, want)
	}
	out, _, err = kioskctl(t, "press", "-addr", k.addr, "-level", "low", "PAPER_LOW")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out, "Вхід PAPER_LOW") || !strings.Contains(out, " / Input PAPER_LOW on kioskd at "+k.addr+" held low") {
		t.Errorf("press -level said %q", out)
	}
	want := []string{"POST /api/v1/sim/gpio/BUTTON  ", `POST /api/v1/sim/gpio/PAPER_LOW application/json {"level":"low"}`}
	if got := k.requests(); len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("requests %q, want %q", got, want)
	}
	if out, _, err := kioskctl(t, "press", "-addr", k.addr, "BUSY"); err == nil || !strings.Contains(err.Error(), "pin_busy") || out != "" {
		t.Errorf("refusal: %v, said %q", err, out)
	}
	_, stderr, err := kioskctl(t, "press", "-level", "medium", "X")
	if !errors.Is(err, errUsageShown) || !strings.Contains(stderr, "usage: kioskctl press") {
		t.Errorf("bad level: %v\n%s", err, stderr)
	}
}
