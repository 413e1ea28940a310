package emulator_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/cherga/kiosk/firmware-bridge/emulator"
	"github.com/cherga/kiosk/firmware-bridge/modbus"
)

// TestFaults: corrupt answers are lost answers (and the device acted);
// garbage around answers is read through; a slow answer comes after the
// host gave up, and the bus goes on; faults limited by count wear off.
func TestFaults(t *testing.T) {
	r := newRig(t, "1:window-display,2:keypad", nil)

	r.bus.SetFault(2, emulator.Fault{Kind: emulator.FaultCorrupt})
	r.silent(2, modbus.WriteRegister(0, 0x4242))
	r.bus.SetFault(2, emulator.Fault{Kind: emulator.FaultNone})
	if v := r.hold(2, 0, 1); v[0] != 0x4242 {
		t.Errorf("the write whose answer was corrupt was not done: SYNC %#x", v[0])
	}

	if err := r.bus.SetFault(1, emulator.Fault{Kind: emulator.FaultGarbage, Count: 3}); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if v := r.in(1, 0x20, 1); v[0] != 1 {
			t.Fatalf("through garbage: %v", v)
		}
	}
	if f := r.face(1).Health.Fault; f.Kind != emulator.FaultNone {
		t.Errorf("fault %+v after its count", f)
	}
	if st := r.m.RTU().Stats(); st.GarbageBytes == 0 && st.NoiseBytes == 0 {
		t.Errorf("the master heard no garbage: %+v", st)
	}

	// Slow: 2 s on the emulator's clock, which the test holds.
	r.bus.SetFault(2, emulator.Fault{Kind: emulator.FaultSlow, Delay: 2 * time.Second, Count: 1})
	r.silent(2, modbus.ReadInput(0, 6))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.clock.BlockUntilContext(ctx, 1); err != nil {
		t.Fatal(err)
	}
	r.clock.Advance(2 * time.Second)
	late := (&wire{t: t, port: r.port.Port}).answer(17)
	if unit, pdu, err := modbus.SplitADU(late); err != nil || unit != 2 || pdu[0] != 0x04 {
		t.Fatalf("the late answer % X: %v", late, err)
	}
	if v := r.in(1, 0x20, 1); v[0] != 1 {
		t.Fatalf("after the late answer: %v", v)
	}

	if err := r.bus.SetFault(2, emulator.Fault{Kind: "loud"}); err == nil {
		t.Error("an unknown fault kind was taken")
	}
	if err := r.bus.SetFault(9, emulator.Fault{Kind: emulator.FaultSilent}); !errors.Is(err, emulator.ErrNoDevice) {
		t.Errorf("a fault for address 9: %v", err)
	}
}

// TestCollision: a CFG save puts a second keypad at the first one's
// address; both act, their answers collide.
func TestCollision(t *testing.T) {
	r := newRig(t, "1:keypad,2:keypad", nil)
	r.write(2, 8, 1)
	r.write(2, 0x0B, 0xA5A5)
	r.clock.Advance(100 * time.Millisecond)
	r.silent(2, modbus.ReadInput(0, 1))
	r.silent(1, modbus.WriteRegister(0, 0x0101))
	for _, d := range r.bus.Devices() {
		if f := d.Face(); f.Addr != 1 || f.Health.Sync != 0x0101 {
			t.Errorf("%s: address %d, SYNC %#x", f.Spec, f.Addr, f.Health.Sync)
		}
	}
	if devs := r.bus.Devices(); !slices.Equal([]byte{devs[0].Addr(), devs[1].Addr()}, []byte{1, 1}) {
		t.Error("addresses")
	}
}
