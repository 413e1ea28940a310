package emulator

import (
	"fmt"
	"time"
)

// Face is what a device shows now, and how it is.
type Face struct {
	Addr       byte   `json:"addr"` // the address it answers now
	Spec       string `json:"spec"` // as it was made: "2:keypad"
	Type       string `json:"type"`
	Product    string `json:"product"`
	Serial     string `json:"serial"` // 8 hex digits
	Firmware   string `json:"firmware"`
	Slot       string `json:"slot"`  // the running slot, A or B
	Power      string `json:"power"` // on, booting, off, crashed, dead, mute
	Line       string `json:"line"`  // its line settings
	OnLine     bool   `json:"on_line"`
	Brightness int    `json:"brightness"`
	Identify   int    `json:"identify,omitempty"` // seconds left of flashing to be found

	Display *DisplayFace `json:"display,omitempty"`
	Keypad  *KeypadFace  `json:"keypad,omitempty"`
	Rating  *RatingFace  `json:"rating,omitempty"`

	Health Health `json:"health"`
}

// DisplayFace is the window display's face.
type DisplayFace struct {
	Text      string `json:"text"`   // the 8 characters of the matrix ("" when blank)
	Window    int    `json:"window"` // the number shown, 0 none
	Arrow     bool   `json:"arrow"`
	Blinking  bool   `json:"blinking"`
	BlinkLeft int    `json:"blink_left,omitempty"`
	Clock     string `json:"clock,omitempty"` // the idle clock HH:MM
	CallID    uint16 `json:"call_id,omitempty"`
	Idle      int    `json:"idle"`
}

// LED is one lamp.
type LED struct {
	On      bool `json:"on"`
	Blink   bool `json:"blink,omitempty"`
	Breathe bool `json:"breathe,omitempty"`
}

// KeypadFace is the operator keypad's face.
type KeypadFace struct {
	Lines    [2]string `json:"lines"` // 20 characters each, as the LCD shows them
	LEDs     [4]LED    `json:"leds"`  // green ready, yellow serving, red paused, red offline
	Offline  bool      `json:"offline"`
	Beep     *Beep     `json:"beep,omitempty"` // the last beep
	KeysDown []int     `json:"keys_down,omitempty"`
}

// RatingFace is the rating panel's face.
type RatingFace struct {
	Prompt      bool   `json:"prompt"`
	PromptLeft  int    `json:"prompt_left,omitempty"`
	Buttons     [5]LED `json:"buttons"`
	Thanks      bool   `json:"thanks"`
	ButtonsDown []int  `json:"buttons_down,omitempty"`
}

// Health is a device's state for a technician.
type Health struct {
	Status     uint16       `json:"status"` // I 0x0000
	Sync       uint16       `json:"sync"`
	BootCount  uint16       `json:"boot_count"`
	Uptime     int          `json:"uptime_s"`
	ResetCause byte         `json:"reset_cause"`
	CRCErrors  uint16       `json:"crc_errors"`
	EvPending  int          `json:"ev_pending"`
	EvLost     uint16       `json:"ev_lost"`
	Update     UpdateHealth `json:"update"`
	Fault      Fault        `json:"fault"`
	Counters
}

// UpdateHealth is I 0x0080–0x0086.
type UpdateHealth struct {
	State      int    `json:"state"`
	StateName  string `json:"state_name"`
	ChunksHeld int    `json:"chunks_held"`
	LastError  int    `json:"last_error,omitempty"`
	TrialLeft  int    `json:"trial_left,omitempty"`
}

var updStateNames = []string{"idle", "receiving", "verifying", "verified", "verify failed", "committed", "trial", "reverted"}

// Face returns what the device shows now.
func (d *Device) Face() Face {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.o.Clock.Now()
	d.advance(now)
	slot := d.ram.running
	if d.phase != phaseOn {
		slot = d.nv.Boot.Active // what will boot
	}
	f := Face{
		Addr: d.addr(), Spec: d.spec.String(), Type: d.spec.Type.String(), Product: d.spec.Type.Product(),
		Serial: fmt.Sprintf("%08X", d.nv.Serial), Firmware: d.nv.Slots[slot].Version.String(),
		Slot: string(rune('A' + slot)), Line: d.line().String(), OnLine: d.onLine(),
		Power: d.phase.String(),
	}
	switch {
	case d.phase == phaseOn && now.Before(d.listenAt):
		f.Power = "booting"
	case d.phase == phaseOn && d.ram.mute:
		f.Power = "mute"
	}
	f.Health = Health{
		BootCount: d.nv.BootCount, EvLost: d.nv.EvLost, Fault: d.fault.normal(), Counters: d.counters,
	}
	if d.phase != phaseOn {
		return f
	}
	f.Brightness = int(d.ram.brightness)
	f.Identify = int(secondsLeft(d.ram.identifyUntil, now))
	u := d.ram.upd
	f.Health.Status = d.status(now)
	f.Health.Sync = d.ram.sync
	f.Health.Uptime = int(now.Sub(d.resetAt) / time.Second)
	f.Health.ResetCause = d.ram.resetCause
	f.Health.CRCErrors = d.ram.crcErrors
	f.Health.EvPending = len(d.evList())
	f.Health.Update = UpdateHealth{
		State: int(u.st), StateName: updStateNames[u.st], ChunksHeld: u.held, LastError: int(u.err),
		TrialLeft: int(d.updIreg(6, now)),
	}
	switch d.spec.Type {
	case WindowDisplay:
		f.Display = d.displayFace(now)
	case Keypad:
		f.Keypad = d.keypadFace(now)
	case RatingPanel:
		f.Rating = d.ratingFace(now)
	}
	return f
}

func (d *Device) displayFace(now time.Time) *DisplayFace {
	r := &d.ram.disp
	f := &DisplayFace{CallID: r.callID, Idle: int(r.idle)}
	switch {
	case r.text[0] != 0:
		f.Text = codesString(decodeText(r.text[:], r.encoding, 8))
		f.BlinkLeft = int(secondsLeft(r.blinkUntil, now))
		f.Blinking = f.BlinkLeft > 0
		f.Window = int(r.window)
		f.Arrow = true
	case r.idle == 1 && d.unixTime(now) != 0:
		t := (int64(d.unixTime(now)) + int64(d.ram.utcOffset)*60) % 86400
		if t < 0 {
			t += 86400
		}
		f.Clock = fmt.Sprintf("%02d:%02d", t/3600, t/60%60)
	case r.idle == 2:
		f.Window = int(r.window)
	}
	return f
}

func (d *Device) keypadFace(now time.Time) *KeypadFace {
	r := &d.ram.kp
	var codes [2][]byte
	for l := range codes {
		codes[l] = decodeText(r.lines[40*l:40*(l+1)], r.encoding, 20)
	}
	f := &KeypadFace{Lines: lcdLines(codes), Offline: d.hostTimedOut(now), Beep: r.beep}
	on, blink := r.leds, r.ledsBlink
	if f.Offline {
		on, blink = on|0x08, blink|0x08
	}
	for i := range f.LEDs {
		f.LEDs[i] = LED{On: on&(1<<i) != 0, Blink: on&blink&(1<<i) != 0}
	}
	for k := 1; k <= 7; k++ {
		if !r.down[k].IsZero() {
			f.KeysDown = append(f.KeysDown, k)
		}
	}
	return f
}

func (d *Device) ratingFace(now time.Time) *RatingFace {
	r := &d.ram.rp
	f := &RatingFace{Prompt: d.promptActive(now)}
	switch {
	case f.Prompt:
		f.PromptLeft = int(secondsLeft(r.promptUntil, now))
		for i := range f.Buttons {
			f.Buttons[i] = LED{On: true, Breathe: true}
		}
	case now.Before(r.thanksUntil):
		f.Thanks = true
		f.Buttons[r.thanksKey-1].On = true
	default:
		for i := range f.Buttons {
			f.Buttons[i].On = r.leds&(1<<i) != 0
		}
		f.Thanks = r.leds&0x20 != 0
	}
	for k := 1; k <= 5; k++ {
		if !r.down[k].IsZero() {
			f.ButtonsDown = append(f.ButtonsDown, k)
		}
	}
	return f
}
