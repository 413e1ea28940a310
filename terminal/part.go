package terminal

import (
	"context"
	"errors"
	"github.com/cherga/kiosk/httpapi"
	"io"
	"net"

	"github.com/cherga/kiosk/devices"
	"github.com/cherga/kiosk/link/proto"
)

// A part is one role or device group of a terminal. New builds the parts
// in the order of builders and registers their routes; Run runs each in
// its own goroutine until the terminal stops (a part's Run disconnects its
// pages when ctx ends); Close, in the reverse order, closes its devices
// once no part runs and no request is being handled.
type part interface {
	Name() string
	Register(mux httpapi.Routes)
	Run(ctx context.Context) error
	Close() error
}

// What a part may also do; the terminal finds out with a type assertion,
// so a part implements only what it takes part in.
type (
	// devicer reports the part's devices for /healthz and to the server.
	devicer interface {
		Devices() []func() devices.Status
	}
	// caller shows a call, and says whether it did (a window shows only
	// its own).
	caller      interface{ Call(c proto.Call) bool }
	canceller   interface{ Cancel(c proto.Cancel) }
	welcomer    interface{ Welcome(w *proto.Welcome) }
	linkWatcher interface{ Link(up bool) }
	// queueWatcher takes the queue lengths per service group.
	queueWatcher  interface{ Queues(q []proto.QueueLen) }
	hallMessenger interface{ HallMessage(m *proto.HallMessage) }
	// windowStater takes the state of a window the terminal named in
	// hello (its bus devices' windows).
	windowStater interface{ Window(w proto.WindowState) }
	updater      interface{ Update(u *proto.Update) }
	// listening is told the terminal's address before it serves (the
	// kiosk allows only its own page's origin).
	listening interface{ Listening(addr net.Addr) error }
	// healthReporter adds what only it knows to /healthz.
	healthReporter interface{ addHealth(h *health) }
)

// builders make the parts, in this order; each returns nil when the
// configuration does not ask for it. The display part comes before the
// hall and window, whose simulated boards it shows; the link part first,
// so it stops last; the gpio part before the parts that take its pins.
var builders = []func(b *build) (part, error){
	newLinkPart,
	newHealthPart,
	newDiskPart,
	newGPIOPart,
	newDisplayPart,
	newHallPart,
	newWindowPart,
	newKioskPart,
	newBusPart,
	newAdminPart, // last: it closes first, and sees every part's devices
}

// build is what the builders share while a terminal is made.
type build struct {
	*Terminal
	display *displayPart // nil without the hall and window roles
	gpio    *gpioPart    // nil when no pin is configured; its pin method takes nil
	scans   *scanLog     // the kiosk's scans, for the admin page; nil without a kiosk
}

// fanout hands what the server pushes to every part that takes it, and
// tells the server a call was shown.
type fanout struct{ t *Terminal }

func (f fanout) Welcome(w *proto.Welcome) {
	for _, p := range f.t.parts {
		if p, ok := p.(welcomer); ok {
			p.Welcome(w)
		}
	}
}

func (f fanout) Call(c proto.Call) {
	shown := false
	for _, p := range f.t.parts {
		if p, ok := p.(caller); ok {
			shown = p.Call(c) || shown
		}
	}
	if shown {
		f.t.metrics.callShown()
		f.t.report(&proto.Message{Type: proto.TypeCallShown, Seen: &proto.CallSeen{Call: c.ID, At: f.t.clock.Now()}})
	}
}

func (f fanout) Cancel(c proto.Cancel) {
	for _, p := range f.t.parts {
		if p, ok := p.(canceller); ok {
			p.Cancel(c)
		}
	}
}

func (f fanout) Link(up bool) {
	f.t.metrics.linkChanged(up)
	for _, p := range f.t.parts {
		if p, ok := p.(linkWatcher); ok {
			p.Link(up)
		}
	}
}

func (f fanout) Queues(q []proto.QueueLen) {
	for _, p := range f.t.parts {
		if p, ok := p.(queueWatcher); ok {
			p.Queues(q)
		}
	}
}

func (f fanout) HallMessage(m *proto.HallMessage) {
	for _, p := range f.t.parts {
		if p, ok := p.(hallMessenger); ok {
			p.HallMessage(m)
		}
	}
}

func (f fanout) Window(w proto.WindowState) {
	for _, p := range f.t.parts {
		if p, ok := p.(windowStater); ok {
			p.Window(w)
		}
	}
}

func (f fanout) Update(u *proto.Update) {
	for _, p := range f.t.parts {
		if p, ok := p.(updater); ok {
			p.Update(u)
		}
	}
}

// deviceSet is the devices a part drives, embedded in the part: each is
// reported in /healthz and, if it has Close, closed with the part; one
// kept open by a supervise loop (it has Restart) can be restarted from
// the admin page.
type deviceSet struct {
	statuses   []func() devices.Status
	closers    []io.Closer
	restarters map[string]func() bool // by device name
}

// restarter is a device kept open by a supervise loop (supervise.Loop's
// Restart: close it and open it again at once).
type restarter interface{ Restart() bool }

func (s *deviceSet) add(d interface{ Status() devices.Status }) {
	s.statuses = append(s.statuses, d.Status)
	if c, ok := d.(io.Closer); ok {
		s.closers = append(s.closers, c)
	}
	if r, ok := d.(restarter); ok {
		if s.restarters == nil {
			s.restarters = map[string]func() bool{}
		}
		s.restarters[d.Status().Name] = r.Restart
	}
}

func (s *deviceSet) Restarters() map[string]func() bool { return s.restarters }

func (s *deviceSet) Devices() []func() devices.Status { return s.statuses }

// Close closes the devices, the last opened first.
func (s *deviceSet) Close() error {
	var errs []error
	for i := len(s.closers) - 1; i >= 0; i-- {
		errs = append(errs, s.closers[i].Close())
	}
	return errors.Join(errs...)
}
