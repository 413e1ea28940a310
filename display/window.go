package display

import (
	"log/slog"
	"sync"

	"github.com/cherga/kiosk/httpapi"
	"github.com/cherga/kiosk/link/proto"
)

// Window is the window role: the display above or beside one service
// window, showing the ticket called to it.
type Window struct {
	number int
	board  Board // may be nil
	log    *slog.Logger
	hub    *Hub

	mu      sync.Mutex
	office  proto.Office
	current *proto.Call
}

func NewWindow(number int, board Board, log *slog.Logger) *Window {
	w := &Window{number: number, board: board, log: log}
	w.hub = NewHub(log, w.snapshot)
	return w
}

// Register adds the window's page to mux.
func (w *Window) Register(mux httpapi.Routes) {
	mux.Handle("GET /window/", staticPages)
	mux.Handle("GET /window/ws", w.hub)
}

func (w *Window) Close() { w.hub.Close() }

type windowState struct {
	Type   string       `json:"type"`
	Window int          `json:"window"`
	Office proto.Office `json:"office"`
	Call   *proto.Call  `json:"call"`
}

func (w *Window) snapshot() any {
	w.mu.Lock()
	defer w.mu.Unlock()
	return windowState{Type: "snapshot", Window: w.number, Office: w.office, Call: w.current}
}

// Welcome picks this window's latest call from the server's snapshot.
func (w *Window) Welcome(s *proto.Welcome) {
	w.mu.Lock()
	w.office = s.Office
	for i := range s.RecentCalls {
		if c := s.RecentCalls[i]; c.Window == w.number {
			w.current = &c
		}
	}
	w.mu.Unlock()
	w.show()
}

// Call shows c if it is for this window.
func (w *Window) Call(c proto.Call) {
	if c.Window != w.number {
		return
	}
	w.mu.Lock()
	w.current = &c
	w.mu.Unlock()
	w.show()
}

// Cancel clears the display if its call was withdrawn.
func (w *Window) Cancel(c proto.Cancel) {
	w.mu.Lock()
	hit := w.current != nil && (w.current.ID == c.Call || w.current.Ticket == c.Ticket)
	if hit {
		w.current = nil
	}
	w.mu.Unlock()
	if hit {
		w.show()
	}
}

func (w *Window) show() {
	w.hub.Broadcast(w.snapshot())
	w.mu.Lock()
	var lines []string
	if w.current != nil {
		lines = []string{w.current.Ticket}
	}
	w.mu.Unlock()
	if w.board != nil {
		if err := w.board.Show(lines); err != nil {
			w.log.Error("window board update failed", "board", w.board.Name(), "err", err)
		}
	}
}
