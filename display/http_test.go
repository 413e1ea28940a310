package display

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cherga/kiosk/httpapi"
)

// The display roles' routes on kioskd's router: pages and their scripts
// served, and every refusal JSON ({"code","error"}), a missing file, a
// path that is not UTF-8, a wrong method and a websocket request that is
// not one included.
func TestDisplayRoutes(t *testing.T) {
	h := NewHall(HallConfig{RecentCalls: 2, Highlight: time.Second}, nil, nil, quiet)
	w := NewWindow(3, nil, quiet)
	boards := NewBoardsPage(quiet)
	mux := httpapi.NewMux()
	RegisterAssets(mux)
	h.Register(mux)
	w.Register(mux)
	boards.Register(mux)
	ts := httptest.NewServer(httpapi.Recover(mux, quiet, nil))
	defer ts.Close()
	defer h.Close()
	defer w.Close()
	defer boards.Close()
	h.Call(call("1", "А001", 4))

	for _, tt := range []struct {
		method, path string
		status       int
		code         string // "" for an answer that is not an error
		ctype        string
	}{
		{"GET", "/hall/", 200, "", "text/html; charset=utf-8"},
		{"GET", "/window/window.js", 200, "", "text/javascript; charset=utf-8"},
		{"GET", "/boards/", 200, "", "text/html; charset=utf-8"},
		{"GET", "/clock.js", 200, "", "text/javascript; charset=utf-8"},
		{"GET", "/live.js", 200, "", "text/javascript; charset=utf-8"},
		{"GET", "/screen.js", 200, "", "text/javascript; charset=utf-8"},
		{"GET", "/api/v1/calls", 200, "", "application/json; charset=utf-8"},
		{"GET", "/hall/nope.js", 404, httpapi.CodeNotFound, ""},
		{"GET", "/window/%ff", 400, httpapi.CodeBadPath, ""},
		{"POST", "/hall/", 405, httpapi.CodeMethodNotAllowed, ""},
		{"DELETE", "/api/v1/calls", 405, httpapi.CodeMethodNotAllowed, ""},
		{"GET", "/hall/ws", 400, "bad_websocket", ""},
		{"GET", "/boards/ws", 400, "bad_websocket", ""},
	} {
		req, _ := http.NewRequest(tt.method, ts.URL+tt.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		ct := resp.Header.Get("Content-Type")
		if resp.StatusCode != tt.status {
			t.Errorf("%s %s: %s %s, want %d", tt.method, tt.path, resp.Status, b, tt.status)
			continue
		}
		if tt.code == "" {
			if ct != tt.ctype {
				t.Errorf("%s %s: Content-Type %q, want %q", tt.method, tt.path, ct, tt.ctype)
			}
			continue
		}
		var e map[string]string
		if ct != "application/json; charset=utf-8" || json.Unmarshal(b, &e) != nil || len(e) != 2 || e["code"] != tt.code || e["error"] == "" {
			t.Errorf("%s %s: %q %s, want a JSON error %s", tt.method, tt.path, ct, b, tt.code)
		}
	}

	resp, err := http.Get(ts.URL + "/api/v1/calls")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var calls []ShownCall
	if err := json.NewDecoder(resp.Body).Decode(&calls); err != nil || len(calls) != 1 || calls[0].Ticket != "А001" {
		t.Errorf("calls %+v %v", calls, err)
	}

	// A page of another origin is refused in JSON too.
	req, _ := http.NewRequest("GET", ts.URL+"/hall/ws", nil)
	for k, v := range map[string]string{"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
		"Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Origin": "http://evil.example"} {
		req.Header.Set(k, v)
	}
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(b), `"code":"forbidden_origin"`) {
		t.Errorf("websocket from another origin: %s %s", resp.Status, b)
	}
}
