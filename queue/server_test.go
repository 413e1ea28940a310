package queue

import (
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
)

func newTestServer(t *testing.T) (*httptest.Server, *Server) {
	t.Helper()
	q := openTest(t, filepath.Join(t.TempDir(), "q.db"), newClock())
	s := NewServer(q, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ts := httptest.NewServer(s)
	t.Cleanup(func() { s.Close(); ts.Close() })
	return ts, s
}

func call(t *testing.T, method, url, body string, wantStatus int, out any) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
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
	t.Helper()
	d := websocket.Dialer{Subprotocols: []string{proto.Subprotocol}}
	conn, _, err := d.Dial("ws"+strings.TrimPrefix(ts.URL, "http")+"/api/v1/link", nil)
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

// next reads messages until one of type typ, skipping queue updates.
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

func (p *peer) hello() *proto.Welcome {
	p.send(&proto.Message{Type: proto.TypeHello, Hello: &proto.Hello{Device: "kiosk-01", Roles: []string{"kiosk"}}})
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
			return ce
		}
	}
}

func TestLinkTicketsAndCalls(t *testing.T) {
	ts, _ := newTestServer(t)
	kiosk := dialPeer(t, ts)
	hall := dialPeer(t, ts)
	w := kiosk.hello()
	if w.Office.ID != "test-office" || len(w.Catalogue.Services) != 2 || len(w.Queues) != 2 {
		t.Fatalf("welcome %+v", w)
	}
	hall.hello()

	kiosk.send(&proto.Message{Type: proto.TypeTakeTicket, ID: "r1", TakeTicket: &proto.TakeTicket{Service: "subsidy-housing"}})
	reply := kiosk.next(proto.TypeTicket)
	if reply.Re != "r1" || reply.Ticket.Number != "А001" || reply.Ticket.Device != "kiosk-01" {
		t.Fatalf("reply %+v", reply)
	}
	kiosk.send(&proto.Message{Type: proto.TypeTakeTicket, ID: "r2", TakeTicket: &proto.TakeTicket{Service: "nope"}})
	if e := kiosk.next(proto.TypeError); e.Re != "r2" || e.Error.Code != proto.CodeUnknownService {
		t.Fatalf("error reply %+v", e)
	}

	call(t, "POST", ts.URL+"/api/v1/windows/3/next", "", http.StatusOK, nil)
	for _, p := range []*peer{kiosk, hall} {
		c := p.next(proto.TypeCall).Call
		if c.Ticket != "А001" || c.Window != 3 || c.ID == "" {
			t.Errorf("call %+v", c)
		}
	}
	// A peer that connects later sees the call in its snapshot.
	late := dialPeer(t, ts)
	if w := late.hello(); len(w.RecentCalls) != 1 || w.RecentCalls[0].Ticket != "А001" {
		t.Errorf("late welcome calls %+v", w.RecentCalls)
	}
}

func TestLinkBadPeers(t *testing.T) {
	ts, s := newTestServer(t)
	url := "ws" + strings.TrimPrefix(ts.URL, "http") + "/api/v1/link"

	t.Run("unknown type is answered, not fatal", func(t *testing.T) {
		p := dialPeer(t, ts)
		p.hello()
		if err := p.conn.WriteMessage(websocket.TextMessage, []byte(`{"type":"teleport","id":"x9"}`)); err != nil {
			t.Fatal(err)
		}
		if e := p.next(proto.TypeError); e.Re != "x9" || e.Error.Code != proto.CodeBadRequest {
			t.Errorf("got %+v", e)
		}
	})
	t.Run("garbage disconnects with a reason", func(t *testing.T) {
		p := dialPeer(t, ts)
		p.hello()
		_ = p.conn.WriteMessage(websocket.TextMessage, []byte(`{"type":`))
		if ce := p.expectClose(); ce.Code != websocket.ClosePolicyViolation || !strings.Contains(ce.Text, "malformed") {
			t.Errorf("close %v", ce)
		}
	})
	t.Run("first message must be hello", func(t *testing.T) {
		p := dialPeer(t, ts)
		p.send(&proto.Message{Type: proto.TypeTakeTicket, ID: "r1", TakeTicket: &proto.TakeTicket{Service: "pension-age"}})
		if ce := p.expectClose(); ce.Code != websocket.ClosePolicyViolation || !strings.Contains(ce.Text, "hello") {
			t.Errorf("close %v", ce)
		}
	})
	t.Run("oversized message", func(t *testing.T) {
		p := dialPeer(t, ts)
		p.hello()
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
	if n := s.badMessages.Load(); n < 4 {
		t.Errorf("bad messages counted %d, want at least 4", n)
	}
	// The server still works for good peers.
	dialPeer(t, ts).hello()
}
