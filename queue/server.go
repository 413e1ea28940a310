package queue

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/cherga/kiosk/httpapi"
	"github.com/cherga/kiosk/i18n"
	"github.com/cherga/kiosk/link/proto"
	"github.com/cherga/kiosk/queue/access"
)

//go:embed web
var webFS embed.FS

// Auth says which terminals may open the link. With no tokens and no
// client CA, any terminal may (a server on loopback, the demo).
type Auth struct {
	// Tokens maps the hex SHA-256 of a terminal's bearer token to its
	// device id; the server never stores the token itself.
	Tokens map[string]string
	// ClientCerts means terminals may present a TLS client certificate
	// (verified by the http.Server's ClientCAs) whose common name is their
	// device id.
	ClientCerts bool
}

func (a Auth) required() bool { return len(a.Tokens) > 0 || a.ClientCerts }

// SetNames replaces the host names the server answers to, for a reloaded
// configuration.
func (s *Server) SetNames(names []string) { s.guard.SetNames(names) }

// SetAuth replaces the terminals' credentials, for a reloaded
// configuration.
func (s *Server) SetAuth(a Auth) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.auth = a
}

// ServerOptions are the HTTP side's settings.
type ServerOptions struct {
	Log *slog.Logger // nil: discard
	// Terminals says who may open the link.
	Terminals Auth
	// AccessFile holds the operators' accounts and the API tokens
	// (access.json in the data directory; queued user/token edit it).
	AccessFile string
	// SecureCookies marks the session cookie Secure on plain HTTP too,
	// for a TLS proxy in front.
	SecureCookies bool
}

// Server is queued's HTTP side: the JSON API, the operators' and
// supervisors' pages, the public status page and the link websocket that
// terminals keep open.
type Server struct {
	q       *Queue
	log     *slog.Logger
	auth    Auth
	guard   *access.Guard
	store   *access.Store
	mux     *httpapi.Mux
	handler http.Handler

	mu    sync.Mutex
	terms map[*terminal]struct{}
	// byWindow are the terminals of each window (hello's window and
	// windows), sent the state each window's terminals got last
	// (windowstate.go).
	byWindow map[int]map[*terminal]struct{}
	sent     map[int]windowState
	// queueTerms are the terminals that take queue lengths (kiosks,
	// halls): with none, the broadcaster computes none.
	queueTerms map[*terminal]struct{}

	watchers *watchers
	// alerts are the terminals' and devices' states and the alerts
	// about them; deviceWatchers the devices pages' streams (alerts.go).
	alerts         *alertBook
	deviceWatchers *watchers
	stop           chan struct{}
	stopped        chan struct{}
	once           sync.Once

	badMessages atomic.Int64
	badRequests atomic.Int64
	metrics     *serverMetrics // GET /metrics (metrics.go)
	city        *cityShipper   // nil: the office ships to no city (cityship.go)
}

// NewServer serves q.
func NewServer(q *Queue, opts ServerOptions) (*Server, error) {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	cfg := q.Config()
	store, err := access.OpenStore(opts.AccessFile, access.StoreOptions{Clock: q.clock, Log: opts.Log})
	if err != nil {
		return nil, err
	}
	guard, err := access.New(store, q.db, access.Options{Clock: q.clock, Log: opts.Log, IdleTimeout: cfg.Sessions.Idle,
		MaxAge: cfg.Sessions.MaxAge, SecureCookies: opts.SecureCookies, Names: cfg.Names})
	if err != nil {
		return nil, err
	}
	s := &Server{q: q, log: opts.Log, auth: opts.Terminals, guard: guard, store: store, mux: httpapi.NewMux(),
		terms: map[*terminal]struct{}{}, byWindow: map[int]map[*terminal]struct{}{}, sent: map[int]windowState{}, queueTerms: map[*terminal]struct{}{}, watchers: newWatchers(), stop: make(chan struct{}), stopped: make(chan struct{})}
	s.alerts, s.deviceWatchers = newAlertBook(q, opts.Log), newWatchers()
	if err := s.startCity(); err != nil {
		return nil, err
	}
	s.metrics = newServerMetrics(s)
	s.routes()
	s.handler = httpapi.Recover(guard.Protect(s.mux), s.log, func() { s.badRequests.Add(1) })
	go s.broadcast()
	go s.sweepAlerts()
	go s.sendDeviceChanges()
	return s, nil
}

// route registers h for pattern behind what it needs: "" public,
// "session" a signed-in account, else an access scope.
func (s *Server) route(pattern, needs string, h http.HandlerFunc) {
	var hh http.Handler = h
	switch needs {
	case "":
	case "session":
		hh = s.guard.RequireSession(h)
	default:
		hh = s.guard.Require(needs, h)
	}
	s.mux.Handle(pattern, hh)
}

func (s *Server) routes() {
	const (
		public  = ""
		session = "session"
	)
	s.route("GET /healthz", public, s.guard.OptionalPrincipal(http.HandlerFunc(s.handleHealth)).ServeHTTP)
	s.route("GET /api/v1/services", public, s.handleServices)
	s.route("GET /api/v1/queues", public, s.handleQueues)
	s.route("GET /api/v1/office", public, s.handleOffice)
	s.route("GET /api/v1/public/status", public, s.handlePublicStatus)
	s.route("GET /api/v1/public/stream", public, s.handlePublicStream)
	s.route("GET /api/v1/bookings/slots", public, s.handleSlots)
	s.route("GET /api/v1/forms/{id}", public, s.handleForm)
	s.route("GET /t/{date}/{number}", public, s.handleTrack)
	s.route("GET /t/track.css", public, serveFile("web/track/track.css", "text/css; charset=utf-8"))
	s.route("GET /api/v1/link", public, s.handleLink) // terminals' own credentials

	s.route("POST /api/v1/tickets", access.ScopeTickets, s.handleIssue)
	s.route("GET /api/v1/tickets", access.ScopeStats, s.handleTickets)
	s.route("POST /api/v1/tickets/{date}/{number}/priority", access.ScopeWindows, s.handlePriority)
	s.route("GET /api/v1/calls", access.ScopeStats, s.handleCalls)
	s.route("GET /api/v1/terminals", access.ScopeTerminals, s.handleTerminals)
	s.route("GET /api/v1/windows", access.ScopeWindows, s.handleWindows)
	s.route("GET /api/v1/windows/{n}", access.ScopeWindows, s.handleWindow)
	s.route("GET /api/v1/windows/{n}/queue", access.ScopeWindows, s.handleWindowQueue)
	s.route("POST /api/v1/windows/{n}/sign-in", session, s.handleSignIn)
	s.route("POST /api/v1/windows/{n}/next", access.ScopeWindows, s.handleNext)
	s.route("POST /api/v1/windows/{n}/transfer", access.ScopeWindows, s.handleTransfer)
	s.route("POST /api/v1/windows/{n}/pause", access.ScopeWindows, s.handlePause)
	for _, a := range []string{ActRecall, ActCame, ActFinish, ActNoShow, ActResume, ActSignOut, actCancel} {
		s.route("POST /api/v1/windows/{n}/"+a, access.ScopeWindows, s.handleAct(a))
	}
	s.route("GET /api/v1/stream", access.ScopeWindows, s.handleStream)
	s.route("PUT /api/v1/hall-message", access.ScopeHall, s.handleHallMessage)
	s.route("DELETE /api/v1/hall-message", access.ScopeHall, s.handleHallMessage)
	s.route("POST /api/v1/bookings", access.ScopeBookings, s.handleBook)
	s.route("GET /api/v1/bookings", access.ScopeBookings, s.handleBookings)
	s.route("DELETE /api/v1/bookings/{date}/{code}", access.ScopeBookings, s.handleCancelBooking)
	s.route("GET /api/v1/admin/backup", access.ScopeAdmin, s.handleBackup)
	s.statsRoutes()
	s.deviceRoutes()
	s.mux.Handle("GET /metrics", s.guard.Require(access.ScopeStats, s.metrics.handler()))

	s.guard.Routes(s.mux)
	i18n.Register(s.mux)
	s.pages()
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

func mustSub(fsys fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		panic(err)
	}
	return sub
}

func serveFile(name, contentType string) http.HandlerFunc {
	b, err := webFS.ReadFile(name)
	if err != nil {
		panic(err)
	}
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		_, _ = w.Write(b)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) { _ = httpapi.WriteJSON(w, status, v) }

// apiError is the body of every failed API request.
type apiError struct {
	Code  string `json:"code"`
	Error string `json:"error"`
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	httpapi.WriteError(w, status, code, msg)
}

// decode reads a JSON body into dst, answering what is wrong with it.
func (s *Server) decode(w http.ResponseWriter, r *http.Request, max int64, dst any) bool {
	if err := httpapi.Decode(w, r, max, dst); err != nil {
		s.badRequests.Add(1)
		s.log.Info("bad request", "method", r.Method, "path", r.URL.Path, "err", err)
		httpapi.Fail(w, err)
		return false
	}
	return true
}

// optionalBody is like decode for a body that may be left out.
func (s *Server) optionalBody(w http.ResponseWriter, r *http.Request, max int64, dst any) bool {
	if r.ContentLength == 0 && r.Header.Get("Content-Type") == "" {
		return true
	}
	return s.decode(w, r, max, dst)
}

func (s *Server) bad(w http.ResponseWriter, code, msg string) {
	s.badRequests.Add(1)
	writeError(w, http.StatusBadRequest, code, msg)
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	out := map[string]any{"status": "ok", "office": s.q.Office().ID}
	if p := access.FromContext(r.Context()); p != nil && p.Has(access.ScopeTerminals) {
		s.mu.Lock()
		out["terminals"] = len(s.terms)
		s.mu.Unlock()
		out["bad_messages"] = s.badMessages.Load()
		out["bad_requests"] = s.badRequests.Load()
		out["rejected_events"] = s.q.Rejected()
		out["event_gaps"] = s.q.gaps.Load()
	}
	p := access.FromContext(r.Context())
	s.addCityHealth(out, p != nil && p.Has(access.ScopeTerminals))
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleServices(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.q.Catalogue())
}

func (s *Server) handleQueues(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.q.Lengths())
}

// officeView is what the operators' pages need of the configuration.
type officeView struct {
	Office       proto.Office `json:"office"`
	PauseReasons []namedID    `json:"pause_reasons"`
	Priorities   []namedLevel `json:"priorities"`
	NoShowAfter  int          `json:"no_show_after"`
	Windows      []int        `json:"windows"`
}

type namedID struct {
	ID   string     `json:"id"`
	Name proto.Text `json:"name"`
}

type namedLevel struct {
	ID    string     `json:"id"`
	Name  proto.Text `json:"name"`
	Level int        `json:"level"`
}

func (s *Server) handleOffice(w http.ResponseWriter, r *http.Request) {
	cfg := s.q.Config()
	v := officeView{Office: s.q.Office(), PauseReasons: []namedID{}, Priorities: []namedLevel{}, NoShowAfter: cfg.NoShowAfter, Windows: []int{}}
	for _, p := range cfg.PauseReasons {
		v.PauseReasons = append(v.PauseReasons, namedID{p.ID, proto.Text(p.Name)})
	}
	for _, p := range cfg.Priorities {
		v.Priorities = append(v.Priorities, namedLevel{p.ID, proto.Text(p.Name), p.Level})
	}
	for _, win := range cfg.Windows {
		v.Windows = append(v.Windows, win.Number)
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) handleTickets(w http.ResponseWriter, r *http.Request) {
	s.dayList(w, r, "tickets", func(date string) (any, error) { return s.q.Tickets(date) })
}

func (s *Server) handleCalls(w http.ResponseWriter, r *http.Request) {
	s.dayList(w, r, "calls", func(date string) (any, error) { return s.q.CallLog(date) })
}

// dayList answers {"date": ..., name: list} for the ?date= of r (today by
// default).
func (s *Server) dayList(w http.ResponseWriter, r *http.Request, name string, list func(date string) (any, error)) {
	date := r.URL.Query().Get("date")
	if date == "" {
		date = s.q.Today()
	}
	items, err := list(date)
	if errors.Is(err, ErrBadDate) {
		s.bad(w, "bad_date", err.Error())
		return
	} else if err != nil {
		s.internal(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"date": date, name: items})
}

// terminalView is a terminal in GET /api/v1/terminals.
type terminalView struct {
	Device
	Connected bool `json:"connected"`
}

func (s *Server) handleTerminals(w http.ResponseWriter, r *http.Request) {
	connected := map[string]bool{}
	s.mu.Lock()
	for t := range s.terms {
		connected[t.device] = true
	}
	s.mu.Unlock()
	out := []terminalView{}
	for _, d := range s.q.Devices() {
		out = append(out, terminalView{Device: d, Connected: connected[d.ID]})
	}
	writeJSON(w, http.StatusOK, out)
}

// terminalOf names who sent r in the record: the account, the token, or
// "api".
func terminalOf(r *http.Request) string {
	if p := access.FromContext(r.Context()); p != nil {
		if p.Kind == access.KindUser {
			return "operator"
		}
		return "api:" + p.Name
	}
	return "api"
}

func (s *Server) handleIssue(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Service string `json:"service"`
	}
	if !s.decode(w, r, 4096, &req) {
		return
	}
	if req.Service == "" {
		s.bad(w, httpapi.CodeBadField, `field "service": required, the id of a service (GET /api/v1/services)`)
		return
	}
	t, eff, err := s.q.Issue(req.Service, terminalOf(r))
	if errors.Is(err, ErrUnknownService) {
		writeError(w, http.StatusNotFound, proto.CodeUnknownService, err.Error())
		return
	} else if err != nil {
		s.internal(w, err)
		return
	}
	s.log.Info("ticket issued", "number", t.Number, "service", t.Service, "device", terminalOf(r))
	s.publish(eff)
	writeJSON(w, http.StatusCreated, t)
}

// bookingError answers a booking call's error.
func (s *Server) bookingError(w http.ResponseWriter, err error) {
	var berr *BookingError
	switch {
	case errors.As(err, &berr):
		writeError(w, http.StatusConflict, berr.Code, berr.Message)
	case errors.Is(err, ErrBookingsOff):
		writeError(w, http.StatusNotFound, "bookings_off", err.Error())
	case errors.Is(err, ErrUnknownService):
		writeError(w, http.StatusNotFound, proto.CodeUnknownService, err.Error())
	case errors.Is(err, ErrSlotFull):
		writeError(w, http.StatusConflict, "slot_full", err.Error())
	case errors.Is(err, ErrBadSlot), errors.Is(err, ErrBadDate), errors.Is(err, proto.ErrNotBookingCode):
		s.bad(w, "bad_slot", err.Error())
	case errors.Is(err, ErrNoSuchBooking):
		writeError(w, http.StatusNotFound, proto.CodeBookingUnknown, err.Error())
	default:
		s.internal(w, err)
	}
}

func (s *Server) handleBook(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Service string `json:"service"`
		Date    string `json:"date"`
		Slot    string `json:"slot"`
	}
	if !s.decode(w, r, 4096, &req) {
		return
	}
	if req.Service == "" || req.Slot == "" {
		s.bad(w, httpapi.CodeBadField, `fields "service" and "slot" are required: {"service":"<id>","date":"YYYY-MM-DD","slot":"HH:MM"}`)
		return
	}
	if req.Date == "" {
		req.Date = s.q.Today()
	}
	b, err := s.q.Book(req.Service, req.Date, req.Slot)
	if err != nil {
		s.bookingError(w, err)
		return
	}
	s.log.Info("booked", "service", b.Service, "date", b.Date, "slot", b.Slot)
	writeJSON(w, http.StatusCreated, b)
}

func (s *Server) handleBookings(w http.ResponseWriter, r *http.Request) {
	s.dayList(w, r, "bookings", func(date string) (any, error) { return s.q.Bookings(date) })
}

func (s *Server) handleSlots(w http.ResponseWriter, r *http.Request) {
	service, date := r.URL.Query().Get("service"), r.URL.Query().Get("date")
	if date == "" {
		date = s.q.Today()
	}
	slots, err := s.q.Slots(service, date)
	if err != nil {
		s.bookingError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"service": service, "date": date, "slots": slots})
}

func (s *Server) handleCancelBooking(w http.ResponseWriter, r *http.Request) {
	b, err := s.q.CancelBooking(r.PathValue("date"), r.PathValue("code"))
	if err != nil {
		s.bookingError(w, err)
		return
	}
	s.log.Info("booking cancelled", "date", b.Date)
	writeJSON(w, http.StatusOK, b)
}

// window parses {n} and checks the caller may act on that window.
func (s *Server) window(w http.ResponseWriter, r *http.Request) (int, bool) {
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil || n < 1 || n > 999 {
		s.bad(w, "bad_window", "the window must be a number from 1 to 999, got "+strconv.Quote(clip(r.PathValue("n"))))
		return 0, false
	}
	if p := access.FromContext(r.Context()); p != nil && !p.MayWindow(n) {
		writeError(w, http.StatusForbidden, "forbidden", fmt.Sprintf("account %s may not work at window %d", p.Name, n))
		return 0, false
	}
	return n, true
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// actor is who r comes from, for the record.
func actor(r *http.Request) Actor {
	a := Actor{Terminal: terminalOf(r)}
	if p := access.FromContext(r.Context()); p != nil && p.Kind == access.KindUser {
		a.Operator, a.Name = p.Name, p.DisplayName
	}
	return a
}

func (s *Server) handleWindows(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.q.Windows())
}

func (s *Server) handleWindow(w http.ResponseWriter, r *http.Request) {
	n, ok := s.window(w, r)
	if !ok {
		return
	}
	v, err := s.q.Window(n)
	if err != nil {
		s.windowError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) handleWindowQueue(w http.ResponseWriter, r *http.Request) {
	n, ok := s.window(w, r)
	if !ok {
		return
	}
	limit := 50
	if v := r.URL.Query().Get("limit"); v != "" {
		l, err := strconv.Atoi(v)
		if err != nil || l < 1 || l > 1000 {
			s.bad(w, "bad_limit", "limit must be a number from 1 to 1000")
			return
		}
		limit = l
	}
	list, total, err := s.q.WindowQueue(n, limit)
	if err != nil {
		s.windowError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"window": n, "waiting": total, "tickets": list})
}

// windowAnswer answers a window's action.
func (s *Server) windowAnswer(w http.ResponseWriter, res Result, err error) {
	s.publish(res.Effects) // a refusal may still have changed something
	if err != nil {
		s.windowError(w, err)
		return
	}
	type answer struct {
		proto.Ticket
		Repeated bool `json:"repeated,omitempty"`
	}
	if res.Ticket.Number == "" {
		writeJSON(w, http.StatusOK, map[string]any{"repeated": res.Repeated})
		return
	}
	writeJSON(w, http.StatusOK, answer{res.Ticket, res.Repeated})
}

func (s *Server) windowError(w http.ResponseWriter, err error) {
	for _, e := range []struct {
		err    error
		status int
		code   string
	}{
		{ErrUnknownWindow, http.StatusNotFound, "unknown_window"},
		{ErrQueueEmpty, http.StatusNotFound, "queue_empty"},
		{ErrNothingToCall, http.StatusNotFound, "nothing_called"},
		{ErrNoTicket, http.StatusNotFound, "no_ticket"},
		{ErrUnknownService, http.StatusNotFound, proto.CodeUnknownService},
		{ErrWindowPaused, http.StatusConflict, "window_paused"},
		{ErrWindowTaken, http.StatusConflict, "window_taken"},
		{ErrTooEarly, http.StatusConflict, "too_early"},
		{ErrAlreadyServing, http.StatusConflict, "already_serving"},
		{ErrNotWaiting, http.StatusConflict, "not_waiting"},
		{ErrBadReason, http.StatusBadRequest, "bad_reason"},
		{ErrBadTransfer, http.StatusBadRequest, "bad_transfer"},
		{ErrBadPriority, http.StatusBadRequest, "bad_priority"},
		{ErrPriorityOff, http.StatusForbidden, "priority_off"},
		{ErrBadDate, http.StatusBadRequest, "bad_date"},
	} {
		if errors.Is(err, e.err) {
			if e.status == http.StatusBadRequest {
				s.badRequests.Add(1)
			}
			writeError(w, e.status, e.code, err.Error())
			return
		}
	}
	s.internal(w, err)
}

func (s *Server) handleNext(w http.ResponseWriter, r *http.Request) {
	n, ok := s.window(w, r)
	if !ok {
		return
	}
	var req struct {
		Current *string `json:"current"` // the ticket the page shows, "" for nobody
	}
	if !s.optionalBody(w, r, 1024, &req) {
		return
	}
	res, err := s.q.NextAs(n, req.Current, actor(r))
	s.windowAnswer(w, res, err)
}

func (s *Server) handleAct(action string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		n, ok := s.window(w, r)
		if !ok {
			return
		}
		if action == ActSignOut {
			if p := access.FromContext(r.Context()); p != nil && p.Role == access.RoleOperator {
				if v, err := s.q.Window(n); err == nil && v.Operator != "" && v.Operator != p.Name {
					writeError(w, http.StatusForbidden, "forbidden", "only a supervisor may sign another operator out")
					return
				}
			}
		}
		res, err := s.q.Act(n, action, actor(r))
		s.windowAnswer(w, res, err)
	}
}

func (s *Server) handleSignIn(w http.ResponseWriter, r *http.Request) {
	n, ok := s.window(w, r)
	if !ok {
		return
	}
	var req struct {
		Force bool `json:"force"` // a supervisor taking the window over
	}
	if !s.optionalBody(w, r, 1024, &req) {
		return
	}
	p := access.FromContext(r.Context())
	if !p.MaySignInTo(n) {
		writeError(w, http.StatusForbidden, "forbidden", fmt.Sprintf("account %s may not sign in to window %d", p.Name, n))
		return
	}
	res, err := s.q.SignIn(n, actor(r), req.Force && p.Role != access.RoleOperator)
	if err == nil {
		s.log.Info("signed in to a window", "window", n, "operator", p.Name)
	}
	s.windowStateAnswer(w, n, res, err)
}

// windowStateAnswer answers an action on the window itself with the
// window's state.
func (s *Server) windowStateAnswer(w http.ResponseWriter, n int, res Result, err error) {
	if err != nil {
		s.windowAnswer(w, res, err)
		return
	}
	s.publish(res.Effects)
	v, _ := s.q.Window(n)
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) handlePause(w http.ResponseWriter, r *http.Request) {
	n, ok := s.window(w, r)
	if !ok {
		return
	}
	var req struct {
		Reason string `json:"reason"`
	}
	if !s.decode(w, r, 1024, &req) {
		return
	}
	res, err := s.q.Pause(n, req.Reason, actor(r))
	s.windowStateAnswer(w, n, res, err)
}

func (s *Server) handleTransfer(w http.ResponseWriter, r *http.Request) {
	n, ok := s.window(w, r)
	if !ok {
		return
	}
	var req struct {
		Service string `json:"service"`
		Window  int    `json:"window"`
	}
	if !s.decode(w, r, 1024, &req) {
		return
	}
	res, err := s.q.Transfer(n, req.Service, req.Window, actor(r))
	s.windowAnswer(w, res, err)
}

func (s *Server) handlePriority(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Priority string `json:"priority"`
	}
	if !s.decode(w, r, 1024, &req) {
		return
	}
	t, eff, err := s.q.SetPriority(r.PathValue("date"), r.PathValue("number"), req.Priority, actor(r))
	s.publish(eff)
	if err != nil {
		s.windowError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, t)
}

func (s *Server) handleHallMessage(w http.ResponseWriter, r *http.Request) {
	var m proto.HallMessage
	if r.Method == http.MethodPut {
		if !s.decode(w, r, 8192, &m) {
			return
		}
		if m.Text.UK == "" {
			s.bad(w, httpapi.CodeBadField, `field "text.uk": required: {"text":{"uk":"...","en":"..."},"until":"RFC 3339 time, optional"}`)
			return
		}
	}
	eff, err := s.q.SetHallMessage(m)
	if err != nil {
		s.internal(w, err)
		return
	}
	s.publish(eff)
	writeJSON(w, http.StatusOK, m)
}

func (s *Server) internal(w http.ResponseWriter, err error) {
	s.log.Error("request failed", "err", err)
	httpapi.Fail(w, err)
}

// Publish sends the effects of a change made outside the API (a reloaded
// configuration) to the terminals.
func (s *Server) Publish(eff Effects) { s.publish(eff) }
