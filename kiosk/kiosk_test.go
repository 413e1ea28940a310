package kiosk

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cherga/kiosk/devices"
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
	office  *queuetest.Office
	api     *httptest.Server
}

// waitPrinter waits until the driver reports state.
func (r *rig) waitPrinter(t *testing.T, state devices.State) {
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

// newRig wires a kiosk to a real queue server over a real link.
func newRig(t *testing.T, serverUp bool) *rig {
	t.Helper()
	office := queuetest.Start(t, nil)
	url := office.LinkURL()
	if !serverUp {
		url = "ws://127.0.0.1:1/api/v1/link"
	}
	dir := t.TempDir()
	store, err := link.OpenStore(filepath.Join(dir, "kioskd.db"), link.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w := make(welcomed, 1)
	lc := link.New(link.Config{URL: url, Device: "kiosk-01", Roles: []string{"kiosk"}, HandshakeTimeout: 5 * time.Second,
		ReserveTimeout: 300 * time.Millisecond}, store, w, quiet)
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
		Port: printer.PipePort{Name: "sim", Serve: func(c io.ReadWriteCloser) { _ = dev.Serve(c) }}})
	t.Cleanup(func() { drv.Close() })
	r := &rig{dev: dev, drv: drv, printed: make(chan error, 8), pins: devices.NewSimPins(), office: office}
	r.waitPrinter(t, devices.OK)
	button, _ := r.pins.Pin("BUTTON")
	light, _ := r.pins.Pin("LED")
	r.k = New(Config{Tickets: lc, Printer: notifying{drv, r.printed}, Button: button, ButtonService: "certificate-income",
		FaultLight: light, Log: quiet})
	mux := http.NewServeMux()
	r.k.Register(mux)
	r.api = httptest.NewServer(mux)
	t.Cleanup(r.api.Close)
	return r
}

func (r *rig) take(t *testing.T, body string, want int) map[string]any {
	t.Helper()
	resp, err := http.Post(r.api.URL+"/api/v1/tickets", "application/json", strings.NewReader(body))
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
// says it was not printed; the fault light comes on.
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
	if lv := r.pins.Levels(); lv["LED"] != "High" {
		t.Errorf("fault light %v", lv)
	}
}

// With the server gone, the kiosk keeps issuing tickets from its leased
// numbers, and says they were issued offline.
func TestServerGone(t *testing.T) {
	r := newRig(t, true)
	r.office.Stop()
	got := r.take(t, `{"service":"pension-age"}`, http.StatusCreated)
	if got["number"] != "П980" || got["offline"] != true || got["numbering"] != "lease" || got["printed"] != true {
		t.Fatalf("answer %v", got)
	}
	<-r.printed
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

func TestKioskPageServed(t *testing.T) {
	r := newRig(t, true)
	for _, path := range []string{"/kiosk/", "/kiosk/kiosk.js", "/kiosk/kiosk.css"} {
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
