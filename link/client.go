// Package link keeps a terminal connected to the queue server and makes
// sure nothing between them is lost or doubled.
//
// Every event a terminal reports (a ticket handed out, a call shown or
// announced, a key pressed) is first committed to the terminal's bbolt
// outbox, then sent, and removed only when the server acknowledges that it
// committed it too; after any break the terminal resends from the server's
// last commit, and the server drops what it already has. Every push from
// the server (a call, a recall) carries an id the terminal records before
// acting on it, so a resent call is shown and announced once. While the
// server is unreachable a kiosk keeps issuing tickets from its own,
// plainly marked series of numbers ("П3-007"), and every ticket it
// committed but did not hand out (kioskd died before printing it) is
// withdrawn when it starts again (handout.go).
//
// The link never blocks the terminal: a dead server costs a kiosk at most
// one short request timeout, after which tickets are numbered offline.
package link

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/jonboulle/clockwork"

	"github.com/cherga/kiosk/devices/supervise"
	"github.com/cherga/kiosk/link/proto"
)

// ErrOffline means the server cannot be reached now.
var ErrOffline = errors.New("link: queue server unreachable")

// Handler receives what the server pushes, in the order it was sent. Its
// methods are called from the link's reader and must not block for long.
type Handler interface {
	Welcome(w *proto.Welcome)
	Call(c proto.Call) // a recall is a Call with Recall set
	Cancel(c proto.Cancel)
	Queues(q []proto.QueueLen)
	HallMessage(m *proto.HallMessage)
	Update(u *proto.Update)
	// Window is the state of a window the terminal names in hello
	// (Hello.Window or Hello.Windows), from the welcome and at each
	// change: the latest replaces the one before.
	Window(w proto.WindowState)
	// Link is told when the link comes up or goes down: what the terminal
	// shows may then be out of date, and it should say so.
	Link(up bool)
}

// Config says where, who, and with which credentials.
type Config struct {
	URL    string
	Device string
	Roles  []string
	// Window is the window a terminal with the window role shows; the
	// server then sends it only that window's calls.
	Window int
	// Windows are more windows whose calls and states the terminal takes:
	// those of the devices on its buses.
	Windows          []int
	Version          string
	HandshakeTimeout time.Duration
	// Token is sent as "Authorization: Bearer <token>", never in the URL.
	Token string
	// TLS is the client's TLS configuration for wss:// (server CA, and a
	// client certificate for mTLS); nil means the system's roots.
	TLS *tls.Config
	// ReserveTimeout bounds the wait for an online ticket number before a
	// kiosk numbers the ticket itself. Default 1.5 s.
	ReserveTimeout time.Duration
	// Backoff shapes the redial waits; zero values take the defaults.
	Backoff Backoff
	// Clock runs the redial waits, the reserve timeout, the housekeeping
	// and the timestamps; nil: the real clock.
	Clock clockwork.Clock
}

// Backoff is capped exponential backoff with full jitter: the n-th redial
// waits a random time up to min(Max, Min·2ⁿ), by default min(30 s,
// 0.5 s·2ⁿ). Only a link that stayed up for HealthyAfter (30 s) resets n,
// so a server that accepts and drops at once is not hammered.
type Backoff = supervise.Backoff

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
	// ClockOffset is how far the server's clock is ahead of this
	// terminal's, as last measured.
	ClockOffset string `json:"clock_offset,omitempty"`
	// Rejected counts the events the server refused for good since the
	// store's file was created; LastRejected is the latest of them.
	Rejected     int        `json:"rejected"`
	LastRejected *Rejection `json:"last_rejected,omitempty"`
	// Alarm is set while the latest rejection is recent (a day by
	// default): an event was lost and a technician should look.
	Alarm string `json:"alarm,omitempty"`
}

// Client is the terminal's side of the link.
type Client struct {
	cfg     Config
	store   *Store
	handler Handler
	log     *slog.Logger
	clock   clockwork.Clock
	loop    *supervise.Loop[*websocket.Conn] // dials, runs sessions, redials
	nextID  atomic.Uint64

	mu       sync.Mutex
	up       bool
	offset   string // the server's clock ahead of ours, as last measured
	sess     *session
	snapshot *proto.Welcome
	loc      *time.Location
	offline  map[string]int // group → offline tickets since the last queue lengths

	upCh chan struct{} // closed while the link is up

	ackMu  sync.Mutex
	acked  uint64        // highest seq the server acknowledged
	drain  uint64        // the last event of the backlog found at link up
	behind int           // how many events that backlog had
	ackCh  chan struct{} // closed and replaced when acked moves
	pruneC chan struct{}
}

// session is one websocket connection. Only writeLoop writes to conn.
type session struct {
	conn    *websocket.Conn
	out     chan []byte
	done    chan struct{} // closed when the session ends
	ackMore chan struct{} // an ack arrived: the send window moved
	mu      sync.Mutex
	pending map[string]chan *proto.Message
}

// New makes a client; Run connects it. The snapshot saved in store, if
// any, is handed to h at once, so a terminal restarted while the server is
// away shows the catalogue and the last calls immediately.
func New(cfg Config, store *Store, h Handler, log *slog.Logger) *Client {
	if cfg.Clock == nil {
		cfg.Clock = clockwork.NewRealClock()
	}
	if cfg.ReserveTimeout <= 0 {
		cfg.ReserveTimeout = 1500 * time.Millisecond
	}
	if cfg.HandshakeTimeout <= 0 {
		cfg.HandshakeTimeout = 10 * time.Second
	}
	c := &Client{
		cfg: cfg, store: store, handler: h, log: log, clock: cfg.Clock,
		loc:     time.Local,
		offline: map[string]int{},
		acked:   store.Outbox().Acked,
		upCh:    make(chan struct{}),
		ackCh:   make(chan struct{}),
		pruneC:  make(chan struct{}, 1),
	}
	c.loop = supervise.New(supervise.Config[*websocket.Conn]{
		Name: "link", Open: c.dial, Use: c.session, Backoff: cfg.Backoff, Clock: cfg.Clock, Log: log.With("url", cfg.URL),
	})
	snap, err := store.Snapshot()
	if err != nil {
		// A damaged snapshot is only a cache: start empty and say so.
		log.Warn("saved snapshot unreadable, waiting for the server", "err", err)
	}
	if snap != nil {
		c.setSnapshot(snap)
		// The saved queue lengths are from before this kiosk stopped; the
		// tickets it issued since are still in its outbox.
		if waiting, err := store.TicketsWaiting(); err != nil {
			log.Warn("outbox unreadable: offline tickets show fewer visitors ahead", "err", err)
		} else {
			c.offline = waiting
		}
		h.Welcome(snap)
	}
	return c
}

// Status reports the link's state.
func (c *Client) Status() Status {
	ls := c.loop.Status()
	c.mu.Lock()
	st := Status{URL: c.cfg.URL, Since: ls.Since, ClockOffset: c.offset}
	up := c.up
	c.mu.Unlock()
	// The loop's Starting is a link dialled but not yet welcomed, or never
	// dialled yet; OK is a link up; anything else is down.
	switch {
	case up && ls.State == supervise.OK:
		st.State = StateUp
	case ls.State == supervise.Starting:
		st.State, st.Retries, st.LastError = StateConnecting, ls.Failures, ls.LastError
	default:
		st.State, st.Retries, st.LastError = StateDown, ls.Failures, ls.LastError
	}
	rs := c.store.Rejections()
	st.Rejected, st.LastRejected, st.Alarm = rs.Total, rs.Last, rs.Alarm
	return st
}

// Snapshot returns the latest snapshot from the server (or the saved one),
// nil if there was never one.
func (c *Client) Snapshot() *proto.Welcome {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.snapshot
}

func (c *Client) setSnapshot(w *proto.Welcome) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.snapshot = w
	c.offline = map[string]int{}
	if loc, err := time.LoadLocation(w.Office.Timezone); err == nil && w.Office.Timezone != "" {
		c.loc = loc
	}
}

// The socket's deadlines, and the pings that keep a quiet link inside
// them, are on real time, not the link's clock: the runtime's poller holds
// a deadline against the wall clock, and a fake clock's Now would put
// every deadline in the past or the far future.
const (
	writeTimeout = 10 * time.Second
	pingEvery    = 15 * time.Second
	pongTimeout  = 45 * time.Second
	outQueue     = 64
	// sendWindow is how many events may be sent and not yet acknowledged.
	sendWindow = 2000
	sendChunk  = 500
)

// Run keeps the link up until ctx ends, then closes it cleanly.
func (c *Client) Run(ctx context.Context) error {
	go c.pruneLoop(ctx)
	c.loop.Run(ctx)
	return nil
}

// setUp marks the link up (the server welcomed it) or down again, and
// tells the handler.
func (c *Client) setUp(up bool) {
	if up {
		// The status says up before anyone waiting in WaitUp is released.
		c.loop.Set(supervise.OK, "up")
	}
	c.mu.Lock()
	was := c.up
	if up && !was {
		close(c.upCh)
	} else if !up && was {
		c.upCh = make(chan struct{})
	}
	c.up = up
	c.mu.Unlock()
	if !up {
		// Down before the handler hears it, as the loop will say.
		c.loop.Set(supervise.Fault, "down")
	}
	if !up && was {
		// Keep the latest queue lengths: a kiosk restarted while the server
		// is away counts the visitors ahead of its offline tickets from them.
		if snap := c.Snapshot(); snap != nil {
			if err := c.store.SaveSnapshot(snap); err != nil && !errors.Is(err, ErrClosed) {
				c.log.Error("save snapshot", "err", err)
			}
		}
	}
	if !up && was {
		c.log.Warn("link down", "url", c.cfg.URL) // technicians and tests look for it
	}
	if up != was {
		c.handler.Link(up)
	}
}

// withTimeout is context.WithTimeout on clock. (clockwork.WithTimeout's
// context blocks in Err until it is done, and its timer outlives a
// cancel.) On the timeout, Err is context.Canceled and Cause
// context.DeadlineExceeded.
func withTimeout(ctx context.Context, clock clockwork.Clock, d time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(ctx)
	t := clock.AfterFunc(d, func() { cancel(context.DeadlineExceeded) })
	return ctx, func() { t.Stop(); cancel(nil) }
}

// isLoopback reports whether host names this machine.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// CheckURL enforces the transport rule: wss:// unless the server is on this
// machine, where plain ws:// crosses no network.
func CheckURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	switch {
	case u.Scheme == "wss":
		return nil
	case u.Scheme == "ws" && isLoopback(u.Hostname()):
		return nil
	case u.Scheme == "ws":
		return fmt.Errorf("ws:// is allowed only for a server on this machine; use wss:// for %s", u.Host)
	}
	return fmt.Errorf("scheme %q: expected ws:// or wss://", u.Scheme)
}

func (c *Client) dial(ctx context.Context) (*websocket.Conn, error) {
	if err := CheckURL(c.cfg.URL); err != nil {
		return nil, err
	}
	dialer := websocket.Dialer{
		HandshakeTimeout: c.cfg.HandshakeTimeout,
		Subprotocols:     []string{proto.Subprotocol},
		TLSClientConfig:  c.cfg.TLS,
	}
	hdr := http.Header{}
	if c.cfg.Token != "" {
		hdr.Set("Authorization", "Bearer "+c.cfg.Token)
	}
	dialCtx, cancel := context.WithTimeout(ctx, c.cfg.HandshakeTimeout)
	defer cancel()
	conn, resp, err := dialer.DialContext(dialCtx, c.cfg.URL, hdr)
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("dial %s: %w (HTTP %s)", c.cfg.URL, err, resp.Status)
		}
		return nil, fmt.Errorf("dial %s: %w", c.cfg.URL, err)
	}
	if conn.Subprotocol() != proto.Subprotocol {
		conn.Close()
		return nil, fmt.Errorf("server does not speak %s", proto.Subprotocol)
	}
	conn.SetReadLimit(proto.MaxMessageBytes)
	return conn, nil
}

// session runs one connection: hello, welcome, then the reader and the
// writer until either ends.
func (c *Client) session(ctx context.Context, conn *websocket.Conn) error {
	sent := c.Acked()
	var outbox outboxReporter
	ob := outboxState(c.store.Outbox())
	outbox.started(ob, c.clock.Now())
	hello, err := proto.Encode(&proto.Message{Type: proto.TypeHello, Hello: &proto.Hello{
		Device: c.cfg.Device, Roles: c.cfg.Roles, Window: c.cfg.Window, Windows: c.cfg.Windows, Version: c.cfg.Version, Time: c.clock.Now(),
		Epoch: c.store.Epoch(), LastAck: sent, LastPush: c.store.LastPush(), Outbox: ob,
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
	w := m.Welcome
	offset := w.ServerTime.Sub(c.clock.Now())
	// The server has committed every event up to Resume: those need no
	// resending, and may leave the outbox.
	if w.Resume > sent {
		c.acknowledge(w.Resume)
		sent = w.Resume
	} else if w.Resume < sent {
		c.log.Error("the server has fewer of this terminal's events than it acknowledged; they cannot be resent",
			"server_has", w.Resume, "acknowledged", sent)
	}
	if moved, err := c.store.EnsureNextSeq(w.Resume + 1); err != nil {
		return fmt.Errorf("outbox: %w", err)
	} else if moved {
		c.log.Warn("the server knows later events of this outbox than it holds (restored from an older copy?); numbering continues after the server's",
			"resume", w.Resume)
	}
	c.welcome(w)
	if ob := c.store.Outbox(); ob.Events > 0 {
		c.ackMu.Lock()
		c.drain, c.behind = ob.NextSeq-1, ob.Events
		c.ackMu.Unlock()
	}

	s := &session{conn: conn, out: make(chan []byte, outQueue), done: make(chan struct{}),
		ackMore: make(chan struct{}, 1), pending: map[string]chan *proto.Message{}}
	c.mu.Lock()
	c.sess = s
	c.offset = offset.Round(time.Millisecond).String()
	c.mu.Unlock()
	c.setUp(true)
	c.log.Info("link up", "url", c.cfg.URL, "resume_after", w.Resume, "outbox", c.store.Buffered(),
		"clock_offset", offset.Round(time.Millisecond))
	defer func() {
		c.mu.Lock()
		c.sess = nil
		c.mu.Unlock()
		close(s.done)
		c.setUp(false)
	}()

	readerDone := make(chan struct{})
	writeErr := make(chan error, 1)
	go func() { writeErr <- c.writeLoop(ctx, s, sent, &outbox, readerDone) }()
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
		return nil, fmt.Errorf("%w: binary frame", proto.ErrMalformed)
	}
	return proto.Decode(b)
}

func (c *Client) welcome(w *proto.Welcome) {
	if dropped := cleanCatalogue(&w.Catalogue); dropped > 0 {
		c.log.Warn("server's catalogue has entries without an id, prefix or group; left out", "entries", dropped)
	}
	c.setSnapshot(w)
	if err := c.store.SaveSnapshot(w); err != nil {
		c.log.Error("save snapshot", "err", err)
	}
	c.mu.Lock()
	today := w.ServerTime.In(c.loc).Format(time.DateOnly)
	c.mu.Unlock()
	if err := c.store.MergeSeries(today, w.Series); err != nil {
		c.log.Error("save the server's record of the offline series", "err", err)
	}
	c.handler.Welcome(w)
	if w.Window != nil && w.Window.Window > 0 {
		c.handler.Window(*w.Window)
	}
}

func (c *Client) readLoop(s *session) error {
	conn := s.conn
	_ = conn.SetReadDeadline(time.Now().Add(pongTimeout))
	conn.SetPingHandler(func(data string) error {
		_ = conn.SetReadDeadline(time.Now().Add(pongTimeout))
		// WriteControl may run beside the writer: gorilla allows it.
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
	if m.IsPush() {
		fresh, err := c.store.Receive(m.Push, m.ID)
		if err != nil {
			// Acting twice is better than never: a call must be seen.
			c.log.Error("inbox: cannot record push, acting on it anyway", "id", m.ID, "err", err)
		} else if !fresh {
			return
		}
	}
	switch m.Type {
	case proto.TypeAck:
		c.acknowledge(m.Seq)
		select {
		case s.ackMore <- struct{}{}:
		default:
		}
	case proto.TypeRejected:
		c.rejected(m.Seq, m.Error)
	case proto.TypeCall, proto.TypeRecall:
		call := *m.Call
		call.Recall = m.Type == proto.TypeRecall
		c.handler.Call(call)
	case proto.TypeCancel:
		c.handler.Cancel(*m.Cancel)
	case proto.TypeHallMessage:
		c.handler.HallMessage(m.HallMessage)
	case proto.TypeUpdate:
		c.mu.Lock()
		if dropped := cleanCatalogue(&m.Update.Catalogue); dropped > 0 {
			c.log.Warn("server's catalogue has entries without an id, prefix or group; left out", "entries", dropped)
		}
		if c.snapshot != nil {
			snap := *c.snapshot
			snap.Office, snap.Catalogue, snap.ConfigVersion = m.Update.Office, m.Update.Catalogue, m.Update.Version
			c.snapshot = &snap
		}
		snap := c.snapshot
		c.mu.Unlock()
		if snap != nil {
			if err := c.store.SaveSnapshot(snap); err != nil {
				c.log.Error("save snapshot", "err", err)
			}
		}
		c.handler.Update(m.Update)
	case proto.TypeQueues:
		c.mu.Lock()
		if c.snapshot != nil {
			snap := *c.snapshot
			snap.Queues = m.Queues
			c.snapshot = &snap
		}
		c.offline = map[string]int{}
		c.mu.Unlock()
		c.handler.Queues(m.Queues)
	case proto.TypeWindow:
		c.handler.Window(*m.Window)
	case proto.TypeLease:
		// An older server's number blocks: this kiosk numbers offline
		// tickets from its own series instead, which is unique anyway.
		c.log.Debug("number blocks from an older server ignored", "blocks", len(m.Leases))
	case proto.TypeWelcome:
		c.welcome(m.Welcome)
	default:
		c.log.Warn("unexpected message from server", "type", m.Type)
	}
}

// rejected records that the server refused event seq for good. It runs in
// the reader and waits for the commit: the ack covering seq comes next on
// the connection, and the event must be copied out of the outbox before
// that ack can prune it. A rejection is rare; one commit's wait is cheap.
func (c *Client) rejected(seq uint64, e *proto.Error) {
	r, fresh, err := c.store.RecordRejected(seq, e)
	switch {
	case errors.Is(err, errNoSuchEvent):
		c.log.Warn("server rejected an event this terminal never sent; ignored", "seq", seq, "code", e.Code, "err", err)
		return
	case errors.Is(err, ErrClosed):
		return // shutting down: the covering ack cannot prune the outbox either
	case err != nil:
		c.log.Error("rejected event not saved; counted until restart", "seq", seq, "err", err)
	case !fresh:
		c.log.Info("server repeated a rejection already recorded", "seq", seq)
		return
	}
	c.log.Error("the server rejected an event and will never apply it", "seq", seq, "type", r.Type,
		"code", r.Code, "message", r.Message)
}

// writeLoop is the only writer of the connection. It sends requests, and
// the outbox's events after sent within the send window, and pings, and
// a ping period (on the terminal's clock) after the outbox last held
// events what the server should hear of it (outboxreport.go): the timer
// runs only while there may be something to tell. It ends when ctx ends
// (with a close frame), when a write fails, or when the reader has ended.
func (c *Client) writeLoop(ctx context.Context, s *session, sent uint64, outbox *outboxReporter, readerDone <-chan struct{}) error {
	ping := time.NewTicker(pingEvery)
	defer ping.Stop()
	var report clockwork.Timer
	var reportC <-chan time.Time
	defer func() {
		if report != nil {
			report.Stop()
		}
	}()
	write := func(b []byte) error {
		_ = s.conn.SetWriteDeadline(time.Now().Add(writeTimeout))
		return s.conn.WriteMessage(websocket.TextMessage, b)
	}
	for {
		if room := sendWindow - int(sent-min(sent, c.Acked())); room > 0 {
			batch, err := c.store.Pending(sent, min(sendChunk, room))
			if err != nil {
				return fmt.Errorf("read outbox: %w", err)
			}
			for _, p := range batch {
				if err := write(p.body); err != nil {
					return fmt.Errorf("write: %w", err)
				}
				sent = p.seq
			}
			if len(batch) == min(sendChunk, room) {
				continue // more may be waiting
			}
		}
		if reportC == nil && (outbox.notable || c.store.Buffered() > 0) {
			report = c.clock.NewTimer(outboxReportEvery)
			reportC = report.Chan()
		}
		select {
		case b := <-s.out:
			if err := write(b); err != nil {
				return fmt.Errorf("write: %w", err)
			}
		case <-c.store.Appended():
		case <-s.ackMore:
		case <-ping.C:
			if err := s.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeTimeout)); err != nil {
				return fmt.Errorf("ping: %w", err)
			}
		case <-reportC:
			reportC = nil
			if st := outbox.next(outboxState(c.store.Outbox()), c.clock.Now()); st != nil {
				if b, err := proto.Encode(&proto.Message{Type: proto.TypeOutbox, Outbox: st}); err == nil {
					if err := write(b); err != nil {
						return fmt.Errorf("write: %w", err)
					}
				}
			}
		case <-readerDone:
			return nil
		case <-ctx.Done():
			msg := websocket.FormatCloseMessage(websocket.CloseGoingAway, "terminal shutting down")
			_ = s.conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
			return nil
		}
	}
}

// WaitUp waits until the link is up, or ctx ends.
func (c *Client) WaitUp(ctx context.Context) error {
	c.mu.Lock()
	ch := c.upCh
	c.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Acked is the highest event seq the server acknowledged.
func (c *Client) Acked() uint64 {
	c.ackMu.Lock()
	defer c.ackMu.Unlock()
	return c.acked
}

// acknowledge records that the server committed every event up to seq; the
// outbox is pruned in the background so the reader never waits on disk.
func (c *Client) acknowledge(seq uint64) {
	c.ackMu.Lock()
	if seq > c.acked {
		c.acked = seq
		close(c.ackCh)
		c.ackCh = make(chan struct{})
	}
	if c.drain > 0 && seq >= c.drain {
		c.log.Info("outbox backlog delivered: the server has every event", "events", c.behind, "last_seq", c.drain)
		c.drain = 0
	}
	c.ackMu.Unlock()
	select {
	case c.pruneC <- struct{}{}:
	default:
	}
}

// inboxPruneEvery is how often old push ids are forgotten.
const inboxPruneEvery = 6 * time.Hour

func (c *Client) pruneLoop(ctx context.Context) {
	inbox := c.clock.NewTicker(inboxPruneEvery)
	defer inbox.Stop()
	pruneInbox := func() {
		if err := c.store.PruneInbox(); err != nil && !errors.Is(err, ErrClosed) {
			c.log.Error("prune inbox", "err", err)
		}
	}
	pruneInbox()
	for {
		select {
		case <-ctx.Done():
			return
		case <-inbox.Chan():
			pruneInbox()
		case <-c.pruneC:
			if err := c.store.Ack(c.Acked()); err != nil && !errors.Is(err, ErrClosed) {
				c.log.Error("prune outbox", "err", err)
			}
		}
	}
}

// WaitAck waits until the server has committed event seq, or ctx ends.
func (c *Client) WaitAck(ctx context.Context, seq uint64) error {
	for {
		c.ackMu.Lock()
		acked, ch := c.acked, c.ackCh
		c.ackMu.Unlock()
		if acked >= seq {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// replyError is the server's error reply; it unwraps to its *proto.Error
// and keeps the rest of the message (a refused check-in's booking).
type replyError struct{ m *proto.Message }

func (e *replyError) Error() string { return e.m.Error.Error() }
func (e *replyError) Unwrap() error { return e.m.Error }

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
	select {
	case s.out <- b:
	case <-s.done:
		return nil, ErrOffline
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %v", ErrOffline, context.Cause(ctx))
	}
	select {
	case r := <-reply:
		if r.Type == proto.TypeError {
			return nil, &replyError{r}
		}
		return r, nil
	case <-s.done:
		return nil, fmt.Errorf("%w: link lost while waiting for the answer", ErrOffline)
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: no answer: %v", ErrOffline, context.Cause(ctx))
	}
}

// Report commits an event for the server (device status, call shown or
// announced, keypad, rating) and returns its seq once it is on disk.
func (c *Client) Report(m *proto.Message) (uint64, error) {
	if !m.IsEvent() {
		return 0, fmt.Errorf("link: %s is not an event", m.Type)
	}
	return c.store.Append(m)
}

// ReportMarked is Report that also sets a mark in the same transaction
// (Store.AppendMarked); Mark reads it back.
func (c *Client) ReportMarked(m *proto.Message, key string, value []byte) (uint64, error) {
	if !m.IsEvent() {
		return 0, fmt.Errorf("link: %s is not an event", m.Type)
	}
	return c.store.AppendMarked(m, key, value)
}

// Mark returns the value of a mark set with ReportMarked, nil if none.
func (c *Client) Mark(key string) ([]byte, error) { return c.store.Mark(key) }

// cleanCatalogue leaves out what no ticket can be issued for: groups
// without an id or prefix, services without an id or a known group. It
// returns how many entries it left out.
func cleanCatalogue(cat *proto.Catalogue) int {
	dropped := 0
	groups := map[string]bool{}
	keptG := cat.Groups[:0]
	for _, g := range cat.Groups {
		if g.ID == "" || g.Prefix == "" || groups[g.ID] {
			dropped++
			continue
		}
		groups[g.ID] = true
		keptG = append(keptG, g)
	}
	cat.Groups = keptG
	keptS := cat.Services[:0]
	for _, svc := range cat.Services {
		if svc.ID == "" || !groups[svc.Group] {
			dropped++
			continue
		}
		keptS = append(keptS, svc)
	}
	cat.Services = keptS
	return dropped
}
