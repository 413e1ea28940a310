package emulator

import (
	"encoding/binary"
	"time"

	"github.com/cherga/kiosk/firmware-bridge/modbus"
)

// The type blocks (H 0x0100…, I 0x0040–0x0047) of sections 6–8. The
// caller of every function here holds d.mu.

// displayRAM is the window display's block (section 6).
type displayRAM struct {
	encoding   uint16
	text       [16]byte
	window     uint16
	blink      uint16 // BLINK as written
	blinkFrom  time.Time
	blinkUntil time.Time
	callID     uint16
	idle       uint16
}

// keypadRAM is the operator keypad's block (section 7).
type keypadRAM struct {
	encoding    uint16
	lines       [80]byte
	leds        uint16
	ledsBlink   uint16
	hostTimeout uint16
	keyEnable   uint16
	down        [8]time.Time // keys held, since when (zero: up)
	beep        *Beep
}

// panelRAM is the rating panel's block (section 8).
type panelRAM struct {
	prompt      uint16 // PROMPT as written
	promptUntil time.Time
	leds        uint16
	thanksMs    uint16
	thanksUntil time.Time
	thanksKey   int
	endedPrompt uint16    // the PROMPT value a rating ended…
	endedUntil  time.Time // …and until when writing it again is a retry
	down        [6]time.Time
}

func (d *Device) typeInit() {
	d.ram.kp = keypadRAM{hostTimeout: 10, keyEnable: 0xFFFF}
	d.ram.rp = panelRAM{thanksMs: 3000}
}

func (d *Device) typeHregs() int {
	switch d.spec.Type {
	case WindowDisplay:
		return 14
	case Keypad:
		return 46
	}
	return 3
}

func be16(b []byte) uint16 { return binary.BigEndian.Uint16(b) }

func (d *Device) typeHreg(i int, now time.Time) uint16 {
	switch d.spec.Type {
	case WindowDisplay:
		r := &d.ram.disp
		switch {
		case i >= 1 && i <= 8:
			return be16(r.text[2*(i-1):])
		case i == 0:
			return r.encoding
		case i == 9:
			return r.window
		case i == 10:
			return r.blink
		case i == 11:
			return r.callID
		case i == 13:
			return r.idle
		}
		return 0 // 12 CLEAR reads 0
	case Keypad:
		r := &d.ram.kp
		switch {
		case i >= 1 && i <= 40:
			return be16(r.lines[2*(i-1):])
		case i == 0:
			return r.encoding
		case i == 41:
			return r.leds
		case i == 42:
			return r.ledsBlink
		case i == 44:
			return r.hostTimeout
		case i == 45:
			return r.keyEnable
		}
		return 0 // 43 BEEP reads 0
	}
	r := &d.ram.rp
	switch i {
	case 0:
		if d.promptActive(now) {
			return r.prompt
		}
		return 0
	case 1:
		return r.leds
	case 2:
		return r.thanksMs
	}
	return 0
}

func (d *Device) typeHcheck(i int, v uint16) modbus.ExceptionCode {
	over := func(max uint16) modbus.ExceptionCode {
		if v > max {
			return modbus.IllegalDataValue
		}
		return 0
	}
	switch d.spec.Type {
	case WindowDisplay:
		switch i {
		case 0:
			return over(1)
		case 9:
			return over(999)
		case 10:
			return over(60)
		case 12:
			if v != 1 {
				return modbus.IllegalDataValue
			}
		case 13:
			return over(2)
		}
	case Keypad:
		switch i {
		case 0:
			return over(1)
		case 41, 42:
			return over(15)
		case 43:
			if v < 1 || v > 2000 {
				return modbus.IllegalDataValue
			}
		case 44:
			return over(255)
		}
	case RatingPanel:
		switch i {
		case 0:
			return over(600)
		case 1:
			return over(0x3F)
		case 2:
			return over(10000)
		}
	}
	return 0
}

func put16(b []byte, v uint16) { binary.BigEndian.PutUint16(b, v) }

func (d *Device) typeHwrite(i int, v uint16, now time.Time) {
	switch d.spec.Type {
	case WindowDisplay:
		r := &d.ram.disp
		switch {
		case i >= 1 && i <= 8:
			put16(r.text[2*(i-1):], v)
		case i == 0:
			r.encoding = v
		case i == 9:
			r.window = v
		case i == 10:
			// The blink restarts with every write of BLINK.
			r.blink, r.blinkFrom, r.blinkUntil = v, now, now.Add(time.Duration(v)*time.Second)
		case i == 11:
			r.callID = v
		case i == 12:
			r.text = [16]byte{}
			r.blink, r.blinkUntil, r.callID = 0, time.Time{}, 0
		case i == 13:
			r.idle = v
		}
	case Keypad:
		r := &d.ram.kp
		switch {
		case i >= 1 && i <= 40:
			put16(r.lines[2*(i-1):], v)
		case i == 0:
			r.encoding = v
		case i == 41:
			r.leds = v
		case i == 42:
			r.ledsBlink = v
		case i == 43:
			d.beep(int(v), BeepTone, now)
		case i == 44:
			r.hostTimeout = v
		case i == 45:
			r.keyEnable = v
		}
	case RatingPanel:
		r := &d.ram.rp
		switch i {
		case 0:
			// The same PROMPT within 1 s of the rating that ended it is
			// the host's retry of a write whose answer was lost (8.2).
			if v != 0 && v == r.endedPrompt && now.Before(r.endedUntil) {
				break
			}
			r.prompt, r.promptUntil = v, time.Time{}
			if v == 0 {
				r.endedUntil = time.Time{}
			} else {
				r.promptUntil = now.Add(time.Duration(v) * time.Second)
				r.thanksUntil = time.Time{} // a new prompt puts out the lamp
			}
		case 1:
			r.leds = v
		case 2:
			r.thanksMs = v
		}
	}
}

func (d *Device) typeHwriteDone(now time.Time) {}

func (d *Device) typeIreg(i int, now time.Time) uint16 {
	switch d.spec.Type {
	case WindowDisplay:
		r := &d.ram.disp
		switch i {
		case 0:
			if r.text[0] == 0 {
				return 0
			}
			return r.callID
		case 1:
			return secondsLeft(r.blinkUntil, now)
		}
		return 0 // 2 FACE_FAULT: no faults
	case Keypad:
		if i == 0 {
			return downBits(d.ram.kp.down[:])
		}
		return 0
	}
	switch i {
	case 0:
		return secondsLeft(d.ram.rp.promptUntil, now)
	case 1:
		return downBits(d.ram.rp.down[:])
	}
	return 0
}

// downBits: bit n−1 for key n held.
func downBits(down []time.Time) uint16 {
	var b uint16
	for k := 1; k < len(down); k++ {
		if !down[k].IsZero() {
			b |= 1 << (k - 1)
		}
	}
	return b
}

func (d *Device) hostTimedOut(now time.Time) bool {
	if d.spec.Type != Keypad || d.phase != phaseOn {
		return false
	}
	t := d.ram.kp.hostTimeout
	return t != 0 && now.Sub(d.ram.lastHostFrame) >= time.Duration(t)*time.Second
}

func (d *Device) promptActive(now time.Time) bool {
	return d.ram.rp.prompt > 0 && now.Before(d.ram.rp.promptUntil)
}

// Beep kinds.
const (
	BeepTone   = "beep"   // BEEP written by the host
	BeepLow    = "low"    // a disabled key
	BeepDouble = "double" // a press dropped, the queue full
)

// Beep is the keypad's last beep.
type Beep struct {
	Kind string    `json:"kind"`
	Ms   int       `json:"ms"`
	At   time.Time `json:"at"`
}

func (d *Device) beep(ms int, kind string, now time.Time) {
	if d.spec.Type == Keypad {
		d.ram.kp.beep = &Beep{Kind: kind, Ms: ms, At: now}
	}
}
