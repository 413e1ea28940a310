package terminal

import (
	"context"
	"github.com/cherga/kiosk/httpapi"
	"path/filepath"
	"testing"

	"github.com/jonboulle/clockwork"

	"github.com/cherga/kiosk/configs"
	"github.com/cherga/kiosk/display"
	"github.com/cherga/kiosk/link"
	"github.com/cherga/kiosk/link/proto"
)

// fakePart records the calls it is given and shows those it is told to.
type fakePart struct {
	show  bool
	calls []string
}

func (*fakePart) Name() string              { return "fake" }
func (*fakePart) Register(httpapi.Routes)   {}
func (*fakePart) Run(context.Context) error { return nil }
func (*fakePart) Close() error              { return nil }
func (p *fakePart) Call(c proto.Call) bool  { p.calls = append(p.calls, c.ID); return p.show }

// newBareTerminal is a terminal with an outbox and a link that never runs,
// and the given parts.
func newBareTerminal(t *testing.T, parts ...part) *Terminal {
	t.Helper()
	store, err := link.OpenStore(filepath.Join(t.TempDir(), "kioskd.db"), link.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	term := &Terminal{cfg: &configs.Terminal{}, log: newTestLog(t).Logger, clock: clockwork.NewFakeClock(), store: store, parts: parts}
	term.link = link.New(link.Config{URL: "ws://127.0.0.1:1/api/v1/link", Device: "t"}, store, fanout{term}, term.log)
	return term
}

// Every part that takes calls gets each; the server hears "shown" once
// if any showed it, and not at all if none did. A window shows only its
// own calls.
func TestFanoutCall(t *testing.T) {
	hall, other := &fakePart{show: true}, &fakePart{}
	window := &windowPart{number: 3, window: display.NewWindow(3, nil, newTestLog(t).Logger)}
	term := newBareTerminal(t, hall, other, window)
	f := fanout{term}

	f.Call(proto.Call{ID: "2026-12-01/1", Ticket: "А001", Window: 3})
	if got := term.store.Outbox().Events; got != 1 {
		t.Errorf("%d events after a call shown by two parts, want one call_shown", got)
	}
	hall.show = false
	f.Call(proto.Call{ID: "2026-12-01/2", Ticket: "А002", Window: 5})
	if got := term.store.Outbox().Events; got != 1 {
		t.Errorf("%d events after a call nobody showed, want still 1", got)
	}
	if window.Call(proto.Call{ID: "x", Window: 4}) || !window.Call(proto.Call{ID: "y", Window: 3}) {
		t.Error("window 3 showed another window's call, or not its own")
	}
	if len(hall.calls) != 2 || len(other.calls) != 2 {
		t.Errorf("parts got calls %v and %v", hall.calls, other.calls)
	}
}
