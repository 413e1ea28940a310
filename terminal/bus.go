package terminal

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/cherga/kiosk/configs"
	"github.com/cherga/kiosk/devices"
	"github.com/cherga/kiosk/firmware-bridge/bus"
	"github.com/cherga/kiosk/firmware-bridge/modbus"
	"github.com/cherga/kiosk/httpapi"
	"github.com/cherga/kiosk/i18n"
	"github.com/cherga/kiosk/link/proto"
)

// busPart drives the terminal's RS-485 buses (firmware-bridge/bus),
// whatever its roles: calls to a window go to that window's displays; the
// keys of its keypads become keypad events and the marks of its rating
// panels rating events, each committed once to the outbox with the
// device's last sequence number (link.Client.ReportMarked); the keypads'
// LCDs show the window's state as the server tells it (proto.WindowState),
// in the operator's language, and "no connection" while the link is down,
// when presses are still taken and kept in the outbox.
type busPart struct {
	t     *Terminal
	buses []*bus.Bus
	wins  map[int]*busWindow // by window number; fixed once built

	mu       sync.Mutex
	up       bool
	states   map[int]proto.WindowState
	pressed  map[int]bool         // a key was pressed there since its last state
	saved    map[int]int          // presses kept in the outbox while the link is down
	digits   map[int]string       // a transfer's target being typed on a digit row
	prompted map[int]string       // the ticket the rating panels were invited for
	shows    map[busShower]string // the call each display shows

	sim *busSim // the buses the emulator plays, for /boards/; nil: none
}

// busShower is a display on a bus: ours or another maker's.
type busShower interface {
	Show(ctx context.Context, c bus.Call) error
	Clear(ctx context.Context) error
	Name() string
}

// busWindow is the devices of one window.
type busWindow struct {
	number   int
	displays []busShower
	keypads  []*bus.Keypad
	ratings  []*bus.Rating
}

// keypadLang is the language of the keypads' LCDs: the operators'.
const keypadLang = "uk"

// Times of the bus part: how long a call may wait for the bus, how long
// a rating panel invites a mark after a visit, the beep for a refused key.
const (
	busShowTimeout = 2 * time.Second
	ratingPrompt   = 60 * time.Second
	refusedBeep    = 300 * time.Millisecond
)

func newBusPart(b *build) (part, error) {
	c := b.cfg
	if len(c.Buses) == 0 {
		return nil, nil
	}
	p := &busPart{t: b.Terminal, wins: map[int]*busWindow{}, states: map[int]proto.WindowState{},
		pressed: map[int]bool{}, saved: map[int]int{}, digits: map[int]string{}, prompted: map[int]string{},
		shows: map[busShower]string{}, sim: newBusSim(c, b.log.With("part", "bus"))}
	loc := time.Local
	if snap := b.link.Snapshot(); snap != nil {
		loc = officeLocation(snap.Office, loc)
	}
	for i, bc := range c.Buses {
		line, err := modbus.ParseLine(bc.Line)
		if err != nil { // checked when the config was read
			return nil, fmt.Errorf("buses[%d].line: %w", i, err)
		}
		cfg := bus.Config{Name: c.BusName(i), Port: bc.Port, Line: line, Journal: p, Clock: b.clock,
			Location: loc, Log: b.log.With("part", "bus")}
		if bc.Timeout > 0 {
			// The whole wait for an answer to start, after the request's
			// t3.5: the device's turnaround and the adapter's latency.
			cfg.Master = modbus.MasterOptions{Turnaround: bc.Timeout, FileTurnaround: bc.Timeout + 20*time.Millisecond, Slack: time.Nanosecond}
		}
		if bc.Direction != "" {
			if pin := b.gpio.pin(bc.Direction, fmt.Sprintf("buses[%d].direction", i)); pin != nil {
				cfg.Direction = modbus.PinDirection{Pin: pin, ActiveLow: bc.DirectionActiveLow}
			}
		}
		for _, d := range bc.Devices {
			cfg.Devices = append(cfg.Devices, busDevice(d))
		}
		bb, err := bus.New(cfg)
		if err != nil { // checked when the config was read
			return nil, fmt.Errorf("buses[%d]: %w", i, err)
		}
		p.buses = append(p.buses, bb)
		for _, d := range bb.Displays() {
			p.window(d.Window()).displays = append(p.window(d.Window()).displays, d)
		}
		for _, d := range bb.ProfileDisplays() {
			p.window(d.Window()).displays = append(p.window(d.Window()).displays, d)
		}
		for _, k := range bb.Keypads() {
			p.window(k.Window()).keypads = append(p.window(k.Window()).keypads, k)
		}
		for _, r := range bb.Ratings() {
			p.window(r.Window()).ratings = append(p.window(r.Window()).ratings, r)
		}
	}
	for n := range p.wins {
		p.render(n)
	}
	return p, nil
}

func (p *busPart) window(n int) *busWindow {
	w := p.wins[n]
	if w == nil {
		w = &busWindow{number: n}
		p.wins[n] = w
	}
	return w
}

// busDevice is a device's configuration for the bus package.
func busDevice(d configs.BusDevice) bus.DeviceConfig {
	dc := bus.DeviceConfig{Name: d.BusDeviceName(), Type: bus.Type(d.Type), Address: byte(d.Address), Window: d.Window,
		Brightness: 10, Idle: map[string]bus.Idle{"blank": bus.IdleBlank, "clock": bus.IdleClock, "window": bus.IdleWindow}[d.Idle]}
	if d.Brightness != nil {
		dc.Brightness = *d.Brightness
	}
	if pr := d.Profile; pr != nil {
		dc.Profile = bus.Profile{Register: uint16(pr.Register), Length: pr.Length, CharsPerRegister: pr.CharsPerRegister,
			Encoding: bus.Encoding(pr.Encoding), Function: modbus.Function(pr.Function)}
		if pr.WindowRegister != nil {
			dc.Profile.HasWindow, dc.Profile.WindowRegister = true, uint16(*pr.WindowRegister)
		}
	}
	return dc
}

func (*busPart) Name() string { return "bus" }

// Register serves the emulated buses' faces and keys (bussim.go).
func (p *busPart) Register(mux httpapi.Routes) {
	if p.sim != nil {
		p.sim.Register(mux)
	}
}

// Run keeps every bus open and polled until the terminal stops.
func (p *busPart) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, b := range p.buses {
		wg.Go(func() { _ = b.Run(ctx) })
	}
	wg.Wait()
	return nil
}

func (p *busPart) Close() error {
	var first error
	for _, b := range p.buses {
		if err := b.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Devices are every bus's port and devices, for /healthz and the server.
func (p *busPart) Devices() []func() devices.Status {
	var out []func() devices.Status
	for _, b := range p.buses {
		out = append(out, b.Devices()...)
	}
	return out
}

// Mark and Commit make the part the buses' journal: a press and the
// device's sequence number land in the outbox in one transaction.
func (p *busPart) Mark(key string) ([]byte, error) { return p.t.link.Mark(key) }

func (p *busPart) Commit(ev bus.Event, key string, value []byte) error {
	m, typed := p.message(ev)
	if typed {
		p.render(ev.Window)
	}
	if m == nil {
		return nil // a key that means nothing here: taken, not reported
	}
	if _, err := p.t.link.ReportMarked(m, key, value); err != nil {
		return err
	}
	p.mu.Lock()
	p.pressed[ev.Window] = true
	up := p.up
	if !up {
		p.saved[ev.Window]++
	}
	p.mu.Unlock()
	if !up {
		p.render(ev.Window)
	}
	return nil
}

// keypadKeys are what our keypad's keys mean to the server. The one
// pause key toggles: the server resumes a paused window on pause.
var keypadKeys = map[bus.Key]string{
	bus.KeyNext: proto.KeyNext, bus.KeyRecall: proto.KeyRecall, bus.KeyCame: proto.KeyCame,
	bus.KeyFinish: proto.KeyFinish, bus.KeyNoShow: proto.KeyNoShow, bus.KeyTransfer: proto.KeyTransfer,
	bus.KeyPause: proto.KeyPause,
}

// message is the event a press makes, nil for none, and whether the
// digits typed changed. A long press means what a short one does. Digits
// (a keypad with a digit row) type the window a transfer goes to; any
// other key forgets them.
func (p *busPart) message(ev bus.Event) (*proto.Message, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if ev.Type == bus.TypeRating {
		ticket := p.prompted[ev.Window]
		if ticket == "" {
			ticket = p.states[ev.Window].Finished
		}
		return &proto.Message{Type: proto.TypeRating,
			Rating: &proto.Rating{Ticket: ticket, Window: ev.Window, Score: int(ev.Key), At: ev.At}}, false
	}
	if d, ok := ev.Key.Digit(); ok {
		if s := p.digits[ev.Window]; len(s) < 3 {
			p.digits[ev.Window] = s + strconv.Itoa(d)
		}
		return nil, true
	}
	key, ok := keypadKeys[ev.Key]
	if !ok {
		return nil, false
	}
	k := &proto.Keypad{Window: ev.Window, Key: key, At: ev.At}
	if key == proto.KeyTransfer {
		k.To, _ = strconv.Atoi(p.digits[ev.Window])
	}
	had := p.digits[ev.Window] != ""
	delete(p.digits, ev.Window)
	return &proto.Message{Type: proto.TypeKeypad, Keypad: k}, had
}

// Call shows a call on its window's displays; it was shown if one of
// them has it. A display that cannot be reached now shows it as soon as
// it can.
func (p *busPart) Call(c proto.Call) bool {
	w := p.wins[c.Window]
	if w == nil {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), busShowTimeout)
	defer cancel()
	shown := false
	for _, d := range w.displays {
		p.mu.Lock()
		p.shows[d] = c.Ticket
		p.mu.Unlock()
		if err := d.Show(ctx, bus.Call{Text: c.Ticket}); err != nil {
			p.t.log.Warn("call not shown yet", "display", d.Name(), "ticket", c.Ticket, "err", err)
			continue
		}
		shown = true
	}
	return shown
}

// Cancel blanks the displays that show the withdrawn call's ticket.
func (p *busPart) Cancel(c proto.Cancel) {
	for n, w := range p.wins {
		if c.Window != 0 && n != c.Window {
			continue
		}
		p.clearShowing(w, func(ticket string) bool { return ticket == c.Ticket })
	}
}

// clearShowing blanks the window's displays whose ticket matches.
func (p *busPart) clearShowing(w *busWindow, match func(ticket string) bool) {
	ctx, cancel := context.WithTimeout(context.Background(), busShowTimeout)
	defer cancel()
	for _, d := range w.displays {
		p.mu.Lock()
		ticket, showing := p.shows[d]
		if showing && match(ticket) {
			delete(p.shows, d)
		} else {
			showing = false
		}
		p.mu.Unlock()
		if showing {
			if err := d.Clear(ctx); err != nil {
				p.t.log.Warn("display not cleared yet", "display", d.Name(), "err", err)
			}
		}
	}
}

// Welcome sets the devices' clocks to the office's time zone, and puts
// the window's last call back on a display that shows nothing, for a
// window whose state the server has not said.
func (p *busPart) Welcome(w *proto.Welcome) {
	loc := officeLocation(w.Office, time.Local)
	for _, b := range p.buses {
		b.SetLocation(loc)
	}
	ctx, cancel := context.WithTimeout(context.Background(), busShowTimeout)
	defer cancel()
	for n, win := range p.wins {
		p.mu.Lock()
		_, known := p.states[n]
		p.mu.Unlock()
		if known || (w.Window != nil && w.Window.Window == n) {
			continue
		}
		var last *proto.Call
		for i := range w.RecentCalls {
			if c := &w.RecentCalls[i]; c.Window == n && (last == nil || c.At.After(last.At)) {
				last = c
			}
		}
		if last == nil {
			continue
		}
		for _, d := range win.displays {
			p.mu.Lock()
			_, showing := p.shows[d]
			if !showing {
				p.shows[d] = last.Ticket
			}
			p.mu.Unlock()
			if !showing {
				_ = d.Show(ctx, bus.Call{Text: last.Ticket, Blink: time.Second})
			}
		}
	}
}

// Window takes a window's new state: its keypads show it (and beep when
// a key just pressed was refused), its displays follow the ticket at the
// window, and its rating panels invite a mark when a visit has finished.
func (p *busPart) Window(ws proto.WindowState) {
	w := p.wins[ws.Window]
	if w == nil {
		return
	}
	now := p.t.clock.Now()
	p.mu.Lock()
	prev, had := p.states[ws.Window]
	p.states[ws.Window] = ws
	pressed := p.pressed[ws.Window]
	p.pressed[ws.Window] = false
	prompt := ws.Finished != "" && ws.Finished != p.prompted[ws.Window] && now.Sub(ws.FinishedAt) < ratingPrompt
	if prompt {
		p.prompted[ws.Window] = ws.Finished
	}
	p.mu.Unlock()
	p.render(ws.Window)
	// A refusal is beeped once: for a key just pressed here, or a state
	// that changed to it (not one repeated by a welcome).
	if ws.Refused != "" && (pressed || had && prev != ws) {
		for _, k := range w.keypads {
			k.Beep(refusedBeep)
		}
	}
	if prompt {
		left := ratingPrompt - max(now.Sub(ws.FinishedAt), 0)
		for _, r := range w.ratings {
			r.Prompt(left)
		}
	}
	switch ws.State {
	case proto.WindowCalling, proto.WindowServing:
		if ws.Ticket != "" {
			p.follow(w, ws.Ticket)
		}
	default:
		// Nobody at the window: nothing to show.
		p.clearShowing(w, func(string) bool { return true })
	}
}

// follow shows ticket on the window's displays that show another one
// (a call missed while a display was away); briefly blinking, since it
// is not a new call.
func (p *busPart) follow(w *busWindow, ticket string) {
	ctx, cancel := context.WithTimeout(context.Background(), busShowTimeout)
	defer cancel()
	for _, d := range w.displays {
		p.mu.Lock()
		stale := p.shows[d] != ticket
		if stale {
			p.shows[d] = ticket
		}
		p.mu.Unlock()
		if stale {
			_ = d.Show(ctx, bus.Call{Text: ticket, Blink: time.Second})
		}
	}
}

// Link: with the link down the keypads say so (presses are still taken,
// into the outbox); back up, they show the last state until the server
// sends the next.
func (p *busPart) Link(up bool) {
	p.mu.Lock()
	p.up = up
	if up {
		p.saved = map[int]int{}
	}
	p.mu.Unlock()
	for n := range p.wins {
		p.render(n)
	}
}

// render puts the window's state on its keypads.
func (p *busPart) render(n int) {
	w := p.wins[n]
	if w == nil || len(w.keypads) == 0 {
		return
	}
	p.mu.Lock()
	ws, known := p.states[n]
	up, saved, digits := p.up, p.saved[n], p.digits[n]
	p.mu.Unlock()
	line1, line2, on, blink := keypadFace(n, ws, known, up, saved, digits)
	for _, k := range w.keypads {
		k.SetText(line1, line2)
		k.SetLEDs(on, blink)
	}
}

// keypadFace is what a keypad of window n shows: two lines from the
// message catalogue (fitting the LCD, whose ROM draws few Cyrillic
// letters: bus.FitLCD) and its LEDs.
func keypadFace(n int, ws proto.WindowState, known, up bool, saved int, digits string) (line1, line2 string, on, blink bus.LEDs) {
	t := func(key string, args ...any) string { return i18n.T(keypadLang, key, args...) }
	if !up {
		line1, line2 = t("keypad.offline"), t("keypad.window", "n", n)
		if saved > 0 {
			line2 = t("keypad.saved", "n", saved)
		}
		return line1, line2, bus.LEDOffline, 0
	}
	if !known {
		return t("keypad.window", "n", n), "", 0, 0
	}
	line2 = t("keypad.waiting", "n", ws.Waiting)
	switch ws.State {
	case proto.WindowClosed:
		line1, line2 = t("keypad.closed", "n", n), t("keypad.sign_in")
	case proto.WindowIdle:
		line1, on = t("keypad.idle", "n", n), bus.LEDReady
	case proto.WindowCalling:
		line1, on, blink = t("keypad.calling", "ticket", ws.Ticket), bus.LEDServing, bus.LEDServing
	case proto.WindowServing:
		line1, on = t("keypad.serving", "ticket", ws.Ticket), bus.LEDServing
	case proto.WindowPaused:
		line1, on = t("keypad.paused", "n", n), bus.LEDPaused
	default:
		line1 = t("keypad.window", "n", n)
	}
	switch {
	case digits != "":
		line2 = t("keypad.transfer_to", "n", digits)
	case ws.Refused != "":
		line2 = t("keypad.refused." + ws.Refused)
		if len(line2) > 0 && line2[0] == '[' { // a code this kioskd does not know
			line2 = t("keypad.refused.other")
		}
	}
	return line1, line2, on, blink
}
