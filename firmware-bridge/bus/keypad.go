package bus

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/cherga/kiosk/devices"
	"github.com/cherga/kiosk/firmware-bridge/modbus"
)

// LEDs are a keypad's four lamps (H 0x0129), as bits.
type LEDs uint16

const (
	LEDReady   LEDs = 1 << 0 // green
	LEDServing LEDs = 1 << 1 // yellow
	LEDPaused  LEDs = 1 << 2 // red
	LEDOffline LEDs = 1 << 3 // red: offline or error
)

// Keypad is an operator keypad of ours (CHG-KP1, PROTOCOL.md section 7):
// seven keys, whose presses go to the bus's Journal once each, an LCD of
// 2 × 20 characters, four LEDs and a buzzer.
type Keypad struct {
	unit
	q eventQueue // guarded by unit.mu

	// What the host wants shown, guarded by kmu: setters never wait for
	// the bus.
	kmu            sync.Mutex
	line1, line2   string
	textGen        uint64
	textDone       uint64
	leds, blink    LEDs
	ledGen         uint64
	ledDone        uint64
	beepMS         uint16
	hostTimeoutSec uint16
}

func newKeypad(b *Bus, cfg DeviceConfig) *Keypad {
	k := &Keypad{unit: newUnit(b, cfg, "keypad"), q: eventQueue{journal: b.cfg.Journal}}
	secs := cfg.HostTimeout.Round(time.Second) / time.Second
	if secs <= 0 {
		secs = 10
	}
	k.hostTimeoutSec = uint16(min(secs, 255))
	return k
}

func (k *Keypad) base() *unit { return &k.unit }

// Status is the keypad's health.
func (k *Keypad) Status() devices.Status { return k.deviceStatus() }

// SetText sets the LCD's two lines (20 characters each, code page
// CHG-1, fitted to what the LCD can draw: FitLCD); they are written with
// one 0x10 in the keypad's next poll.
func (k *Keypad) SetText(line1, line2 string) {
	k.kmu.Lock()
	if k.line1 == line1 && k.line2 == line2 {
		k.kmu.Unlock()
		return
	}
	k.line1, k.line2 = line1, line2
	k.textGen++
	k.kmu.Unlock()
	k.b.poke()
}

// Text is what the LCD was last told to show.
func (k *Keypad) Text() (line1, line2 string) {
	k.kmu.Lock()
	defer k.kmu.Unlock()
	return k.line1, k.line2
}

// SetLEDs lights the LEDs in on, those also in blink blinking.
func (k *Keypad) SetLEDs(on, blink LEDs) {
	k.kmu.Lock()
	if k.leds == on && k.blink == blink {
		k.kmu.Unlock()
		return
	}
	k.leds, k.blink = on, blink
	k.ledGen++
	k.kmu.Unlock()
	k.b.poke()
}

// Beep sounds the buzzer for d (1 ms to 2 s), in the keypad's next poll.
func (k *Keypad) Beep(d time.Duration) {
	ms := min(max(d.Milliseconds(), 1), 2000)
	k.kmu.Lock()
	k.beepMS = uint16(ms)
	k.kmu.Unlock()
	k.b.poke()
}

func (k *Keypad) textRegs() ([]uint16, uint64) {
	k.kmu.Lock()
	defer k.kmu.Unlock()
	v := make([]uint16, 0, kpTextQty)
	v = append(v, encodingCHG1)
	a, b := FitLCD(k.line1, k.line2)
	v = append(v, packText(a, kpLineRegs)...)
	v = append(v, packText(b, kpLineRegs)...)
	return v, k.textGen
}

func (k *Keypad) writeText(ctx context.Context, m *modbus.Master) error {
	v, gen := k.textRegs()
	if _, err := m.Do(ctx, k.cfg.Address, modbus.WriteRegisters(kpText, v...)); err != nil {
		return fmt.Errorf("text: %w", err)
	}
	k.kmu.Lock()
	k.textDone = gen
	k.kmu.Unlock()
	return nil
}

func (k *Keypad) writeLEDs(ctx context.Context, m *modbus.Master) error {
	k.kmu.Lock()
	on, blink, gen := k.leds, k.blink, k.ledGen
	k.kmu.Unlock()
	if _, err := m.Do(ctx, k.cfg.Address, modbus.WriteRegisters(kpLEDs, uint16(on), uint16(blink))); err != nil {
		return fmt.Errorf("leds: %w", err)
	}
	k.kmu.Lock()
	k.ledDone = gen
	k.kmu.Unlock()
	return nil
}

// poll is the keypad's turn: the poll block, a resync after a reset, the
// events (PROTOCOL.md 5.2), then what the host changed.
func (k *Keypad) poll(ctx context.Context, m *modbus.Master, unit byte) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.lastPoll = k.b.lineClock.Now()
	p, err := k.pollCommon(ctx, m, func(changed bool) error {
		k.smu.Lock()
		serial := k.ident.Serial
		k.smu.Unlock()
		if err := k.q.load(serial); err != nil {
			return err
		}
		if _, err := m.Do(ctx, unit, modbus.WriteRegister(kpHostTimeout, k.hostTimeoutSec)); err != nil {
			return fmt.Errorf("host timeout: %w", err)
		}
		if err := k.writeText(ctx, m); err != nil {
			return err
		}
		return k.writeLEDs(ctx, m)
	})
	if err != nil {
		k.noteErr(err)
		return err
	}
	if _, err := k.q.take(ctx, m, unit, p, func(re rawEvent) (Event, bool) { return k.event(re) }); err != nil {
		k.noteErr(err)
		return err
	}
	return k.apply(ctx, m)
}

// apply writes what changed since the last poll; k.mu is held.
func (k *Keypad) apply(ctx context.Context, m *modbus.Master) error {
	if err := k.applyBrightness(ctx, m); err != nil {
		return err
	}
	k.kmu.Lock()
	text, leds, beep := k.textGen != k.textDone, k.ledGen != k.ledDone, k.beepMS
	k.kmu.Unlock()
	if text {
		if err := k.writeText(ctx, m); err != nil {
			return err
		}
	}
	if leds {
		if err := k.writeLEDs(ctx, m); err != nil {
			return err
		}
	}
	if beep > 0 {
		if _, err := m.Do(ctx, k.cfg.Address, modbus.WriteRegister(kpBeep, beep)); err != nil {
			return fmt.Errorf("beep: %w", err)
		}
		k.kmu.Lock()
		if k.beepMS == beep {
			k.beepMS = 0
		}
		k.kmu.Unlock()
	}
	return nil
}

// event makes an Event of what the device offered.
func (u *unit) event(re rawEvent) (Event, bool) {
	key := Key(re.Code)
	u.smu.Lock()
	serial := u.ident.Serial
	u.smu.Unlock()
	if !key.validFor(u.cfg.Type) {
		u.b.log.Warn("device offered an event with an unknown key; acknowledged, not taken",
			"device", u.cfg.Name, "seq", re.Seq, "code", fmt.Sprintf("%#04x", re.Code))
		return Event{}, false
	}
	now := u.b.clock.Now()
	age, known := re.age()
	return Event{Device: u.cfg.Name, Type: u.cfg.Type, Window: u.cfg.Window, Unit: u.cfg.Address, Serial: serial,
		Seq: re.Seq, Key: key, Long: re.Code>>8 == 1, At: now.Add(-age), AgeKnown: known}, true
}
