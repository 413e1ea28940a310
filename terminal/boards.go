package terminal

import (
	"context"
	"github.com/cherga/kiosk/httpapi"

	"github.com/cherga/kiosk/configs"
	"github.com/cherga/kiosk/display"
	"github.com/cherga/kiosk/display/alpha"
)

// displayPart is what the hall and window pages share: their common
// script and, when a board is simulated or a bus emulated, the /boards/
// page that shows them (the bus part serves the bus's faces, bussim.go).
// The hall and window parts open their boards through it.
type displayPart struct {
	t   *Terminal
	sim *display.BoardsPage // nil until a simulated board is opened
}

func newDisplayPart(b *build) (part, error) {
	emulated := busEmulated(b.cfg)
	if !b.cfg.Has(configs.RoleHall) && !b.cfg.Has(configs.RoleWindow) && !emulated {
		return nil, nil
	}
	b.display = &displayPart{t: b.Terminal}
	if emulated {
		b.display.sim = display.NewBoardsPage(b.log)
	}
	return b.display, nil
}

func (*displayPart) Name() string { return "display" }
func (*displayPart) Close() error { return nil }

func (p *displayPart) Register(mux httpapi.Routes) {
	display.RegisterAssets(mux)
	if p.sim != nil {
		p.sim.Register(mux)
	}
}

// Run disconnects the boards page when the terminal stops.
func (p *displayPart) Run(ctx context.Context) error {
	<-ctx.Done()
	if p.sim != nil {
		p.sim.Close()
	}
	return nil
}

// openBoard opens a board for the part whose devices are ds; nil when it
// could not be opened (said in the log) or none is configured.
func (p *displayPart) openBoard(ds *deviceSet, b configs.Board) display.Board {
	switch b.Driver {
	case configs.BoardSim:
		if p.sim == nil {
			p.sim = display.NewBoardsPage(p.t.log)
		}
		board := p.sim.New(b.Name)
		ds.add(board)
		return board
	case configs.BoardAlpha:
		board, err := alpha.Open(alpha.Config{Name: b.Name, Port: b.Port, Baud: b.Baud, Framing: string(b.Framing),
			Address: b.Address, Charset: alpha.Charset(b.Charset), Lines: b.Lines, Log: p.t.log, Clock: p.t.clock})
		if err != nil {
			// The config check makes this unreachable; say so if not.
			p.t.log.Error("LED board not started", "board", b.Name, "err", err)
			return nil
		}
		ds.add(board)
		return board
	}
	return nil
}
