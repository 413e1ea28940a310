package bus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cherga/kiosk/devices"
	"github.com/cherga/kiosk/firmware-bridge/modbus"
)

// Profile is how another maker's Modbus display takes text: holding
// registers from Register, Length of them, CharsPerRegister characters in
// each (2: first in the high byte; 1: in the low byte), in Encoding, the
// rest padded with spaces; the window number as a binary value in
// WindowRegister when HasWindow. Function is 0x10 (one write of the
// whole text, and the window with it when it follows the text) or 0x06
// (a register at a time, for displays without 0x10).
type Profile struct {
	Register         uint16
	Length           int
	CharsPerRegister int
	Encoding         Encoding
	HasWindow        bool
	WindowRegister   uint16
	Function         modbus.Function
}

func (p Profile) check() error {
	switch {
	case p.Length < 1 || p.Length > modbus.MaxWriteQuantity:
		return fmt.Errorf("length %d, want 1–%d registers", p.Length, modbus.MaxWriteQuantity)
	case int(p.Register)+p.Length > 0x10000:
		return fmt.Errorf("registers %#04x+%d pass 0xFFFF", p.Register, p.Length)
	case p.CharsPerRegister != 1 && p.CharsPerRegister != 2:
		return fmt.Errorf("%d characters per register, want 1 or 2", p.CharsPerRegister)
	case p.Encoding != ASCII && p.Encoding != CP1251 && p.Encoding != Digits:
		return fmt.Errorf("encoding %q, want ascii, cp1251 or digits", p.Encoding)
	case p.Function != modbus.FuncWriteMultipleRegisters && p.Function != modbus.FuncWriteSingleRegister:
		return fmt.Errorf("function %d, want 16 or 6", p.Function)
	case p.HasWindow && p.WindowRegister >= p.Register && int(p.WindowRegister) < int(p.Register)+p.Length:
		return fmt.Errorf("window register %#04x is inside the text", p.WindowRegister)
	}
	return nil
}

// textRegs is s laid out as the profile says.
func (p Profile) textRegs(s string) []uint16 {
	b := p.Encoding.encode(s, p.Length*p.CharsPerRegister)
	for len(b) < p.Length*p.CharsPerRegister {
		b = append(b, ' ')
	}
	if p.CharsPerRegister == 2 {
		return packText(b, p.Length)
	}
	v := make([]uint16, p.Length)
	for i := range v {
		v[i] = uint16(b[i])
	}
	return v
}

// profileCheckEvery is how often a profile display is read to see that it
// answers; profileRefresh how often its text is written again, since it
// has no SYNC to tell a power cut.
const (
	profileCheckEvery = time.Second
	profileRefresh    = time.Minute
)

// ProfileDisplay is another maker's Modbus display, driven through a
// Profile: it shows the ticket number of each call to its window.
type ProfileDisplay struct {
	unit
	// Guarded by unit.mu.
	text      string
	gen       uint64
	written   uint64
	wroteAt   time.Time
	answering bool
}

func newProfileDisplay(b *Bus, cfg DeviceConfig) *ProfileDisplay {
	return &ProfileDisplay{unit: newUnit(b, cfg, "display")}
}

func (d *ProfileDisplay) base() *unit { return &d.unit }

// Status is the display's health.
func (d *ProfileDisplay) Status() devices.Status { return d.deviceStatus() }

// Show writes c's text. As with Display, a display that cannot be
// reached now gets it as soon as it can.
func (d *ProfileDisplay) Show(ctx context.Context, c Call) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.text = c.Text
	d.gen++
	return d.flush(ctx)
}

// Clear writes spaces.
func (d *ProfileDisplay) Clear(ctx context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.text = ""
	d.gen++
	return d.flush(ctx)
}

// Shown is the text the display was last told to show, and whether it
// has it.
func (d *ProfileDisplay) Shown() (string, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.text, d.written == d.gen
}

func (d *ProfileDisplay) flush(ctx context.Context) error {
	if open, _ := d.b.portOpen(); !open || d.b.master.BackedOff(d.cfg.Address) {
		d.b.poke()
		return fmt.Errorf("display %s: %w", d.cfg.Name, ErrNotReady)
	}
	if err := d.write(ctx, d.b.master); err != nil {
		return fmt.Errorf("display %s: %w", d.cfg.Name, err)
	}
	return nil
}

func (d *ProfileDisplay) write(ctx context.Context, m *modbus.Master) error {
	p, unit, gen := d.cfg.Profile, d.cfg.Address, d.gen
	regs := p.textRegs(d.text)
	window := uint16(d.cfg.Window)
	if p.Function == modbus.FuncWriteMultipleRegisters {
		withWindow := p.HasWindow && int(p.WindowRegister) == int(p.Register)+p.Length && p.Length < modbus.MaxWriteQuantity
		if withWindow {
			regs = append(regs, window)
		}
		if _, err := m.Do(ctx, unit, modbus.WriteRegisters(p.Register, regs...)); err != nil {
			return err
		}
		if p.HasWindow && !withWindow {
			if _, err := m.Do(ctx, unit, modbus.WriteRegisters(p.WindowRegister, window)); err != nil {
				return err
			}
		}
	} else {
		for i, v := range regs {
			if _, err := m.Do(ctx, unit, modbus.WriteRegister(p.Register+uint16(i), v)); err != nil {
				return err
			}
		}
		if p.HasWindow {
			if _, err := m.Do(ctx, unit, modbus.WriteRegister(p.WindowRegister, window)); err != nil {
				return err
			}
		}
	}
	d.written, d.wroteAt, d.answering = gen, d.b.lineClock.Now(), true
	return nil
}

// poll checks once a second that the display answers (a read of its
// first text register: an exception is an answer too), and writes the
// text when it changed, when the display answers again after a silence,
// and once a minute.
func (d *ProfileDisplay) poll(ctx context.Context, m *modbus.Master, unit byte) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.b.lineClock.Now()
	if d.written != d.gen || !d.answering || now.Sub(d.wroteAt) >= profileRefresh {
		err := d.write(ctx, m)
		if err != nil {
			d.answering = false
			d.noteErr(err)
		}
		d.lastPoll = now
		return err
	}
	if now.Sub(d.lastPoll) < profileCheckEvery {
		return nil
	}
	d.lastPoll = now
	_, err := m.DoOnce(ctx, unit, modbus.ReadHolding(d.cfg.Profile.Register, 1))
	var exc *modbus.Exception
	if errors.As(err, &exc) {
		err = nil // it answered
	}
	if err != nil {
		d.answering = false
		d.noteErr(err)
	}
	return err
}
