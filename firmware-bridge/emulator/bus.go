package emulator

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/cherga/kiosk/firmware-bridge/modbus"
)

// Bus is many devices on one port behind one modbus.Server, as they hang
// on one RS-485 line: every device hears every frame (a bad CRC counts in
// each one's CRC_ERRORS), a broadcast reaches all of them, and the server
// answers for the addresses the devices have now (a CFG save moves a
// device). Two devices at one address both act and their answers collide
// (the host gets a frame with a bad CRC).
//
// Faults are applied where a real device would show them: a silent
// device never hears its frames; a corrupt, slow or garbage one acts and
// then spoils its answer on the way out.
type Bus struct {
	o    Options
	devs []*Device

	mu   sync.Mutex
	plan answerPlan // the answer being made (the server's goroutine)
	srv  *modbus.Server
}

// answerPlan says who answers the frame the server is handling.
type answerPlan struct {
	unit      byte
	devs      []*Device
	drop      bool // nobody answers after all
	collision bool
}

// NewBus makes the devices of specs (see NewDevice) on one line.
func NewBus(specs []Spec, o Options) (*Bus, error) {
	o = o.normal()
	if _, _, err := lineConfig(o.Line); err != nil {
		return nil, err
	}
	b := &Bus{o: o}
	for _, s := range specs {
		d, err := NewDevice(s, o)
		if err != nil {
			return nil, fmt.Errorf("emulator: device %s: %w", s, err)
		}
		b.devs = append(b.devs, d)
	}
	return b, nil
}

// Line is the bus's line.
func (b *Bus) Line() modbus.Line { return b.o.Line }

// Devices are the bus's devices, in the order they were given.
func (b *Bus) Devices() []*Device { return append([]*Device(nil), b.devs...) }

// Device is the device that answers addr now (the first, if several do).
func (b *Bus) Device(addr byte) (*Device, error) {
	for _, d := range b.devs {
		if d.Addr() == addr {
			return d, nil
		}
	}
	return nil, fmt.Errorf("%w %d", ErrNoDevice, addr)
}

// Faces is what every device shows now.
func (b *Bus) Faces() []Face {
	out := make([]Face, len(b.devs))
	for i, d := range b.devs {
		out[i] = d.Face()
	}
	return out
}

// Press presses a key of the device at addr (see Device.Press).
func (b *Bus) Press(addr byte, key int, long bool) (PressResult, error) {
	d, err := b.Device(addr)
	if err != nil {
		return PressResult{}, err
	}
	return d.Press(key, long)
}

// PowerCut cuts the power of the device at addr for dur (see
// Device.PowerCut).
func (b *Bus) PowerCut(addr byte, dur time.Duration) error {
	d, err := b.Device(addr)
	if err != nil {
		return err
	}
	d.PowerCut(dur)
	return nil
}

// PowerCutAfterChunk arms a power cut after chunk k of an update (see
// Device.PowerCutAfterChunk).
func (b *Bus) PowerCutAfterChunk(addr byte, k int, dur time.Duration) error {
	d, err := b.Device(addr)
	if err != nil {
		return err
	}
	d.PowerCutAfterChunk(k, dur)
	return nil
}

// PowerOn gives power back to the device at addr.
func (b *Bus) PowerOn(addr byte) error {
	d, err := b.Device(addr)
	if err != nil {
		return err
	}
	d.PowerOn()
	return nil
}

// SetFault makes the device at addr misbehave (FaultNone: behave).
func (b *Bus) SetFault(addr byte, f Fault) error {
	d, err := b.Device(addr)
	if err != nil {
		return err
	}
	return d.SetFault(f)
}

// Stats are the server's counters (zero before Serve).
func (b *Bus) Stats() modbus.ServerStats {
	b.mu.Lock()
	srv := b.srv
	b.mu.Unlock()
	if srv == nil {
		return modbus.ServerStats{}
	}
	return srv.Stats()
}

// frameFor: the device hears a frame for unit (not broadcast), after its
// silent fault. The caller is the server's goroutine.
func (d *Device) frameFor(unit byte) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.o.Clock.Now()
	d.advance(now)
	if !d.listening(now) || !d.onLine() || unit != d.addr() {
		if unit == d.addr() {
			d.counters.Ignored++
		}
		return false
	}
	if _, silent := d.takeFault(true); silent {
		d.counters.Ignored++
		return false
	}
	d.ram.lastHostFrame = now
	return true
}

func (d *Device) silentNow() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.fault.Kind == FaultSilent
}

// Units is the server's Units: whether any device hears unit now. It
// also decides, for the frame being handled, who answers it.
func (b *Bus) Units(unit byte) bool {
	var hear []*Device
	for _, d := range b.devs {
		if d.frameFor(unit) {
			hear = append(hear, d)
		}
	}
	b.mu.Lock()
	b.plan = answerPlan{unit: unit, devs: hear}
	b.mu.Unlock()
	return len(hear) > 0
}

// ServeModbus implements modbus.Handler for the server.
func (b *Bus) ServeModbus(unit byte, req modbus.Request) modbus.Response {
	if unit == modbus.BroadcastUnit {
		for _, d := range b.devs {
			if !d.silentNow() {
				d.Handle(unit, req)
			}
		}
		return modbus.Response{Function: req.Function}
	}
	b.mu.Lock()
	plan := b.plan
	b.mu.Unlock()
	if plan.unit != unit || plan.devs == nil {
		// Called without Units first (not by the server).
		plan = answerPlan{unit: unit}
		for _, d := range b.devs {
			if d.frameFor(unit) {
				plan.devs = append(plan.devs, d)
			}
		}
	}
	var resp modbus.Response
	answered := 0
	for _, d := range plan.devs {
		r, ok := d.Handle(unit, req)
		if ok {
			if answered == 0 {
				resp = r
			}
			answered++
		}
	}
	b.mu.Lock()
	b.plan.drop = answered == 0
	b.plan.collision = answered > 1
	b.mu.Unlock()
	if answered == 0 {
		return modbus.ExceptionResponse(req.Function, modbus.GatewayNoResponse)
	}
	return resp
}

// errStopped ends the server's reads once the context is done.
var errStopped = errors.New("emulator: bus stopped")

// Serve plays the devices on port until ctx ends (then it returns nil)
// or the port fails.
func (b *Bus) Serve(ctx context.Context, port modbus.Port) error {
	p := &busPort{Port: port, b: b, ctx: ctx, noise: 0x9E3779B9}
	srv := &modbus.Server{Port: p, Line: b.o.Line, Handler: b, Units: b.Units, Clock: b.o.Clock}
	b.mu.Lock()
	b.srv = srv
	b.mu.Unlock()
	err := srv.Serve(ctx)
	if ctx.Err() != nil {
		return nil
	}
	return fmt.Errorf("emulator: bus: %w", err)
}
