package queue

import (
	"embed"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/cherga/kiosk/i18n"
	"github.com/cherga/kiosk/link/proto"
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

// SetAuth replaces the credentials, for a reloaded configuration.
func (s *Server) SetAuth(a Auth) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.auth = a
}

// Server is queued's HTTP side: the JSON API, the operator page and the
// link websocket that terminals keep open.
type Server struct {
	q    *Queue
	log  *slog.Logger
	auth Auth
	mux  *http.ServeMux

	mu    sync.Mutex
	terms map[*terminal]struct{}

	badMessages atomic.Int64
}

// NewServer serves q.
func NewServer(q *Queue, log *slog.Logger, auth Auth) *Server {
	s := &Server{q: q, log: log, auth: auth, mux: http.NewServeMux(), terms: map[*terminal]struct{}{}}
	s.mux.HandleFunc("GET /healthz", s.handleHealth)
	s.mux.HandleFunc("GET /api/v1/services", s.handleServices)
	s.mux.HandleFunc("GET /api/v1/queues", s.handleQueues)
	s.mux.HandleFunc("GET /api/v1/tickets", s.handleTickets)
	s.mux.HandleFunc("POST /api/v1/tickets", s.handleIssue)
	s.mux.HandleFunc("GET /api/v1/calls", s.handleCalls)
	s.mux.HandleFunc("GET /api/v1/terminals", s.handleTerminals)
	s.mux.HandleFunc("GET /api/v1/windows", s.handleWindows)
	s.mux.HandleFunc("GET /api/v1/windows/{n}", s.handleWindow)
	s.mux.HandleFunc("POST /api/v1/windows/{n}/next", s.handleNext)
	s.mux.HandleFunc("POST /api/v1/windows/{n}/recall", s.handleRecall)
	s.mux.HandleFunc("POST /api/v1/windows/{n}/cancel", s.handleCancel)
	s.mux.HandleFunc("PUT /api/v1/hall-message", s.handleHallMessage)
	s.mux.HandleFunc("DELETE /api/v1/hall-message", s.handleHallMessage)
	s.mux.HandleFunc("GET /api/v1/link", s.handleLink)
	s.mux.HandleFunc("POST /api/v1/bookings", s.handleBook)
	s.mux.HandleFunc("GET /api/v1/bookings", s.handleBookings)
	s.mux.HandleFunc("GET /api/v1/bookings/slots", s.handleSlots)
	s.mux.HandleFunc("DELETE /api/v1/bookings/{date}/{code}", s.handleCancelBooking)
	s.mux.HandleFunc("GET /t/{date}/{number}", s.handleTrack)
	i18n.Register(s.mux)
	s.mux.Handle("GET /operator/", http.FileServerFS(mustSub(webFS, "web")))
	s.mux.Handle("GET /{$}", http.RedirectHandler("/operator/", http.StatusFound))
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

func mustSub(fsys fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		panic(err)
	}
	return sub
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// apiError is the body of every failed API request.
type apiError struct {
	Code  string `json:"code"`
	Error string `json:"error"`
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, apiError{Code: code, Error: msg})
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	terms := len(s.terms)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"status":       "ok",
		"office":       s.q.Office().ID,
		"terminals":    terms,
		"bad_messages": s.badMessages.Load(),
	})
}

func (s *Server) handleServices(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.q.Catalogue())
}

func (s *Server) handleQueues(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.q.Lengths())
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
		writeError(w, http.StatusBadRequest, "bad_date", err.Error())
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

func (s *Server) handleIssue(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Service string `json:"service"`
	}
	body := http.MaxBytesReader(w, r.Body, 4096)
	if err := json.NewDecoder(body).Decode(&req); err != nil || req.Service == "" {
		writeError(w, http.StatusBadRequest, proto.CodeBadRequest, `expected {"service":"<id>"}`)
		return
	}
	t, eff, err := s.q.Issue(req.Service, "api")
	if errors.Is(err, ErrUnknownService) {
		writeError(w, http.StatusNotFound, proto.CodeUnknownService, err.Error())
		return
	} else if err != nil {
		s.internal(w, err)
		return
	}
	s.log.Info("ticket issued", "number", t.Number, "service", t.Service, "device", "api")
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
		writeError(w, http.StatusBadRequest, "bad_slot", err.Error())
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
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&req); err != nil || req.Service == "" || req.Slot == "" {
		writeError(w, http.StatusBadRequest, proto.CodeBadRequest, `expected {"service":"<id>","date":"YYYY-MM-DD","slot":"HH:MM"}`)
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
	s.log.Info("booked", "code", b.Code, "service", b.Service, "date", b.Date, "slot", b.Slot)
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
	s.log.Info("booking cancelled", "code", b.Code, "date", b.Date)
	writeJSON(w, http.StatusOK, b)
}

func (s *Server) window(w http.ResponseWriter, r *http.Request) (int, bool) {
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil || n < 1 {
		writeError(w, http.StatusBadRequest, "bad_window", "window must be a number from 1")
		return 0, false
	}
	return n, true
}

func (s *Server) handleWindows(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.q.Windows())
}

func (s *Server) handleWindow(w http.ResponseWriter, r *http.Request) {
	n, ok := s.window(w, r)
	if !ok {
		return
	}
	t, busy := s.q.AtWindow(n)
	resp := map[string]any{"window": n}
	if busy {
		resp["ticket"] = t
	}
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) handleNext(w http.ResponseWriter, r *http.Request) { s.windowAction(w, r, s.q.Next) }
func (s *Server) handleRecall(w http.ResponseWriter, r *http.Request) {
	s.windowAction(w, r, s.q.Recall)
}
func (s *Server) handleCancel(w http.ResponseWriter, r *http.Request) {
	s.windowAction(w, r, s.q.Cancel)
}

func (s *Server) windowAction(w http.ResponseWriter, r *http.Request, act func(int) (proto.Ticket, Effects, error)) {
	n, ok := s.window(w, r)
	if !ok {
		return
	}
	t, eff, err := act(n)
	s.publish(eff) // an empty queue still finished the window's visitor
	switch {
	case errors.Is(err, ErrUnknownWindow):
		writeError(w, http.StatusNotFound, "unknown_window", err.Error())
	case errors.Is(err, ErrQueueEmpty):
		writeError(w, http.StatusNotFound, "queue_empty", err.Error())
	case errors.Is(err, ErrNothingToCall):
		writeError(w, http.StatusNotFound, "nothing_to_recall", err.Error())
	case err != nil:
		s.internal(w, err)
	default:
		writeJSON(w, http.StatusOK, t)
	}
}

func (s *Server) handleHallMessage(w http.ResponseWriter, r *http.Request) {
	var m proto.HallMessage
	if r.Method == http.MethodPut {
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 8192)).Decode(&m); err != nil || m.Text.UK == "" {
			writeError(w, http.StatusBadRequest, proto.CodeBadRequest, `expected {"text":{"uk":"...","en":"..."},"until":"RFC 3339 time, optional"}`)
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
	writeError(w, http.StatusInternalServerError, proto.CodeInternal, err.Error())
}

// Publish sends the effects of a change made outside the API (a reloaded
// configuration) to the terminals.
func (s *Server) Publish(eff Effects) { s.publish(eff) }
