package display

import (
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/cherga/kiosk/httpapi"
	"github.com/cherga/kiosk/link/proto"
)

// Announcer is the voice half of a call (announce.Announcer).
type Announcer interface {
	Announce(c proto.Call) bool
}

// HallConfig is the hall role's settings.
type HallConfig struct {
	RecentCalls int           // calls listed besides the current one
	Highlight   time.Duration // how long a new call blinks
	// Message is the running line until the server sets one.
	Message proto.Text
	// Clock is kioskd's clock, from which the page's clock is set
	// (corrected by the server's clock offset); nil: the real clock.
	Clock clockwork.Clock
}

// Hall is the hall role: it turns calls into what the hall sees (the page,
// the LED boards) and hears (the announcer).
type Hall struct {
	cfg    HallConfig
	clock  clockwork.Clock
	log    *slog.Logger
	voice  Announcer
	boards []Board
	hub    *Hub

	mu       sync.Mutex
	office   proto.Office
	groups   []proto.Group
	queues   []proto.QueueLen
	calls    []ShownCall // newest first
	message  *proto.HallMessage
	serverUp bool
	// offset is how far the server's clock is ahead of kioskd's, as
	// measured by the last welcome the link was up after; welcomed is
	// the last welcome's, taken once the link says it is up (a welcome
	// replayed from the saved snapshot at start is old).
	offset, welcomed time.Duration
}

// ShownCall is a call as the hall shows it.
type ShownCall struct {
	proto.Call
	Announced bool `json:"announced"`
	// snapshot: known only from the server's snapshot so far. The push of
	// a call this terminal missed while it was away comes after the
	// snapshot that already lists it; that push is still spoken.
	snapshot bool
}

// NewHall makes the hall role. voice may be nil (no audio configured).
func NewHall(cfg HallConfig, voice Announcer, boards []Board, log *slog.Logger) *Hall {
	h := &Hall{cfg: cfg, clock: cfg.Clock, log: log, voice: voice, boards: boards}
	if h.clock == nil {
		h.clock = clockwork.NewRealClock()
	}
	if cfg.Message.UK != "" {
		h.message = &proto.HallMessage{Text: cfg.Message}
	}
	h.hub = NewHub(log, h.snapshot)
	return h
}

// Register adds the hall's pages and API to mux.
func (h *Hall) Register(mux httpapi.Routes) {
	mux.Handle("GET /hall/", staticPages)
	mux.Handle("GET /hall/ws", h.hub)
	mux.HandleFunc("GET /api/v1/calls", func(w http.ResponseWriter, r *http.Request) {
		if err := httpapi.WriteJSON(w, http.StatusOK, h.Calls()); err != nil {
			h.log.Error("calls not encoded", "err", err)
		}
	})
}

// Close disconnects the hall pages.
func (h *Hall) Close() { h.hub.Close() }

type hallSnapshot struct {
	Type        string             `json:"type"`
	Office      proto.Office       `json:"office"`
	Groups      []proto.Group      `json:"groups"`
	Queues      []proto.QueueLen   `json:"queues"`
	Calls       []ShownCall        `json:"calls"`
	Message     *proto.HallMessage `json:"message,omitempty"`
	RecentCalls int                `json:"recent_calls"`
	HighlightMS int64              `json:"highlight_ms"`
	// Voice: calls are spoken, and blink from when they are; without a
	// voice they blink at once.
	Voice bool `json:"voice"`
	// ServerUp: what is shown is current. When false the page says, in
	// visitors' words, that the board is updating, so nobody trusts a
	// stale board; the reason is for technicians, in /healthz.
	ServerUp bool `json:"server_up"`
	// Now is the time now, in milliseconds since 1970, on the queue
	// server's clock as kioskd last measured it: the page's clock shows
	// it (in the office's time zone, Office.Timezone), whatever the TV's
	// own clock says.
	Now float64 `json:"now"`
}

func (h *Hall) snapshot() any {
	h.mu.Lock()
	defer h.mu.Unlock()
	return hallSnapshot{
		Type: "snapshot", Office: h.office, Groups: h.groups, Queues: h.queues,
		Calls: append([]ShownCall{}, h.calls...), Message: h.message, RecentCalls: h.cfg.RecentCalls,
		HighlightMS: h.cfg.Highlight.Milliseconds(), Voice: h.voice != nil, ServerUp: h.serverUp,
		Now: float64(h.clock.Now().Add(h.offset).UnixMicro()) / 1000,
	}
}

// Link says whether the server is reachable.
func (h *Hall) Link(up bool) {
	h.mu.Lock()
	h.serverUp = up
	if up {
		h.offset = h.welcomed
	}
	h.mu.Unlock()
	h.hub.Broadcast(h.snapshot())
}

// Calls returns the calls on show, newest first.
func (h *Hall) Calls() []ShownCall {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]ShownCall{}, h.calls...)
}

// Welcome takes the server's snapshot. Its recent calls are shown but not
// announced: they were called before this terminal (re)connected.
func (h *Hall) Welcome(w *proto.Welcome) {
	h.mu.Lock()
	h.office = w.Office
	h.groups = w.Catalogue.Groups
	if !w.ServerTime.IsZero() {
		h.welcomed = w.ServerTime.Sub(h.clock.Now())
		if h.serverUp { // only a live welcome comes while the link is up
			h.offset = h.welcomed
		}
	}
	h.queues = w.Queues
	if w.HallMessage != nil {
		h.message = w.HallMessage
	}
	h.calls = nil
	for _, c := range w.RecentCalls {
		h.push(ShownCall{Call: c, Announced: true, snapshot: true})
	}
	h.mu.Unlock()
	h.hub.Broadcast(h.snapshot())
	h.updateBoards()
}

// Update takes a new office name and catalogue.
func (h *Hall) Update(u *proto.Update) {
	h.mu.Lock()
	h.office, h.groups = u.Office, u.Catalogue.Groups
	h.mu.Unlock()
	h.hub.Broadcast(h.snapshot())
}

// HallMessage sets the running line; an empty text clears it.
func (h *Hall) HallMessage(m *proto.HallMessage) {
	h.mu.Lock()
	h.message = m
	if m.Text.UK == "" && m.Text.EN == "" {
		h.message = nil
		if h.cfg.Message.UK != "" {
			h.message = &proto.HallMessage{Text: h.cfg.Message}
		}
	}
	h.mu.Unlock()
	h.hub.Broadcast(h.snapshot())
}

// Cancel takes a withdrawn call off the displays.
func (h *Hall) Cancel(c proto.Cancel) {
	h.mu.Lock()
	kept := h.calls[:0]
	for _, x := range h.calls {
		if x.ID != c.Call && !(c.Call == "" && x.Ticket == c.Ticket) {
			kept = append(kept, x)
		}
	}
	h.calls = kept
	h.mu.Unlock()
	h.hub.Broadcast(h.snapshot())
	h.updateBoards()
}

// Call shows and announces a new call. A repeated call moves its ticket
// back to the top.
func (h *Hall) Call(c proto.Call) {
	h.mu.Lock()
	known := false
	for i, x := range h.calls {
		if x.ID == c.ID {
			if !x.snapshot {
				h.mu.Unlock()
				return // the same call delivered twice is shown and spoken once
			}
			h.calls[i].snapshot, h.calls[i].Announced, known = false, false, true
		}
	}
	if !known {
		h.push(ShownCall{Call: c})
	}
	h.mu.Unlock()
	h.log.Info("call shown", "ticket", c.Ticket, "window", c.Window, "recall", c.Recall)
	if !h.knownWindow(c.Window) {
		h.log.Warn("call for a window no service group lists; shown and spoken as sent", "ticket", c.Ticket, "window", c.Window)
	}
	h.hub.Broadcast(struct {
		Type string    `json:"type"`
		Call ShownCall `json:"call"`
		// Sent is when kioskd sent it, in milliseconds since 1970: the
		// page measures how long the update took to show.
		Sent float64 `json:"sent"`
	}{"call", ShownCall{Call: c}, float64(time.Now().UnixMicro()) / 1000})
	h.updateBoards()
	if h.voice != nil {
		h.voice.Announce(c)
	}
}

// knownWindow reports whether the catalogue lists window n (true when the
// catalogue lists no windows at all).
func (h *Hall) knownWindow(n int) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	listed := false
	for _, g := range h.groups {
		for _, w := range g.Windows {
			if w == n {
				return true
			}
			listed = true
		}
	}
	return !listed
}

// push puts c on top, dropping an earlier call of the same ticket and the
// calls beyond what the page lists. h.mu is held.
func (h *Hall) push(c ShownCall) {
	out := []ShownCall{c}
	for _, x := range h.calls {
		if x.Ticket != c.Ticket && len(out) <= h.cfg.RecentCalls {
			out = append(out, x)
		}
	}
	h.calls = out
}

// Speaking says a call's announcement has started: the page starts its
// highlight, so eyes and ears meet.
func (h *Hall) Speaking(c proto.Call) {
	h.hub.Broadcast(struct {
		Type string `json:"type"`
		ID   string `json:"id"`
	}{"speaking", c.ID})
}

// Announced marks a call as spoken (or not: err says why).
func (h *Hall) Announced(c proto.Call, err error) {
	h.mu.Lock()
	for i := range h.calls {
		if h.calls[i].ID == c.ID {
			h.calls[i].Announced = true
		}
	}
	h.mu.Unlock()
	msg := struct {
		Type  string `json:"type"`
		ID    string `json:"id"`
		Error string `json:"error,omitempty"`
	}{Type: "announced", ID: c.ID}
	if err != nil {
		msg.Error = err.Error()
	}
	h.hub.Broadcast(msg)
}

// Queues updates the queue lengths shown.
func (h *Hall) Queues(q []proto.QueueLen) {
	h.mu.Lock()
	h.queues = q
	h.mu.Unlock()
	h.hub.Broadcast(struct {
		Type   string           `json:"type"`
		Queues []proto.QueueLen `json:"queues"`
	}{"queues", q})
}

// updateBoards shows the latest calls on the hall's LED boards, one
// "ticket → window" per line.
func (h *Hall) updateBoards() {
	h.mu.Lock()
	var lines []string
	for i, c := range h.calls {
		if i == 3 {
			break
		}
		lines = append(lines, fmt.Sprintf("%s → %d", c.Ticket, c.Window))
	}
	h.mu.Unlock()
	for _, b := range h.boards {
		if err := b.Show(lines); err != nil {
			h.log.Error("board update failed", "board", b.Name(), "err", err)
		}
	}
}
