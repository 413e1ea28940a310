// Package link keeps a terminal connected to the queue server: one
// websocket, redialled with backoff whenever it drops, carrying requests
// (take a ticket) and the server's pushes (calls, queue lengths). The bbolt
// Store beside it keeps the last snapshot so the terminal can show the
// catalogue and recent calls while the server is away.
//
// The link never blocks the terminal: when the server is unreachable,
// requests fail at once with ErrOffline and the pages keep working.
package link

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/cherga/kiosk/link/proto"
)

// ErrOffline means the server cannot be reached now.
var ErrOffline = errors.New("link: queue server unreachable")

// Handler receives what the server pushes, in the order it was sent. Its
// methods are called from the link's reader and must not block for long.
type Handler interface {
	Welcome(w *proto.Welcome)
	Call(c proto.Call)
	Queues(q []proto.QueueLen)
}

// Config says where and who.
type Config struct {
	URL              string
	Device           string
	Roles            []string
	Version          string
	HandshakeTimeout time.Duration
}

// Link states.
const (
	StateConnecting = "connecting"
	StateUp         = "up"
	StateDown       = "down"
)

// Status is the link as /healthz shows it.
type Status struct {
	State     string    `json:"state"`
	URL       string    `json:"url"`
	Since     time.Time `json:"since"`
	Retries   int       `json:"retries"`
	LastError string    `json:"last_error,omitempty"`
}

// Client is the terminal's side of the link.
type Client struct {
	cfg     Config
	store   *Store
	handler Handler
	log     *slog.Logger
	nextID  atomic.Uint64

	mu       sync.Mutex
	status   Status
	sess     *session
	snapshot *proto.Welcome
}

// session is one websocket connection. Only writeLoop writes to conn.
type session struct {
	conn    *websocket.Conn
	out     chan []byte
	done    chan struct{} // closed when the session ends
	mu      sync.Mutex
	pending map[string]chan *proto.Message
}

// New makes a client; Run connects it. The snapshot saved in store, if
// any, is available at once.
func New(cfg Config, store *Store, h Handler, log *slog.Logger) *Client {
	c := &Client{
		cfg:     cfg,
		store:   store,
		handler: h,
		log:     log,
		status:  Status{State: StateConnecting, URL: cfg.URL, Since: time.Now()},
	}
	snap, err := store.Snapshot()
	if err != nil {
		// A damaged snapshot is only a cache: start empty and say so.
		log.Warn("saved snapshot unreadable, waiting for the server", "err", err)
	}
	if snap != nil {
		c.snapshot = snap
		h.Welcome(snap)
	}
	return c
}

// Status reports the link's state.
func (c *Client) Status() Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.status
}

// Snapshot returns the latest snapshot from the server (or the saved one),
// nil if there was never one.
func (c *Client) Snapshot() *proto.Welcome {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.snapshot
}

const (
	backoffMin    = 500 * time.Millisecond
	backoffMax    = 30 * time.Second
	healthyAfter  = 30 * time.Second
	writeTimeout  = 10 * time.Second
	pingEvery     = 15 * time.Second
	pongTimeout   = 45 * time.Second
	outQueue      = 64
	requestExpiry = 10 * time.Second
)

// Run keeps the link up until ctx ends, then closes it cleanly.
func (c *Client) Run(ctx context.Context) error {
	attempt := 0
	for {
		start := time.Now()
		err := c.session(ctx)
		if ctx.Err() != nil {
			c.setState(StateDown, nil)
			return nil
		}
		// Only a link that stayed healthy a while resets the backoff; a
		// server that accepts and drops at once is not hammered.
		if time.Since(start) > healthyAfter {
			attempt = 0
		}
		attempt++
		c.setState(StateDown, err)
		c.mu.Lock()
		c.status.Retries = attempt
		c.mu.Unlock()
		wait := backoff(attempt)
		c.log.Warn("link down", "err", err, "retry_in", wait.Round(time.Millisecond), "attempt", attempt)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
}

// backoff is capped exponential backoff with full jitter.
func backoff(attempt int) time.Duration {
	ceiling := backoffMax
	if attempt < 16 {
		ceiling = min(backoffMax, backoffMin<<attempt)
	}
	return time.Duration(rand.Int64N(int64(ceiling))) + time.Millisecond
}

func (c *Client) setState(state string, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.status.State != state {
		c.status.State = state
		c.status.Since = time.Now()
	}
	if err != nil {
		c.status.LastError = err.Error()
	}
	if state == StateUp {
		c.status.Retries = 0
		c.status.LastError = ""
	}
}

func (c *Client) session(ctx context.Context) error {
	dialer := websocket.Dialer{
		HandshakeTimeout: c.cfg.HandshakeTimeout,
		Subprotocols:     []string{proto.Subprotocol},
		Proxy:            http.ProxyFromEnvironment,
	}
	dialCtx, cancel := context.WithTimeout(ctx, c.cfg.HandshakeTimeout)
	conn, resp, err := dialer.DialContext(dialCtx, c.cfg.URL, nil)
	cancel()
	if err != nil {
		if resp != nil {
			return fmt.Errorf("dial %s: %w (HTTP %s)", c.cfg.URL, err, resp.Status)
		}
		return fmt.Errorf("dial %s: %w", c.cfg.URL, err)
	}
	defer conn.Close()
	if conn.Subprotocol() != proto.Subprotocol {
		return fmt.Errorf("server does not speak %s", proto.Subprotocol)
	}
	conn.SetReadLimit(proto.MaxMessageBytes)

	hello, err := proto.Encode(&proto.Message{Type: proto.TypeHello, Hello: &proto.Hello{
		Device: c.cfg.Device, Roles: c.cfg.Roles, Version: c.cfg.Version,
	}})
	if err != nil {
		return err
	}
	_ = conn.SetWriteDeadline(time.Now().Add(writeTimeout))
	if err := conn.WriteMessage(websocket.TextMessage, hello); err != nil {
		return fmt.Errorf("send hello: %w", err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(c.cfg.HandshakeTimeout))
	m, err := readMessage(conn)
	if err != nil {
		return fmt.Errorf("read welcome: %w", err)
	}
	if m.Type != proto.TypeWelcome {
		return fmt.Errorf("server answered hello with %q, expected welcome", m.Type)
	}
	c.welcome(m.Welcome)

	s := &session{conn: conn, out: make(chan []byte, outQueue), done: make(chan struct{}), pending: map[string]chan *proto.Message{}}
	c.mu.Lock()
	c.sess = s
	c.mu.Unlock()
	c.setState(StateUp, nil)
	c.log.Info("link up", "url", c.cfg.URL)
	defer func() {
		c.mu.Lock()
		c.sess = nil
		c.mu.Unlock()
		close(s.done)
	}()

	readerDone := make(chan struct{})
	writeErr := make(chan error, 1)
	go func() { writeErr <- s.writeLoop(ctx, readerDone) }()
	readErr := make(chan error, 1)
	go func() { readErr <- c.readLoop(s); close(readerDone) }()
	select {
	case err := <-readErr:
		<-writeErr
		return err
	case err := <-writeErr:
		conn.Close() // stops the reader
		<-readErr
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
}

func readMessage(conn *websocket.Conn) (*proto.Message, error) {
	typ, b, err := conn.ReadMessage()
	if err != nil {
		return nil, err
	}
	if typ != websocket.TextMessage {
		return nil, errors.New("binary message from server")
	}
	return proto.Decode(b)
}

func (c *Client) welcome(w *proto.Welcome) {
	c.mu.Lock()
	c.snapshot = w
	c.mu.Unlock()
	if err := c.store.SaveSnapshot(w); err != nil {
		c.log.Error("save snapshot", "err", err)
	}
	c.handler.Welcome(w)
}

func (c *Client) readLoop(s *session) error {
	conn := s.conn
	_ = conn.SetReadDeadline(time.Now().Add(pongTimeout))
	conn.SetPingHandler(func(data string) error {
		_ = conn.SetReadDeadline(time.Now().Add(pongTimeout))
		// WriteControl may run beside the writer: gorilla allows one
		// concurrent control-frame writer.
		return conn.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(writeTimeout))
	})
	conn.SetPongHandler(func(string) error {
		return conn.SetReadDeadline(time.Now().Add(pongTimeout))
	})
	for {
		m, err := readMessage(conn)
		if err != nil {
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				return fmt.Errorf("server closed the link: %d %s", ce.Code, ce.Text)
			}
			if errors.Is(err, proto.ErrUnknownType) || errors.Is(err, proto.ErrMalformed) {
				// Garbage from the server is logged and skipped; it must not
				// stop this terminal from working.
				c.log.Warn("bad message from server, ignored", "err", err)
				continue
			}
			return err
		}
		_ = conn.SetReadDeadline(time.Now().Add(pongTimeout))
		c.dispatch(s, m)
	}
}

func (c *Client) dispatch(s *session, m *proto.Message) {
	if m.Re != "" {
		s.mu.Lock()
		ch := s.pending[m.Re]
		delete(s.pending, m.Re)
		s.mu.Unlock()
		if ch != nil {
			ch <- m
		}
		return
	}
	switch m.Type {
	case proto.TypeCall:
		c.handler.Call(*m.Call)
	case proto.TypeQueues:
		c.mu.Lock()
		if c.snapshot != nil {
			snap := *c.snapshot
			snap.Queues = m.Queues
			c.snapshot = &snap
		}
		c.mu.Unlock()
		c.handler.Queues(m.Queues)
	case proto.TypeWelcome:
		c.welcome(m.Welcome)
	default:
		c.log.Warn("unexpected message from server", "type", m.Type)
	}
}

// writeLoop is the only writer of the connection. It ends when ctx ends
// (with a close frame), when a write fails, or when the reader has ended.
func (s *session) writeLoop(ctx context.Context, readerDone <-chan struct{}) error {
	ping := time.NewTicker(pingEvery)
	defer ping.Stop()
	for {
		select {
		case <-readerDone:
			return nil
		case b := <-s.out:
			_ = s.conn.SetWriteDeadline(time.Now().Add(writeTimeout))
			if err := s.conn.WriteMessage(websocket.TextMessage, b); err != nil {
				return fmt.Errorf("write: %w", err)
			}
		case <-ping.C:
			if err := s.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeTimeout)); err != nil {
				return fmt.Errorf("ping: %w", err)
			}
		case <-ctx.Done():
			msg := websocket.FormatCloseMessage(websocket.CloseGoingAway, "terminal shutting down")
			_ = s.conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
			return nil
		}
	}
}

// request sends m and waits for the server's answer.
func (c *Client) request(ctx context.Context, m *proto.Message) (*proto.Message, error) {
	c.mu.Lock()
	s := c.sess
	c.mu.Unlock()
	if s == nil {
		return nil, ErrOffline
	}
	m.ID = "r" + strconv.FormatUint(c.nextID.Add(1), 10)
	b, err := proto.Encode(m)
	if err != nil {
		return nil, err
	}
	reply := make(chan *proto.Message, 1)
	s.mu.Lock()
	s.pending[m.ID] = reply
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.pending, m.ID)
		s.mu.Unlock()
	}()
	ctx, cancel := context.WithTimeout(ctx, requestExpiry)
	defer cancel()
	select {
	case s.out <- b:
	case <-s.done:
		return nil, ErrOffline
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %v", ErrOffline, ctx.Err())
	}
	select {
	case r := <-reply:
		if r.Type == proto.TypeError {
			return nil, r.Error
		}
		return r, nil
	case <-s.done:
		return nil, fmt.Errorf("%w: link lost while waiting for the answer", ErrOffline)
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: no answer: %v", ErrOffline, ctx.Err())
	}
}

// TakeTicket asks the server for a ticket for service.
func (c *Client) TakeTicket(ctx context.Context, service string) (*proto.Ticket, error) {
	r, err := c.request(ctx, &proto.Message{Type: proto.TypeTakeTicket, TakeTicket: &proto.TakeTicket{Service: service}})
	if err != nil {
		return nil, err
	}
	if r.Type != proto.TypeTicket {
		return nil, fmt.Errorf("link: server answered take_ticket with %q", r.Type)
	}
	return r.Ticket, nil
}
