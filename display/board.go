// Package display makes calls seen: the hall display page for the TVs, the
// per-window display, and the LED boards, all fed from the calls the queue
// server pushes. Voice, the other half of every call, is in announce.
//
// A display never shows stale data silently: pages get a full snapshot when
// they (re)connect, then every change, and show when they lose the
// connection.
package display

import (
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/cherga/kiosk/devices"
)

// Board is an LED board or a window's own display: a few lines of text.
type Board interface {
	Name() string
	Show(lines []string) error
	Status() devices.Status
}

// SimBoard is a simulated LED board: it keeps what it was told to show, and
// the /boards/ page displays it.
type SimBoard struct {
	name    string
	changed func()
	clock   clockwork.Clock
	mu      sync.Mutex
	lines   []string
	updated time.Time
	since   time.Time
}

// NewSimBoard makes a board; changed, if not nil, is called after every
// Show. clock, if given, is the terminal's (for the status's times), else
// the real clock.
func NewSimBoard(name string, changed func(), clock ...clockwork.Clock) *SimBoard {
	c := clockOr(clock)
	return &SimBoard{name: name, changed: changed, clock: c, since: c.Now()}
}

// clockOr is the optional clock of a constructor; none or nil: the real
// clock.
func clockOr(clock []clockwork.Clock) clockwork.Clock {
	if len(clock) > 0 && clock[0] != nil {
		return clock[0]
	}
	return clockwork.NewRealClock()
}

func (b *SimBoard) Name() string { return b.name }

func (b *SimBoard) Show(lines []string) error {
	b.mu.Lock()
	b.lines = append([]string(nil), lines...)
	b.updated = b.clock.Now()
	b.mu.Unlock()
	if b.changed != nil {
		b.changed()
	}
	return nil
}

// Lines is what the board shows now.
func (b *SimBoard) Lines() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.lines...)
}

func (b *SimBoard) Status() devices.Status {
	b.mu.Lock()
	defer b.mu.Unlock()
	detail := "blank"
	if len(b.lines) > 0 {
		detail = fmt.Sprintf("showing %q since %s", b.lines, b.updated.Format(time.TimeOnly))
	}
	return devices.Status{Name: b.name, Kind: "board", Driver: "sim", State: devices.OK, Since: b.since, Detail: detail}
}

// BoardsPage shows every simulated board at /boards/, live.
type BoardsPage struct {
	clock  clockwork.Clock
	mu     sync.Mutex
	boards []*SimBoard
	hub    *Hub
}

// NewBoardsPage makes the page; clock, if given, is its boards' (see
// NewSimBoard).
func NewBoardsPage(log *slog.Logger, clock ...clockwork.Clock) *BoardsPage {
	p := &BoardsPage{clock: clockOr(clock)}
	p.hub = NewHub(log, p.snapshot)
	return p
}

// New makes a simulated board shown on this page.
func (p *BoardsPage) New(name string) *SimBoard {
	b := NewSimBoard(name, func() { p.hub.Broadcast(p.snapshot()) }, p.clock)
	p.mu.Lock()
	p.boards = append(p.boards, b)
	p.mu.Unlock()
	return b
}

type boardState struct {
	Name  string   `json:"name"`
	Lines []string `json:"lines"`
}

func (p *BoardsPage) snapshot() any {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := struct {
		Type   string       `json:"type"`
		Boards []boardState `json:"boards"`
	}{Type: "boards", Boards: []boardState{}}
	for _, b := range p.boards {
		out.Boards = append(out.Boards, boardState{Name: b.Name(), Lines: b.Lines()})
	}
	return out
}

// Close disconnects the boards page.
func (p *BoardsPage) Close() { p.hub.Close() }
