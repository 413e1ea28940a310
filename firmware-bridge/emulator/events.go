package emulator

import "time"

// The event ring (PROTOCOL.md section 5, the firmware's events.c): 64
// journal slots in EEPROM, used in ring order, so ring order from the
// write position is sequence order, also after a power cut. The caller
// of every function here holds d.mu.

// evInit rebuilds the ring at power-on: the next seq is the highest found
// + 1 (serial arithmetic), pending events are offered again with age
// 0xFFFF.
func (d *Device) evInit() {
	d.ram.wr, d.ram.nextSeq = 0, 1
	found, top := false, 0
	var best uint16
	for i, e := range d.nv.Journal {
		if !e.used() {
			continue
		}
		if !found || int16(e.Seq-best) > 0 {
			best, top, found = e.Seq, i, true
		}
	}
	if found {
		d.ram.nextSeq = best + 1
		if d.ram.nextSeq == 0 {
			d.ram.nextSeq = 1
		}
		d.ram.wr = (top + 1) % ringSize
	}
}

func (d *Device) evPending() int {
	n := 0
	for _, e := range d.nv.Journal {
		if e.pending() {
			n++
		}
	}
	return n
}

// evAdd journals a new event; ok false: the ring is full (the press is
// dropped). The event is offered only once it is in the journal.
func (d *Device) evAdd(code uint8, now time.Time) (seq uint16, ok bool, err error) {
	if d.evPending() >= ringSize || d.nv.Journal[d.ram.wr].pending() {
		return 0, false, nil
	}
	wr := d.ram.wr
	old := d.nv.Journal[wr]
	seq = d.ram.nextSeq
	d.nv.Journal[wr] = nvEvent{Seq: seq, Code: code, Pending: true}
	if err := d.save(); err != nil {
		d.nv.Journal[wr] = old
		return 0, false, err
	}
	d.ram.evAt[wr] = now
	d.ram.wr = (wr + 1) % ringSize
	if d.ram.nextSeq++; d.ram.nextSeq == 0 {
		d.ram.nextSeq = 1
	}
	return seq, true, nil
}

// evAck removes every pending event whose seq is s or earlier (serial
// arithmetic); one that matches nothing changes nothing.
func (d *Device) evAck(s uint16) error {
	if !d.spec.Type.hasEvents() {
		return nil
	}
	old := d.nv.Journal
	changed := false
	for i, e := range d.nv.Journal {
		if e.pending() && int16(s-e.Seq) >= 0 {
			d.nv.Journal[i].Pending = false
			changed = true
		}
	}
	if !changed {
		return nil
	}
	if err := d.save(); err != nil {
		d.nv.Journal = old
		return err
	}
	return nil
}

// evList is the pending slots, oldest first.
func (d *Device) evList() []int {
	if !d.spec.Type.hasEvents() {
		return nil
	}
	var out []int
	for k := range ringSize {
		j := (d.ram.wr + k) % ringSize
		if d.nv.Journal[j].pending() {
			out = append(out, j)
		}
	}
	return out
}

// evReg is I 0x0002 + i: EV_PENDING, then 8 × (SEQ, CODE, AGE).
func (d *Device) evReg(i int, now time.Time, events []int) uint16 {
	if i == 0 {
		return uint16(len(events))
	}
	e := (i - 1) / 3
	if e >= len(events) {
		return 0
	}
	j := events[e]
	ev := d.nv.Journal[j]
	switch (i - 1) % 3 {
	case 0:
		return ev.Seq
	case 1:
		c := uint16(ev.Code & 0x7F)
		if ev.Code&0x80 != 0 {
			c |= 0x0100
		}
		return c
	}
	at := d.ram.evAt[j]
	if at.IsZero() {
		return 0xFFFF
	}
	age := now.Sub(at) / (100 * time.Millisecond)
	if age > 0xFFFE {
		age = 0xFFFE
	}
	return uint16(max(age, 0))
}

// overflow: a press the full ring could not take — counted in EV_LOST
// (saturating, EEPROM) and STATUS bit 6.
func (d *Device) overflow() error {
	if d.nv.EvLost < 0xFFFF {
		d.nv.EvLost++
	}
	d.ram.status |= stOverflow
	return d.save()
}
