package emulator

import (
	"fmt"
	"time"
)

// Outcome is what became of a press.
type Outcome string

// Outcomes of a press.
const (
	Queued   Outcome = "queued"    // an event, now pending on the bus
	Disabled Outcome = "disabled"  // keypad: the key is off in KEY_ENABLE (a low beep, no event)
	NoPrompt Outcome = "no-prompt" // rating panel: no prompt runs, so no event
	Dropped  Outcome = "dropped"   // the ring is full: EV_LOST + 1, STATUS bit 6
)

// PressResult says what a press did.
type PressResult struct {
	Addr    byte    `json:"addr"`
	Type    string  `json:"type"`
	Key     int     `json:"key"`
	Name    string  `json:"name"`
	Long    bool    `json:"long"`
	Outcome Outcome `json:"outcome"`
	Seq     uint16  `json:"seq,omitempty"` // the event's sequence number, when queued
}

// longPress is how long a key is held for a long press (PROTOCOL.md 5.1).
const longPress = time.Second

// awake: the application runs (it may be deaf to the bus, as a mute
// image is, but it reads its keys).
func (d *Device) awake(now time.Time) bool {
	return d.phase == phaseOn && !now.Before(d.listenAt)
}

// Press presses and releases key at once: a short press, or a long one
// (held ≥ 1 s) if long. Keys are a keypad's 1–7 and a rating panel's 1–5.
// A keypad makes the event at release (firmware note 7), a rating panel
// at key-down and never a long one (8.1); either way it is in the
// journal when Press returns.
func (d *Device) Press(key int, long bool) (PressResult, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.o.Clock.Now()
	d.advance(now)
	if err := checkKey(d.spec.Type, key); err != nil {
		return PressResult{}, err
	}
	if !d.awake(now) {
		return PressResult{}, fmt.Errorf("%w (%s)", ErrOff, d.phase)
	}
	return d.press(key, long, now)
}

// KeyDown holds key down (KEYS_DOWN / BUTTONS_DOWN show it) until KeyUp.
func (d *Device) KeyDown(key int) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.o.Clock.Now()
	d.advance(now)
	if err := checkKey(d.spec.Type, key); err != nil {
		return err
	}
	if !d.awake(now) {
		return fmt.Errorf("%w (%s)", ErrOff, d.phase)
	}
	down := d.downs()
	if !down[key].IsZero() {
		return nil
	}
	down[key] = now
	if d.spec.Type == RatingPanel {
		_, err := d.press(key, false, now) // a rating is made at key-down
		return err
	}
	return nil
}

// KeyUp releases a key held by KeyDown: a keypad's event, long if it was
// held 1 s or more on the clock (a rating panel's came at KeyDown; its
// result has Outcome "").
func (d *Device) KeyUp(key int) (PressResult, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.o.Clock.Now()
	d.advance(now)
	if err := checkKey(d.spec.Type, key); err != nil {
		return PressResult{}, err
	}
	if !d.awake(now) {
		return PressResult{}, fmt.Errorf("%w (%s)", ErrOff, d.phase)
	}
	down := d.downs()
	since := down[key]
	if since.IsZero() {
		return PressResult{}, fmt.Errorf("emulator: key %d is not held", key)
	}
	down[key] = time.Time{}
	if d.spec.Type == RatingPanel {
		return PressResult{Addr: d.addr(), Type: d.spec.Type.String(), Key: key, Name: KeyName(d.spec.Type, key)}, nil
	}
	return d.press(key, now.Sub(since) >= longPress, now)
}

func (d *Device) downs() []time.Time {
	if d.spec.Type == Keypad {
		return d.ram.kp.down[:]
	}
	return d.ram.rp.down[:]
}

func (d *Device) press(key int, long bool, now time.Time) (PressResult, error) {
	if d.spec.Type == RatingPanel {
		long = false // a rating has no long press (8.1)
	}
	res := PressResult{Addr: d.addr(), Type: d.spec.Type.String(), Key: key, Name: KeyName(d.spec.Type, key), Long: long}
	switch d.spec.Type {
	case Keypad:
		if d.ram.kp.keyEnable&(1<<(key-1)) == 0 {
			d.beep(40, BeepLow, now)
			res.Outcome = Disabled
			return res, nil
		}
	case RatingPanel:
		if !d.promptActive(now) {
			res.Outcome = NoPrompt
			return res, nil
		}
		// One press per prompt: this one ends it, and the thank-you lamp
		// lights (also if the ring is full: the visitor did rate).
		r := &d.ram.rp
		r.endedPrompt, r.endedUntil = r.prompt, now.Add(time.Second)
		r.prompt, r.promptUntil = 0, time.Time{}
		r.thanksUntil, r.thanksKey = now.Add(time.Duration(r.thanksMs)*time.Millisecond), key
	}
	code := uint8(key)
	if long {
		code |= 0x80
	}
	seq, ok, err := d.evAdd(code, now)
	if err != nil {
		return res, fmt.Errorf("emulator: journal: %w", err)
	}
	if !ok {
		res.Outcome = Dropped
		d.beep(80, BeepDouble, now)
		if err := d.overflow(); err != nil {
			return res, fmt.Errorf("emulator: EV_LOST: %w", err)
		}
		return res, nil
	}
	res.Outcome, res.Seq = Queued, seq
	return res, nil
}
