// Package kiosk is the kiosk role: the touch page a visitor takes a ticket
// at, the ticket API behind it, and the kiosk's own devices (printer,
// scanner, hardware button). Its status lights are the terminal's: they
// show every device and the link (devices.Lights).
//
// The order is fixed: the ticket is issued first, then printed. A ticket
// that could not be printed is still the visitor's: the page shows its
// number, and the fault is reported, never hidden. Around the print the
// kiosk records, on disk, that printing started and that the ticket was
// handed out; a ticket issued by a kioskd that stopped before that (a
// crash, kill -9, a power cut) is withdrawn when the kiosk starts again,
// so no operator calls a number nobody holds.
package kiosk

import (
	"cmp"
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/jonboulle/clockwork"

	"github.com/cherga/kiosk/devices"
	"github.com/cherga/kiosk/display"
	"github.com/cherga/kiosk/httpapi"
	"github.com/cherga/kiosk/link"
	"github.com/cherga/kiosk/link/proto"
	"github.com/cherga/kiosk/pageclock"
	"github.com/cherga/kiosk/printer"
)

// Printer puts a ticket on paper.
type Printer interface {
	Print(ctx context.Context, t *printer.Ticket) error
	Status() devices.Status
}

// Scanner delivers scanned codes.
type Scanner interface {
	Scans() <-chan devices.Scan
	Status() devices.Status
}

// Tickets is where tickets come from: the server link, which numbers them
// online or from the kiosk's own offline series, and commits each to its
// outbox before returning it, pending hand-out.
type Tickets interface {
	IssueTicket(ctx context.Context, service string) (*link.Issued, error)
	CheckIn(ctx context.Context, code string) (*link.CheckedIn, error)
	// Printing records that a ticket's bytes start for the printer;
	// HandedOut that it is the visitor's (printed, or shown on the
	// screen); Withdraw takes back one nobody holds.
	Printing(seq uint64) error
	HandedOut(seq uint64) error
	Withdraw(seq uint64) (*link.Withdrawn, error)
	// SettleUnhanded withdraws the tickets a kioskd that stopped left
	// issued and not handed out.
	SettleUnhanded() ([]link.Withdrawn, error)
	WaitAck(ctx context.Context, seq uint64) error
	Snapshot() *proto.Welcome
	Status() link.Status
}

// Config is the kiosk role's wiring; only Tickets and Printer are required.
type Config struct {
	Tickets       Tickets
	Printer       Printer
	Scanner       Scanner    // nil: none
	Button        gpio.PinIn // nil: none
	ButtonService string     // the service the button issues
	// Clock runs the button's debounce and the status refresh; nil: the
	// real clock.
	Clock clockwork.Clock
	// PrinterChanged, if set, is told after the printer said its status
	// changed (the terminal's status lights follow it).
	PrinterChanged func()
	// Screen is the page's timing; zero fields take DefaultScreen's.
	Screen Screen
	// Speech speaks the page's voice guidance; nil: no voice guidance.
	Speech Speaker
	// Origin is the kiosk page's exact origin (http://127.0.0.1:8080):
	// only that page may use the API; empty: not checked (tests).
	Origin string
	// Forms are the sample forms kept on the kiosk (forms.go); nil: none.
	Forms *Forms
	// DiskFull says whether the terminal's disk is full, so that no ticket
	// can be committed (link.Store.DiskFull): the page then says to ask
	// staff. nil: never.
	DiskFull func() bool
	Log      *slog.Logger
}

// Kiosk is the kiosk role.
type Kiosk struct {
	cfg   Config
	log   *slog.Logger
	clock clockwork.Clock

	// printing serialises tickets: two taps at once give two whole tickets,
	// one after the other, never interleaved bytes.
	printing sync.Mutex

	mu         sync.Mutex
	lastScan   devices.Scan
	lastStatus pageStatus
	taken      map[string]int // tickets taken per service, for the home screen
	hub        *display.Hub
	origins    origins
	speech     *speechCache
	prints     printLimit     // lists of documents printed lately (documents.go)
	catalogue  catalogueCache // GET /api/v1/services's catalogue part, encoded once per catalogue
}

// New makes the kiosk role. The button pin is set up here, so a press
// made before Run starts is not lost. Tickets a kioskd that stopped left
// issued and not handed out are withdrawn here, before any new one.
func New(cfg Config) *Kiosk {
	if cfg.Button != nil {
		if err := cfg.Button.In(gpio.PullUp, gpio.FallingEdge); err != nil {
			cfg.Log.Error("button disabled: cannot watch its pin", "pin", cfg.Button.String(), "err", err)
			cfg.Button = nil
		}
	}
	cfg.Screen.Idle = cmp.Or(cfg.Screen.Idle, DefaultScreen.Idle)
	cfg.Screen.IdleWarning = cmp.Or(cfg.Screen.IdleWarning, DefaultScreen.IdleWarning)
	cfg.Screen.Ticket = cmp.Or(cfg.Screen.Ticket, DefaultScreen.Ticket)
	if cfg.Clock == nil {
		cfg.Clock = clockwork.NewRealClock()
	}
	k := &Kiosk{cfg: cfg, log: cfg.Log, clock: cfg.Clock, taken: map[string]int{}}
	k.origins.log = cfg.Log.Warn
	if err := k.AllowOrigin(cfg.Origin); err != nil {
		cfg.Log.Error("kiosk origin", "err", err)
	}
	if cfg.Speech != nil {
		k.speech = newSpeechCache(cfg.Speech)
	}
	k.hub = display.NewHub(cfg.Log, func() any { return map[string]any{"type": "status", "status": k.status()} })
	k.settle()
	return k
}

// settle withdraws the tickets the last kioskd committed and never
// handed out: it stopped between the outbox commit and the end of
// printing. After a power cut nothing proves the visitor is still there
// (or ever got the paper), so they are not printed again: the server
// takes them out of the queue.
func (k *Kiosk) settle() {
	ws, err := k.cfg.Tickets.SettleUnhanded()
	if err != nil {
		k.log.Error("tickets not handed out before kioskd stopped were not withdrawn; an operator may call a number nobody holds", "err", err)
		return
	}
	for _, w := range ws {
		k.log.Warn("ticket not handed out before kioskd stopped: withdrawn", "number", w.Number, "service", w.Service,
			"printing_started", w.Printing)
	}
}

// AllowOrigin sets the kiosk page's origin, the only one whose requests
// the API takes (kioskd knows its port once it listens).
func (k *Kiosk) AllowOrigin(origin string) error {
	if origin == "" {
		k.origins.allowed.Store(nil)
		return nil
	}
	u, err := url.Parse(origin)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
		return fmt.Errorf("kiosk: origin %q: expected scheme://host:port, like http://127.0.0.1:8080", origin)
	}
	k.origins.allowed.Store(&url.URL{Scheme: u.Scheme, Host: u.Host})
	return nil
}

// Guard passes to h only what the kiosk's own API takes: requests from
// the kiosk page's origin, or with no Origin from a program on this
// machine (kioskctl). kioskd puts its other kiosk-only routes (the
// printer's new roll, the simulated devices) behind it too.
func (k *Kiosk) Guard(h http.Handler) http.Handler { return k.origins.guard(h) }

// Refused counts requests refused for coming from another origin.
func (k *Kiosk) Refused() int64 { return k.origins.refused.Load() }

// Close disconnects the kiosk page's websocket.
func (k *Kiosk) Close() { k.hub.Close() }

//go:embed web
var webFS embed.FS

// Register adds the kiosk page and API to mux. With an *httpapi.Mux, as
// kioskd's, every error answer is JSON, 404 and 405 included.
func (k *Kiosk) Register(mux httpapi.Routes) {
	sub, err := fs.Sub(webFS, "web")
	if err != nil {
		panic(err)
	}
	g := k.origins.guard
	mux.Handle("GET /kiosk/", k.origins.redirect(pageHeaders(httpapi.Files(sub))))
	mux.Handle("GET /kiosk/clock.js", k.origins.redirect(pageHeaders(pageclock.Handler()))) // every page's clock
	mux.Handle("GET /api/v1/services", g(http.HandlerFunc(k.handleServices)))
	mux.Handle("POST /api/v1/tickets", g(http.HandlerFunc(k.handleTake)))
	mux.Handle("POST /api/v1/checkin", g(http.HandlerFunc(k.handleCheckIn)))
	mux.Handle("GET /api/v1/qr", g(http.HandlerFunc(k.handleQR)))
	mux.Handle("GET /api/v1/speech", g(http.HandlerFunc(k.handleSpeech)))
	mux.Handle("GET /kiosk/ws", g(k.hub))
	k.registerInformation(mux, g)
}

// pageHeaders keeps the kiosk page to itself: scripts, styles, images,
// sound and connections from this kioskd only, no forms sent anywhere,
// never framed by another page.
func pageHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; media-src 'self' blob:; "+
			"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "no-referrer")
		h.ServeHTTP(w, r)
	})
}

// Issued is the answer to a ticket request.
type Issued struct {
	Number   string    `json:"number"`
	Service  string    `json:"service"`
	Ahead    int       `json:"ahead"`
	WaitMin  int       `json:"wait_min"`
	Offline  bool      `json:"offline"`
	IssuedAt time.Time `json:"issued_at"`
	// Numbering is online or offline (see link.Mode*).
	Numbering  string `json:"numbering"`
	Printed    bool   `json:"printed"`
	PrintError string `json:"print_error,omitempty"`
	// TrackURL is the ticket's tracking page (its QR code on screen and
	// paper); empty when the office has none.
	TrackURL string `json:"track_url,omitempty"`
	// Booking is set on a ticket given for a booking checked in.
	Booking  *proto.Booking `json:"booking,omitempty"`
	Priority int            `json:"priority,omitempty"`
}

// ackWait bounds how long an answer waits for the server to have the
// ticket in its queue; past it the outbox delivers the ticket later.
const ackWait = 2 * time.Second

// Errors of Take.
var (
	ErrNoCatalogue    = errors.New("kiosk: no service catalogue yet: the queue server was never reached")
	ErrUnknownService = errors.New("kiosk: unknown service")
)

// Take issues a ticket for service and prints it; the page that asked
// shows its number.
func (k *Kiosk) Take(ctx context.Context, service string) (*Issued, error) {
	return k.take(ctx, service, true)
}

// take is Take; shown says whether a screen shows the ticket's number
// (the page's request) or nothing does (the hardware button).
func (k *Kiosk) take(ctx context.Context, service string, shown bool) (*Issued, error) {
	snap := k.cfg.Tickets.Snapshot()
	if snap == nil {
		return nil, ErrNoCatalogue
	}
	if _, ok := snap.Catalogue.Service(service); !ok {
		return nil, ErrUnknownService
	}
	return k.handOut(ctx, snap, shown, func() (*link.Issued, *proto.Booking, error) {
		t, err := k.cfg.Tickets.IssueTicket(ctx, service)
		if err != nil {
			return nil, nil, err
		}
		k.counted(service)
		return t, nil, nil
	})
}

// CheckIn turns a booking code into a ticket and prints it. A refusal is
// a *link.BookingRefused saying why.
func (k *Kiosk) CheckIn(ctx context.Context, code string) (*Issued, error) {
	snap := k.cfg.Tickets.Snapshot()
	if snap == nil {
		return nil, ErrNoCatalogue
	}
	return k.handOut(ctx, snap, true, func() (*link.Issued, *proto.Booking, error) {
		ci, err := k.cfg.Tickets.CheckIn(ctx, code)
		if err != nil {
			return nil, nil, err
		}
		return &ci.Issued, &ci.Booking, nil
	})
}

// handOut issues one ticket with issue, prints it, and answers once the
// server has it, or the wait is over.
func (k *Kiosk) handOut(ctx context.Context, snap *proto.Welcome, shown bool, issue func() (*link.Issued, *proto.Booking, error)) (*Issued, error) {
	t, out, err := k.issueAndPrint(ctx, snap, shown, issue)
	if err != nil {
		return nil, err
	}
	k.pushStatus()
	if !t.Offline {
		// Answer once the server has the ticket in its queue, so "taken"
		// means callable; a slow link only delays this answer, not the paper.
		wctx, cancel := context.WithTimeout(ctx, ackWait)
		if err := k.cfg.Tickets.WaitAck(wctx, t.Seq); err != nil {
			k.log.Warn("server has not confirmed the ticket yet; the outbox will deliver it", "number", t.Number)
		}
		cancel()
	}
	k.log.Info("ticket taken", "number", t.Number, "service", t.Service, "numbering", t.Mode, "printed", out.Printed,
		"booking", t.Booking)
	return out, nil
}

// issueAndPrint is the kiosk's one ticket at a time: its lock is taken
// and released here, whatever issue and the printer do (refuse, fail,
// panic). The ticket is in the outbox when issue returns: only then may
// its first byte go to the printer. Printing started is on disk before
// the printer gets the ticket, and the ticket is handed out once the
// printer is done: printed, or its number on the screen (shown). A ticket
// neither printed nor shown (the printer refused it for a button press,
// or panicked) is withdrawn at once.
func (k *Kiosk) issueAndPrint(ctx context.Context, snap *proto.Welcome, shown bool,
	issue func() (*link.Issued, *proto.Booking, error)) (*link.Issued, *Issued, error) {
	k.printing.Lock()
	defer k.printing.Unlock()
	t, booking, err := issue()
	if err != nil {
		return nil, nil, err
	}
	settled := false
	defer func() {
		if !settled { // the printer panicked: nobody has the ticket
			k.withdraw(t, "the printer failed")
		}
	}()
	if err := k.cfg.Tickets.Printing(t.Seq); err != nil {
		k.log.Error("printing not recorded; the ticket is printed anyway", "number", t.Number, "err", err)
	}
	k.log.Info("printing ticket", "number", t.Number, "seq", t.Seq)
	out := &Issued{Number: t.Number, Service: t.Service, Ahead: t.Ahead, WaitMin: t.WaitMin, IssuedAt: t.IssuedAt,
		Offline: t.Offline, Numbering: t.Mode, Booking: booking, Priority: t.Priority}
	svc, _ := snap.Catalogue.Service(t.Service)
	group, _ := snap.Catalogue.Group(svc.Group)
	out.TrackURL = TrackURL(snap.Office, t.IssuedAt, t.Number)
	err = k.cfg.Printer.Print(ctx, &printer.Ticket{
		Centre: snap.Office.Name, Number: t.Number, Service: svc.Name,
		IssuedAt: t.IssuedAt, Ahead: t.Ahead, WaitMin: t.WaitMin,
		Windows: group.Windows, TrackURL: out.TrackURL, Offline: t.Offline,
	})
	switch {
	case err == nil:
		out.Printed = true
	case !shown && errors.Is(err, printer.ErrCannotPrint):
		// Nothing came out and no screen shows the number.
		settled = true
		k.withdraw(t, "the printer cannot print")
		return nil, nil, fmt.Errorf("kiosk: ticket %s not handed out, withdrawn: %w", t.Number, err)
	case shown:
		k.log.Error("ticket not printed; the page shows its number", "number", t.Number, "err", err)
		out.PrintError = printError(err)
	default:
		// Interrupted halfway or slow to answer: the printer finishes it
		// or prints it again as a copy.
		k.log.Error("ticket not printed yet; the printer may still print it", "number", t.Number, "err", err)
		out.PrintError = printError(err)
	}
	settled = true
	if err := k.cfg.Tickets.HandedOut(t.Seq); err != nil {
		k.log.Error("hand-out not recorded: the ticket will be withdrawn when kioskd next starts", "number", t.Number, "err", err)
	}
	return t, out, nil
}

// withdraw takes back a ticket nobody holds, saying why.
func (k *Kiosk) withdraw(t *link.Issued, why string) {
	if _, err := k.cfg.Tickets.Withdraw(t.Seq); err != nil {
		k.log.Error("ticket nobody holds not withdrawn; an operator may call it", "number", t.Number, "why", why, "err", err)
		return
	}
	k.log.Warn("ticket not handed out: withdrawn", "number", t.Number, "why", why)
}

// printError says why a ticket was not printed without the driver's own
// words, which name the printer's port (/dev/usb/lp0, an address); those
// are in the log.
func printError(err error) string {
	if errors.Is(err, printer.ErrCannotPrint) {
		return "the printer cannot print now (its state is in /healthz); the number is on the screen"
	}
	return "the ticket could not be printed (the kiosk's log says why); the number is on the screen"
}

// TrackURL fills in the office's tracking address for a ticket.
func TrackURL(o proto.Office, issued time.Time, number string) string {
	if o.TrackingURL == "" {
		return ""
	}
	if loc, err := time.LoadLocation(o.Timezone); err == nil && o.Timezone != "" {
		issued = issued.In(loc)
	}
	return strings.NewReplacer("{office}", url.PathEscape(o.ID), "{date}", issued.Format(time.DateOnly),
		"{number}", url.PathEscape(number)).Replace(o.TrackingURL)
}

// maxRequest bounds a ticket or check-in request: a service id or a
// booking code, in a few bytes of JSON.
const maxRequest = 4096

// decode reads a request's JSON body strictly (httpapi.Decode: 415, 413,
// trailing data and unknown fields refused), answering what is wrong.
func (k *Kiosk) decode(w http.ResponseWriter, r *http.Request, dst any) bool {
	if err := httpapi.Decode(w, r, maxRequest, dst); err != nil {
		k.log.Info("bad request", "path", r.URL.Path, "err", err)
		httpapi.Fail(w, err)
		return false
	}
	return true
}

// writeJSON answers v, logging what could not be encoded (a bug).
func (k *Kiosk) writeJSON(w http.ResponseWriter, status int, v any) {
	if err := httpapi.WriteJSON(w, status, v); err != nil {
		k.log.Error("answer not encoded", "err", err)
	}
}

func (k *Kiosk) handleTake(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Service string `json:"service"`
	}
	if !k.decode(w, r, &req) {
		return
	}
	if req.Service == "" {
		httpapi.WriteError(w, http.StatusBadRequest, httpapi.CodeBadField,
			`field "service": required, the id of a service (GET /api/v1/services)`)
		return
	}
	issued, err := k.Take(r.Context(), req.Service)
	var perr *proto.Error
	switch {
	case err == nil:
		k.writeJSON(w, http.StatusCreated, issued)
	case errors.Is(err, ErrUnknownService), errors.As(err, &perr) && perr.Code == proto.CodeUnknownService:
		httpapi.WriteError(w, http.StatusNotFound, proto.CodeUnknownService, fmt.Sprintf("no service %q in the catalogue", req.Service))
	default:
		k.writeIssueError(w, "take ticket for "+req.Service, err)
	}
}

// CodeDiskFull is the code of the 507 answered while the terminal's disk
// is full.
const CodeDiskFull = "disk_full"

// writeIssueError answers why no ticket was issued, for the errors every
// way of issuing shares.
func (k *Kiosk) writeIssueError(w http.ResponseWriter, what string, err error) {
	var perr *proto.Error
	switch {
	case errors.Is(err, ErrNoCatalogue), errors.Is(err, link.ErrOffline):
		httpapi.WriteError(w, http.StatusServiceUnavailable, "offline", err.Error())
	case errors.Is(err, link.ErrOutboxFull):
		httpapi.WriteError(w, http.StatusServiceUnavailable, "buffer_full", err.Error())
	case errors.Is(err, link.ErrDiskFull):
		k.log.Error(what, "err", err)
		k.pushStatus() // the page's banner
		httpapi.WriteError(w, http.StatusInsufficientStorage, CodeDiskFull,
			"the terminal's disk is full: no ticket can be issued until staff free space (see /healthz)")
	case errors.As(err, &perr):
		httpapi.WriteError(w, http.StatusBadGateway, perr.Code, perr.Message)
	default:
		k.log.Error(what, "err", err)
		httpapi.Fail(w, err) // a bare 500: the cause is in the log, never in the answer
	}
}

// refusal is a check-in refused, as the page gets it.
type refusal struct {
	Code    string         `json:"code"`
	Error   string         `json:"error"`
	Booking *proto.Booking `json:"booking,omitempty"`
	// Offline: the kiosk decided alone (the server is away).
	Offline bool `json:"offline,omitempty"`
}

// refused logs a refused check-in and says it as the page gets it.
func (k *Kiosk) refused(br *link.BookingRefused) refusal {
	k.log.Info("check-in refused", "code", br.Code, "why", br.Message, "offline", br.Offline)
	return refusal{Code: br.Code, Error: br.Message, Booking: br.Booking, Offline: br.Offline}
}

func (k *Kiosk) handleCheckIn(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Code string `json:"code"`
	}
	if !k.decode(w, r, &req) {
		return
	}
	if req.Code == "" {
		httpapi.WriteError(w, http.StatusBadRequest, httpapi.CodeBadField, `field "code": required, the booking's code, like "1234-5678-9012"`)
		return
	}
	issued, err := k.CheckIn(r.Context(), req.Code)
	var br *link.BookingRefused
	switch {
	case err == nil:
		k.writeJSON(w, http.StatusCreated, issued)
	case errors.As(err, &br):
		k.writeJSON(w, http.StatusConflict, k.refused(br))
	default:
		k.writeIssueError(w, "check-in", err)
	}
}

// Run handles the kiosk's inputs (scanner, button) until ctx ends.
func (k *Kiosk) Run(ctx context.Context) {
	var wg sync.WaitGroup
	if k.cfg.Scanner != nil {
		wg.Go(func() { k.scanLoop(ctx) })
	}
	if k.cfg.Button != nil {
		wg.Go(func() { k.buttonLoop(ctx) })
	}
	wg.Go(func() { k.statusLoop(ctx) })
	wg.Wait()
}

// repeatScan: the same code read again within this time is the scanner
// seeing the same phone twice, not a second visitor.
const repeatScan = 5 * time.Second

// scanLoop checks in every booking code scanned, whatever screen the page
// shows, and tells the page the outcome; other codes are politely refused.
func (k *Kiosk) scanLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case s := <-k.cfg.Scanner.Scans():
			k.mu.Lock()
			repeat := s.Code == k.lastScan.Code && s.At.Sub(k.lastScan.At) < repeatScan
			k.lastScan = s
			k.mu.Unlock()
			if repeat {
				k.log.Info("same code scanned again; ignored", "length", len(s.Code)) // a booking code is a credential: never logged
				continue
			}
			k.log.Info("code scanned", "length", len(s.Code))
			k.scanned(ctx, s.Code)
		}
	}
}

// scanned checks in a scanned code and pushes the outcome to the page.
func (k *Kiosk) scanned(ctx context.Context, code string) {
	if _, err := proto.ParseBookingCode(code); err != nil {
		k.log.Info("scanned code is not a booking", "err", err)
		k.hub.Broadcast(map[string]any{"type": "scan", "result": "not_booking"})
		return
	}
	issued, err := k.CheckIn(ctx, code)
	var br *link.BookingRefused
	switch {
	case err == nil:
		k.hub.Broadcast(map[string]any{"type": "scan", "result": "ticket", "ticket": issued})
	case errors.As(err, &br):
		k.hub.Broadcast(map[string]any{"type": "scan", "result": "refused", "refusal": k.refused(br)})
	default:
		// The page says it plainly; why (a path, a bucket) is for the log.
		k.log.Error("scanned check-in failed", "err", err)
		k.hub.Broadcast(map[string]any{"type": "scan", "result": "error", "error": "the code could not be checked in; the kiosk's log says why"})
	}
}

// buttonDebounce ignores contact bounce and a press held down.
const buttonDebounce = 300 * time.Millisecond

// buttonWait bounds one wait for the button's edge: a real pin halted just
// before the wait began (periph's drivers forget such a Halt) still lets
// the loop end. The pin's Halt, when ctx ends, ends a wait at once.
const buttonWait = 500 * time.Millisecond

// buttonLoop issues a ticket for every press, presses within
// buttonDebounce of the last one (on the kiosk's clock) ignored.
func (k *Kiosk) buttonLoop(ctx context.Context) {
	stop := context.AfterFunc(ctx, func() { _ = k.cfg.Button.Halt() })
	defer stop()
	var last time.Time
	for ctx.Err() == nil {
		if !k.cfg.Button.WaitForEdge(buttonWait) || k.cfg.Button.Read() != gpio.Low {
			continue
		}
		now := k.clock.Now()
		if !last.IsZero() && now.Sub(last) < buttonDebounce {
			continue
		}
		last = now
		if _, err := k.take(ctx, k.cfg.ButtonService, false); err != nil {
			k.log.Error("button: ticket not issued", "service", k.cfg.ButtonService, "err", err)
		}
	}
}

// notifier is implemented by printers that say when their status changes.
type notifier interface{ Changes() <-chan struct{} }

// statusRefresh is how often the page's status is looked at for printers
// that do not announce their changes.
const statusRefresh = 2 * time.Second

// statusLoop keeps the page's status in step with the printer, which can
// change state on its own (paper runs out between tickets).
func (k *Kiosk) statusLoop(ctx context.Context) {
	t := k.clock.NewTicker(statusRefresh)
	defer t.Stop()
	var changes <-chan struct{}
	if n, ok := k.cfg.Printer.(notifier); ok {
		changes = n.Changes()
	}
	for {
		k.pushStatus()
		select {
		case <-ctx.Done():
			return
		case <-t.Chan():
		case <-changes:
			if k.cfg.PrinterChanged != nil {
				k.cfg.PrinterChanged()
			}
		}
	}
}

// LastScan is the latest code the scanner read.
func (k *Kiosk) LastScan() devices.Scan {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.lastScan
}
