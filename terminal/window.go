package terminal

import (
	"context"
	"fmt"
	"github.com/cherga/kiosk/httpapi"

	"github.com/cherga/kiosk/configs"
	"github.com/cherga/kiosk/display"
	"github.com/cherga/kiosk/link/proto"
)

// windowPart is the window role: the display of one service window at
// /window/ and its board, showing the calls to that window only.
type windowPart struct {
	deviceSet
	number int
	window *display.Window
}

func newWindowPart(b *build) (part, error) {
	if !b.cfg.Has(configs.RoleWindow) {
		return nil, nil
	}
	w := b.cfg.Window
	if w.Board.Name == "" {
		w.Board.Name = fmt.Sprintf("window-%d", w.Number)
	}
	p := &windowPart{number: w.Number}
	p.window = display.NewWindow(w.Number, b.display.openBoard(&p.deviceSet, w.Board), b.log)
	return p, nil
}

func (*windowPart) Name() string                  { return "window" }
func (p *windowPart) Register(mux httpapi.Routes) { p.window.Register(mux) }

// Run disconnects the window's page when the terminal stops.
func (p *windowPart) Run(ctx context.Context) error {
	<-ctx.Done()
	p.window.Close()
	return nil
}

func (p *windowPart) Welcome(w *proto.Welcome) { p.window.Welcome(w) }
func (p *windowPart) Cancel(c proto.Cancel)    { p.window.Cancel(c) }

// Call shows a call to this window; calls to other windows are not its.
func (p *windowPart) Call(c proto.Call) bool {
	if c.Window != p.number {
		return false
	}
	p.window.Call(c)
	return true
}
