package bus

import (
	"context"
	"fmt"
	"time"

	"github.com/cherga/kiosk/devices"
	"github.com/cherga/kiosk/firmware-bridge/modbus"
)

// Call is what a display shows for a call: the ticket number.
type Call struct {
	Text string // like А123; a window display shows 8 characters
	// Blink is how long the text blinks, 1 to 60 s; 0: DefaultBlink.
	Blink time.Duration
}

// DefaultBlink is how long a new call blinks.
const DefaultBlink = 10 * time.Second

// displayPollEvery is how often a window display is polled when it has
// nothing to write: often enough to notice a power cut within a second
// (PROTOCOL.md section 11), seldom enough to leave the line to keypads.
const displayPollEvery = 250 * time.Millisecond

// Display is a window display of ours (CHG-WD1, PROTOCOL.md section 6).
type Display struct {
	unit
	// Guarded by unit.mu.
	block   []uint16 // the call block wanted
	gen     uint64   // counts changes of block
	written uint64   // the gen last written
	nextID  uint16
}

func newDisplay(b *Bus, cfg DeviceConfig) *Display {
	d := &Display{unit: newUnit(b, cfg, "window-display")}
	d.block = d.callBlock("", 0, 0)
	return d
}

func (d *Display) base() *unit { return &d.unit }

// Status is the display's health.
func (d *Display) Status() devices.Status { return d.deviceStatus() }

// callBlock is H 0x0100–0x010B: encoding, text, window, blink, call id.
func (d *Display) callBlock(text string, blink time.Duration, id uint16) []uint16 {
	v := make([]uint16, 0, wdBlockQty)
	v = append(v, encodingCHG1)
	v = append(v, packText(EncodeCHG1(text, 8), wdTextRegs)...)
	secs := uint16(0)
	if text != "" {
		if blink <= 0 {
			blink = DefaultBlink
		}
		secs = uint16(min(max(blink.Round(time.Second)/time.Second, 1), 60))
	}
	return append(v, uint16(d.cfg.Window), secs, id)
}

// Show shows c: one 0x10 write of the call block, which the display
// applies at once; the blink restarts with it. It returns nil once the
// display has it. When the display cannot be reached now the call is
// kept, written as soon as it can be, and the error says why
// (ErrNotReady, or the Modbus error).
func (d *Display) Show(ctx context.Context, c Call) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.nextID++; d.nextID == 0 {
		d.nextID = 1
	}
	d.block = d.callBlock(c.Text, c.Blink, d.nextID)
	d.gen++
	return d.flush(ctx)
}

// Clear blanks the display (it shows its idle face). Like Show, it is
// kept if the display cannot be reached now.
func (d *Display) Clear(ctx context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.block = d.callBlock("", 0, 0)
	d.gen++
	return d.flush(ctx)
}

// Shown is the text the display was last told to show ("" blank), its
// call id, and whether the display has it.
func (d *Display) Shown() (text string, id uint16, written bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return DecodeCHG1(unpackText(d.block[1 : 1+wdTextRegs])), d.block[11], d.written == d.gen
}

// flush writes the wanted block if the display is set up; d.mu is held.
func (d *Display) flush(ctx context.Context) error {
	if !d.ready() {
		d.b.poke()
		return fmt.Errorf("display %s: %w", d.cfg.Name, ErrNotReady)
	}
	if err := d.writeBlock(ctx, d.b.master); err != nil {
		return fmt.Errorf("display %s: %w", d.cfg.Name, err)
	}
	return nil
}

// ready reports whether the display may be written now; u.mu is held.
func (u *unit) ready() bool {
	open, _ := u.b.portOpen()
	u.smu.Lock()
	fault := u.fault
	u.smu.Unlock()
	return open && u.synced && fault == ""
}

func (d *Display) writeBlock(ctx context.Context, m *modbus.Master) error {
	gen := d.gen
	if d.textBlank() {
		// CLEAR (H 0x010C = 1) blanks text, blink and call id and keeps
		// the window; the blank block written at a resync does the same.
		if _, err := m.Do(ctx, d.cfg.Address, modbus.WriteRegister(wdClear, 1)); err != nil {
			return err
		}
	} else if _, err := m.Do(ctx, d.cfg.Address, modbus.WriteRegisters(wdBlock, d.block...)); err != nil {
		return err
	}
	d.written = gen
	return nil
}

func (d *Display) textBlank() bool { return d.block[1] == 0 }

// poll is the display's turn in the cycle: the SYNC check at most every
// displayPollEvery, a resync after a reset, and a call that could not be
// written before.
func (d *Display) poll(ctx context.Context, m *modbus.Master, unit byte) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.b.lineClock.Now()
	if d.synced && d.written == d.gen && now.Sub(d.lastPoll) < displayPollEvery {
		return nil
	}
	d.lastPoll = now
	_, err := d.pollCommon(ctx, m, func(bool) error {
		// IDLE is kept in RAM and 0 after a reset, like the call block.
		if _, err := m.Do(ctx, unit, modbus.WriteRegister(wdIdle, uint16(d.cfg.Idle))); err != nil {
			return fmt.Errorf("idle: %w", err)
		}
		gen := d.gen
		if _, err := m.Do(ctx, unit, modbus.WriteRegisters(wdBlock, d.block...)); err != nil {
			return fmt.Errorf("call block: %w", err)
		}
		d.written = gen
		return nil
	})
	if err != nil {
		d.noteErr(err)
		return err
	}
	if err := d.applyBrightness(ctx, m); err != nil {
		return err
	}
	if d.written != d.gen {
		if err := d.writeBlock(ctx, m); err != nil {
			d.noteErr(err)
			return err
		}
	}
	return nil
}
