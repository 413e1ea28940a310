package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// press sends a bare POST (a press) or, with -level, the level as JSON;
// kioskd's refusal comes back as the error.
func TestPress(t *testing.T) {
	var got []string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = append(got, r.Method+" "+r.URL.Path+" "+r.Header.Get("Content-Type")+" "+string(b))
		if strings.Contains(r.URL.Path, "BUSY") {
			http.Error(w, `{"code":"pin_busy"}`, http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	defer ts.Close()
	addr := strings.TrimPrefix(ts.URL, "http://")
	ctx := context.Background()
	if err := press(ctx, []string{"-addr", addr, "BUTTON"}, io.Discard); err != nil {
		t.Fatal(err)
	}
	if err := press(ctx, []string{"-addr", addr, "-level", "low", "PAPER_LOW"}, io.Discard); err != nil {
		t.Fatal(err)
	}
	want := []string{"POST /api/v1/sim/gpio/BUTTON  ", `POST /api/v1/sim/gpio/PAPER_LOW application/json {"level":"low"}`}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("requests %q, want %q", got, want)
	}
	if err := press(ctx, []string{"-addr", addr, "BUSY"}, io.Discard); err == nil || !strings.Contains(err.Error(), "pin_busy") {
		t.Errorf("refusal: %v", err)
	}
	if err := press(ctx, []string{"-level", "medium", "X"}, io.Discard); !errors.Is(err, errUsage) {
		t.Errorf("bad level: %v", err)
	}
}
