package display

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/cherga/kiosk/httpapi"
)

// Hub pushes JSON to the browser pages connected to one websocket
// endpoint: the full snapshot on connect, then every change. A page that
// cannot keep up is disconnected; it reconnects and gets a fresh snapshot,
// so it is never left showing a half-updated state.
type Hub struct {
	log      *slog.Logger
	snapshot func() any

	mu      sync.Mutex
	clients map[*pageClient]struct{}
	closed  bool
}

type pageClient struct {
	conn *websocket.Conn
	send chan []byte
	quit chan struct{}
	once sync.Once
}

func (c *pageClient) stop() { c.once.Do(func() { close(c.quit) }) }

// NewHub makes a hub; snapshot gives the full state a new page starts from.
func NewHub(log *slog.Logger, snapshot func() any) *Hub {
	return &Hub{log: log, snapshot: snapshot, clients: map[*pageClient]struct{}{}}
}

// pageUpgrader lets only pages served by this kioskd connect (an Origin
// naming the Host, which the terminal checked), or a program on this
// machine that sends no Origin (a browser always sends one). Its refusals
// are JSON, as every error is.
var pageUpgrader = websocket.Upgrader{Error: upgradeError, CheckOrigin: httpapi.PageOrLocal}

// upgradeError answers a request the upgrader refused: not a websocket
// handshake (400, 405, 426), or from another origin (403).
func upgradeError(w http.ResponseWriter, r *http.Request, status int, reason error) {
	code := "bad_websocket"
	if status == http.StatusForbidden {
		code = "forbidden_origin"
	}
	// gorilla's reasons say what the handshake lacked, in its terms.
	httpapi.WriteError(w, status, code, reason.Error())
}

const (
	pageWriteTimeout = 5 * time.Second
	pagePing         = 10 * time.Second
	pagePongTimeout  = 30 * time.Second
	pageQueue        = 64
)

func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	conn, err := pageUpgrader.Upgrade(w, r, nil)
	if err != nil {
		h.log.Warn("page websocket refused", "remote", r.RemoteAddr, "err", err)
		return
	}
	c := &pageClient{conn: conn, send: make(chan []byte, pageQueue), quit: make(chan struct{})}
	first, err := json.Marshal(h.snapshot())
	if err != nil {
		h.log.Error("encode page snapshot", "err", err)
		conn.Close()
		return
	}
	c.send <- first
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		conn.Close()
		return
	}
	h.clients[c] = struct{}{}
	h.mu.Unlock()
	go c.writeLoop()
	// Pages only listen; reading is how a closed page is noticed.
	conn.SetReadLimit(512)
	_ = conn.SetReadDeadline(time.Now().Add(pagePongTimeout))
	conn.SetPongHandler(func(string) error { return conn.SetReadDeadline(time.Now().Add(pagePongTimeout)) })
	for {
		if _, _, err := conn.ReadMessage(); err != nil {
			break
		}
	}
	h.mu.Lock()
	delete(h.clients, c)
	h.mu.Unlock()
	c.stop()
}

func (c *pageClient) writeLoop() {
	ping := time.NewTicker(pagePing)
	defer ping.Stop()
	defer c.conn.Close()
	for {
		select {
		case b := <-c.send:
			_ = c.conn.SetWriteDeadline(time.Now().Add(pageWriteTimeout))
			if err := c.conn.WriteMessage(websocket.TextMessage, b); err != nil {
				return
			}
		case <-ping.C:
			if err := c.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(pageWriteTimeout)); err != nil {
				return
			}
		case <-c.quit:
			_ = c.conn.WriteControl(websocket.CloseMessage,
				websocket.FormatCloseMessage(websocket.CloseGoingAway, ""), time.Now().Add(time.Second))
			return
		}
	}
}

// Broadcast sends v to every connected page.
func (h *Hub) Broadcast(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		h.log.Error("encode page update", "err", err)
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.clients {
		select {
		case c.send <- b:
		default:
			h.log.Warn("page too slow, disconnecting it", "remote", c.conn.RemoteAddr().String())
			delete(h.clients, c)
			c.stop()
		}
	}
}

// Close disconnects every page; they reconnect to the next kioskd.
func (h *Hub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for c := range h.clients {
		c.stop()
	}
}
