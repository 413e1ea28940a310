package emulator_test

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/cherga/kiosk/firmware-bridge/emulator"
	"github.com/cherga/kiosk/firmware-bridge/modbus"
	"github.com/cherga/kiosk/firmware-bridge/modbus/modbustest"
)

// virtualBus is 32 emulated keypads on a modbustest.Bus: a line in
// virtual time, the devices on its clock.
func virtualBus(t testing.TB, line modbus.Line) (*modbustest.Bus, []*emulator.Device, *modbus.Master) {
	t.Helper()
	bus := modbustest.NewBus(line)
	var devs []*emulator.Device
	for u := byte(1); u <= 32; u++ {
		d, err := emulator.NewDevice(emulator.Spec{Addr: u, Type: emulator.Keypad}, emulator.Options{Clock: bus.Clock(), Line: line})
		if err != nil {
			t.Fatal(err)
		}
		bus.Attach(u, d)
		devs = append(devs, d)
	}
	m := modbus.NewMaster(modbus.NewRTU(bus, modbus.RTUOptions{Line: line, Clock: bus.Clock()}), modbus.MasterOptions{})
	return bus, devs, m
}

// pollAck is a keypad's poll: the block, and an ack of what it shows.
func pollAck(seen map[byte][]uint16) modbus.PollFunc {
	return func(ctx context.Context, m *modbus.Master, unit byte) error {
		r, err := m.DoOnce(ctx, unit, modbus.ReadInput(0, 6))
		if err != nil {
			return err
		}
		if r.Values[2] == 0 {
			return nil
		}
		seen[unit] = append(seen[unit], r.Values[3])
		return m.WriteRegister(ctx, unit, 1, r.Values[3])
	}
}

// TestVirtualBus: the host's scheduler polls 32 emulated keypads in
// virtual time at 19200 8E1; a press arrives within one cycle, event ages
// count in virtual time, and the cycle keeps modbus.CycleBound.
func TestVirtualBus(t *testing.T) {
	line := modbus.DefaultLine
	bus, devs, m := virtualBus(t, line)
	seen := map[byte][]uint16{}
	s := modbus.NewScheduler(m)
	for u := byte(1); u <= 32; u++ {
		s.Add(u, pollAck(seen))
	}
	ctx := context.Background()
	devs[4].Press(emulator.KeyNext, false)
	bus.Clock().Advance(1500 * time.Millisecond)
	v, err := m.ReadInputRegisters(ctx, 5, 0, 6)
	if err != nil || v[2] != 1 || v[5] != 15 {
		t.Fatalf("keypad 5: %v %v: want one event 1.5 s old", v, err)
	}
	start := bus.Clock().Now()
	rep := s.Cycle(ctx)
	cycle := bus.Clock().Since(start)
	if rep.Failed != 0 || len(seen[5]) != 1 || seen[5][0] != 1 {
		t.Fatalf("cycle %+v, seen %v", rep, seen)
	}
	if bound := modbus.CycleBound(line, m.Options(), 32, 0, modbus.ReadInput(0, 6)); cycle > bound+100*time.Millisecond {
		t.Errorf("a cycle of 32 emulated keypads took %s, bound %s", cycle, bound)
	}
	t.Logf("32 keypads at %s: one cycle %s of virtual time", line, cycle)
}

// BenchmarkPollCycleVirtual: one poll cycle over 32 emulated keypads in
// virtual time: the CPU the emulator and the host's master spend per
// poll, and the cycle's length on a 19200 baud line.
func BenchmarkPollCycleVirtual(b *testing.B) {
	bus, _, m := virtualBus(b, modbus.DefaultLine)
	seen := map[byte][]uint16{}
	s := modbus.NewScheduler(m)
	for u := byte(1); u <= 32; u++ {
		s.Add(u, pollAck(seen))
	}
	ctx := context.Background()
	start := bus.Clock().Now()
	for b.Loop() {
		if rep := s.Cycle(ctx); rep.Failed != 0 {
			b.Fatalf("%+v", rep)
		}
	}
	b.ReportMetric(float64(bus.Clock().Since(start).Microseconds())/1000/float64(b.N), "virtual-ms/cycle")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(32*b.N), "ns/poll")
}

// BenchmarkHandlePoll: the device's work for the poll every cycle sends.
func BenchmarkHandlePoll(b *testing.B) {
	clock := newFakeClock()
	d := newDevice(b, emulator.Keypad, 1, clock)
	for range 8 {
		d.Press(1, false)
	}
	req := modbus.ReadInput(0, 6)
	for b.Loop() {
		if _, ok := d.Handle(1, req); !ok {
			b.Fatal("no answer")
		}
	}
}

// BenchmarkPressDurable: a press and its ack with the state file on
// disk: what a durable journal write costs (write, fsync, rename, fsync
// of the directory; twice).
func BenchmarkPressDurable(b *testing.B) {
	clock := newFakeClock()
	d, err := emulator.NewDevice(emulator.Spec{Addr: 1, Type: emulator.Keypad}, emulator.Options{Clock: clock, Line: modbus.PTYLine, StateDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		res, err := d.Press(1, false)
		if err != nil || res.Outcome != emulator.Queued {
			b.Fatal(res, err)
		}
		d.Handle(1, modbus.WriteRegister(1, res.Seq))
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkPollPTY: our master polls an emulated keypad over a real
// pseudo-terminal, the system calls included; a pty has no baud rate, so
// this is CPU and scheduling, not bus time.
func BenchmarkPollPTY(b *testing.B) {
	specs, _ := emulator.ParseSpecs("1:keypad")
	bus, err := emulator.NewBus(specs, emulator.Options{Line: modbus.PTYLine}) // the real clock, as kioskctl bridge emulate runs
	if err != nil {
		b.Fatal(err)
	}
	p, err := modbus.OpenPTY()
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- bus.Serve(ctx, p) }()
	defer func() { cancel(); <-done }()
	port, err := modbus.OpenSerial(p.Path(), modbus.PTYLine)
	if err != nil {
		b.Fatal(err)
	}
	defer port.Close()
	m := modbus.NewMaster(modbus.NewRTU(port, modbus.RTUOptions{Line: modbus.PTYLine}), ptyOptions)
	cpu0 := cpuTime()
	for b.Loop() {
		if _, err := m.DoOnce(ctx, 1, modbus.ReadInput(0, 6)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/poll")
}
