package terminal

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/jonboulle/clockwork"

	"github.com/cherga/kiosk/queue/queuetest"
)

// Every route and every page's websocket answers only to this terminal's
// names: a Host rebound to it (DNS rebinding) is 421 Misdirected Request,
// whatever the Origin; the websockets take only their own pages' origin,
// or no Origin from this machine; the kiosk's state-changing routes only
// the kiosk page's origin, or no Origin from this machine.
func TestForeignHostAndOrigin(t *testing.T) {
	clock := clockwork.NewFakeClockAt(time.Now())
	r := startTerminal(t, clock, queuetest.Start(t, clock), "http.names: [kiosk-1.office.local]")
	base := "ws://" + r.addr
	own := "http://" + r.addr
	port := r.addr[strings.LastIndex(r.addr, ":")+1:]
	dial := func(path string, hdr http.Header) (int, error) {
		d := websocket.Dialer{HandshakeTimeout: guard}
		c, resp, err := d.Dial(base+path, hdr)
		if err == nil {
			c.Close()
			return http.StatusSwitchingProtocols, nil
		}
		if resp == nil {
			return 0, err
		}
		return resp.StatusCode, err
	}
	for _, path := range []string{"/hall/ws", "/window/ws", "/boards/ws", "/kiosk/ws"} {
		for _, c := range []struct {
			what string
			hdr  http.Header
			want int
		}{
			{"its own page", http.Header{"Origin": {own}}, http.StatusSwitchingProtocols},
			{"a program on this machine", nil, http.StatusSwitchingProtocols},
			{"a rebound name", http.Header{"Host": {"evil.example:" + port}, "Origin": {"http://evil.example:" + port}}, http.StatusMisdirectedRequest},
			{"a rebound name, no Origin", http.Header{"Host": {"evil.example:" + port}}, http.StatusMisdirectedRequest},
			{"another site's page", http.Header{"Origin": {"http://evil.example"}}, http.StatusForbidden},
			{"another port of this machine", http.Header{"Origin": {"http://127.0.0.1:1"}}, http.StatusForbidden},
		} {
			if got, err := dial(path, c.hdr); got != c.want {
				t.Errorf("%s from %s: %d %v, want %d", path, c.what, got, err, c.want)
			}
		}
	}
	// A name in http.names is this terminal's (the hall page is not the
	// kiosk's, so it is not redirected).
	if code, body, _ := request(t, "GET", own+"/hall/", "", map[string]string{"Host": "kiosk-1.office.local:" + port}); code != http.StatusOK {
		t.Errorf("/hall/ by a name in http.names: %d %s", code, body)
	}
	if code, body, _ := request(t, "GET", own+"/healthz", "", map[string]string{"Host": "evil.example"}); code != http.StatusMisdirectedRequest ||
		errCode(body) != "misdirected_request" || !strings.Contains(body, "http.names") {
		t.Errorf("/healthz by a rebound name: %d %s", code, body)
	}

	// The kiosk's routes that change something.
	for _, path := range []string{"/api/v1/printer/new-roll", "/api/v1/sim/scan", "/api/v1/tickets"} {
		for _, c := range []struct {
			what string
			hdr  map[string]string
			want int
		}{
			{"a rebound name", map[string]string{"Host": "evil.example:" + port}, http.StatusMisdirectedRequest},
			{"another site's page", map[string]string{"Origin": "http://evil.example"}, http.StatusForbidden},
			{"a page at another name of the kiosk", map[string]string{"Origin": "http://localhost:" + port}, http.StatusForbidden},
		} {
			if code, body, _ := request(t, "POST", own+path, `{}`, c.hdr); code != c.want {
				t.Errorf("POST %s from %s: %d %s, want %d", path, c.what, code, body, c.want)
			}
		}
	}
	if code, body, _ := request(t, "POST", own+"/api/v1/printer/new-roll", "", nil); code != http.StatusNoContent {
		t.Errorf("new-roll from kioskctl on this machine: %d %s", code, body)
	}

	// A client on another machine that sends no Origin is not a page of
	// this terminal's, nor kioskctl: refused at the websockets and the
	// kiosk-only routes (its Host may be right: anyone can write one).
	for _, c := range []struct{ method, path string }{
		{"GET", "/hall/ws"}, {"GET", "/window/ws"}, {"GET", "/kiosk/ws"},
		{"POST", "/api/v1/printer/new-roll"}, {"POST", "/api/v1/sim/scan"}, {"POST", "/api/v1/tickets"},
	} {
		req := httptest.NewRequest(c.method, own+c.path, strings.NewReader(`{}`))
		req.RemoteAddr = "192.0.2.7:50000"
		if c.method == "GET" {
			req.Header.Set("Connection", "Upgrade")
			req.Header.Set("Upgrade", "websocket")
			req.Header.Set("Sec-WebSocket-Version", "13")
			req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
		}
		rec := httptest.NewRecorder()
		r.term.mux.ServeHTTP(rec, req)
		if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "forbidden_origin") {
			t.Errorf("%s %s from the LAN with no Origin: %d %s", c.method, c.path, rec.Code, rec.Body)
		}
	}
}
