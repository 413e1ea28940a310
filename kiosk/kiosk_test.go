package kiosk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/jonboulle/clockwork"

	"github.com/cherga/kiosk/devices"
	"github.com/cherga/kiosk/display/announce"
	"github.com/cherga/kiosk/httpapi"
	"github.com/cherga/kiosk/i18n"
	"github.com/cherga/kiosk/link"
	"github.com/cherga/kiosk/link/proto"
	"github.com/cherga/kiosk/printer"
	"github.com/cherga/kiosk/printer/simprinter"
	"github.com/cherga/kiosk/queue/queuetest"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// welcomed is a link.Handler that says when the first snapshot arrived.
type welcomed chan struct{}

func (w welcomed) Welcome(*proto.Welcome) {
	select {
	case w <- struct{}{}:
	default:
	}
}
func (welcomed) Call(proto.Call)                {}
func (welcomed) Queues([]proto.QueueLen)        {}
func (welcomed) Cancel(proto.Cancel)            {}
func (welcomed) HallMessage(*proto.HallMessage) {}
func (welcomed) Update(*proto.Update)           {}
func (welcomed) Link(bool)                      {}
func (welcomed) Window(proto.WindowState)       {}

// notifying is the ESC/POS driver, telling the test after each print.
type notifying struct {
	*printer.ESCPOS
	printed chan error
}

func (n notifying) Print(ctx context.Context, t *printer.Ticket) error {
	err := n.ESCPOS.Print(ctx, t)
	n.printed <- err
	return err
}

type rig struct {
	k       *Kiosk
	dev     *simprinter.Device // the simulated printer the driver talks to
	drv     *printer.ESCPOS
	printed chan error
	pins    *devices.SimPins
	clock   clockwork.Clock // nil: the real clock
	scanner *devices.SimScanner
	office  *queuetest.Office
	store   *link.Store // the kiosk's bbolt file
	api     *httptest.Server
}

// delivered waits until the server has committed every event in the
// kiosk's outbox.
func (r *rig) delivered(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second) // a guard, never a measurement
	defer cancel()
	if err := r.k.cfg.Tickets.WaitAck(ctx, r.store.Outbox().NextSeq-1); err != nil {
		t.Fatalf("the server did not take the outbox: %v", err)
	}
}

// waitPrinter waits until the driver reports state.
func (r *rig) waitPrinter(t testing.TB, state devices.State) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for r.drv.Status().State != state {
		select {
		case <-r.drv.Changes():
		case <-timeout:
			t.Fatalf("printer is %+v, want %s", r.drv.Status(), state)
		}
	}
}

// rigClock sets the time on both sides: a clockwork.FakeClock at that
// moment, moved by nobody.
type rigClock struct{ at time.Time }

func (c rigClock) apply(s *rigSetup) { s.clock = &c }

// rigOption changes a rig: a rigClock is the time on both sides, a
// withScanner the kiosk's scanner.
type rigOption interface{ apply(*rigSetup) }

type rigSetup struct {
	clock   *rigClock
	scanner Scanner
	wire    func(io.ReadWriteCloser) io.ReadWriteCloser
	speech  Speaker
	dataDir string
}

// withDataDir keeps the kiosk's bbolt file in dir (a tiny file system).
type withDataDir string

func (w withDataDir) apply(s *rigSetup) { s.dataDir = string(w) }

type withSpeech struct{ Speaker }

func (w withSpeech) apply(s *rigSetup) { s.speech = w.Speaker }

// withWire puts something on the printer's cable (a byte watcher).
type withWire func(io.ReadWriteCloser) io.ReadWriteCloser

func (w withWire) apply(s *rigSetup) { s.wire = w }

type withScanner struct{ Scanner }

func (w withScanner) apply(s *rigSetup) { s.scanner = w.Scanner }

// newRig wires a kiosk to a real queue server over a real link.
func newRig(t testing.TB, serverUp bool, opts ...rigOption) *rig {
	t.Helper()
	var setup rigSetup
	for _, o := range opts {
		o.apply(&setup)
	}
	var clock clockwork.Clock
	if setup.clock != nil {
		clock = clockwork.NewFakeClockAt(setup.clock.at)
	}
	office := queuetest.Start(t, clock)
	url := office.LinkURL()
	if !serverUp {
		url = "ws://127.0.0.1:1/api/v1/link"
	}
	dir := t.TempDir()
	if setup.dataDir != "" {
		dir = setup.dataDir
	}
	store, err := link.OpenStore(filepath.Join(dir, "kioskd.db"), link.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w := make(welcomed, 1)
	lc := link.New(link.Config{URL: url, Device: "kiosk-01", Roles: []string{"kiosk"}, HandshakeTimeout: 5 * time.Second,
		ReserveTimeout: 300 * time.Millisecond, Clock: clock}, store, w, quiet)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = lc.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; store.Close() })
	if serverUp {
		select {
		case <-w:
		case <-time.After(10 * time.Second):
			t.Fatal("no welcome")
		}
	}
	prof, err := printer.LookupProfile("epson-tm-t20")
	if err != nil {
		t.Fatal(err)
	}
	dev, err := simprinter.New(prof, 80, "")
	if err != nil {
		t.Fatal(err)
	}
	drv := printer.Open(printer.Config{Driver: "sim", Profile: prof, PaperMM: 80, Template: printer.DefaultTemplate,
		Port: printer.PipePort{Name: "sim", Serve: func(c io.ReadWriteCloser) {
			if setup.wire != nil {
				c = setup.wire(c)
			}
			_ = dev.Serve(c)
		}}})
	t.Cleanup(func() { drv.Close() })
	r := &rig{dev: dev, drv: drv, printed: make(chan error, 8), pins: devices.NewSimPins(clock), clock: clock, office: office, store: store,
		scanner: devices.NewSimScanner()}
	r.waitPrinter(t, devices.OK)
	button, _ := r.pins.Pin("BUTTON")
	var scanner Scanner = r.scanner
	if setup.scanner != nil {
		scanner = setup.scanner
	}
	r.k = New(Config{Tickets: lc, Printer: notifying{drv, r.printed}, DiskFull: store.DiskFull, Button: button, ButtonService: "certificate-income",
		Scanner: scanner, Speech: setup.speech, Clock: clock, Log: quiet})
	t.Cleanup(r.k.Close)
	// The routes as kioskd serves them: JSON 404 and 405, panics guarded.
	mux := httpapi.NewMux()
	i18n.Register(mux)
	r.k.Register(mux)
	r.api = httptest.NewServer(httpapi.Recover(mux, quiet, nil))
	t.Cleanup(r.api.Close)
	return r
}

func (r *rig) take(t *testing.T, body string, want int) map[string]any {
	t.Helper()
	return r.post(t, "/api/v1/tickets", body, want)
}

func (r *rig) post(t *testing.T, path, body string, want int) map[string]any {
	t.Helper()
	resp, err := http.Post(r.api.URL+path, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode != want {
		t.Fatalf("POST %s: %s %v, want %d", body, resp.Status, out, want)
	}
	return out
}

func TestTakeTicket(t *testing.T) {
	r := newRig(t, true)
	got := r.take(t, `{"service":"pension-age"}`, http.StatusCreated)
	if got["number"] != "П001" || got["service"] != "pension-age" || got["offline"] != false || got["printed"] != true ||
		got["numbering"] != "online" {
		t.Fatalf("answer %v", got)
	}
	if err := <-r.printed; err != nil {
		t.Fatal(err)
	}
	if p := <-r.dev.Printed(); p.Headline != "П001" || !strings.Contains(p.Text, "Призначення пенсії за віком") {
		t.Fatalf("printed %q:\n%s", p.Headline, p.Text)
	}
	// The answer came after the server queued the ticket: the next one
	// counts it, and it can be called.
	if got := r.take(t, `{"service":"pension-age"}`, http.StatusCreated); got["ahead"] != float64(1) {
		t.Errorf("second ticket %v", got)
	}
	<-r.printed
	if called, _, err := r.office.Queue.Next(9); err != nil || called.Number != "П001" {
		t.Fatalf("the ticket just taken is not in the queue: %v %v", called, err)
	}
	r.take(t, `{"service":"teleport"}`, http.StatusNotFound)
	r.take(t, `{"servic":"x"}`, http.StatusBadRequest)
	r.take(t, `not json`, http.StatusBadRequest)

	resp, err := http.Get(r.api.URL + "/api/v1/services")
	if err != nil {
		t.Fatal(err)
	}
	var cat struct {
		Services []proto.Service `json:"services"`
		Groups   []proto.Group   `json:"groups"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&cat)
	resp.Body.Close()
	if len(cat.Groups) != 10 || len(cat.Services) < 30 {
		t.Errorf("catalogue %d groups %d services", len(cat.Groups), len(cat.Services))
	}
}

// A ticket the printer could not print is still issued, and the answer
// says it was not printed.
func TestPrinterOutOfPaper(t *testing.T) {
	r := newRig(t, true)
	r.dev.SetCondition(simprinter.PaperOut)
	r.waitPrinter(t, devices.Fault)
	got := r.take(t, `{"service":"pension-age"}`, http.StatusCreated)
	if got["number"] != "П001" || got["printed"] != false || got["print_error"] == "" {
		t.Fatalf("answer %v", got)
	}
	if err := <-r.printed; !errors.Is(err, printer.ErrCannotPrint) {
		t.Fatalf("print error %v", err)
	}
}

// With the server gone, the kiosk keeps issuing tickets from its own
// series, and says they were issued offline and who is ahead: those the
// server last said were waiting, and its own tickets since.
func TestServerGone(t *testing.T) {
	r := newRig(t, true)
	r.take(t, `{"service":"pension-age"}`, http.StatusCreated) // online: П001, in the queue
	<-r.printed
	<-r.dev.Printed()
	r.office.Stop()
	for i, want := range []string{"П1-001", "П1-002"} {
		got := r.take(t, `{"service":"pension-age"}`, http.StatusCreated)
		if got["number"] != want || got["offline"] != true || got["numbering"] != "offline" || got["printed"] != true {
			t.Fatalf("answer %v", got)
		}
		if got["ahead"] != float64(1+i) {
			t.Errorf("%s: %v ahead, want %d", want, got["ahead"], 1+i)
		}
		<-r.printed
		if p := <-r.dev.Printed(); p.Headline != want || !strings.Contains(p.Text, fmt.Sprintf("Перед вами: %d", 1+i)) {
			t.Errorf("printed %q:\n%s", p.Headline, p.Text)
		}
	}
}

// A ticket committed and never handed out (kioskd stopped while printing
// it) is withdrawn when the kiosk starts again: the server takes it out
// of the queue, and the next call is a ticket somebody holds. One handed
// out is never withdrawn.
func TestUnhandedWithdrawnAtStart(t *testing.T) {
	r := newRig(t, true)
	tickets := r.k.cfg.Tickets
	real := r.take(t, `{"service":"pension-age"}`, http.StatusCreated)
	<-r.printed
	// The ghost: issued and committed, its printing started, and then
	// nothing (the process that would print it is gone).
	ghost, err := tickets.IssueTicket(context.Background(), "pension-age")
	if err != nil {
		t.Fatal(err)
	}
	if err := tickets.Printing(ghost.Seq); err != nil {
		t.Fatal(err)
	}
	if err := tickets.WaitAck(context.Background(), ghost.Seq); err != nil {
		t.Fatal(err)
	}
	if n := waitingCount(t, r.office); n != 2 {
		t.Fatalf("%d waiting before the restart, want 2", n)
	}
	k := New(Config{Tickets: tickets, Printer: r.k.cfg.Printer, Log: quiet}) // the kiosk starting again
	defer k.Close()
	if again, err := tickets.SettleUnhanded(); err != nil || len(again) != 0 {
		t.Fatalf("settled twice: %v %v", again, err)
	}
	r.delivered(t)
	if n := waitingCount(t, r.office); n != 1 {
		t.Errorf("%d waiting after the restart, want 1", n)
	}
	tk, _, err := r.office.Queue.Track(r.office.Queue.Today(), ghost.Number)
	if err != nil || tk.State != proto.StateCancelled {
		t.Fatalf("ghost %s: %+v %v", ghost.Number, tk, err)
	}
	if called, _, err := r.office.Queue.Next(9); err != nil || called.Number != real["number"] {
		t.Fatalf("next call %v %v, want %v", called.Number, err, real["number"])
	}
	if _, _, err := r.office.Queue.Next(9); err == nil {
		t.Error("a second call: the ghost is still in the queue")
	}
}

// waitingCount is how many wait in the office, all groups.
func waitingCount(t *testing.T, o *queuetest.Office) int {
	t.Helper()
	n := 0
	for _, l := range o.Queue.Lengths() {
		n += l.Waiting
	}
	return n
}

// A button press while the printer cannot print gives nobody a ticket (no
// screen shows a number): it is withdrawn at once, not left for an
// operator to call.
func TestButtonWithoutPaperWithdrawn(t *testing.T) {
	r := newRig(t, true)
	r.dev.SetCondition(simprinter.PaperOut)
	r.waitPrinter(t, devices.Fault)
	_, err := r.k.take(context.Background(), "certificate-income", false)
	if !errors.Is(err, printer.ErrCannotPrint) {
		t.Fatalf("button ticket without paper: %v", err)
	}
	<-r.printed
	r.delivered(t)
	tickets, err := r.office.Queue.Tickets(r.office.Queue.Today())
	if err != nil || len(tickets) != 1 || tickets[0].State != proto.StateCancelled {
		t.Fatalf("tickets %+v %v", tickets, err)
	}
	if n := waitingCount(t, r.office); n != 0 {
		t.Errorf("%d waiting", n)
	}
}

func TestOfflineWithoutCatalogue(t *testing.T) {
	r := newRig(t, false)
	if got := r.take(t, `{"service":"pension-age"}`, http.StatusServiceUnavailable); got["code"] != "no_catalogue" && got["code"] != "offline" {
		t.Errorf("answer %v", got)
	}
	resp, err := http.Get(r.api.URL + "/api/v1/services")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("services while never connected: %s", resp.Status)
	}
}

func TestHardwareButton(t *testing.T) {
	r := newRig(t, true)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.k.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	if err := r.pins.Press("BUTTON"); err != nil {
		t.Fatal(err)
	}
	if err := <-r.printed; err != nil {
		t.Fatal(err)
	}
	if p := <-r.dev.Printed(); p.Headline != "Г001" {
		t.Fatalf("button ticket %q", p.Headline)
	}
}

// A second press within the debounce, on the kiosk's clock, is contact
// bounce: no ticket. One after it is a visitor: a ticket. Run ends at
// once when its context does, the button's wait included.
func TestButtonDebounce(t *testing.T) {
	r := newRig(t, true, rigClock{time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)})
	clock := r.clock.(*clockwork.FakeClock)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.k.Run(ctx); close(done) }()
	defer cancel()
	wait, stop := context.WithTimeout(context.Background(), 30*time.Second) // a guard, never a measurement
	defer stop()

	press := func() {
		t.Helper()
		if err := r.pins.Press("BUTTON"); err != nil {
			t.Fatal(err)
		}
		// The button's reader took both edges and waits again: whatever
		// the press did is done.
		if err := r.pins.WaitIdle(wait, "BUTTON"); err != nil {
			t.Fatal(err)
		}
	}
	press()
	if err := <-r.printed; err != nil {
		t.Fatal(err)
	}
	clock.Advance(buttonDebounce - time.Millisecond)
	press()
	if len(r.printed) != 0 {
		t.Fatalf("a press %s after the last one issued a ticket", buttonDebounce-time.Millisecond)
	}
	clock.Advance(time.Millisecond)
	press()
	if err := <-r.printed; err != nil {
		t.Fatal(err)
	}
	var heads []string
	for range 2 {
		heads = append(heads, (<-r.dev.Printed()).Headline)
	}
	if heads[0] != "Г001" || heads[1] != "Г002" {
		t.Errorf("printed %v, want Г001 and Г002", heads)
	}
	cancel()
	select {
	case <-done:
	case <-wait.Done():
		t.Fatal("Run did not end with its context: the button's wait held it")
	}
}

func TestKioskPageServed(t *testing.T) {
	r := newRig(t, true)
	for _, path := range []string{"/kiosk/", "/kiosk/kiosk.js", "/kiosk/clock.js", "/kiosk/kiosk.css"} {
		resp, err := http.Get(r.api.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || strings.Contains(string(b), "https://") {
			t.Errorf("%s: %s", path, resp.Status)
		}
	}
}

// A booking checked in by its typed code, then one by a scan while the
// page shows something else: each gives one ticket with the booking's
// priority, printed; a second scan of the same code is ignored, a used
// code is refused with the reason, a code that is no booking politely.
func TestCheckIn(t *testing.T) {
	kyiv, _ := time.LoadLocation("Europe/Kyiv")
	r := newRig(t, true, rigClock{time.Date(2026, 11, 23, 10, 0, 0, 0, kyiv)})
	b1, err := r.office.Queue.Book("pension-age", "2026-11-23", "10:15")
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := r.office.Queue.Book("certificate-income", "2026-11-23", "10:00")

	got := r.post(t, "/api/v1/checkin", `{"code":"`+b1.Code+`"}`, http.StatusCreated)
	if got["printed"] != true || got["priority"] != float64(1) || got["booking"].(map[string]any)["slot"] != "10:15" {
		t.Fatalf("check-in answer %v", got)
	}
	<-r.printed
	refused := r.post(t, "/api/v1/checkin", `{"code":"`+b1.Code+`"}`, http.StatusConflict)
	if refused["code"] != proto.CodeBookingUsed {
		t.Fatalf("second check-in %v", refused)
	}
	r.post(t, "/api/v1/checkin", `{"cod":1}`, http.StatusBadRequest)

	// The page's websocket hears the outcome of scans.
	conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(r.api.URL, "http")+"/kiosk/ws", http.Header{"Origin": {r.api.URL}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	next := func() map[string]any {
		t.Helper()
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		for {
			var m map[string]any
			if err := conn.ReadJSON(&m); err != nil {
				t.Fatal(err)
			}
			if m["type"] == "scan" {
				return m
			}
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.k.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	for _, code := range []string{b2.Code, b2.Code, "https://evil.example/x", b1.Code} {
		if err := r.scanner.Feed([]byte(code)); err != nil {
			t.Fatal(err)
		}
	}
	if m := next(); m["result"] != "ticket" || m["ticket"].(map[string]any)["service"] != "certificate-income" {
		t.Fatalf("scan → %v", m)
	}
	<-r.printed
	if m := next(); m["result"] != "not_booking" {
		t.Fatalf("garbage scan → %v (the repeat must be ignored)", m)
	}
	if m := next(); m["result"] != "refused" || m["refusal"].(map[string]any)["code"] != proto.CodeBookingUsed {
		t.Fatalf("used code scanned → %v", m)
	}
	if n := len(r.dev.Tickets()); n != 2 {
		t.Errorf("%d tickets printed, want 2", n)
	}
}

// Only the kiosk page's own origin may use the API and the websocket;
// programs sending no Origin (kioskctl, curl) may, at the kiosk's address.
func TestOriginLockdown(t *testing.T) {
	r := newRig(t, true)
	if err := r.k.AllowOrigin("http://example.com/x"); err == nil {
		t.Error("an origin with a path was taken")
	}
	if err := r.k.AllowOrigin(r.api.URL); err != nil {
		t.Fatal(err)
	}
	host := strings.TrimPrefix(r.api.URL, "http://")
	for _, tt := range []struct {
		origin, host string
		want         int
	}{
		{r.api.URL, "", http.StatusCreated},
		{"", "", http.StatusCreated},
		{"http://evil.example", "", http.StatusForbidden},
		{"http://localhost:" + strings.Split(host, ":")[1], "", http.StatusForbidden},
		{"", "rebound.example:80", http.StatusForbidden},
	} {
		req, _ := http.NewRequest("POST", r.api.URL+"/api/v1/tickets", strings.NewReader(`{"service":"pension-age"}`))
		req.Header.Set("Content-Type", "application/json")
		if tt.origin != "" {
			req.Header.Set("Origin", tt.origin)
		}
		if tt.host != "" {
			req.Host = tt.host
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("origin %q host %q: %s %v, want %d", tt.origin, tt.host, resp.Status, body, tt.want)
		}
		if tt.want == http.StatusCreated {
			<-r.printed
		} else if body["code"] != "forbidden_origin" || !strings.Contains(body["error"].(string), r.api.URL) {
			t.Errorf("refusal does not say what is allowed: %v", body)
		}
	}
	ws := "ws" + strings.TrimPrefix(r.api.URL, "http") + "/kiosk/ws"
	if _, resp, err := websocket.DefaultDialer.Dial(ws, http.Header{"Origin": {"http://evil.example"}}); err == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("websocket from another origin: %v", err)
	}
	conn, _, err := websocket.DefaultDialer.Dial(ws, http.Header{"Origin": {r.api.URL}})
	if err != nil {
		t.Fatal(err)
	}
	conn.Close()
	if n := r.k.Refused(); n != 4 {
		t.Errorf("%d refusals counted, want 4", n)
	}
	// A program on another machine that sends no Origin, whatever Host it
	// writes, is not kioskctl: a ticket, and the printer's routes kioskd
	// puts behind Guard, are refused.
	for _, path := range []string{"/api/v1/tickets", "/api/v1/checkin"} {
		req := httptest.NewRequest("POST", r.api.URL+path, strings.NewReader(`{"service":"pension-age"}`))
		req.Header.Set("Content-Type", "application/json")
		req.RemoteAddr = "192.0.2.7:51000"
		rec := httptest.NewRecorder()
		r.api.Config.Handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "forbidden_origin") {
			t.Errorf("%s from the LAN with no Origin: %d %s", path, rec.Code, rec.Body)
		}
	}
	guarded := r.k.Guard(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	for _, c := range []struct {
		remote, origin string
		want           int
	}{
		{"192.0.2.7:51000", "", http.StatusForbidden},
		{"192.0.2.7:51000", r.api.URL, http.StatusNoContent}, // a kiosk page opened elsewhere is still the kiosk's origin
		{"127.0.0.1:51000", "", http.StatusNoContent},
		{"[::1]:51000", "", http.StatusNoContent},
		{"127.0.0.1:51000", "http://evil.example", http.StatusForbidden},
	} {
		req := httptest.NewRequest("POST", r.api.URL+"/api/v1/printer/new-roll", nil)
		req.RemoteAddr = c.remote
		if c.origin != "" {
			req.Header.Set("Origin", c.origin)
		}
		rec := httptest.NewRecorder()
		guarded.ServeHTTP(rec, req)
		if rec.Code != c.want {
			t.Errorf("new-roll from %s origin %q: %d %s, want %d", c.remote, c.origin, rec.Code, rec.Body, c.want)
		}
	}
	// The page opened at another name of this terminal is sent to the
	// kiosk's origin.
	req, _ := http.NewRequest("GET", r.api.URL+"/kiosk/?x=1", nil)
	req.Host = "localhost:8080"
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusTemporaryRedirect || loc != r.api.URL+"/kiosk/?x=1" {
		t.Errorf("page at another host: %s → %q", resp.Status, loc)
	}
	resp, err = http.Get(r.api.URL + "/kiosk/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("page CSP %q", csp)
	}
}

// Voice guidance speaks through espeak-ng on this machine; what it cannot
// say is refused plainly.
func TestSpeech(t *testing.T) {
	sp, ok := announce.FindEspeak()
	if !ok {
		t.Fatal("espeak-ng is not installed: make test installs it")
	}
	r := newRig(t, true)
	k := New(Config{Tickets: r.k.cfg.Tickets, Printer: r.k.cfg.Printer, Speech: sp, Log: quiet})
	mux := http.NewServeMux()
	k.Register(mux)
	ts := httptest.NewServer(mux)
	defer ts.Close()
	get := func(q string) (*http.Response, []byte) {
		t.Helper()
		resp, err := http.Get(ts.URL + "/api/v1/speech?" + q)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	resp, b := get("lang=uk&text=" + url.QueryEscape("Оберіть послугу"))
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "audio/wav" || len(b) < 4000 || string(b[:4]) != "RIFF" {
		t.Fatalf("speech: %s %q, %d bytes", resp.Status, resp.Header.Get("Content-Type"), len(b))
	}
	if _, again := get("lang=uk&text=" + url.QueryEscape("Оберіть послугу")); !bytes.Equal(again, b) {
		t.Error("the same text spoken differently the second time (cache)")
	}
	for _, q := range []string{"lang=de&text=x", "lang=uk&text=", "lang=uk&text=" + strings.Repeat("a", 700)} {
		if resp, _ := get(q); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %s", q, resp.Status)
		}
	}
	if resp, _ := http.Get(r.api.URL + "/api/v1/speech?lang=uk&text=x"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("speech without a voice: %s", resp.Status)
	}
}
