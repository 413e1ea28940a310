package httpapi

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

func TestFail(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		status int
		code   string
		msg    string
	}{
		{"an *Error", Errorf(404, "ticket_not_found", "no ticket %q today", "А001"), 404, "ticket_not_found", `no ticket "А001" today`},
		{"wrapped", fmt.Errorf("take: %w", Errorf(409, "closed", "the office is closed")), 409, "closed", "the office is closed"},
		{"plain error", errors.New("open /var/lib/queued/queue.db: permission denied"), 500, CodeInternal, internalMessage},
		{"nil", nil, 500, CodeInternal, internalMessage},
		{"no status", &Error{Code: "x", Message: "y"}, 500, "x", "y"},
		{"no code", &Error{Status: 400, Message: "y"}, 400, CodeInternal, "y"},
		{"2xx is not an error", &Error{Status: 200, Code: "x", Message: "y"}, 500, "x", "y"},
		{"cause kept out", &Error{Status: 400, Code: "bad", Message: "bad input", cause: errors.New("/etc/secret: EOF")}, 400, "bad", "bad input"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			Fail(w, tt.err)
			if w.Code != tt.status {
				t.Errorf("status %d, want %d", w.Code, tt.status)
			}
			e := errorOf(t, w)
			if e.Code != tt.code || e.Error != tt.msg {
				t.Errorf("got %+v, want %s %q", e, tt.code, tt.msg)
			}
			for _, leak := range []string{"/var", "/etc", "permission", "EOF", ".go"} {
				if strings.Contains(w.Body.String(), leak) {
					t.Errorf("answer %s leaks %q", w.Body, leak)
				}
			}
		})
	}
}

func TestErrorKeepsCallersHeaders(t *testing.T) {
	w := httptest.NewRecorder()
	w.Header().Set("Retry-After", "5")
	WriteError(w, http.StatusServiceUnavailable, "offline", "the queue server is away")
	if w.Code != 503 || w.Header().Get("Retry-After") != "5" || w.Header().Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("%d %v", w.Code, w.Header())
	}
	if got := w.Body.String(); got != `{"code":"offline","error":"the queue server is away"}`+"\n" {
		t.Errorf("body %q", got)
	}
}

func TestWriteJSON(t *testing.T) {
	w := httptest.NewRecorder()
	if err := WriteJSON(w, http.StatusCreated, map[string]any{"number": "А001", "ahead": 3}); err != nil {
		t.Fatal(err)
	}
	if w.Code != 201 || w.Body.String() != `{"ahead":3,"number":"А001"}`+"\n" ||
		w.Header().Get("Content-Type") != "application/json; charset=utf-8" {
		t.Fatalf("%d %q %v", w.Code, w.Body, w.Header())
	}
	// What cannot be encoded is a bug: a bare 500, the error for the log.
	for _, v := range []any{make(chan int), math.NaN()} {
		w := httptest.NewRecorder()
		err := WriteJSON(w, http.StatusOK, v)
		if err == nil || w.Code != 500 {
			t.Fatalf("%T: %d, %v", v, w.Code, err)
		}
		if e := errorOf(t, w); e.Code != CodeInternal || e.Error != internalMessage {
			t.Errorf("%T: %+v", v, e)
		}
	}
}

// newServer serves a Mux with a few routes, behind Recover, over loopback.
func newServer(t *testing.T, logTo io.Writer, panics *atomic.Int64) *httptest.Server {
	m := NewMux()
	m.HandleFunc("GET /api/v1/tickets/{number}", func(w http.ResponseWriter, r *http.Request) {
		_ = WriteJSON(w, 200, map[string]string{"number": r.PathValue("number")})
	})
	m.HandleFunc("POST /api/v1/tickets", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Service string `json:"service"`
		}
		if err := Decode(w, r, 1024, &req); err != nil {
			Fail(w, err)
			return
		}
		_ = WriteJSON(w, 201, req)
	})
	m.HandleFunc("PUT /api/v1/hall-message", func(http.ResponseWriter, *http.Request) {})
	m.HandleFunc("DELETE /api/v1/hall-message", func(http.ResponseWriter, *http.Request) {})
	m.HandleFunc("GET /panic", func(http.ResponseWriter, *http.Request) { panic("the printer table is nil") })
	m.HandleFunc("GET /panic-midway", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, "the first half")
		http.NewResponseController(w).Flush()
		panic("midway")
	})
	m.HandleFunc("GET /abort", func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) })
	m.HandleFunc("GET /ws", func(w http.ResponseWriter, r *http.Request) {
		up := websocket.Upgrader{}
		conn, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer conn.Close()
		typ, b, err := conn.ReadMessage()
		if err == nil {
			_ = conn.WriteMessage(typ, b)
		}
	})
	log := slog.New(slog.NewTextHandler(logTo, nil))
	srv := httptest.NewServer(Recover(m, log, func() { panics.Add(1) }))
	t.Cleanup(srv.Close)
	return srv
}

// lockedBuffer collects the server's log lines, written from its goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func newLockedBuffer() *lockedBuffer { return &lockedBuffer{} }

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestMux(t *testing.T) {
	var panics atomic.Int64
	logs := newLockedBuffer()
	srv := newServer(t, logs, &panics)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	tests := []struct {
		method, path, contentType, body string
		status                          int
		code, message, allow            string
	}{
		{"GET", "/api/v1/tickets/%D0%90001", "", "", 200, "", `{"number":"А001"}`, ""},
		{"POST", "/api/v1/tickets", "application/json", `{"service":"x"}`, 201, "", `{"service":"x"}`, ""},
		{"POST", "/api/v1/tickets", "text/plain", `{"service":"x"}`, 415, CodeBadContentType, `expected Content-Type application/json, got "text/plain"`, ""},
		{"POST", "/api/v1/tickets", "application/json", `{"service":"x"}garbage`, 400, CodeBadJSON, "trailing data after the JSON object (at byte 15)", ""},
		{"POST", "/api/v1/tickets", "application/json", strings.Repeat(" ", 1025), 413, CodeBodyTooLarge, "the body is over 1024 bytes", ""},
		{"GET", "/x", "", "", 404, CodeNotFound, "no such route: GET /x", ""},
		{"GET", "/api/v1/tickets/", "", "", 404, CodeNotFound, "no such route: GET /api/v1/tickets/", ""},
		{"DELETE", "/api/v1/tickets", "", "", 405, CodeMethodNotAllowed, "method DELETE is not allowed for /api/v1/tickets; allowed: POST", "POST"},
		{"GET", "/api/v1/hall-message", "", "", 405, CodeMethodNotAllowed,
			"method GET is not allowed for /api/v1/hall-message; allowed: DELETE, PUT", "DELETE, PUT"},
		{"POST", "/api/v1/tickets/А001", "", "", 405, CodeMethodNotAllowed,
			"method POST is not allowed for /api/v1/tickets/А001; allowed: GET, HEAD", "GET, HEAD"},
		{"GET", "/api/v1/tickets/a%00b", "", "", 400, CodeBadPath, "the path must be UTF-8 without NUL", ""},
		{"GET", "/a%ffb", "", "", 400, CodeBadPath, "the path must be UTF-8 without NUL", ""},
		{"GET", "/panic", "", "", 500, CodeInternal, internalMessage, ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, srv.URL+tt.path, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			if resp.Header.Get("Content-Type") != "application/json; charset=utf-8" {
				t.Errorf("Content-Type %q", resp.Header.Get("Content-Type"))
			}
			if got := resp.Header.Get("Allow"); got != tt.allow {
				t.Errorf("Allow %q, want %q", got, tt.allow)
			}
			if tt.code == "" {
				if string(body) != tt.message+"\n" {
					t.Errorf("body %q", body)
				}
				return
			}
			w := httptest.NewRecorder()
			w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
			w.Body.Write(body)
			if e := errorOf(t, w); e.Code != tt.code || e.Error != tt.message {
				t.Errorf("got %+v\nwant %s %q", e, tt.code, tt.message)
			}
		})
	}
	if panics.Load() != 1 {
		t.Errorf("%d panics counted, want 1", panics.Load())
	}
	if l := logs.String(); !strings.Contains(l, "level=ERROR") || !strings.Contains(l, "the printer table is nil") ||
		!strings.Contains(l, "path=/panic") || !strings.Contains(l, "httpapi_test.go") {
		t.Errorf("panic log: %s", l)
	}
}

// The ServeMux's own redirects (a cleaned path) pass through as they are.
func TestMuxKeepsRedirects(t *testing.T) {
	var panics atomic.Int64
	srv := newServer(t, io.Discard, &panics)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(srv.URL + "/api/v1//tickets/A001")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTemporaryRedirect || resp.Header.Get("Location") != "/api/v1/tickets/A001" {
		t.Fatalf("%s, Location %q", resp.Status, resp.Header.Get("Location"))
	}
}

// A handler that panics after its answer began cannot be answered again:
// the client sees the answer broken off, not a short one that looks whole.
func TestRecoverAfterAnswerBegan(t *testing.T) {
	var panics atomic.Int64
	logs := newLockedBuffer()
	srv := newServer(t, logs, &panics)
	resp, err := http.Get(srv.URL + "/panic-midway")
	if err == nil {
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	if err == nil {
		t.Fatal("the broken answer read as complete")
	}
	if panics.Load() != 1 || !strings.Contains(logs.String(), "midway") {
		t.Errorf("%d panics, log %s", panics.Load(), logs)
	}
}

// http.ErrAbortHandler is net/http's way to cut a connection on purpose:
// no log, no count.
func TestRecoverLetsAbortThrough(t *testing.T) {
	var panics atomic.Int64
	logs := newLockedBuffer()
	srv := newServer(t, logs, &panics)
	if resp, err := http.Get(srv.URL + "/abort"); err == nil {
		resp.Body.Close()
		t.Fatalf("got %s, want the connection cut", resp.Status)
	}
	if panics.Load() != 0 || logs.String() != "" {
		t.Errorf("%d panics, log %q", panics.Load(), logs)
	}
}

// The pages' websockets go through Recover and Mux: the writer must still
// hijack.
func TestWebsocketThroughRecover(t *testing.T) {
	var panics atomic.Int64
	srv := newServer(t, io.Discard, &panics)
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	conn, _, err := d.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.WriteMessage(websocket.TextMessage, []byte("привіт")); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, b, err := conn.ReadMessage(); err != nil || string(b) != "привіт" {
		t.Fatalf("%q %v", b, err)
	}
}
