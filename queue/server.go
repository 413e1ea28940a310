package queue

import (
	"embed"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/cherga/kiosk/i18n"
	"github.com/cherga/kiosk/link/proto"
)

//go:embed web
var webFS embed.FS

// Server is queued's HTTP side: the JSON API, the operator page and the
// link websocket that terminals keep open.
type Server struct {
	q   *Queue
	log *slog.Logger
	mux *http.ServeMux

	mu    sync.Mutex
	terms map[*terminal]struct{}

	badMessages atomic.Int64
}

// NewServer serves q.
func NewServer(q *Queue, log *slog.Logger) *Server {
	s := &Server{q: q, log: log, mux: http.NewServeMux(), terms: map[*terminal]struct{}{}}
	s.mux.HandleFunc("GET /healthz", s.handleHealth)
	s.mux.HandleFunc("GET /api/v1/services", s.handleServices)
	s.mux.HandleFunc("GET /api/v1/queues", s.handleQueues)
	s.mux.HandleFunc("GET /api/v1/tickets", s.handleTickets)
	s.mux.HandleFunc("POST /api/v1/tickets", s.handleIssue)
	s.mux.HandleFunc("GET /api/v1/windows/{n}", s.handleWindow)
	s.mux.HandleFunc("POST /api/v1/windows/{n}/next", s.handleNext)
	s.mux.HandleFunc("POST /api/v1/windows/{n}/recall", s.handleRecall)
	s.mux.HandleFunc("GET /api/v1/link", s.handleLink)
	s.mux.HandleFunc("GET /api/v1/windows", s.handleWindows)
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
		"office":       s.q.office.ID,
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
	date := r.URL.Query().Get("date")
	if date == "" {
		date = s.q.Today()
	}
	tickets, err := s.q.Tickets(date)
	if errors.Is(err, ErrBadDate) {
		writeError(w, http.StatusBadRequest, "bad_date", err.Error())
		return
	} else if err != nil {
		s.internal(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"date": date, "tickets": tickets})
}

func (s *Server) handleIssue(w http.ResponseWriter, r *http.Request) {
	var req proto.TakeTicket
	body := http.MaxBytesReader(w, r.Body, 4096)
	if err := json.NewDecoder(body).Decode(&req); err != nil || req.Service == "" {
		writeError(w, http.StatusBadRequest, proto.CodeBadRequest, `expected {"service":"<id>"}`)
		return
	}
	t, err := s.issue(req.Service, "api")
	if errors.Is(err, ErrUnknownService) {
		writeError(w, http.StatusNotFound, proto.CodeUnknownService, err.Error())
		return
	} else if err != nil {
		s.internal(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, t)
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

func (s *Server) handleNext(w http.ResponseWriter, r *http.Request) {
	s.callHandler(w, r, s.q.Next)
}

func (s *Server) handleRecall(w http.ResponseWriter, r *http.Request) {
	s.callHandler(w, r, s.q.Recall)
}

func (s *Server) callHandler(w http.ResponseWriter, r *http.Request, call func(int) (proto.Ticket, proto.Call, error)) {
	n, ok := s.window(w, r)
	if !ok {
		return
	}
	t, c, err := call(n)
	switch {
	case errors.Is(err, ErrUnknownWindow):
		writeError(w, http.StatusNotFound, "unknown_window", err.Error())
		return
	case errors.Is(err, ErrQueueEmpty):
		s.broadcastQueues()
		writeError(w, http.StatusNotFound, "queue_empty", err.Error())
		return
	case errors.Is(err, ErrNothingToCall):
		writeError(w, http.StatusNotFound, "nothing_to_recall", err.Error())
		return
	case err != nil:
		s.internal(w, err)
		return
	}
	s.log.Info("call", "ticket", c.Ticket, "window", c.Window, "recall", c.Recall, "id", c.ID)
	s.broadcast(&proto.Message{Type: proto.TypeCall, ID: c.ID, Call: &c})
	s.broadcastQueues()
	writeJSON(w, http.StatusOK, t)
}

func (s *Server) internal(w http.ResponseWriter, err error) {
	s.log.Error("request failed", "err", err)
	writeError(w, http.StatusInternalServerError, proto.CodeInternal, err.Error())
}

// issue is the one path by which tickets are made, from the API or a kiosk.
func (s *Server) issue(service, device string) (proto.Ticket, error) {
	t, err := s.q.Issue(service, device)
	if err != nil {
		return t, err
	}
	s.log.Info("ticket issued", "number", t.Number, "service", t.Service, "device", device, "ahead", t.Ahead)
	s.broadcastQueues()
	return t, nil
}

func (s *Server) broadcastQueues() {
	s.broadcast(&proto.Message{Type: proto.TypeQueues, Queues: s.q.Lengths()})
}

// broadcast sends m to every connected terminal. A terminal too slow to
// take it is disconnected: it resynchronises from a fresh snapshot when it
// reconnects, which is better than holding up everyone else.
func (s *Server) broadcast(m *proto.Message) {
	b, err := proto.Encode(m)
	if err != nil {
		s.log.Error("encode broadcast", "type", m.Type, "err", err)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for t := range s.terms {
		if !t.enqueue(b) {
			s.log.Warn("terminal too slow, disconnecting", "device", t.device)
			t.close(websocket.CloseTryAgainLater, "too slow to keep up")
		}
	}
}

// Close disconnects every terminal with a going-away close frame.
func (s *Server) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for t := range s.terms {
		t.close(websocket.CloseGoingAway, "server shutting down")
	}
}

const (
	helloTimeout = 10 * time.Second
	writeTimeout = 10 * time.Second
	pingEvery    = 15 * time.Second
	pongTimeout  = 45 * time.Second
	sendQueue    = 256
)

var upgrader = websocket.Upgrader{
	Subprotocols:     []string{proto.Subprotocol},
	HandshakeTimeout: helloTimeout,
	// Terminals are not browsers and send no Origin. A request that has one
	// comes from a web page, which must not drive the link.
	CheckOrigin: func(r *http.Request) bool { return r.Header.Get("Origin") == "" },
}

// terminal is one connected kioskd. Only its writer goroutine writes to
// conn.
type terminal struct {
	conn   *websocket.Conn
	device string
	send   chan []byte
	quit   chan struct{}
	once   sync.Once
	reason []byte
}

func (t *terminal) enqueue(b []byte) bool {
	select {
	case t.send <- b:
		return true
	case <-t.quit:
		return true
	default:
		return false
	}
}

// close asks the writer to send a close frame and stop.
func (t *terminal) close(code int, text string) {
	t.once.Do(func() {
		t.reason = websocket.FormatCloseMessage(code, text)
		close(t.quit)
	})
}

func (t *terminal) writeLoop() {
	ping := time.NewTicker(pingEvery)
	defer ping.Stop()
	defer t.conn.Close()
	for {
		select {
		case b := <-t.send:
			_ = t.conn.SetWriteDeadline(time.Now().Add(writeTimeout))
			if err := t.conn.WriteMessage(websocket.TextMessage, b); err != nil {
				return
			}
		case <-ping.C:
			if err := t.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeTimeout)); err != nil {
				return
			}
		case <-t.quit:
			_ = t.conn.WriteControl(websocket.CloseMessage, t.reason, time.Now().Add(time.Second))
			return
		}
	}
}

func (s *Server) handleLink(w http.ResponseWriter, r *http.Request) {
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		s.badMessages.Add(1)
		s.log.Warn("link handshake refused", "remote", r.RemoteAddr, "err", err)
		return
	}
	t := &terminal{conn: conn, send: make(chan []byte, sendQueue), quit: make(chan struct{})}
	go t.writeLoop()
	defer t.close(websocket.CloseNormalClosure, "")
	if conn.Subprotocol() != proto.Subprotocol {
		s.violation(t, r, "subprotocol "+proto.Subprotocol+" required")
		return
	}
	conn.SetReadLimit(proto.MaxMessageBytes)
	_ = conn.SetReadDeadline(time.Now().Add(helloTimeout))
	hello, err := s.readMessage(t)
	if err != nil {
		s.readFailed(t, r, err)
		return
	}
	if hello.Type != proto.TypeHello {
		s.violation(t, r, "the first message must be hello")
		return
	}
	t.device = hello.Hello.Device
	welcome := &proto.Message{Type: proto.TypeWelcome, Welcome: &proto.Welcome{
		Office:      s.q.Office(),
		Catalogue:   s.q.Catalogue(),
		Queues:      s.q.Lengths(),
		RecentCalls: s.q.RecentCalls(),
		ServerTime:  s.q.now(),
	}}
	b, err := proto.Encode(welcome)
	if err != nil {
		s.log.Error("encode welcome", "err", err)
		return
	}
	// Registering under the lock and queueing the welcome first keeps the
	// welcome ahead of any broadcast this terminal receives.
	s.mu.Lock()
	t.enqueue(b)
	s.terms[t] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.terms, t)
		s.mu.Unlock()
	}()
	s.log.Info("terminal connected", "device", t.device, "roles", hello.Hello.Roles, "version", hello.Hello.Version, "remote", r.RemoteAddr)
	defer s.log.Info("terminal disconnected", "device", t.device)

	_ = conn.SetReadDeadline(time.Now().Add(pongTimeout))
	conn.SetPongHandler(func(string) error {
		return conn.SetReadDeadline(time.Now().Add(pongTimeout))
	})
	for {
		m, err := s.readMessage(t)
		if err != nil {
			s.readFailed(t, r, err)
			return
		}
		_ = conn.SetReadDeadline(time.Now().Add(pongTimeout))
		s.handleMessage(t, m)
	}
}

// readMessage reads and decodes one message. Transport and decoding errors
// come back as they are; an unknown type is counted and passed on to be
// answered.
func (s *Server) readMessage(t *terminal) (*proto.Message, error) {
	typ, b, err := t.conn.ReadMessage()
	if err != nil {
		return nil, err
	}
	if typ != websocket.TextMessage {
		return nil, errBinary
	}
	m, err := proto.Decode(b)
	if err != nil {
		if errors.Is(err, proto.ErrUnknownType) {
			s.badMessages.Add(1)
			// A newer terminal may know more types: answer, don't hang up.
			return m, nil
		}
		return nil, err
	}
	return m, nil
}

// readFailed sorts out why a terminal's connection ended: only breaking the
// protocol is a violation; a closed or lost connection is not.
func (s *Server) readFailed(t *terminal, r *http.Request, err error) {
	var ce *websocket.CloseError
	var ne net.Error
	select {
	case <-t.quit:
		return // we are closing it
	default:
	}
	switch {
	case errors.As(err, &ce), errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed):
	case errors.As(err, &ne) && ne.Timeout():
		s.log.Warn("terminal silent too long, disconnecting", "device", t.device, "remote", r.RemoteAddr)
		t.close(websocket.CloseGoingAway, "no pong")
	case errors.Is(err, websocket.ErrReadLimit), errors.Is(err, proto.ErrMalformed), errors.Is(err, proto.ErrTooLarge),
		errors.Is(err, errBinary):
		s.violation(t, r, err.Error())
	default:
		s.log.Info("terminal connection lost", "device", t.device, "err", err)
	}
}

var errBinary = errors.New("binary messages are not part of the protocol")

// violation counts, logs and disconnects a peer that broke the protocol.
func (s *Server) violation(t *terminal, r *http.Request, reason string) {
	s.badMessages.Add(1)
	s.log.Warn("link protocol violation, disconnecting", "device", t.device, "remote", r.RemoteAddr, "reason", reason)
	if len(reason) > 120 { // a close reason must fit a control frame
		reason = reason[:120]
	}
	t.close(websocket.ClosePolicyViolation, reason)
}

func (s *Server) handleMessage(t *terminal, m *proto.Message) {
	reply := func(r *proto.Message) {
		r.Re = m.ID
		b, err := proto.Encode(r)
		if err == nil && !t.enqueue(b) {
			t.close(websocket.CloseTryAgainLater, "too slow to keep up")
		}
	}
	switch m.Type {
	case proto.TypeTakeTicket:
		tk, err := s.issue(m.TakeTicket.Service, t.device)
		if err != nil {
			code := proto.CodeInternal
			if errors.Is(err, ErrUnknownService) {
				code = proto.CodeUnknownService
			}
			reply(&proto.Message{Type: proto.TypeError, Error: &proto.Error{Code: code, Message: err.Error()}})
			return
		}
		reply(&proto.Message{Type: proto.TypeTicket, Ticket: &tk})
	default:
		s.log.Warn("link message not understood", "device", t.device, "type", m.Type)
		reply(&proto.Message{Type: proto.TypeError, Error: &proto.Error{
			Code:    proto.CodeBadRequest,
			Message: "message type " + m.Type + " is not accepted from terminals",
		}})
	}
}
