package queue

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/cherga/kiosk/link/proto"
	"github.com/cherga/kiosk/queue/access"
)

func newTestServer(t *testing.T) (*httptest.Server, *Server) {
	return newAuthServer(t, Auth{})
}

// apiToken is the token with every scope of the test server made last;
// call sends it.
var apiToken string

func newAuthServer(t *testing.T, auth Auth) (*httptest.Server, *Server) {
	t.Helper()
	q := openTest(t, filepath.Join(t.TempDir(), "q.db"), newClock())
	file := filepath.Join(t.TempDir(), "access.json")
	store, err := access.OpenStore(file, access.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if apiToken, err = store.AddToken("tests", []string{access.ScopeAdmin}); err != nil {
		t.Fatal(err)
	}
	s, err := NewServer(q, ServerOptions{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Terminals: auth, AccessFile: file})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(func() { s.Close(); ts.Close() })
	return ts, s
}

func call(t *testing.T, method, url, body string, wantStatus int, out any) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+apiToken)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != wantStatus {
		t.Fatalf("%s %s: %s %s, want %d", method, url, resp.Status, b, wantStatus)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("%s %s: content type %q", method, url, ct)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
	}
}

func TestAPI(t *testing.T) {
	ts, _ := newTestServer(t)
	var tk proto.Ticket
	call(t, "POST", ts.URL+"/api/v1/tickets", `{"service":"pension-age"}`, http.StatusCreated, &tk)
	if tk.Number != "П001" || tk.State != proto.StateWaiting {
		t.Fatalf("issued %+v", tk)
	}
	call(t, "POST", ts.URL+"/api/v1/tickets", `{"service":"teleport"}`, http.StatusNotFound, nil)
	call(t, "POST", ts.URL+"/api/v1/tickets", `{`, http.StatusBadRequest, nil)

	var called proto.Ticket
	call(t, "POST", ts.URL+"/api/v1/windows/3/next", "", http.StatusOK, &called)
	if called.Number != "П001" || called.Window != 3 || called.State != proto.StateCalled {
		t.Fatalf("called %+v", called)
	}
	var apiErr apiError
	call(t, "POST", ts.URL+"/api/v1/windows/3/next", "", http.StatusNotFound, &apiErr)
	if apiErr.Code != "queue_empty" || apiErr.Error == "" {
		t.Errorf("empty queue answer %+v", apiErr)
	}
	call(t, "POST", ts.URL+"/api/v1/windows/77/next", "", http.StatusNotFound, &apiErr)
	if apiErr.Code != "unknown_window" {
		t.Errorf("unknown window answer %+v", apiErr)
	}
	call(t, "POST", ts.URL+"/api/v1/windows/x/next", "", http.StatusBadRequest, nil)

	var day struct {
		Date    string         `json:"date"`
		Tickets []proto.Ticket `json:"tickets"`
	}
	call(t, "GET", ts.URL+"/api/v1/tickets?date=2026-11-23", "", http.StatusOK, &day)
	if len(day.Tickets) != 1 || day.Tickets[0].State != proto.StateDone {
		t.Errorf("day %+v", day)
	}
	call(t, "GET", ts.URL+"/api/v1/tickets?date=2026-11-22", "", http.StatusOK, &day)
	if len(day.Tickets) != 0 {
		t.Errorf("other day %+v", day)
	}
	call(t, "GET", ts.URL+"/api/v1/tickets?date=yesterday", "", http.StatusBadRequest, nil)
	var cat proto.Catalogue
	call(t, "GET", ts.URL+"/api/v1/services", "", http.StatusOK, &cat)
	if len(cat.Services) != 2 || cat.Groups[1].Prefix != "П" {
		t.Errorf("catalogue %+v", cat)
	}
}

// peer is a test terminal speaking the protocol over a real websocket.
type peer struct {
	t    *testing.T
	conn *websocket.Conn
}

func dialPeer(t *testing.T, ts *httptest.Server) *peer {
	return dialPeerWith(t, ts, nil)
}

func dialPeerWith(t *testing.T, ts *httptest.Server, hdr http.Header) *peer {
	t.Helper()
	d := websocket.Dialer{Subprotocols: []string{proto.Subprotocol}}
	conn, _, err := d.Dial("ws"+strings.TrimPrefix(ts.URL, "http")+"/api/v1/link", hdr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &peer{t: t, conn: conn}
}

func (p *peer) send(m *proto.Message) {
	p.t.Helper()
	b, err := proto.Encode(m)
	if err != nil {
		p.t.Fatal(err)
	}
	if err := p.conn.WriteMessage(websocket.TextMessage, b); err != nil {
		p.t.Fatal(err)
	}
}

// next reads messages until one of type typ, skipping the others.
func (p *peer) next(typ string) *proto.Message {
	p.t.Helper()
	_ = p.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, b, err := p.conn.ReadMessage()
		if err != nil {
			p.t.Fatalf("waiting for %s: %v", typ, err)
		}
		m, err := proto.Decode(b)
		if err != nil {
			p.t.Fatalf("server sent %s: %v", b, err)
		}
		if m.Type == typ {
			return m
		}
	}
}

func (p *peer) hello(device string, roles ...string) *proto.Welcome {
	p.send(&proto.Message{Type: proto.TypeHello, Hello: &proto.Hello{Device: device, Roles: roles, Epoch: "e1", Time: time.Now()}})
	return p.next(proto.TypeWelcome).Welcome
}

// expectClose reads until the server closes, and returns the close frame.
func (p *peer) expectClose() *websocket.CloseError {
	p.t.Helper()
	_ = p.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		if _, _, err := p.conn.ReadMessage(); err != nil {
			ce, ok := err.(*websocket.CloseError)
			if !ok {
				p.t.Fatalf("connection ended without a close frame: %v", err)
			}
			// The server hangs up after it has dealt with the peer (counted
			// it, logged it): wait for that, so counts are settled.
			_, _ = io.Copy(io.Discard, p.conn.UnderlyingConn())
			return ce
		}
	}
}

func TestLinkTicketsAndCalls(t *testing.T) {
	ts, _ := newTestServer(t)
	kiosk := dialPeer(t, ts)
	hall := dialPeer(t, ts)
	w := kiosk.hello("kiosk-01", "kiosk")
	if w.Office.ID != "test-office" || len(w.Catalogue.Services) != 2 || len(w.Queues) != 2 || w.Slot != 1 || len(w.Leases) != 0 {
		t.Fatalf("welcome %+v", w)
	}
	hall.hello("hall-01", "hall")

	kiosk.send(&proto.Message{Type: proto.TypeReserve, ID: "r1", Reserve: &proto.Reserve{Service: "subsidy-housing"}})
	reply := kiosk.next(proto.TypeReserved)
	if reply.Re != "r1" || reply.Ticket.Number != "А001" || reply.Ticket.State != proto.StateReserved {
		t.Fatalf("reply %+v", reply)
	}
	kiosk.send(&proto.Message{Type: proto.TypeReserve, ID: "r2", Reserve: &proto.Reserve{Service: "nope"}})
	if e := kiosk.next(proto.TypeError); e.Re != "r2" || e.Error.Code != proto.CodeUnknownService {
		t.Fatalf("error reply %+v", e)
	}
	// Not in the queue until the kiosk confirms it handed the ticket out.
	call(t, "POST", ts.URL+"/api/v1/windows/3/next", "", http.StatusNotFound, nil)
	tk := *reply.Ticket
	kiosk.send(&proto.Message{Type: proto.TypeTicketIssued, Seq: 1, Ticket: &tk})
	if ack := kiosk.next(proto.TypeAck); ack.Seq != 1 {
		t.Fatalf("ack %+v", ack)
	}
	kiosk.send(&proto.Message{Type: proto.TypeTicketIssued, Seq: 1, Ticket: &tk}) // resent
	if ack := kiosk.next(proto.TypeAck); ack.Seq != 1 {
		t.Fatalf("ack of a resend %+v", ack)
	}

	call(t, "POST", ts.URL+"/api/v1/windows/3/next", "", http.StatusOK, nil)
	m := hall.next(proto.TypeCall)
	if c := m.Call; c.Ticket != "А001" || c.Window != 3 || c.ID == "" || m.Push == 0 || m.ID != c.ID {
		t.Errorf("call %+v", m)
	}
	// Calls go to halls and windows, not to kiosks: the kiosk's next
	// message is the queue lengths after the call.
	if m := kiosk.next(proto.TypeQueues); m.Type != proto.TypeQueues {
		t.Errorf("kiosk got %+v", m)
	}
	// A terminal that connects later sees the call in its snapshot.
	late := dialPeer(t, ts)
	if w := late.hello("hall-02", "hall"); len(w.RecentCalls) != 1 || w.RecentCalls[0].Ticket != "А001" {
		t.Errorf("late welcome calls %+v", w.RecentCalls)
	}
	var terms []terminalView
	call(t, "GET", ts.URL+"/api/v1/terminals", "", http.StatusOK, &terms)
	if len(terms) != 3 || !terms[0].Connected || terms[2].LastSeq != 1 {
		t.Errorf("terminals %+v", terms)
	}
}

func TestLinkAuth(t *testing.T) {
	sum := sha256.Sum256([]byte("s3cret"))
	ts, _ := newAuthServer(t, Auth{Tokens: map[string]string{hex.EncodeToString(sum[:]): "kiosk-01"}})
	url := "ws" + strings.TrimPrefix(ts.URL, "http") + "/api/v1/link"
	d := websocket.Dialer{Subprotocols: []string{proto.Subprotocol}}
	for _, hdr := range []http.Header{nil, {"Authorization": {"Bearer wrong"}}} {
		if _, resp, err := d.Dial(url, hdr); err == nil || resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%v: got %v", hdr, err)
		}
	}
	good := http.Header{"Authorization": {"Bearer s3cret"}}
	dialPeerWith(t, ts, good).hello("kiosk-01", "kiosk")
	p := dialPeerWith(t, ts, good)
	p.send(&proto.Message{Type: proto.TypeHello, Hello: &proto.Hello{Device: "kiosk-02"}})
	if ce := p.expectClose(); ce.Code != websocket.ClosePolicyViolation {
		t.Errorf("someone else's token: %v", ce)
	}
}

func TestLinkBadPeers(t *testing.T) {
	ts, s := newTestServer(t)
	url := "ws" + strings.TrimPrefix(ts.URL, "http") + "/api/v1/link"

	t.Run("unknown type is answered, not fatal", func(t *testing.T) {
		p := dialPeer(t, ts)
		p.hello("k1", "kiosk")
		if err := p.conn.WriteMessage(websocket.TextMessage, []byte(`{"type":"teleport","id":"x9"}`)); err != nil {
			t.Fatal(err)
		}
		if e := p.next(proto.TypeError); e.Re != "x9" || e.Error.Code != proto.CodeBadRequest {
			t.Errorf("got %+v", e)
		}
	})
	t.Run("garbage disconnects with a reason", func(t *testing.T) {
		p := dialPeer(t, ts)
		p.hello("k2", "kiosk")
		_ = p.conn.WriteMessage(websocket.TextMessage, []byte(`{"type":`))
		if ce := p.expectClose(); ce.Code != websocket.ClosePolicyViolation || !strings.Contains(ce.Text, "malformed") {
			t.Errorf("close %v", ce)
		}
	})
	t.Run("first message must be hello", func(t *testing.T) {
		p := dialPeer(t, ts)
		p.send(&proto.Message{Type: proto.TypeReserve, ID: "r1", Reserve: &proto.Reserve{Service: "pension-age"}})
		if ce := p.expectClose(); ce.Code != websocket.ClosePolicyViolation || !strings.Contains(ce.Text, "hello") {
			t.Errorf("close %v", ce)
		}
	})
	t.Run("oversized message", func(t *testing.T) {
		p := dialPeer(t, ts)
		p.hello("k3", "kiosk")
		_ = p.conn.WriteMessage(websocket.TextMessage, []byte(strings.Repeat("x", proto.MaxMessageBytes+1)))
		if ce := p.expectClose(); ce.Code != websocket.CloseMessageTooBig {
			t.Errorf("close %v", ce)
		}
	})
	t.Run("no subprotocol", func(t *testing.T) {
		conn, _, err := websocket.DefaultDialer.Dial(url, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		p := &peer{t: t, conn: conn}
		if ce := p.expectClose(); ce.Code != websocket.ClosePolicyViolation || !strings.Contains(ce.Text, proto.Subprotocol) {
			t.Errorf("close %v", ce)
		}
	})
	t.Run("browser origin refused", func(t *testing.T) {
		d := websocket.Dialer{Subprotocols: []string{proto.Subprotocol}}
		_, resp, err := d.Dial(url, http.Header{"Origin": {"http://evil.example"}})
		if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Errorf("got %v %v", resp, err)
		}
	})
	if n := s.badMessages.Load(); n < 6 {
		t.Errorf("bad messages counted %d, want at least 6", n)
	}
	// The server still works for good peers.
	dialPeer(t, ts).hello("k4", "kiosk")
}

func TestTrackingPage(t *testing.T) {
	ts, _ := newTestServer(t)
	var tk proto.Ticket
	call(t, "POST", ts.URL+"/api/v1/tickets", `{"service":"pension-age"}`, http.StatusCreated, &tk)
	page := func(path string, want int) string {
		resp, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != want {
			t.Fatalf("%s: %s", path, resp.Status)
		}
		return string(b)
	}
	if p := page("/t/2026-11-23/"+tk.Number, http.StatusOK); !strings.Contains(p, "Перед вами в черзі: 0") || !strings.Contains(p, "People ahead of you: 0") {
		t.Errorf("waiting page:\n%s", p)
	}
	call(t, "POST", ts.URL+"/api/v1/windows/9/next", "", http.StatusOK, nil)
	if p := page("/t/2026-11-23/"+tk.Number, http.StatusOK); !strings.Contains(p, "Вас викликано до вікна 9") {
		t.Errorf("called page:\n%s", p)
	}
	page("/t/2026-11-23/Я999", http.StatusNotFound)
	page("/t/yesterday/П001", http.StatusNotFound)
}

// Every state-changing route needs a credential with its scope, and bad
// bodies are answered with what to fix.
func TestAPIAccessAndBadInput(t *testing.T) {
	ts, _ := newTestServer(t)
	plain := func(method, path, body, ctype, token string) (int, apiError) {
		t.Helper()
		req, _ := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var e apiError
		b, _ := io.ReadAll(resp.Body)
		if ct := resp.Header.Get("Content-Type"); resp.StatusCode >= 400 && !strings.HasPrefix(ct, "application/json") {
			t.Errorf("%s %s: %d with %q: %s", method, path, resp.StatusCode, ct, b)
		}
		_ = json.Unmarshal(b, &e)
		return resp.StatusCode, e
	}
	for _, r := range []struct{ method, path, body string }{
		{"POST", "/api/v1/windows/3/next", ""},
		{"POST", "/api/v1/tickets", `{"service":"pension-age"}`},
		{"GET", "/api/v1/tickets", ""},
		{"GET", "/api/v1/bookings?date=2026-11-23", ""},
		{"DELETE", "/api/v1/bookings/2026-11-23/0001-0002-0003", ""},
		{"PUT", "/api/v1/hall-message", `{"text":{"uk":"x"}}`},
		{"GET", "/api/v1/stats", ""},
		{"GET", "/api/v1/terminals", ""},
		{"GET", "/api/v1/windows", ""},
	} {
		if code, e := plain(r.method, r.path, r.body, "application/json", ""); code != http.StatusUnauthorized || e.Code != "unauthorized" {
			t.Errorf("%s %s without credentials: %d %+v", r.method, r.path, code, e)
		}
	}
	// Public: no credential needed, no personal data.
	for _, path := range []string{"/api/v1/services", "/api/v1/queues", "/api/v1/public/status", "/api/v1/office", "/healthz"} {
		if code, _ := plain("GET", path, "", "", ""); code != http.StatusOK {
			t.Errorf("GET %s: %d", path, code)
		}
	}
	for _, c := range []struct {
		body, ctype string
		status      int
		code        string
	}{
		{`{"service":"pension-age"}garbage`, "application/json", 400, "bad_json"},
		{`{"service":"pension-age","extra":1}`, "application/json", 400, "bad_field"},
		{`{"service":7}`, "application/json", 400, "bad_field"},
		{`{"service":"pension-age"}`, "text/plain", 415, "bad_content_type"},
		{`{"service":"` + strings.Repeat("x", 5000) + `"}`, "application/json", 413, "body_too_large"},
		{`{}`, "application/json", 400, "bad_field"},
	} {
		if code, e := plain("POST", "/api/v1/tickets", c.body, c.ctype, apiToken); code != c.status || e.Code != c.code || e.Error == "" {
			t.Errorf("issue with %.40q (%s): %d %+v, want %d %s", c.body, c.ctype, code, e, c.status, c.code)
		}
	}
	if code, e := plain("POST", "/api/v1/windows/3/pause", `{"reason":"lunch"}`, "application/json", apiToken); code != 400 || e.Code != "bad_reason" {
		t.Errorf("pause for a reason the office lacks: %d %+v", code, e)
	}
	if code, e := plain("GET", "/api/v1/no/such/route", "", "", ""); code != 404 || e.Code != "not_found" {
		t.Errorf("unknown route: %d %+v", code, e)
	}
	if code, e := plain("PATCH", "/api/v1/tickets", "", "", apiToken); code != 405 || e.Code != "method_not_allowed" {
		t.Errorf("wrong method: %d %+v", code, e)
	}
}
