package emulator_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"go.bug.st/serial"

	"github.com/cherga/kiosk/firmware-bridge/emulator"
	"github.com/cherga/kiosk/firmware-bridge/modbus"
)

var epoch = time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC)

// rig is a Bus on a pseudo-terminal, on a fake clock the test advances,
// and our Master on the other side (on the real clock: the pty's read
// timeouts are real).
type rig struct {
	t     *testing.T
	bus   *emulator.Bus
	clock *clockwork.FakeClock
	pty   *modbus.PTY
	m     *modbus.Master
	port  *manglePort
	ctx   context.Context
	opts  emulator.Options
}

// ptyOptions: the peer is a goroutine on shared cores, not a
// microcontroller; the tests are about bytes, so timeouts get room.
var ptyOptions = modbus.MasterOptions{Slack: 300 * time.Millisecond, BroadcastDelay: 20 * time.Millisecond}

func newRig(t *testing.T, specs string, mod func(*emulator.Options)) *rig {
	t.Helper()
	clock := clockwork.NewFakeClockAt(epoch)
	o := emulator.Options{Clock: clock, Line: modbus.PTYLine, StateDir: t.TempDir()}
	if mod != nil {
		mod(&o)
	}
	sp, err := emulator.ParseSpecs(specs)
	if err != nil {
		t.Fatal(err)
	}
	bus, err := emulator.NewBus(sp, o)
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{t: t, bus: bus, clock: clock, opts: o, ctx: context.Background()}
	r.serve()
	// Past the devices' boot time.
	clock.Advance(time.Second)
	return r
}

// serve runs the bus on a new pty and opens the master.
func (r *rig) serve() {
	t := r.t
	p, err := modbus.OpenPTY()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.bus.Serve(ctx, p) }()
	port, err := modbus.OpenSerial(p.Path(), modbus.PTYLine)
	if err != nil {
		t.Fatal(err)
	}
	r.pty = p
	r.port = &manglePort{Port: port}
	r.m = modbus.NewMaster(modbus.NewRTU(r.port, modbus.RTUOptions{Line: modbus.PTYLine}), ptyOptions)
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("bus: %v", err)
		}
		port.Close()
		p.Close()
	})
}

// manglePort lets a test spoil the master's next frame on its way out.
type manglePort struct {
	serial.Port
	mangle func([]byte) []byte
}

func (p *manglePort) SetReadTimeout(d time.Duration) error { return p.Port.SetReadTimeout(d) }

func (p *manglePort) Write(b []byte) (int, error) {
	if f := p.mangle; f != nil {
		p.mangle = nil
		if _, err := p.Port.Write(f(slices.Clone(b))); err != nil {
			return 0, err
		}
		return len(b), nil
	}
	return p.Port.Write(b)
}

func (p *manglePort) Drain() error { return p.Port.Drain() }

func (r *rig) in(unit byte, addr, qty uint16) []uint16 {
	r.t.Helper()
	v, err := r.m.ReadInputRegisters(r.ctx, unit, addr, qty)
	if err != nil {
		r.t.Fatalf("unit %d: read I %#04x ×%d: %v", unit, addr, qty, err)
	}
	return v
}

func (r *rig) hold(unit byte, addr, qty uint16) []uint16 {
	r.t.Helper()
	v, err := r.m.ReadHoldingRegisters(r.ctx, unit, addr, qty)
	if err != nil {
		r.t.Fatalf("unit %d: read H %#04x ×%d: %v", unit, addr, qty, err)
	}
	return v
}

func (r *rig) write(unit byte, addr uint16, v ...uint16) {
	r.t.Helper()
	var err error
	if len(v) == 1 {
		err = r.m.WriteRegister(r.ctx, unit, addr, v[0])
	} else {
		err = r.m.WriteRegisters(r.ctx, unit, addr, v...)
	}
	if err != nil {
		r.t.Fatalf("unit %d: write H %#04x %v: %v", unit, addr, v, err)
	}
}

// exception does req and wants exception code c.
func (r *rig) exception(unit byte, req modbus.Request, c modbus.ExceptionCode) {
	r.t.Helper()
	_, err := r.m.DoOnce(r.ctx, unit, req)
	if !modbus.IsException(err, c) {
		r.t.Fatalf("unit %d: %s at %#04x: got %v, want exception %s", unit, req.Function, req.Address, err, c)
	}
}

// silent does req once and wants no answer.
func (r *rig) silent(unit byte, req modbus.Request) {
	r.t.Helper()
	if _, err := r.m.DoOnce(r.ctx, unit, req); !errors.Is(err, modbus.ErrTimeout) {
		r.t.Fatalf("unit %d: %s: got %v, want no answer", unit, req.Function, err)
	}
}

func (r *rig) press(addr byte, key int, long bool) emulator.PressResult {
	r.t.Helper()
	res, err := r.bus.Press(addr, key, long)
	if err != nil {
		r.t.Fatalf("press %d on %d: %v", key, addr, err)
	}
	return res
}

func (r *rig) face(addr byte) emulator.Face {
	r.t.Helper()
	d, err := r.bus.Device(addr)
	if err != nil {
		r.t.Fatal(err)
	}
	return d.Face()
}

func newFakeClock() *clockwork.FakeClock { return clockwork.NewFakeClockAt(epoch) }
