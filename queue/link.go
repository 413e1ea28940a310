package queue

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/jonboulle/clockwork"

	"github.com/cherga/kiosk/link/proto"
)

// The server's side of the link: one websocket per terminal. A reader
// decodes what the terminal sends; events go to a committer that applies
// them in batches and acknowledges each batch after its commit; only the
// writer goroutine writes to the connection.

const (
	helloTimeout = 10 * time.Second
	writeTimeout = 10 * time.Second
	pingEvery    = 15 * time.Second
	pongTimeout  = 45 * time.Second
	// sendQueue bounds what waits to be written to one terminal: a welcome
	// and up to pushResendMax missed pushes at connect, a few messages
	// otherwise. Its slots cost memory per connected terminal.
	sendQueue = pushResendMax + 100
	// eventQueue is how many of a terminal's events may wait to be
	// committed; the reader waits beyond it (one batch takes them all).
	eventQueue = 256
	eventBatch = 1000
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
	roles  []string
	window int // hello's window: its state goes in the welcome
	// windows are the windows whose calls and states it takes: hello's
	// window and windows, sorted; none: every call, no states.
	windows []int
	send    chan []byte
	quit    chan struct{}
	done    chan struct{} // closed when the writer has finished
	once    sync.Once
	reason  []byte
	// seen is when the link last carried anything from the terminal
	// (Unix nanoseconds on the office's clock); only its reader sets it.
	seen  atomic.Int64
	clock clockwork.Clock
}

func (t *terminal) sawIt() { t.seen.Store(t.clock.Now().UnixNano()) }

func (t *terminal) lastSeen() time.Time {
	if n := t.seen.Load(); n != 0 {
		return time.Unix(0, n)
	}
	return time.Time{}
}

// saidGoodbye reports whether err ends a link the terminal closed itself
// as it stopped (kioskd sends 1001 "terminal shutting down"), not one
// answering the server's own close.
func (t *terminal) saidGoodbye(err error) bool {
	select {
	case <-t.quit:
		return false
	default:
	}
	var ce *websocket.CloseError
	return errors.As(err, &ce) && ce.Code == websocket.CloseGoingAway
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

func (t *terminal) has(role string) bool {
	for _, r := range t.roles {
		if r == role {
			return true
		}
	}
	return false
}

// wants says which terminals a message is for: calls go to what shows or
// speaks them (a window's display, or a terminal driving a bus of window
// devices, only its own windows' when it said which in hello: with 300
// windows, that is the difference between 21 writes a call and 320),
// queue lengths to kiosks and halls, updates to everyone. window is the
// call's window, 0 for other messages. Window states go to the terminals
// of their window only (Server.sendStates), never through here.
func (t *terminal) wants(typ string, window int) bool {
	switch typ {
	case proto.TypeCall, proto.TypeRecall, proto.TypeCancel:
		return t.has("hall") || (t.has("window") || len(t.windows) > 0) &&
			(len(t.windows) == 0 || window == 0 || slices.Contains(t.windows, window))
	case proto.TypeHallMessage:
		return t.has("hall")
	case proto.TypeQueues:
		return t.has("kiosk") || t.has("hall")
	case proto.TypeWindow:
		return false
	}
	return true
}

// maxWindow is the highest window number (the API's bound too).
const maxWindow = 999

// windowsOf is the windows a hello names, Window and Windows, sorted,
// each once; numbers outside 1..maxWindow are left out.
func windowsOf(h *proto.Hello) []int {
	var out []int
	for _, n := range append([]int{h.Window}, h.Windows...) {
		if n >= 1 && n <= maxWindow && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

func (t *terminal) writeLoop() {
	ping := time.NewTicker(pingEvery)
	defer ping.Stop()
	defer close(t.done)
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

// publish sends what a committed change means to the terminals that want
// it: calls and other pushes. Queue lengths go out through the
// broadcaster, coalesced (stream.go). A terminal too slow to take it is
// disconnected: it resynchronises from a fresh snapshot and the pushes it
// missed when it reconnects, which is better than holding up everyone else.
func (s *Server) publish(eff Effects) {
	type out struct {
		typ    string
		window int
		b      []byte
	}
	var msgs []out
	for _, m := range eff.Pushes {
		b, err := proto.Encode(m)
		if err != nil {
			s.log.Error("encode push", "type", m.Type, "err", err)
			continue
		}
		s.metrics.pushed(m)
		if m.Call != nil {
			s.log.Info(m.Type, "ticket", m.Call.Ticket, "window", m.Call.Window, "id", m.Call.ID, "push", m.Push)
		}
		msgs = append(msgs, out{m.Type, pushWindow(m), b})
	}
	if len(msgs) == 0 && len(eff.states) == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(msgs) > 0 {
		for t := range s.terms {
			ok := true
			for _, m := range msgs {
				if t.wants(m.typ, m.window) {
					ok = ok && t.enqueue(m.b)
				}
			}
			if !ok {
				s.tooSlow(t)
			}
		}
	}
	// After the calls they follow from: a window's display shows the call,
	// its keypad the state.
	s.sendStates(eff.states, nil)
}

func (s *Server) tooSlow(t *terminal) {
	s.log.Warn("terminal too slow, disconnecting", "device", t.device)
	t.close(websocket.CloseTryAgainLater, "too slow to keep up")
}

// sendStates sends each window's state to the window's terminals but
// except (nil: all), unless they have it or a newer one already; s.mu is
// held.
func (s *Server) sendStates(states []windowState, except *terminal) {
	for _, st := range states {
		n := st.Window
		subs := s.byWindow[n]
		if len(subs) == 0 {
			continue
		}
		last, had := s.sent[n]
		if had && st.seq <= last.seq {
			continue // taken before the one they have
		}
		s.sent[n] = st
		if had && last.WindowState == st.WindowState {
			continue
		}
		b, err := proto.Encode(&proto.Message{Type: proto.TypeWindow, Window: &st.WindowState})
		if err != nil {
			s.log.Error("encode window state", "window", n, "err", err)
			continue
		}
		for t := range subs {
			if t != except && !t.enqueue(b) {
				s.tooSlow(t)
			}
		}
	}
}

// subscribe makes t one of its windows' terminals, and of the queue
// lengths' if it takes them; s.mu is held.
func (s *Server) subscribe(t *terminal) {
	if t.wants(proto.TypeQueues, 0) {
		s.queueTerms[t] = struct{}{}
	}
	for _, n := range t.windows {
		subs := s.byWindow[n]
		if subs == nil {
			subs = map[*terminal]struct{}{}
			s.byWindow[n] = subs
		}
		subs[t] = struct{}{}
	}
}

// unsubscribe is the inverse of subscribe; s.mu is held.
func (s *Server) unsubscribe(t *terminal) {
	delete(s.queueTerms, t)
	for _, n := range t.windows {
		delete(s.byWindow[n], t)
		if len(s.byWindow[n]) == 0 {
			delete(s.byWindow, n)
			delete(s.sent, n)
		}
	}
}

// Close disconnects every terminal with a going-away close frame, and
// waits (a second at most) until the frames are out.
func (s *Server) Close() {
	s.once.Do(func() {
		close(s.stop)
		s.stopCity()
	})
	<-s.stopped
	s.mu.Lock()
	var writers []chan struct{}
	for t := range s.terms {
		t.close(websocket.CloseGoingAway, "server shutting down")
		writers = append(writers, t.done)
	}
	s.mu.Unlock()
	deadline := time.After(time.Second)
	for _, done := range writers {
		select {
		case <-done:
		case <-deadline:
			return
		}
	}
}

// authenticate names the device a request's credentials belong to: a TLS
// client certificate, or a bearer token. "" with no error means
// authentication is off.
func (s *Server) authenticate(r *http.Request) (string, error) {
	s.mu.Lock()
	auth := s.auth
	s.mu.Unlock()
	if !auth.required() {
		return "", nil
	}
	if auth.ClientCerts && r.TLS != nil && len(r.TLS.VerifiedChains) > 0 {
		if cn := r.TLS.VerifiedChains[0][0].Subject.CommonName; cn != "" {
			return cn, nil
		}
	}
	if token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && token != "" {
		sum := sha256.Sum256([]byte(token))
		if d, ok := auth.Tokens[hex.EncodeToString(sum[:])]; ok {
			return d, nil
		}
		return "", errors.New("unknown token")
	}
	return "", errors.New("no credentials: send a bearer token or a client certificate")
}

func (s *Server) handleLink(w http.ResponseWriter, r *http.Request) {
	authDevice, err := s.authenticate(r)
	if err != nil {
		s.badMessages.Add(1)
		s.log.Warn("link refused", "remote", r.RemoteAddr, "err", err)
		writeError(w, http.StatusUnauthorized, "unauthorized", err.Error())
		return
	}
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		s.badMessages.Add(1)
		s.log.Warn("link handshake refused", "remote", r.RemoteAddr, "err", err)
		return
	}
	t := &terminal{conn: conn, send: make(chan []byte, sendQueue), quit: make(chan struct{}), done: make(chan struct{}), clock: s.q.clock}
	t.sawIt()
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
	if authDevice != "" && hello.Hello.Device != authDevice {
		s.violation(t, r, "hello names a device other than its credentials")
		return
	}
	t.device, t.roles, t.window = hello.Hello.Device, hello.Hello.Roles, hello.Hello.Window
	t.windows = windowsOf(hello.Hello)
	welcome, missed, dev, err := s.q.Connect(hello.Hello)
	if err != nil {
		s.log.Error("hello", "device", t.device, "err", err)
		t.close(websocket.CloseInternalServerErr, "server error")
		return
	}
	offset := time.Duration(dev.ClockOffsetMS) * time.Millisecond
	// The welcome and the missed pushes are queued, and the terminal
	// registered, under the lock that publish takes: no push can slip in
	// between or overtake them. Its windows' states are taken under it
	// too, so no newer state can be sent before them.
	s.mu.Lock()
	for other := range s.terms {
		if other.device == t.device {
			// A half-open connection the terminal has given up on.
			other.close(websocket.CloseGoingAway, "replaced by a newer connection")
		}
	}
	states := s.q.statesOf(t.windows)
	for i := range states {
		if states[i].Window == t.window {
			welcome.Window = &states[i].WindowState
		}
	}
	ok := enqueueMsg(t, &proto.Message{Type: proto.TypeWelcome, Welcome: welcome})
	for i := range states {
		if states[i].Window != t.window {
			ok = ok && enqueueMsg(t, &proto.Message{Type: proto.TypeWindow, Window: &states[i].WindowState})
		}
	}
	for _, m := range missed {
		if t.wants(m.Type, pushWindow(m)) {
			ok = ok && enqueueMsg(t, m)
		}
	}
	s.terms[t] = struct{}{}
	s.subscribe(t)
	s.sendStates(states, t) // the window's other terminals, if it changed
	s.mu.Unlock()
	s.alerts.connected(t, hello.Hello, dev, offset)
	stopped := false // the terminal said goodbye
	defer func() {
		s.mu.Lock()
		delete(s.terms, t)
		s.unsubscribe(t)
		s.mu.Unlock()
		s.alerts.disconnected(t, stopped)
	}()
	if !ok {
		t.close(websocket.CloseTryAgainLater, "too much to resend")
		return
	}
	s.log.Info("terminal connected", "device", t.device, "roles", t.roles, "version", hello.Hello.Version,
		"remote", r.RemoteAddr, "resume_after", welcome.Resume, "resent_pushes", len(missed), "clock_offset", offset)
	defer s.log.Info("terminal disconnected", "device", t.device)

	events := make(chan *proto.Message, eventQueue)
	committed := make(chan struct{})
	go func() { s.commitEvents(t, offset, events); close(committed) }()
	defer func() { close(events); <-committed }()

	_ = conn.SetReadDeadline(time.Now().Add(pongTimeout))
	conn.SetPongHandler(func(string) error {
		t.sawIt()
		return conn.SetReadDeadline(time.Now().Add(pongTimeout))
	})
	for {
		m, err := s.readMessage(t)
		if err != nil {
			stopped = t.saidGoodbye(err)
			s.readFailed(t, r, err)
			return
		}
		t.sawIt()
		_ = conn.SetReadDeadline(time.Now().Add(pongTimeout))
		if m.IsEvent() {
			events <- m
			continue
		}
		if m.Type == proto.TypeOutbox {
			s.alerts.outboxReport(t, m.Outbox, offset)
			continue
		}
		s.handleRequest(t, m)
	}
}

// pushWindow is the window a push is about, 0 if none.
func pushWindow(m *proto.Message) int {
	switch {
	case m.Call != nil:
		return m.Call.Window
	case m.Cancel != nil:
		return m.Cancel.Window
	}
	return 0
}

func enqueueMsg(t *terminal, m *proto.Message) bool {
	b, err := proto.Encode(m)
	if err != nil {
		return true // not ours to send; logged by whoever built it
	}
	return t.enqueue(b)
}

// commitEvents applies a terminal's events in batches: whatever arrived
// while the previous batch was committing goes into the next, so a replay
// of thousands of events costs a few commits, not thousands.
func (s *Server) commitEvents(t *terminal, offset time.Duration, events <-chan *proto.Message) {
	for first := range events {
		batch := []*proto.Message{first}
	drain:
		for len(batch) < eventBatch {
			select {
			case m, ok := <-events:
				if !ok {
					break drain
				}
				batch = append(batch, m)
			default:
				break drain
			}
		}
		acked, eff, err := s.q.ApplyEvents(t.device, offset, batch)
		if errors.Is(err, ErrGap) {
			// Acknowledge what came before the gap, then make the terminal
			// send again from there: nothing past a gap is taken.
			s.badMessages.Add(1)
			s.log.Warn("gap in a terminal's events; it will send again from the last acknowledged", "device", t.device, "err", err)
			s.publish(eff)
			if acked > 0 {
				enqueueMsg(t, &proto.Message{Type: proto.TypeAck, Seq: acked})
			}
			t.close(websocket.CloseTryAgainLater, "gap in event sequence; resend from the last ack")
			for range events { // let the reader finish
			}
			return
		}
		if err != nil {
			// Not acknowledged: the terminal keeps the events and resends
			// them on its next connection.
			s.log.Error("events not committed; terminal will resend", "device", t.device, "err", err)
			t.close(websocket.CloseInternalServerErr, "server could not commit events")
			for range events { // let the reader finish
			}
			return
		}
		s.alerts.committed(t.device, acked)
		if hasStatus(batch) {
			if d, ok := s.q.Device(t.device); ok && d.Status != nil {
				s.alerts.status(t.device, d.Status, offset)
			}
		}
		// What the events changed goes out before the ack, so a terminal
		// that sees the ack already has what they caused (a call's cancel).
		s.publish(eff)
		ok := true
		for _, m := range eff.Rejected {
			ok = ok && enqueueMsg(t, m) // before the ack that covers it
		}
		if !ok || !enqueueMsg(t, &proto.Message{Type: proto.TypeAck, Seq: acked}) {
			t.close(websocket.CloseTryAgainLater, "too slow to keep up")
		}
	}
}

func hasStatus(batch []*proto.Message) bool {
	for _, m := range batch {
		if m.Type == proto.TypeDeviceStatus {
			return true
		}
	}
	return false
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
			// A newer terminal may know more types: answer, don't hang up.
			s.badMessages.Add(1)
			return m, nil
		}
		return nil, err
	}
	return m, nil
}

var errBinary = errors.New("binary messages are not part of the protocol")

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

// violation counts, logs and disconnects a peer that broke the protocol.
func (s *Server) violation(t *terminal, r *http.Request, reason string) {
	s.badMessages.Add(1)
	s.log.Warn("link protocol violation, disconnecting", "device", t.device, "remote", r.RemoteAddr, "reason", reason)
	if len(reason) > 120 { // a close reason must fit a control frame
		reason = reason[:120]
	}
	t.close(websocket.ClosePolicyViolation, reason)
}

// handleRequest answers a terminal's request.
func (s *Server) handleRequest(t *terminal, m *proto.Message) {
	reply := func(r *proto.Message) {
		r.Re = m.ID
		if !enqueueMsg(t, r) {
			t.close(websocket.CloseTryAgainLater, "too slow to keep up")
		}
	}
	fail := func(code, msg string) {
		reply(&proto.Message{Type: proto.TypeError, Error: &proto.Error{Code: code, Message: msg}})
	}
	switch m.Type {
	case proto.TypeReserve:
		tk, err := s.q.Reserve(m.Reserve.Service, t.device)
		switch {
		case errors.Is(err, ErrUnknownService):
			fail(proto.CodeUnknownService, err.Error())
		case err != nil:
			s.log.Error("reserve", "device", t.device, "err", err)
			fail(proto.CodeInternal, err.Error())
		default:
			s.log.Info("ticket reserved", "number", tk.Number, "service", tk.Service, "device", t.device)
			reply(&proto.Message{Type: proto.TypeReserved, Ticket: &tk})
		}
	case proto.TypeCheckin:
		tk, bk, err := s.q.CheckIn(m.Checkin.Code, t.device)
		var berr *BookingError
		switch {
		case errors.As(err, &berr):
			s.log.Info("check-in refused", "device", t.device, "code", berr.Code, "why", berr.Message)
			reply(&proto.Message{Type: proto.TypeError, Error: &proto.Error{Code: berr.Code, Message: berr.Message}, Booking: berr.Booking})
		case errors.Is(err, ErrBookingsOff):
			fail(proto.CodeUnsupported, err.Error())
		case err != nil:
			s.log.Error("check-in", "device", t.device, "err", err)
			fail(proto.CodeInternal, err.Error())
		default:
			s.log.Info("booking checked in", "booking", bk.Code, "number", tk.Number, "service", tk.Service, "device", t.device)
			reply(&proto.Message{Type: proto.TypeReserved, Ticket: &tk, Booking: &bk})
		}
	default:
		s.log.Warn("link message not understood", "device", t.device, "type", m.Type)
		fail(proto.CodeBadRequest, "message type "+m.Type+" is not accepted from terminals")
	}
}
