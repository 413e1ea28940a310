package kiosk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cherga/kiosk/devices"
	"github.com/cherga/kiosk/display/announce"
	"github.com/cherga/kiosk/httpapi"
	"github.com/cherga/kiosk/link"
	"github.com/cherga/kiosk/printer"
)

// leaks are what no answer may hold: paths on the terminal and Go's own
// words.
var leaks = []string{"/usr/", "/var/", "/tmp/", "/dev/", "/proc/", "/bin/", "stderr", ".go:", "goroutine", "panic"}

// answer is one HTTP answer, read whole.
type answer struct {
	status int
	header http.Header
	body   string
}

func do(t *testing.T, method, url, contentType, body string) answer {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, string(b)}
}

// jsonError checks that a is one {"code","error"} object with no
// internal detail in it, and returns its code and message.
func (a answer) jsonError(t *testing.T) (code, msg string) {
	t.Helper()
	if ct := a.header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("Content-Type %q for %d %q", ct, a.status, a.body)
	}
	var fields map[string]string
	if err := json.Unmarshal([]byte(a.body), &fields); err != nil || len(fields) != 2 || fields["code"] == "" || fields["error"] == "" {
		t.Errorf("answer %d %q is not {\"code\",\"error\"} (%v)", a.status, a.body, err)
	}
	for _, l := range leaks {
		if strings.Contains(a.body, l) {
			t.Errorf("answer %q holds %q", a.body, l)
		}
	}
	return fields["code"], fields["error"]
}

// Every error the kiosk's API and pages give is JSON with a code, bad
// input is a 4xx, never a 500, and a body with anything after its JSON
// object issues no ticket.
func TestHTTPErrors(t *testing.T) {
	r := newRig(t, true)
	u := r.api.URL
	const jsonType = "application/json"
	tests := []struct {
		name, method, path, contentType, body string
		status                                int
		code                                  string
	}{
		{"no such route", "GET", "/api/v1/nothing", "", "", 404, httpapi.CodeNotFound},
		{"no such file", "GET", "/kiosk/nope.js", "", "", 404, httpapi.CodeNotFound},
		{"invalid UTF-8 in a page's path", "GET", "/kiosk/%ff.js", "", "", 400, httpapi.CodeBadPath},
		{"NUL in a page's path", "GET", "/kiosk/a%00.js", "", "", 400, httpapi.CodeBadPath},
		{"wrong method", "GET", "/api/v1/tickets", "", "", 405, httpapi.CodeMethodNotAllowed},
		{"wrong method for a page", "POST", "/kiosk/", jsonType, "{}", 405, httpapi.CodeMethodNotAllowed},
		{"trailing data", "POST", "/api/v1/tickets", jsonType, `{"service":"pension-age"}garbage`, 400, httpapi.CodeBadJSON},
		{"two objects", "POST", "/api/v1/tickets", jsonType, `{"service":"pension-age"}{"service":"pension-age"}`, 400, httpapi.CodeBadJSON},
		{"not JSON", "POST", "/api/v1/tickets", jsonType, `not json`, 400, httpapi.CodeBadJSON},
		{"misspelt field", "POST", "/api/v1/tickets", jsonType, `{"servic":"pension-age"}`, 400, httpapi.CodeBadField},
		{"wrong type", "POST", "/api/v1/tickets", jsonType, `{"service":7}`, 400, httpapi.CodeBadField},
		{"no service", "POST", "/api/v1/tickets", jsonType, `{}`, 400, httpapi.CodeBadField},
		{"over the limit", "POST", "/api/v1/tickets", jsonType, `{"service":"` + strings.Repeat("x", maxRequest) + `"}`, 413, httpapi.CodeBodyTooLarge},
		{"no content type", "POST", "/api/v1/tickets", "", `{"service":"pension-age"}`, 415, httpapi.CodeBadContentType},
		{"a form", "POST", "/api/v1/tickets", "application/x-www-form-urlencoded", `service=pension-age`, 415, httpapi.CodeBadContentType},
		{"unknown service", "POST", "/api/v1/tickets", jsonType, `{"service":"teleport"}`, 404, "unknown_service"},
		{"check-in, trailing data", "POST", "/api/v1/checkin", jsonType, `{"code":"1234-5678-9012"} x`, 400, httpapi.CodeBadJSON},
		{"check-in, no code", "POST", "/api/v1/checkin", jsonType, `{"code":""}`, 400, httpapi.CodeBadField},
		{"check-in over the limit", "POST", "/api/v1/checkin", jsonType, `{"code":"` + strings.Repeat("1", 5000) + `"}`, 413, httpapi.CodeBodyTooLarge},
		{"QR of nothing", "GET", "/api/v1/qr?text=", "", "", 400, "bad_request"},
		{"speech without a voice", "GET", "/api/v1/speech?lang=uk&text=%00", "", "", 404, "no_speech"},
		{"not a websocket", "GET", "/kiosk/ws", "", "", 400, "bad_websocket"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := do(t, tt.method, u+tt.path, tt.contentType, tt.body)
			if a.status != tt.status {
				t.Fatalf("%d %q, want %d", a.status, a.body, tt.status)
			}
			if code, _ := a.jsonError(t); code != tt.code {
				t.Errorf("code %q, want %q (%s)", code, tt.code, a.body)
			}
		})
	}
	if n := len(r.dev.Tickets()); n != 0 {
		t.Fatalf("%d tickets printed for requests that were all refused", n)
	}
	// The first ticket really issued is the day's first: none was issued
	// above, not even for a body whose object came before the garbage.
	if got := r.take(t, `{"service":"pension-age"}`, http.StatusCreated); got["number"] != "П001" {
		t.Fatalf("first ticket %v", got)
	}
}

// failingPrinter fails as a real driver does, naming its port.
type failingPrinter struct{}

func (failingPrinter) Print(context.Context, *printer.Ticket) error {
	return fmt.Errorf("printer /dev/usb/lp0: write: %w", errors.New("input/output error"))
}
func (failingPrinter) Status() devices.Status { return devices.Status{State: devices.OK} }

// failingSpeaker fails as espeak-ng does, naming its path.
type failingSpeaker struct{}

func (failingSpeaker) Say(string, string) (*announce.Clip, error) {
	return nil, errors.New(`announce: espeak-ng "x": fork/exec /usr/bin/espeak-ng: no such file or directory`)
}

// What the kiosk could not do (print, speak) is said without its insides:
// a ticket's print_error and a failed synthesis name no port or program.
// A NUL or a control character for the voice is the client's mistake, a
// 400, before espeak-ng is asked.
func TestHTTPAnswersHideInsides(t *testing.T) {
	r := newRig(t, true)
	k := New(Config{Tickets: r.k.cfg.Tickets, Printer: failingPrinter{}, Speech: failingSpeaker{}, Log: quiet})
	mux := httpapi.NewMux()
	k.Register(mux)
	ts := httptest.NewServer(httpapi.Recover(mux, quiet, nil))
	defer ts.Close()

	a := do(t, "POST", ts.URL+"/api/v1/tickets", "application/json", `{"service":"pension-age"}`)
	var tk Issued
	if err := json.Unmarshal([]byte(a.body), &tk); err != nil || a.status != 201 || tk.Printed || tk.PrintError == "" {
		t.Fatalf("%d %s", a.status, a.body)
	}
	for _, l := range leaks {
		if strings.Contains(tk.PrintError, l) {
			t.Errorf("print_error %q holds %q", tk.PrintError, l)
		}
	}

	a = do(t, "GET", ts.URL+"/api/v1/speech?lang=uk&text=x", "", "")
	if code, _ := a.jsonError(t); a.status != 500 || code != httpapi.CodeInternal {
		t.Errorf("failed synthesis: %d %s", a.status, a.body)
	}

	sp, ok := announce.FindEspeak()
	if !ok {
		t.Fatal("espeak-ng is not installed: make test installs it")
	}
	k = New(Config{Tickets: r.k.cfg.Tickets, Printer: failingPrinter{}, Speech: sp, Log: quiet})
	mux = httpapi.NewMux()
	k.Register(mux)
	ts2 := httptest.NewServer(httpapi.Recover(mux, quiet, nil))
	defer ts2.Close()
	for _, q := range []string{"text=%00", "text=a%00b", "text=%07", "text=%1b%5b31m", "text=%c2%85", "text=%ff"} {
		a := do(t, "GET", ts2.URL+"/api/v1/speech?lang=uk&"+q, "", "")
		if code, _ := a.jsonError(t); a.status != 400 || code != "bad_request" {
			t.Errorf("%s: %d %s", q, a.status, a.body)
		}
	}
	// Line breaks are spaces, not refused.
	if a := do(t, "GET", ts2.URL+"/api/v1/speech?lang=uk&text=%D0%A2%D0%B0%D0%BB%D0%BE%D0%BD%0A%0D%09%D1%82%D1%83%D1%82", "", ""); a.status != 200 {
		t.Errorf("a text with a line break: %d %s", a.status, a.body)
	}
}

// flakyTickets fails on demand in front of the rig's link.
type flakyTickets struct {
	Tickets
	mu    sync.Mutex
	fails int // the next this many IssueTicket calls fail
}

func (f *flakyTickets) IssueTicket(ctx context.Context, service string) (*link.Issued, error) {
	f.mu.Lock()
	fail := f.fails > 0
	f.fails--
	f.mu.Unlock()
	if fail {
		return nil, errors.New("link: outbox: disk full")
	}
	return f.Tickets.IssueTicket(ctx, service)
}

// panickyPrinter panics on its first ticket, as a driver's bug would.
type panickyPrinter struct {
	Printer
	once sync.Once
}

func (p *panickyPrinter) Print(ctx context.Context, t *printer.Ticket) error {
	p.once.Do(func() { panic("printer table is nil") })
	return p.Printer.Print(ctx, t)
}

// The one-ticket-at-a-time lock is let go however the ticket ended: the
// link refusing, the printer panicking (a handler's panic is turned into
// a 500 by httpapi.Recover, and the kiosk must go on), or a ticket
// printed. Each next ticket comes, none waits for ever.
func TestOneAtATimeLockLetGo(t *testing.T) {
	r := newRig(t, true)
	tickets := &flakyTickets{Tickets: r.k.cfg.Tickets, fails: 2}
	k := New(Config{Tickets: tickets, Printer: &panickyPrinter{Printer: r.k.cfg.Printer}, Log: quiet})
	take := func() (issued *Issued, err error, panicked any) {
		done := make(chan struct{})
		go func() {
			defer close(done)
			defer func() { panicked = recover() }()
			issued, err = k.Take(context.Background(), "pension-age")
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("Take waits for ever: the lock was not let go")
		}
		return issued, err, panicked
	}
	for range 2 {
		if _, err, _ := take(); err == nil || !strings.Contains(err.Error(), "disk full") {
			t.Fatalf("want the link's error, got %v", err)
		}
	}
	if _, _, p := take(); p == nil {
		t.Fatal("the printer's panic did not reach the caller")
	}
	for i := range 2 {
		issued, err, p := take()
		if err != nil || p != nil || !issued.Printed {
			t.Fatalf("ticket %d after the failures: %+v %v %v", i, issued, err, p)
		}
		<-r.printed
	}
}
