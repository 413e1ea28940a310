package modbus_test

import (
	"context"
	"errors"
	"slices"
	"syscall"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"

	"github.com/cherga/kiosk/firmware-bridge/modbus"
	"github.com/cherga/kiosk/firmware-bridge/modbus/modbustest"
)

// windowDisplay is a modbustest.Device with a few registers of
// PROTOCOL.md's window display.
func windowDisplay() *modbustest.Device {
	d := modbustest.NewDevice()
	d.SetHolding(0x0000, make([]uint16, 12)...)
	d.SetHolding(0x0100, make([]uint16, 14)...)
	d.SetInput(0x0000, make([]uint16, 27)...)
	d.SetInput(0x0020, 1, 1, 1, 1, 2, 0, 0xBEEF, 0x0001, 5, 0, 0, 0, 0, 0, 0, 0)
	d.SetObject(0, "cherga").SetObject(1, "CHG-WD1").SetObject(2, "1.2.0").SetObject(5, "window display 8x1")
	d.SetRecord(1, 0, 0x4346, 1)
	return d
}

func newMaster(t testing.TB, bus *modbustest.Bus, o modbus.MasterOptions) *modbus.Master {
	t.Helper()
	rtu := modbus.NewRTU(bus, modbus.RTUOptions{Line: bus.Line(), Clock: bus.Clock()})
	return modbus.NewMaster(rtu, o)
}

func TestMasterFunctions(t *testing.T) {
	ctx := context.Background()
	bus := modbustest.NewBus(modbus.DefaultLine)
	dev := windowDisplay()
	bus.Attach(1, dev)
	m := newMaster(t, bus, modbus.MasterOptions{})

	if err := m.WriteRegisters(ctx, 1, 0x0100, 1, 0xC031, 0x3233, 0, 0, 0, 0, 0, 0, 3, 5, 0x0102); err != nil {
		t.Fatal(err)
	}
	if err := m.WriteRegister(ctx, 1, 0x0002, 8); err != nil {
		t.Fatal(err)
	}
	v, err := m.ReadHoldingRegisters(ctx, 1, 0x0100, 12)
	if err != nil || v[1] != 0xC031 || v[9] != 3 {
		t.Fatalf("read back %v, %v", v, err)
	}
	in, err := m.ReadInputRegisters(ctx, 1, 0x0020, 8)
	if err != nil || in[0] != 1 || in[4] != 2 {
		t.Fatalf("identity block %v, %v", in, err)
	}
	rec, err := m.ReadFileRecord(ctx, 1, 1, 0, 2)
	if err != nil || !slices.Equal(rec, []uint16{0x4346, 1}) {
		t.Fatalf("file record %v, %v", rec, err)
	}
	if err := m.WriteFileRecord(ctx, 1, 1, 0, []uint16{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	if got := dev.Record(1, 0); !slices.Equal(got, []uint16{1, 2, 3}) {
		t.Errorf("record written %v", got)
	}
	id, err := m.ReadIdentification(ctx, 1)
	want := modbus.Identity{Vendor: "cherga", Product: "CHG-WD1", Revision: "1.2.0", Model: "window display 8x1"}
	if err != nil || id != want {
		t.Fatalf("identification %+v, %v", id, err)
	}
	h := m.Health(1)
	if !h.Online || h.Identity != want || h.Requests != h.Answers || h.LastSeen.IsZero() {
		t.Errorf("health %+v", h)
	}
	// An exception is an answer: returned, not retried, device online.
	_, err = m.ReadHoldingRegisters(ctx, 1, 0x0200, 1)
	if !modbus.IsException(err, modbus.IllegalDataAddress) {
		t.Fatalf("read outside the map: %v", err)
	}
	if h := m.Health(1); !h.Online || h.Exceptions != 1 || h.Failures != 0 {
		t.Errorf("after an exception: %+v", h)
	}
	heard := bus.Unit(1).Heard
	dev.SetBusy(true)
	if err := m.WriteRegister(ctx, 1, 0x0002, 9); !modbus.IsException(err, modbus.ServerDeviceBusy) {
		t.Fatalf("busy: %v", err)
	}
	if bus.Unit(1).Heard != heard+1 {
		t.Errorf("an exception was retried")
	}
}

func TestMasterTimeoutRetriesBackoff(t *testing.T) {
	ctx := context.Background()
	bus := modbustest.NewBus(modbus.DefaultLine)
	u := bus.Attach(5, windowDisplay())
	u.Fault.Silent = true
	m := newMaster(t, bus, modbus.MasterOptions{})
	clock := bus.Clock()
	poll := modbus.ReadInput(0, 6)
	perAttempt := m.RequestTimeout(poll)

	start := clock.Now()
	_, err := m.Do(ctx, 5, poll)
	if !errors.Is(err, modbus.ErrTimeout) {
		t.Fatalf("silent device: %v", err)
	}
	if u.Heard != 2 {
		t.Errorf("heard %d requests, want 2 (one retry)", u.Heard)
	}
	// The bus was held for the two attempts and not much more.
	if took := clock.Since(start); took < 2*perAttempt-time.Millisecond || took > 2*perAttempt+2*time.Millisecond {
		t.Errorf("two attempts took %v, want about %v", took, 2*perAttempt)
	}
	// Third failure: offline, backed off.
	if _, err := m.DoOnce(ctx, 5, poll); !errors.Is(err, modbus.ErrTimeout) {
		t.Fatal(err)
	}
	h := m.Health(5)
	if h.Online || !h.BackedOff || h.Failures != 3 || h.Timeouts != 3 {
		t.Fatalf("health after 3 failures: %+v", h)
	}
	// While backed off, requests cost no bus time.
	before, heard := clock.Now(), u.Heard
	if _, err := m.Do(ctx, 5, poll); !errors.Is(err, modbus.ErrOffline) {
		t.Fatalf("backed off: %v", err)
	}
	if clock.Now() != before || u.Heard != heard {
		t.Errorf("a backed-off request used the bus")
	}
	// The probe is due after BackoffMin: one attempt, then twice as long.
	clock.Advance(m.Options().BackoffMin + time.Millisecond)
	if !m.ProbeDue(5) {
		t.Fatal("probe not due after BackoffMin")
	}
	m.Do(ctx, 5, poll)
	if u.Heard != heard+1 {
		t.Errorf("probe sent %d requests, want 1", u.Heard-heard)
	}
	if h := m.Health(5); h.NextProbe.Sub(clock.Now()) < 2*time.Second-10*time.Millisecond {
		t.Errorf("next probe in %v, want 2 s", h.NextProbe.Sub(clock.Now()))
	}
	// The device comes back: the next probe brings it online.
	u.Fault.Silent = false
	clock.Advance(2 * time.Second)
	if _, err := m.Do(ctx, 5, poll); err != nil {
		t.Fatal(err)
	}
	if h := m.Health(5); !h.Online || h.BackedOff || h.Failures != 0 {
		t.Errorf("health after recovery: %+v", h)
	}
}

func TestMasterBadAnswers(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		fault modbustest.Fault
		ok    bool
		check func(t *testing.T, h modbus.Health, st modbus.RTUStats)
	}{
		{"wrong unit", modbustest.Fault{AnswerAs: 9}, false, func(t *testing.T, h modbus.Health, st modbus.RTUStats) {
			if h.WrongUnit != 2 {
				t.Errorf("wrong unit counted %d, want 2", h.WrongUnit)
			}
		}},
		{"wrong function", modbustest.Fault{WrongFunction: true}, false, func(t *testing.T, h modbus.Health, st modbus.RTUStats) {
			if h.WrongFunction != 2 {
				t.Errorf("wrong function counted %d, want 2", h.WrongFunction)
			}
		}},
		{"corrupt", modbustest.Fault{Corrupt: true}, false, func(t *testing.T, h modbus.Health, st modbus.RTUStats) {
			if st.GarbageBytes == 0 || h.Timeouts != 2 {
				t.Errorf("corrupt answers: garbage %d, timeouts %d", st.GarbageBytes, h.Timeouts)
			}
		}},
		{"noise before the answer", modbustest.Fault{Garbage: []byte{0x00, 0xFF, 0x13}}, true, func(t *testing.T, h modbus.Health, st modbus.RTUStats) {
			if st.GarbageBytes != 3 {
				t.Errorf("garbage %d, want 3", st.GarbageBytes)
			}
		}},
		{"babble after the answer", modbustest.Fault{Babble: 40}, true, nil},
		{"gap in the answer", modbustest.Fault{Gap: 15 * time.Millisecond}, true, nil},
		{"slow but in time", modbustest.Fault{Delay: 9 * time.Millisecond}, true, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bus := modbustest.NewBus(modbus.DefaultLine)
			u := bus.Attach(1, windowDisplay())
			u.Fault = tc.fault
			bus.Attach(2, windowDisplay())
			m := newMaster(t, bus, modbus.MasterOptions{})
			_, err := m.Do(ctx, 1, modbus.ReadInput(0, 6))
			if tc.ok != (err == nil) {
				t.Fatalf("err %v, want ok=%v", err, tc.ok)
			}
			// The neighbour is unaffected, whatever unit 1 left on the line.
			if _, err := m.Do(ctx, 2, modbus.ReadInput(0, 6)); err != nil {
				t.Fatalf("neighbour: %v", err)
			}
			if tc.check != nil {
				tc.check(t, m.Health(1), m.RTU().Stats())
			}
		})
	}
}

// TestMasterLateAnswer: an answer that arrives after the timeout must not
// be taken for the answer to the next request.
func TestMasterLateAnswer(t *testing.T) {
	ctx := context.Background()
	bus := modbustest.NewBus(modbus.DefaultLine)
	slow := windowDisplay()
	slow.SetInput(0, 0xAAAA)
	u := bus.Attach(1, slow)
	u.Fault.Delay = 60 * time.Millisecond
	fast := windowDisplay()
	fast.SetInput(0, 0x5555)
	bus.Attach(2, fast)
	m := newMaster(t, bus, modbus.MasterOptions{})
	if _, err := m.DoOnce(ctx, 1, modbus.ReadInput(0, 1)); !errors.Is(err, modbus.ErrTimeout) {
		t.Fatalf("slow device: %v", err)
	}
	v, err := m.ReadInputRegisters(ctx, 2, 0, 1)
	if err != nil || v[0] != 0x5555 {
		t.Fatalf("next device read %v, %v", v, err)
	}
	// Whenever it lands (here after unit 2's answer), it is heard as noise
	// or another unit's frame, never as an answer.
	for range 3 {
		v, err := m.ReadInputRegisters(ctx, 2, 0, 1)
		if err != nil || v[0] != 0x5555 {
			t.Fatalf("next device read %v, %v", v, err)
		}
	}
	if st, h := m.RTU().Stats(), m.Health(2); st.NoiseBytes == 0 && h.WrongUnit == 0 {
		t.Errorf("the late answer was not counted: %+v %+v", st, h)
	}
}

// TestMasterFlood: a device stuck transmitting. Every request fails, in
// bounded time, and the bus works again when it stops.
func TestMasterFlood(t *testing.T) {
	ctx := context.Background()
	bus := modbustest.NewBus(modbus.DefaultLine)
	bus.Attach(1, windowDisplay())
	m := newMaster(t, bus, modbus.MasterOptions{OfflineAfter: 100})
	clock := bus.Clock()
	bus.Flood(300 * time.Millisecond)
	poll := modbus.ReadInput(0, 6)
	bound := 20*modbus.DefaultLine.T35() + m.RequestTimeout(poll) + 2*time.Millisecond
	var failed int
	for clock.Since(time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC)) < 300*time.Millisecond {
		start := clock.Now()
		_, err := m.DoOnce(ctx, 1, poll)
		if took := clock.Since(start); took > bound {
			t.Fatalf("a request during the flood took %v, bound %v", took, bound)
		}
		if err != nil {
			failed++
		}
	}
	if failed == 0 {
		t.Error("no request failed during the flood")
	}
	if _, err := m.DoOnce(ctx, 1, poll); err != nil {
		t.Fatalf("after the flood: %v", err)
	}
	st := m.RTU().Stats()
	if st.BusBusy == 0 || st.NoiseBytes == 0 {
		t.Errorf("flood not counted: %+v", st)
	}
}

func TestBroadcast(t *testing.T) {
	ctx := context.Background()
	bus := modbustest.NewBus(modbus.DefaultLine)
	devs := []*modbustest.Device{windowDisplay(), windowDisplay(), windowDisplay()}
	for i, d := range devs {
		bus.Attach(byte(i+1), d)
	}
	m := newMaster(t, bus, modbus.MasterOptions{})
	start := bus.Clock().Now()
	if err := m.Broadcast(ctx, modbus.WriteRegisters(3, 0x6955, 0xB900, 120)); err != nil {
		t.Fatal(err)
	}
	if took := bus.Clock().Since(start); took < 20*time.Millisecond {
		t.Errorf("broadcast turnaround %v, want ≥ 20 ms", took)
	}
	for i, d := range devs {
		if got := d.Holding(3, 3); !slices.Equal(got, []uint16{0x6955, 0xB900, 120}) {
			t.Errorf("device %d: time %v", i+1, got)
		}
	}
	if err := m.Broadcast(ctx, modbus.ReadHolding(0, 1)); err == nil {
		t.Error("a broadcast read was sent")
	}
}

// directionPort checks the transceiver's pin around every transmission.
type directionPort struct {
	*modbustest.Bus
	pin    *gpiotest.Pin
	t      *testing.T
	writes int
}

func (p *directionPort) Write(b []byte) (int, error) {
	if p.pin.L != gpio.High {
		p.t.Error("write with DE low")
	}
	p.writes++
	return p.Bus.Write(b)
}

func (p *directionPort) Drain() error {
	if p.pin.L != gpio.High {
		p.t.Error("DE dropped before the port drained")
	}
	return p.Bus.Drain()
}

func (p *directionPort) Read(b []byte) (int, error) {
	if p.pin.L != gpio.Low {
		p.t.Error("reading with DE high: the answer would be lost")
	}
	return p.Bus.Read(b)
}

func TestPinDirection(t *testing.T) {
	bus := modbustest.NewBus(modbus.DefaultLine)
	bus.Attach(1, windowDisplay())
	pin := &gpiotest.Pin{N: "GPIO17", L: gpio.Low}
	port := &directionPort{Bus: bus, pin: pin, t: t}
	rtu := modbus.NewRTU(port, modbus.RTUOptions{Line: bus.Line(), Clock: bus.Clock(), Direction: modbus.PinDirection{Pin: pin}})
	m := modbus.NewMaster(rtu, modbus.MasterOptions{})
	for range 3 {
		if _, err := m.ReadInputRegisters(context.Background(), 1, 0, 6); err != nil {
			t.Fatal(err)
		}
	}
	if port.writes != 3 || pin.L != gpio.Low {
		t.Errorf("%d writes, pin left %v", port.writes, pin.L)
	}
	inv := modbus.PinDirection{Pin: pin, ActiveLow: true}
	inv.Transmit()
	if pin.L != gpio.Low {
		t.Error("active-low transmit did not drive low")
	}
}

// flakyPort is a Bus behind a serial driver that writes in pieces and is
// interrupted by signals, as go.bug.st/serial's non-blocking descriptor is.
type flakyPort struct {
	*modbustest.Bus
	writes, drains int
}

func (p *flakyPort) Write(b []byte) (int, error) {
	p.writes++
	switch p.writes % 4 {
	case 1:
		return 0, syscall.EINTR
	case 2:
		return 0, syscall.EAGAIN
	case 3:
		if len(b) > 3 {
			// A short write: the Bus sees the frame whole only when the
			// rest follows, so hand it over in one piece at the end.
			return 0, syscall.EINTR
		}
	}
	return p.Bus.Write(b)
}

func (p *flakyPort) Drain() error {
	p.drains++
	if p.drains%2 == 1 {
		return syscall.EINTR
	}
	return p.Bus.Drain()
}

func TestInterruptedWrites(t *testing.T) {
	bus := modbustest.NewBus(modbus.DefaultLine)
	bus.Attach(1, windowDisplay())
	port := &flakyPort{Bus: bus}
	m := modbus.NewMaster(modbus.NewRTU(port, modbus.RTUOptions{Line: bus.Line(), Clock: bus.Clock()}), modbus.MasterOptions{})
	for range 5 {
		if _, err := m.ReadInputRegisters(context.Background(), 1, 0, 6); err != nil {
			t.Fatal(err)
		}
	}
	if h := m.Health(1); h.Requests != 5 || h.Answers != 5 {
		t.Errorf("health %+v", h)
	}
}
