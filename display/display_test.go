package display

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/jonboulle/clockwork"

	"github.com/cherga/kiosk/link/proto"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// voice records the calls handed to the announcer.
type voice chan proto.Call

func (v voice) Announce(c proto.Call) bool { v <- c; return true }

type page struct {
	t    *testing.T
	conn *websocket.Conn
}

func openPage(t *testing.T, ts *httptest.Server, path string) *page {
	t.Helper()
	conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(ts.URL, "http")+path,
		http.Header{"Origin": {ts.URL}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &page{t: t, conn: conn}
}

// next reads page messages until one of type typ.
func (p *page) next(typ string) map[string]any {
	p.t.Helper()
	_ = p.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		var m map[string]any
		if err := p.conn.ReadJSON(&m); err != nil {
			p.t.Fatalf("waiting for %s: %v", typ, err)
		}
		if m["type"] == typ {
			return m
		}
	}
}

func call(id, ticket string, window int) proto.Call {
	return proto.Call{ID: id, Ticket: ticket, Window: window, At: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)}
}

func TestHall(t *testing.T) {
	v := make(voice, 8)
	boards := NewBoardsPage(quiet)
	led := boards.New("hall-entrance")
	h := NewHall(HallConfig{RecentCalls: 2, Highlight: time.Second}, v, []Board{led}, quiet)
	mux := http.NewServeMux()
	RegisterAssets(mux)
	h.Register(mux)
	boards.Register(mux)
	ts := httptest.NewServer(mux)
	defer ts.Close()
	defer h.Close()

	h.Welcome(&proto.Welcome{Office: proto.Office{ID: "o"}, RecentCalls: []proto.Call{call("1", "А001", 1)}})
	p := openPage(t, ts, "/hall/ws")
	snap := p.next("snapshot")
	if calls := snap["calls"].([]any); len(calls) != 1 {
		t.Fatalf("snapshot %v", snap)
	}

	h.Call(call("2", "Б001", 3))
	got := p.next("call")["call"].(map[string]any)
	if got["ticket"] != "Б001" || got["window"] != float64(3) {
		t.Errorf("page got %v", got)
	}
	if c := <-v; c.ID != "2" {
		t.Errorf("announced %+v", c)
	}
	h.Call(call("2", "Б001", 3)) // delivered twice: shown and spoken once
	h.Call(call("3", "В001", 4))
	h.Call(call("4", "А001", 2)) // a ticket called again moves to the top
	if c := <-v; c.ID != "3" {
		t.Errorf("announced %+v, want call 3 (call 2 only once)", c)
	}
	var tickets []string
	for _, c := range h.Calls() {
		tickets = append(tickets, c.Ticket)
	}
	if strings.Join(tickets, " ") != "А001 В001 Б001" {
		t.Errorf("shown %v, want the newest first, one line per ticket, at most 1+2", tickets)
	}
	if lines := led.Lines(); len(lines) != 3 || lines[0] != "А001 → 2" {
		t.Errorf("board shows %q", lines)
	}
	h.Speaking(call("4", "А001", 2)) // the page blinks from here
	if m := p.next("speaking"); m["id"] != "4" {
		t.Errorf("speaking message %v", m)
	}
	h.Announced(call("4", "А001", 2), nil)
	if m := p.next("announced"); m["id"] != "4" {
		t.Errorf("announced message %v", m)
	}
	// The server out of reach: the page is told, so nobody trusts a
	// stale board; back, and it is told again.
	h.Link(false)
	if m := p.next("snapshot"); m["server_up"] != false || len(m["calls"].([]any)) != 3 {
		t.Errorf("link down: %v", m)
	}
	h.Link(true)
	if m := p.next("snapshot"); m["server_up"] != true {
		t.Errorf("link up: %v", m)
	}
	h.HallMessage(&proto.HallMessage{Text: proto.Text{UK: "Сьогодні до 20:00", EN: "Open till 8 pm"}})
	if m := p.next("snapshot")["message"].(map[string]any); m["text"].(map[string]any)["uk"] != "Сьогодні до 20:00" {
		t.Errorf("message %v", m)
	}
	// A page that reconnects starts from the full state.
	again := openPage(t, ts, "/hall/ws")
	if calls := again.next("snapshot")["calls"].([]any); len(calls) != 3 {
		t.Errorf("resync has %d calls", len(calls))
	}
	resp, err := http.Get(ts.URL + "/api/v1/calls")
	if err != nil {
		t.Fatal(err)
	}
	var shown []ShownCall
	_ = json.NewDecoder(resp.Body).Decode(&shown)
	resp.Body.Close()
	if len(shown) != 3 || !shown[0].Announced {
		t.Errorf("api calls %+v", shown)
	}
	if c := <-v; c.ID != "4" {
		t.Errorf("announced %+v, want call 4", c)
	}
	// A call this terminal missed while away: the snapshot lists it, then
	// the server resends its push, which is spoken, once.
	h.Welcome(&proto.Welcome{Office: proto.Office{ID: "o"}, RecentCalls: []proto.Call{call("5", "Г001", 1)}})
	h.Call(call("5", "Г001", 1))
	h.Call(call("5", "Г001", 1))
	if c := <-v; c.ID != "5" || len(v) != 0 || len(h.Calls()) != 1 {
		t.Errorf("announced %+v, then %d more; shown %d", c, len(v), len(h.Calls()))
	}
	bp := openPage(t, ts, "/boards/ws")
	if b := bp.next("boards")["boards"].([]any); len(b) != 1 {
		t.Errorf("boards page %v", b)
	}
}

func TestPagesServedFromBinary(t *testing.T) {
	mux := http.NewServeMux()
	RegisterAssets(mux)
	NewHall(HallConfig{RecentCalls: 6, Highlight: time.Second}, nil, nil, quiet).Register(mux)
	NewWindow(3, nil, quiet).Register(mux)
	NewBoardsPage(quiet).Register(mux)
	ts := httptest.NewServer(mux)
	defer ts.Close()
	for _, path := range []string{"/hall/", "/hall/hall.js", "/window/", "/boards/", "/clock.js", "/live.js", "/screen.js"} {
		resp, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || len(b) == 0 {
			t.Errorf("%s: %s", path, resp.Status)
		}
		// Closed networks: nothing on a page may come from outside.
		if strings.Contains(string(b), "http://") || strings.Contains(string(b), "https://") {
			t.Errorf("%s refers to an external address", path)
		}
	}
}

func TestPageFromOtherOriginRefused(t *testing.T) {
	h := NewHall(HallConfig{RecentCalls: 6, Highlight: time.Second}, nil, nil, quiet)
	mux := http.NewServeMux()
	h.Register(mux)
	ts := httptest.NewServer(mux)
	defer ts.Close()
	_, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(ts.URL, "http")+"/hall/ws",
		http.Header{"Origin": {"http://evil.example"}})
	if err == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("got %v", err)
	}
}

func TestWindow(t *testing.T) {
	boards := NewBoardsPage(quiet)
	led := boards.New("window-3")
	w := NewWindow(3, led, quiet)
	mux := http.NewServeMux()
	w.Register(mux)
	ts := httptest.NewServer(mux)
	defer ts.Close()
	defer w.Close()
	w.Welcome(&proto.Welcome{RecentCalls: []proto.Call{call("1", "А001", 3), call("2", "А002", 4)}})
	p := openPage(t, ts, "/window/ws")
	if c := p.next("snapshot")["call"].(map[string]any); c["ticket"] != "А001" {
		t.Errorf("snapshot call %v", c)
	}
	w.Call(call("3", "П007", 5)) // another window's call changes nothing
	w.Call(call("4", "П008", 3))
	if c := p.next("snapshot")["call"].(map[string]any); c["ticket"] != "П008" {
		t.Errorf("update %v", c)
	}
	if lines := led.Lines(); len(lines) != 1 || lines[0] != "П008" {
		t.Errorf("window board %q", lines)
	}
}

// A call for a window no group lists is still shown and spoken as the
// server sent it, with a line in the log for the technician.
func TestHallUnknownWindow(t *testing.T) {
	var logged strings.Builder
	v := make(voice, 2)
	h := NewHall(HallConfig{RecentCalls: 2, Highlight: time.Second}, v, nil, slog.New(slog.NewTextHandler(&logged, nil)))
	defer h.Close()
	h.Welcome(&proto.Welcome{Catalogue: proto.Catalogue{Groups: []proto.Group{{ID: "g", Prefix: "А", Windows: []int{1, 2}}}}})
	h.Call(call("1", "А001", 77))
	if c := <-v; c.Window != 77 || len(h.Calls()) != 1 {
		t.Errorf("announced %+v; shown %d", c, len(h.Calls()))
	}
	if !strings.Contains(logged.String(), "call for a window no service group lists") {
		t.Errorf("log:\n%s", logged.String())
	}
}

// The hall page's clock follows the queue server's: each snapshot says the
// time now on the server's clock, as kioskd measured it at the last
// welcome the link came up with. A welcome replayed from the saved
// snapshot at start (the link not up yet) is old and moves nothing.
func TestHallSnapshotTime(t *testing.T) {
	kioskd := clockwork.NewFakeClockAt(time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC))
	h := NewHall(HallConfig{RecentCalls: 2, Highlight: time.Second, Clock: kioskd}, nil, nil, quiet)
	defer h.Close()
	now := func() time.Time {
		t.Helper()
		ms := h.snapshot().(hallSnapshot).Now
		return time.UnixMicro(int64(ms * 1000)).UTC()
	}
	if got := now(); !got.Equal(kioskd.Now()) {
		t.Errorf("before any welcome: %v, want kioskd's %v", got, kioskd.Now())
	}
	h.Welcome(&proto.Welcome{ServerTime: kioskd.Now().Add(-26 * time.Hour)}) // saved yesterday
	if got := now(); !got.Equal(kioskd.Now()) {
		t.Errorf("after the saved snapshot: %v, want kioskd's %v", got, kioskd.Now())
	}
	server := kioskd.Now().Add(2*time.Hour + 250*time.Millisecond)
	h.Welcome(&proto.Welcome{ServerTime: server})
	h.Link(true)
	kioskd.Advance(time.Minute)
	if got, want := now(), server.Add(time.Minute); !got.Equal(want) {
		t.Errorf("link up: %v, want the server's %v", got, want)
	}
	h.Link(false)
	h.Welcome(&proto.Welcome{ServerTime: kioskd.Now()}) // back, clocks agreeing now
	h.Link(true)
	if got := now(); !got.Equal(kioskd.Now()) {
		t.Errorf("relinked: %v, want %v", got, kioskd.Now())
	}
}
