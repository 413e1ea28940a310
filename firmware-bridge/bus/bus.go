package bus

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/cherga/kiosk/devices"
	"github.com/cherga/kiosk/devices/supervise"
	"github.com/cherga/kiosk/firmware-bridge/modbus"
)

// Port is an opened bus port: a serial device, a pseudo-terminal, or a
// simulated line.
type Port interface {
	modbus.Port
	io.Closer
}

// Config is one bus.
type Config struct {
	// Name names the bus in health and logs: bus1.
	Name string
	// Port is the serial device (/dev/serial/by-id/…, /dev/ttyUSB0) or a
	// pseudo-terminal's path or link.
	Port string
	// Line is the speed and character format; the zero value is 19200 8E1.
	Line modbus.Line
	// Direction drives an RS-485 transceiver's DE/RE (modbus.PinDirection
	// on a GPIO pin); nil for adapters that switch by themselves.
	Direction modbus.Direction
	Devices   []DeviceConfig
	// Journal takes the presses of keypads and rating panels; required
	// when there are any.
	Journal Journal
	// Master tunes timeouts, retries and back-off; zero fields take
	// PROTOCOL.md section 11's values.
	Master modbus.MasterOptions
	// Open opens the port; nil: modbus.OpenSerial(Port, Line).
	Open func(ctx context.Context) (Port, error)
	// Clock is the time events are stamped with and written to devices.
	// nil: the real clock.
	Clock clockwork.Clock
	// LineClock paces the line: the silences and timeouts of the RTU
	// layer, the poll cycle, the waits before reopening the port. It
	// must be the real clock for a real port (the port's read timeouts
	// are real); a simulated line (modbustest.Bus) passes its own. nil:
	// the real clock.
	LineClock clockwork.Clock
	// Location is the local time zone devices show the time in; nil:
	// time.Local. SetLocation changes it.
	Location *time.Location
	// CycleMin is the least time from the start of one poll cycle to the
	// next; default 20 ms (on a real line at 19200 baud one keypad's poll
	// takes about that anyway; on a pseudo-terminal it keeps the bus from
	// spinning). A key press waits at most max(CycleMin, one cycle).
	CycleMin time.Duration
	// Token is the session token written to SYNC; 0: a random one, new
	// at every start, so a restarted kioskd sets every device up again.
	Token uint16
	// Backoff shapes the waits before reopening a port that failed.
	Backoff supervise.Backoff
	Log     *slog.Logger
}

// DeviceConfig is one device on the bus.
type DeviceConfig struct {
	Name    string
	Type    Type
	Address byte // 1–247
	Window  int  // 1–999
	// Brightness 0 (dark) to 15 (full); the configuration's default is 10.
	Brightness int
	// Idle is what a blank window display shows.
	Idle Idle
	// HostTimeout is a keypad's HOST_TIMEOUT: with no frame for this long
	// it shows offline by itself (kioskd stopped, the cable cut). 0: 10 s.
	HostTimeout time.Duration
	// Profile describes a display-profile device's registers.
	Profile Profile
}

// Idle is what a blank window display shows (H 0x010D).
type Idle uint16

const (
	IdleBlank  Idle = 0
	IdleClock  Idle = 1 // local time HH:MM
	IdleWindow Idle = 2 // the window number
)

// Bus drives the devices on one port. Build it with New, run it with Run.
type Bus struct {
	cfg       Config
	log       *slog.Logger
	clock     clockwork.Clock
	lineClock clockwork.Clock
	token     uint16
	port      *swapPort
	rtu       *modbus.RTU
	master    *modbus.Master
	sched     *modbus.Scheduler
	loop      *supervise.Loop[Port]
	wake      chan struct{}

	units     []device
	displays  []*Display
	keypads   []*Keypad
	ratings   []*Rating
	profiles  []*ProfileDisplay
	broadcast bool // only our devices on the line: time goes by broadcast

	mu       sync.Mutex
	open     bool
	loc      *time.Location
	nextTime time.Time
	last     modbus.CycleReport
}

// device is what the bus polls and reports.
type device interface {
	poll(ctx context.Context, m *modbus.Master, unit byte) error
	Status() devices.Status
	base() *unit
}

// New builds a bus; nothing is opened until Run.
func New(cfg Config) (*Bus, error) {
	if cfg.Name == "" {
		cfg.Name = "bus"
	}
	if cfg.Port == "" && cfg.Open == nil {
		return nil, fmt.Errorf("bus %s: no port", cfg.Name)
	}
	if err := cfg.Line.Validate(); err != nil {
		return nil, fmt.Errorf("bus %s: %w", cfg.Name, err)
	}
	if cfg.Clock == nil {
		cfg.Clock = clockwork.NewRealClock()
	}
	if cfg.LineClock == nil {
		cfg.LineClock = clockwork.NewRealClock()
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Location == nil {
		cfg.Location = time.Local
	}
	if cfg.CycleMin == 0 {
		cfg.CycleMin = 20 * time.Millisecond
	}
	for cfg.Token == 0 {
		cfg.Token = uint16(rand.N(65536))
	}
	b := &Bus{cfg: cfg, log: cfg.Log.With("bus", cfg.Name), clock: cfg.Clock, lineClock: cfg.LineClock,
		token: cfg.Token, port: &swapPort{}, wake: make(chan struct{}, 1), loc: cfg.Location, broadcast: true}
	b.rtu = modbus.NewRTU(b.port, modbus.RTUOptions{Line: cfg.Line, Direction: cfg.Direction, Clock: cfg.LineClock})
	b.master = modbus.NewMaster(b.rtu, cfg.Master)
	b.sched = modbus.NewScheduler(b.master)
	seen := map[byte]string{}
	for i, dc := range cfg.Devices {
		if dc.Name == "" {
			dc.Name = fmt.Sprintf("%s-%d", dc.Type, dc.Window)
		}
		if dc.Address < 1 || dc.Address > 247 {
			return nil, fmt.Errorf("bus %s: device %s: address %d, want 1–247", cfg.Name, dc.Name, dc.Address)
		}
		if other, ok := seen[dc.Address]; ok {
			return nil, fmt.Errorf("bus %s: devices %s and %s both at address %d", cfg.Name, other, dc.Name, dc.Address)
		}
		seen[dc.Address] = dc.Name
		if dc.Brightness < 0 || dc.Brightness > 15 {
			return nil, fmt.Errorf("bus %s: device %s: brightness %d, want 0–15", cfg.Name, dc.Name, dc.Brightness)
		}
		var d device
		switch dc.Type {
		case TypeWindowDisplay:
			x := newDisplay(b, dc)
			b.displays = append(b.displays, x)
			d = x
		case TypeKeypad, TypeRating:
			if cfg.Journal == nil {
				return nil, fmt.Errorf("bus %s: device %s: a %s needs a journal for its presses", cfg.Name, dc.Name, dc.Type)
			}
			if dc.Type == TypeKeypad {
				x := newKeypad(b, dc)
				b.keypads = append(b.keypads, x)
				d = x
			} else {
				x := newRating(b, dc)
				b.ratings = append(b.ratings, x)
				d = x
			}
		case TypeProfile:
			if err := dc.Profile.check(); err != nil {
				return nil, fmt.Errorf("bus %s: device %s: profile: %w", cfg.Name, dc.Name, err)
			}
			x := newProfileDisplay(b, dc)
			b.profiles = append(b.profiles, x)
			b.broadcast = false
			d = x
		default:
			return nil, fmt.Errorf("bus %s: device %d: type %q", cfg.Name, i, dc.Type)
		}
		b.units = append(b.units, d)
		b.sched.Add(dc.Address, d.poll)
	}
	b.loop = supervise.New(supervise.Config[Port]{
		Name: "bus " + cfg.Name, Open: b.openPort, Use: b.session, Describe: b.describe,
		Backoff: cfg.Backoff, Clock: cfg.LineClock, Log: b.log,
	})
	return b, nil
}

// Name is the bus's name.
func (b *Bus) Name() string { return b.cfg.Name }

// Displays, Keypads, Ratings and ProfileDisplays are the bus's devices
// of each kind, in the order configured.
func (b *Bus) Displays() []*Display               { return b.displays }
func (b *Bus) Keypads() []*Keypad                 { return b.keypads }
func (b *Bus) Ratings() []*Rating                 { return b.ratings }
func (b *Bus) ProfileDisplays() []*ProfileDisplay { return b.profiles }

// Master is the bus's Modbus master (for its Health and the technician's
// tools).
func (b *Bus) Master() *modbus.Master { return b.master }

// Scheduler is the bus's poll scheduler (for its Stats).
func (b *Bus) Scheduler() *modbus.Scheduler { return b.sched }

// SetLocation sets the time zone the devices show the time in (the
// office's, once the server has said it).
func (b *Bus) SetLocation(loc *time.Location) {
	if loc == nil {
		return
	}
	b.mu.Lock()
	changed := b.loc.String() != loc.String()
	b.loc = loc
	if changed {
		b.nextTime = time.Time{} // tell the devices now
	}
	b.mu.Unlock()
}

func (b *Bus) location() *time.Location {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.loc
}

// Run keeps the port open and polls the devices until ctx ends.
func (b *Bus) Run(ctx context.Context) error {
	b.loop.Run(ctx)
	return nil
}

// Close closes the port if a session left it open. Run closes it itself
// when ctx ends; Close is for a bus that is dropped without running.
func (b *Bus) Close() error {
	if p := b.port.get(); p != nil {
		return p.Close()
	}
	return nil
}

func (b *Bus) openPort(ctx context.Context) (Port, error) {
	if b.cfg.Open != nil {
		return b.cfg.Open(ctx)
	}
	p, err := modbus.OpenSerial(b.cfg.Port, b.cfg.Line)
	if err != nil {
		return nil, err
	}
	return p, nil
}

func (b *Bus) describe(ev supervise.Event, err error, retry time.Duration) string {
	switch ev {
	case supervise.OpenFailed:
		return fmt.Sprintf("cannot open %s: %v; retrying in %s", b.cfg.Port, err, retry.Round(time.Millisecond))
	case supervise.Lost:
		return fmt.Sprintf("%s lost: %v; reopening in %s", b.cfg.Port, err, retry.Round(time.Millisecond))
	case supervise.Opened:
		return fmt.Sprintf("%s opened at %s", b.cfg.Port, b.cfg.Line)
	}
	return ev.String()
}

// portOpen reports whether a session is running, and if not why.
func (b *Bus) portOpen() (bool, string) {
	b.mu.Lock()
	open := b.open
	b.mu.Unlock()
	if open {
		return true, ""
	}
	return false, b.loop.Status().Detail
}

// attach makes p the bus's port; nil detaches.
func (b *Bus) attach(p Port) {
	b.port.set(p)
	b.mu.Lock()
	b.open = p != nil
	b.mu.Unlock()
	if p == nil {
		for _, d := range b.units {
			u := d.base()
			u.mu.Lock()
			u.synced = false
			u.mu.Unlock()
		}
	}
}

// session polls the devices on an opened port until ctx ends or the port
// fails.
func (b *Bus) session(ctx context.Context, p Port) error {
	b.attach(p)
	defer b.attach(nil)
	b.loop.Set(supervise.OK, fmt.Sprintf("%s at %s", b.cfg.Port, b.cfg.Line))
	for ctx.Err() == nil {
		rep, err := b.step(ctx)
		if err != nil {
			return err
		}
		wait := b.cfg.CycleMin - rep.Duration
		if rep.Polled == 0 {
			// Every device backed off: wait for the earliest probe rather
			// than spin.
			wait = max(wait, b.master.Options().BackoffMin/4)
		}
		if wait <= 0 {
			continue
		}
		t := b.lineClock.NewTimer(wait)
		select {
		case <-ctx.Done():
		case <-t.Chan():
		case <-b.wake:
		}
		t.Stop()
	}
	return nil
}

// step is one turn of the session: the time if due, one poll cycle. It
// fails when the port does.
func (b *Bus) step(ctx context.Context) (modbus.CycleReport, error) {
	if err := b.port.failed(); err != nil {
		return modbus.CycleReport{}, err
	}
	b.tellTime(ctx)
	rep := b.sched.Cycle(ctx)
	b.mu.Lock()
	b.last = rep
	b.mu.Unlock()
	if err := b.port.failed(); err != nil {
		return rep, err
	}
	if rep.Polled > 0 && rep.Failed == rep.Polled && b.cfg.Open == nil {
		// Nobody answers: an adapter that vanished may leave a port that
		// only times out.
		if _, err := os.Stat(b.cfg.Port); err != nil {
			return rep, fmt.Errorf("port gone: %w", err)
		}
	}
	return rep, nil
}

// poke wakes the session: a device has something to write.
func (b *Bus) poke() {
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// timeEvery is how often the time is written (PROTOCOL.md section 11).
const timeEvery = time.Minute

// tellTime writes the time once a minute: a broadcast when the line has
// only our devices; to each of ours in turn when another maker's device
// shares it, which would take a broadcast to its own registers.
func (b *Bus) tellTime(ctx context.Context) {
	now := b.clock.Now()
	b.mu.Lock()
	due := !now.Before(b.nextTime)
	if due {
		b.nextTime = now.Add(timeEvery)
	}
	loc := b.loc
	b.mu.Unlock()
	if !due {
		return
	}
	req := modbus.WriteRegisters(regTime, timeRegs(now, loc)...)
	if b.broadcast {
		if len(b.units) > 0 {
			if err := b.master.Broadcast(ctx, req); err != nil {
				b.log.Warn("time broadcast", "err", err)
			}
		}
		return
	}
	for _, d := range b.units {
		u := d.base()
		if !u.ourBlock || b.master.BackedOff(u.cfg.Address) {
			continue
		}
		if _, err := b.master.Do(ctx, u.cfg.Address, req); err != nil {
			u.noteErr(err)
		}
	}
}

// Status is the bus port's health.
func (b *Bus) Status() devices.Status {
	ls := b.loop.Status()
	st := devices.Supervised(b.cfg.Name, "bus", "modbus", ls)
	st.Address = b.cfg.Port
	b.mu.Lock()
	open, last := b.open, b.last
	b.mu.Unlock()
	if open {
		online := 0
		for _, d := range b.units {
			if b.master.Health(d.base().cfg.Address).Online {
				online++
			}
		}
		st.Detail = fmt.Sprintf("%s at %s: %d of %d devices answer; last cycle %s", b.cfg.Port, b.cfg.Line,
			online, len(b.units), last.Duration.Round(time.Millisecond))
	}
	return st
}

// Devices is the status of the port and of every device on it, for
// /healthz and the device reports.
func (b *Bus) Devices() []func() devices.Status {
	out := []func() devices.Status{b.Status}
	for _, d := range b.units {
		out = append(out, d.Status)
	}
	return out
}

// swapPort is the bus's one Port for the Master's lifetime, over the
// port of the session now running (none between sessions). It remembers
// the read timeout for the next port and the first error of this one.
type swapPort struct {
	mu      sync.Mutex
	p       Port
	timeout time.Duration
	set_    bool
	err     error
}

var errNotOpen = errors.New("bus: port not open")

func (s *swapPort) set(p Port) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.p, s.err = p, nil
	if p != nil && s.set_ {
		_ = p.SetReadTimeout(s.timeout)
	}
}

func (s *swapPort) get() Port {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.p
}

func (s *swapPort) failed() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

func (s *swapPort) note(err error) {
	if err == nil || errors.Is(err, syscall.EINTR) || errors.Is(err, syscall.EAGAIN) {
		return // retried by the modbus package: not a dead port
	}
	s.mu.Lock()
	if s.err == nil {
		s.err = err
	}
	s.mu.Unlock()
}

func (s *swapPort) Read(b []byte) (int, error) {
	p := s.get()
	if p == nil {
		return 0, errNotOpen
	}
	n, err := p.Read(b)
	s.note(err)
	return n, err
}

func (s *swapPort) Write(b []byte) (int, error) {
	p := s.get()
	if p == nil {
		return 0, errNotOpen
	}
	n, err := p.Write(b)
	s.note(err)
	return n, err
}

func (s *swapPort) SetReadTimeout(t time.Duration) error {
	s.mu.Lock()
	s.timeout, s.set_ = t, true
	p := s.p
	s.mu.Unlock()
	if p == nil {
		return errNotOpen
	}
	err := p.SetReadTimeout(t)
	s.note(err)
	return err
}

func (s *swapPort) Drain() error {
	p := s.get()
	if p == nil {
		return errNotOpen
	}
	err := p.Drain()
	s.note(err)
	return err
}
