package emulator_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/cherga/kiosk/firmware-bridge/emulator"
	"github.com/cherga/kiosk/firmware-bridge/modbus"
)

// host is PROTOCOL.md 5.2's host side, as small as it can be: L per
// instance number, committed together with the event.
type host struct {
	r         *rig
	token     uint16
	serial    map[byte]uint32
	last      map[uint32]uint16 // L
	committed []string
	repeats   int
	noAck     bool   // the next poll stops before its ack (a host that dies there)
	beforeAck func() // called once before the next ack
}

func newHost(r *rig) *host {
	return &host{r: r, token: 0x5A5A, serial: map[byte]uint32{}, last: map[uint32]uint16{}}
}

func after(a, b uint16) bool { d := a - b; return d >= 1 && d <= 32767 }

func (h *host) poll(unit byte) error {
	ctx, m := h.r.ctx, h.r.m
	// Polls are not retried (section 11): the next cycle asks again.
	resp, err := m.DoOnce(ctx, unit, modbus.ReadInput(0, 6))
	if err != nil {
		return err
	}
	v := resp.Values
	if _, ok := h.serial[unit]; !ok || v[1] != h.token {
		id, err := m.ReadInputRegisters(ctx, unit, 0x26, 2)
		if err != nil {
			return err
		}
		h.serial[unit] = uint32(id[0])<<16 | uint32(id[1])
		if err := m.WriteRegister(ctx, unit, 0, h.token); err != nil {
			return err
		}
	}
	n := int(v[2])
	if n == 0 {
		return nil
	}
	evs := v[3:6]
	if n > 1 {
		if evs, err = m.ReadInputRegisters(ctx, unit, 3, uint16(3*min(n, 8))); err != nil {
			return err
		}
	}
	serial := h.serial[unit]
	var seq uint16
	for i := 0; i+2 < len(evs) && evs[i] != 0; i += 3 {
		seq = evs[i]
		if l, ok := h.last[serial]; !ok || after(seq, l) {
			h.committed = append(h.committed, fmt.Sprintf("%08X/%d/%#x", serial, seq, evs[i+1]))
			h.last[serial] = seq
		} else {
			h.repeats++
		}
	}
	if h.noAck {
		h.noAck = false
		return nil
	}
	if f := h.beforeAck; f != nil {
		h.beforeAck = nil
		f()
	}
	return m.WriteRegister(ctx, unit, 1, seq)
}

// TestEventsOnceAcrossFaults: every press reaches the host once — across
// lost poll answers, lost ack answers, acks never heard, a host that dies
// between committing and acknowledging, and power cuts with events
// pending — and sequence numbers go on where they were.
func TestEventsOnceAcrossFaults(t *testing.T) {
	r := newRig(t, "2:keypad,3:rating", nil)
	h := newHost(r)
	d, _ := r.bus.Device(2)
	serial := d.Serial()
	var want []string
	press := func(key int, long bool) {
		t.Helper()
		res := r.press(2, key, long)
		if res.Outcome != emulator.Queued {
			t.Fatalf("press: %+v", res)
		}
		code := key
		if long {
			code |= 0x100
		}
		want = append(want, fmt.Sprintf("%08X/%d/%#x", serial, res.Seq, code))
	}
	mustPoll := func(what string) {
		t.Helper()
		if err := h.poll(2); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}

	press(1, false)
	press(4, true)
	press(2, false)
	mustPoll("first poll")

	// The poll's answer is lost: nothing happens; the next poll has it.
	press(3, false)
	press(5, false)
	r.bus.SetFault(2, emulator.Fault{Kind: emulator.FaultCorrupt, Count: 1})
	if err := h.poll(2); !errors.Is(err, modbus.ErrTimeout) {
		t.Fatalf("poll with a corrupt answer: %v", err)
	}
	mustPoll("poll after a lost answer")

	// The ack's answer is lost (the device acted): retried, idempotent.
	press(6, false)
	h.beforeAck = func() { r.bus.SetFault(2, emulator.Fault{Kind: emulator.FaultCorrupt, Count: 1}) }
	mustPoll("poll whose ack answer is lost once")
	// The ack is never heard: the events come again, as repeats.
	press(7, false)
	h.noAck = true
	mustPoll("poll without ack")
	// The next poll's ack is not heard at all (both attempts).
	h.beforeAck = func() { r.bus.SetFault(2, emulator.Fault{Kind: emulator.FaultSilent, Count: 2}) }
	if err := h.poll(2); !errors.Is(err, modbus.ErrTimeout) {
		t.Fatalf("ack to a silent device: %v", err)
	}
	mustPoll("poll with the events again")
	if h.repeats != 2 {
		t.Errorf("%d repeats, want 2", h.repeats)
	}

	// Committed, then the power goes before the ack: after it, the same
	// events with age 0xFFFF, recognised as repeats; SYNC shows the cut.
	press(1, false)
	press(2, true)
	h.noAck = true
	mustPoll("poll before the power cut")
	r.bus.PowerCut(2, 3*time.Second)
	if _, err := r.bus.Press(2, 1, false); !errors.Is(err, emulator.ErrOff) {
		t.Errorf("a press without power: %v", err)
	}
	r.clock.Advance(3100 * time.Millisecond)
	v := r.in(2, 0, 9)
	if v[1] != 0 || v[2] != 2 || v[5] != 0xFFFF || v[8] != 0xFFFF {
		t.Errorf("after the power cut: %v: want SYNC 0, 2 pending, ages 0xFFFF", v)
	}
	mustPoll("poll after the power cut")
	if h.repeats != 4 {
		t.Errorf("%d repeats, want 4", h.repeats)
	}

	// Pending and never seen by the host, then a power cut: offered again.
	press(3, false)
	press(4, false)
	r.bus.PowerCut(2, time.Second)
	r.clock.Advance(1100 * time.Millisecond)
	press(5, false) // the sequence goes on from the journal
	mustPoll("poll of events from before the cut")
	if v := r.in(2, 0, 3); v[2] != 0 {
		t.Errorf("%d still pending", v[2])
	}
	if !slices.Equal(h.committed, want) {
		t.Errorf("committed\n%v\nwant\n%v", h.committed, want)
	}
	if n := len(want); n != 12 {
		t.Errorf("%d presses", n)
	}
}

// TestSequenceWrap: 65535 is followed by 1, never 0; acks use serial
// arithmetic across the wrap.
func TestSequenceWrap(t *testing.T) {
	clock := newFakeClock()
	d := newDevice(t, emulator.Keypad, 1, clock)
	clock.Advance(time.Second)
	var last, acked uint16
	for i := range 65537 {
		res, err := d.Press(1, false)
		if err != nil || res.Outcome != emulator.Queued {
			t.Fatalf("press %d: %+v %v", i, res, err)
		}
		if res.Seq == 0 || (last != 0 && res.Seq != last+1 && !(last == 65535 && res.Seq == 1)) {
			t.Fatalf("seq %d after %d", res.Seq, last)
		}
		last = res.Seq
		if i%32 == 31 && i < 65530 {
			if _, ok := call(d, 1, []byte{0x06, 0, 1, byte(last >> 8), byte(last)}); !ok {
				t.Fatal("ack not answered")
			}
			acked = last
		}
	}
	if last != 2 {
		t.Errorf("65537 presses end at seq %d, want 2", last)
	}
	// Pending now: acked+1 … 65535, 1, 2, oldest first.
	got, _ := call(d, 1, []byte{0x04, 0, 2, 0, 2})
	if n, first := int(got[2])<<8|int(got[3]), uint16(got[4])<<8|uint16(got[5]); n != int(65535-acked)+2 || first != acked+1 {
		t.Errorf("%d pending from %d, want %d from %d", n, first, int(65535-acked)+2, acked+1)
	}
	// An ack of 1 removes everything up to 1 across the wrap.
	call(d, 1, []byte{0x06, 0, 1, 0, 1})
	got, _ = call(d, 1, []byte{0x04, 0, 2, 0, 4})
	if !slices.Equal(got[2:], []byte{0, 1, 0, 2, 0, 1, 0, 0}) {
		t.Errorf("after acking 1: % X", got)
	}
}
