package emulator_test

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cherga/kiosk/firmware-bridge/emulator"
	"github.com/cherga/kiosk/firmware-bridge/modbus"
)

// TestLine over a pseudo-terminal: bad CRC and other addresses silent,
// CRC_ERRORS counted by every device on the line, broadcasts acted on
// and not answered.
func TestLine(t *testing.T) {
	r := newRig(t, "1:window-display,2:keypad,3:rating", nil)
	if v := r.in(2, 0x002B, 1); v[0] != 0 {
		t.Fatalf("CRC_ERRORS %d at start", v[0])
	}
	r.port.mangle = func(b []byte) []byte { b[len(b)-1] ^= 0xFF; return b }
	r.silent(2, modbus.ReadInput(0, 6))
	for _, u := range []byte{1, 2, 3} {
		if v := r.in(u, 0x002B, 1); v[0] != 1 {
			t.Errorf("unit %d: CRC_ERRORS %d after one bad frame, want 1", u, v[0])
		}
	}
	r.silent(9, modbus.ReadInput(0, 6))
	r.port.mangle = func(b []byte) []byte { return modbus.AppendADU(nil, 248, b[1:len(b)-2]) }
	r.silent(2, modbus.ReadInput(0, 6))

	if err := r.m.Broadcast(r.ctx, modbus.WriteRegisters(3, 0x6955, 0xB900, 120)); err != nil {
		t.Fatal(err)
	}
	if err := r.m.Broadcast(r.ctx, modbus.WriteRegister(2, 4)); err != nil {
		t.Fatal(err)
	}
	if err := r.m.Broadcast(r.ctx, modbus.WriteRegister(0, 0x7777)); err != nil {
		t.Fatal(err)
	}
	for _, u := range []byte{1, 2, 3} {
		if v := r.hold(u, 0, 6); !slices.Equal(v, []uint16{0, 0, 4, 0x6955, 0xB900, 120}) {
			t.Errorf("unit %d: H 0–5 %04X after the broadcasts", u, v)
		}
	}
	st := r.bus.Stats()
	if st.Broadcasts != 3 || st.NotOurs != 2 {
		t.Errorf("server stats %+v: want 3 broadcasts, 2 frames not ours", st)
	}
	if h := r.face(2).Health; h.CRCErrors != 1 || h.Requests == 0 || h.Broadcasts != 3 {
		t.Errorf("keypad health %+v", h)
	}
}

// TestResetAndIdentity: SYNC is 0 after every reset and SYNC_MIRROR
// follows it; BOOT_COUNT, UPTIME, RESET_CAUSE, the serial and the
// identity block.
func TestResetAndIdentity(t *testing.T) {
	r := newRig(t, "4:keypad", nil)
	id := r.in(4, 0x20, 14)
	if !slices.Equal(id[:6], []uint16{2, 1, 1, 1, 0, 0}) || id[8] != 1 || id[10] != 1 || id[13] != 64 {
		t.Fatalf("identity block %v: want type 2, map 1, hw 1, fw 1.0.0, boot 1, reset cause power-on, capacity 64", id)
	}
	serial := uint32(id[6])<<16 | uint32(id[7])
	if d, _ := r.bus.Device(4); serial == 0 || serial == 0xFFFFFFFF || serial != d.Serial() {
		t.Fatalf("serial %#x", serial)
	}
	r.write(4, 0, 0xBEEF)
	if v := r.in(4, 0, 2); v[1] != 0xBEEF {
		t.Fatalf("SYNC_MIRROR %#x", v[1])
	}
	r.clock.Advance(65 * time.Second)
	if v := r.in(4, 0x29, 1); v[0] != 66 {
		t.Errorf("UPTIME %d, want 66", v[0])
	}
	info, err := r.m.ReadIdentification(r.ctx, 4)
	if err != nil || info != (modbus.Identity{Vendor: "cherga", Product: "CHG-KP1", Revision: "1.0.0", Model: "operator keypad 2x20"}) {
		t.Fatalf("identification %+v, %v", info, err)
	}

	r.bus.PowerCut(4, 2*time.Second)
	r.silent(4, modbus.ReadInput(0, 2))
	if f := r.face(4); f.Power != "off" {
		t.Fatalf("power %q during the cut", f.Power)
	}
	r.clock.Advance(2*time.Second + 100*time.Millisecond)
	v := r.in(4, 0, 2)
	if v[1] != 0 {
		t.Errorf("SYNC_MIRROR %#x after a power cut, want 0", v[1])
	}
	id2 := r.in(4, 0x20, 11)
	if id2[8] != 2 || id2[9] != 0 || id2[10] != 1 || uint32(id2[6])<<16|uint32(id2[7]) != serial {
		t.Errorf("after the power cut: boot count %d, uptime %d, reset cause %d, serial %04X", id2[8], id2[9], id2[10], id2[6:8])
	}
	if h := r.hold(4, 0, 2); h[0] != 0 || h[1] != 0 {
		t.Errorf("SYNC, EV_ACK %v after reset", h)
	}
	// A restart by CFG_APPLY 0xDEAD is a watchdog reset (STATUS bit 4).
	r.write(4, 0x0B, 0xDEAD)
	r.clock.Advance(100 * time.Millisecond)
	if v := r.in(4, 0, 1); v[0]&0x10 == 0 {
		t.Errorf("STATUS %#x after a restart, want bit 4", v[0])
	}
	if v := r.in(4, 0x28, 3); v[0] != 3 || v[2] != 0x08 {
		t.Errorf("boot count %d, reset cause %#x after the restart", v[0], v[2])
	}
}

// TestConfig: CFG_* read the stored settings, change nothing until
// 0xA5A5, which answers at the old address and then moves the device; a
// baud rate the bus does not have makes it fall silent; IDENTIFY counts
// down; and all of it survives the emulator's restart.
func TestConfig(t *testing.T) {
	r := newRig(t, "1:window-display,2:keypad", nil)
	if v := r.hold(1, 8, 3); !slices.Equal(v, []uint16{1, 192, 2}) {
		t.Fatalf("CFG_ADDRESS, BAUD, FORMAT %v, want 1 192 2 (19200 8N2)", v)
	}
	r.write(1, 2, 3)
	r.write(1, 8, 9)
	if v := r.hold(1, 8, 1); v[0] != 9 {
		t.Fatalf("CFG_ADDRESS reads %d after writing 9", v[0])
	}
	r.write(1, 6, 30)
	r.clock.Advance(10 * time.Second)
	if v := r.hold(1, 6, 1); v[0] != 20 {
		t.Errorf("IDENTIFY %d 10 s after 30, want 20", v[0])
	}
	if f := r.face(1); f.Identify != 20 {
		t.Errorf("face identify %d", f.Identify)
	}
	r.write(1, 0x0B, 0xA5A5) // answered by unit 1
	r.clock.Advance(100 * time.Millisecond)
	r.silent(1, modbus.ReadInput(0x20, 1))
	if v := r.in(9, 0x20, 1); v[0] != 1 {
		t.Fatalf("the display at 9: type %d", v[0])
	}
	if v := r.hold(9, 2, 1); v[0] != 3 {
		t.Errorf("brightness %d after the save, want 3 from EEPROM", v[0])
	}
	if _, err := r.bus.Device(9); err != nil {
		t.Fatal(err)
	}
	// Another baud rate: the device no longer hears this bus.
	r.write(2, 9, 384)
	r.write(2, 0x0B, 0xA5A5)
	r.clock.Advance(100 * time.Millisecond)
	r.silent(2, modbus.ReadInput(0x20, 1))
	if f := r.face(2); f.OnLine || f.Line != "38400 8N2" {
		t.Errorf("keypad after its baud change: on line %v, line %s", f.OnLine, f.Line)
	}

	// The emulator again, on the same state directory: the display is at
	// 9, the keypad at 38400.
	sp, _ := emulator.ParseSpecs("1:window-display,2:keypad")
	bus, err := emulator.NewBus(sp, r.opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bus.Device(9); err != nil {
		t.Errorf("after a restart: %v", err)
	}
	if f := bus.Faces(); f[0].Addr != 9 || f[1].Line != "38400 8N2" || f[0].Health.BootCount != 3 {
		t.Errorf("after a restart: %+v", f)
	}
	entries, _ := os.ReadDir(r.opts.StateDir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, []string{"unit001-window-display.json", "unit002-keypad.json"}) {
		t.Errorf("state files %v", names)
	}
}

// TestWindowDisplay: the call block applied together, the blink, CLEAR,
// the idle clock and window number, SHOWN_CALL and BLINK_LEFT.
func TestWindowDisplay(t *testing.T) {
	r := newRig(t, "1:window-display", nil)
	call := []uint16{1, 0xC031, 0x3233, 0, 0, 0, 0, 0, 0, 7, 10, 0x55}
	bad := slices.Clone(call)
	bad[9] = 1000
	r.exception(1, modbus.WriteRegisters(0x100, bad...), modbus.IllegalDataValue)
	if d := r.face(1).Display; d.Text != "" || d.Window != 0 {
		t.Fatalf("a refused call changed the face: %+v", d)
	}
	r.write(1, 0x100, call...)
	r.clock.Advance(3500 * time.Millisecond)
	if v := r.in(1, 0x40, 3); !slices.Equal(v, []uint16{0x55, 7, 0}) {
		t.Errorf("SHOWN_CALL, BLINK_LEFT, FACE_FAULT %v, want 0x55 7 0", v)
	}
	if d := r.face(1).Display; d.Text != "А123" || d.Window != 7 || !d.Arrow || !d.Blinking || d.BlinkLeft != 7 {
		t.Errorf("face %+v", d)
	}
	r.clock.Advance(7 * time.Second)
	if d := r.face(1).Display; d.Blinking {
		t.Errorf("still blinking after 10 s: %+v", d)
	}
	// UTF-8 text, cut at 8 characters; an invalid sequence is a box.
	r.write(1, 0x100, 0, 0xD096, 0xD0B8, 0xD182, 0xD0BB, 0xD0BE, 0xFF41, 0x4243, 0x4445)
	if d := r.face(1).Display; d.Text != "Житло□AB" {
		t.Errorf("UTF-8 text shows %q", d.Text)
	}
	if v := r.hold(1, 0x101, 2); !slices.Equal(v, []uint16{0xD096, 0xD0B8}) {
		t.Errorf("TEXT reads back %04X", v)
	}
	r.write(1, 0x10C, 1)
	if v := r.hold(1, 0x100, 14); v[1] != 0 || v[9] != 7 || v[10] != 0 || v[11] != 0 || v[12] != 0 {
		t.Errorf("after CLEAR: %v (WINDOW stays)", v)
	}
	r.write(1, 0x10D, 1)
	if d := r.face(1).Display; d.Clock != "" {
		t.Errorf("idle clock %q before the time is set", d.Clock)
	}
	r.write(1, 3, 0x6955, 0xB900, 120) // 2026-01-01 00:00 UTC, +2 h
	r.clock.Advance(61 * time.Second)
	if d := r.face(1).Display; d.Clock != "02:01" || d.Text != "" {
		t.Errorf("idle clock %+v", d)
	}
	r.write(1, 0x10D, 2)
	if d := r.face(1).Display; d.Window != 7 || d.Arrow || d.Clock != "" {
		t.Errorf("idle window number %+v", d)
	}
	if v := r.in(1, 0, 6); !slices.Equal(v[2:], []uint16{0, 0, 0, 0}) || r.in(1, 0x2C, 2)[1] != 0 {
		t.Errorf("a display's event part %v", v)
	}
	r.write(1, 1, 5) // EV_ACK: accepted, no effect
	r.write(1, 2, 0)
	if f := r.face(1); f.Brightness != 0 {
		t.Errorf("brightness %d", f.Brightness)
	}
}

// TestKeypad: lines on the LCD, LEDs and blink, BEEP, HOST_TIMEOUT and
// KEY_ENABLE, KEYS_DOWN, long presses.
func TestKeypad(t *testing.T) {
	r := newRig(t, "2:keypad", nil)
	lines := make([]uint16, 41)
	lines[0] = 1
	copy(lines[1:], []uint16{0xC031, 0x3233, 0x20C6, 0xE8F2, 0xEBEE})  // "А123 Житло"
	copy(lines[21:], []uint16{0xD7E5, 0xEAE0, 0xFEF2, 0xFC3A, 0x2037}) // "Чекають: 7"
	r.write(2, 0x100, lines...)
	r.write(2, 0x129, 0x03, 0x02)
	r.write(2, 0x12B, 300)
	k := r.face(2).Keypad
	if k.Lines != [2]string{"А123 Житло          ", "Чекають: 7          "} {
		t.Errorf("LCD %q", k.Lines)
	}
	if !k.LEDs[0].On || k.LEDs[0].Blink || !k.LEDs[1].On || !k.LEDs[1].Blink || k.LEDs[2].On || k.LEDs[3].On {
		t.Errorf("LEDs %+v", k.LEDs)
	}
	if k.Beep == nil || k.Beep.Ms != 300 || k.Beep.Kind != emulator.BeepTone {
		t.Errorf("beep %+v", k.Beep)
	}
	if v := r.hold(2, 0x129, 5); !slices.Equal(v, []uint16{3, 2, 0, 10, 0xFFFF}) {
		t.Errorf("LEDS, BLINK, BEEP, HOST_TIMEOUT, KEY_ENABLE %v", v)
	}

	// Nothing from the host for 10 s: offline.
	r.clock.Advance(10 * time.Second)
	if k := r.face(2).Keypad; !k.Offline || !k.LEDs[3].On || !k.LEDs[3].Blink || k.Lines[0] == "" {
		t.Errorf("after 10 s without the host: %+v", k)
	}
	if h := r.face(2).Health; h.Status&0x80 == 0 {
		t.Errorf("STATUS %#x, want bit 7", h.Status)
	}
	// The first frame for it clears both (so the host reads bit 7 as 0).
	if v := r.in(2, 0, 1); v[0]&0x80 != 0 {
		t.Errorf("STATUS %#x as the host reads it", v[0])
	}
	if k := r.face(2).Keypad; k.Offline || k.LEDs[3].On {
		t.Errorf("after a frame: %+v", k)
	}
	r.write(2, 0x12C, 0)
	r.clock.Advance(time.Hour)
	if k := r.face(2).Keypad; k.Offline {
		t.Error("HOST_TIMEOUT 0 still times out")
	}

	r.write(2, 0x12D, 0xFFFF&^(1<<(emulator.KeyPause-1)))
	if res := r.press(2, emulator.KeyPause, false); res.Outcome != emulator.Disabled {
		t.Errorf("a disabled key: %+v", res)
	}
	if k := r.face(2).Keypad; k.Beep.Kind != emulator.BeepLow {
		t.Errorf("beep %+v for a disabled key", k.Beep)
	}
	d, _ := r.bus.Device(2)
	if err := d.KeyDown(emulator.KeyFinish); err != nil {
		t.Fatal(err)
	}
	if v := r.in(2, 0x40, 1); v[0] != 1<<(emulator.KeyFinish-1) {
		t.Errorf("KEYS_DOWN %#x", v[0])
	}
	r.clock.Advance(1200 * time.Millisecond)
	res, err := d.KeyUp(emulator.KeyFinish)
	if err != nil || res.Outcome != emulator.Queued || !res.Long {
		t.Fatalf("held 1.2 s: %+v %v", res, err)
	}
	r.press(2, emulator.KeyCame, false)
	r.clock.Advance(500 * time.Millisecond)
	if v := r.in(2, 0, 9); !slices.Equal(v[2:], []uint16{2, 1, 0x0104, 5, 2, 0x0003, 5}) {
		t.Errorf("poll %v: want 2 pending, seq 1 long finish, seq 2 came, both 0.5 s old", v)
	}
	if _, err := r.bus.Press(2, 8, false); !errors.Is(err, emulator.ErrBadKey) {
		t.Errorf("key 8: %v", err)
	}
}

// TestRatingPanel: no prompt, no event; one press per prompt; the
// thank-you lamp for THANKS_MS; LEDS by hand while no prompt runs.
func TestRatingPanel(t *testing.T) {
	r := newRig(t, "3:rating", nil)
	if res := r.press(3, 5, false); res.Outcome != emulator.NoPrompt {
		t.Fatalf("without a prompt: %+v", res)
	}
	r.write(3, 0x101, 0x21)
	if p := r.face(3).Rating; !p.Buttons[0].On || p.Buttons[1].On || !p.Thanks {
		t.Errorf("LEDS by hand: %+v", p)
	}
	r.write(3, 0x102, 2000)
	r.write(3, 0x100, 120)
	r.clock.Advance(20 * time.Second)
	if v := r.in(3, 0x40, 1); v[0] != 100 {
		t.Errorf("PROMPT_LEFT %d", v[0])
	}
	if p := r.face(3).Rating; !p.Prompt || !p.Buttons[3].Breathe || p.Thanks {
		t.Errorf("prompting: %+v", p)
	}
	if res := r.press(3, 4, false); res.Outcome != emulator.Queued || res.Seq != 1 {
		t.Errorf("the rating: %+v", res)
	}
	if res := r.press(3, 2, false); res.Outcome != emulator.NoPrompt {
		t.Errorf("a second press on one prompt: %+v", res)
	}
	if p := r.face(3).Rating; p.Prompt || !p.Thanks || !p.Buttons[3].On || p.Buttons[0].On {
		t.Errorf("thanking: %+v", p)
	}
	if v := r.hold(3, 0x100, 3); !slices.Equal(v, []uint16{0, 0x21, 2000}) {
		t.Errorf("PROMPT, LEDS, THANKS_MS %v", v)
	}
	r.clock.Advance(2 * time.Second)
	if p := r.face(3).Rating; p.Thanks != true || !p.Buttons[0].On {
		t.Errorf("after the thank-you: back to LEDS by hand %+v", p)
	}
	if v := r.in(3, 0, 6); !slices.Equal(v[2:5], []uint16{1, 1, 4}) {
		t.Errorf("poll %v", v)
	}
	// The same PROMPT again within 1 s of the rating is a retry: no
	// second prompt. After 1 s, or after a 0, it is a new one.
	r.write(3, 0x100, 60)
	if res := r.press(3, 5, true); res.Outcome != emulator.Queued || res.Long {
		t.Errorf("a long press on the panel: %+v, want a plain rating", res)
	}
	r.clock.Advance(500 * time.Millisecond)
	r.write(3, 0x100, 60)
	if p := r.face(3).Rating; p.Prompt || !p.Thanks {
		t.Errorf("a repeated PROMPT opened a prompt: %+v", p)
	}
	r.write(3, 0x100, 0)
	r.write(3, 0x100, 60)
	if p := r.face(3).Rating; !p.Prompt || p.Thanks {
		t.Errorf("PROMPT after a 0: %+v, want a prompt and the lamp out", p)
	}
	// A rating is made at key-down.
	d, _ := r.bus.Device(3)
	if err := d.KeyDown(2); err != nil {
		t.Fatal(err)
	}
	if v := r.in(3, 0x40, 2); v[1] != 0x02 {
		t.Errorf("BUTTONS_DOWN %#x", v[1])
	}
	if v := r.in(3, 0, 12); v[2] != 3 || v[9] != 3 || v[10] != 2 {
		t.Errorf("after key-down: %v, want the rating 2 as seq 3", v)
	}
	if res, err := d.KeyUp(2); err != nil || res.Outcome != "" {
		t.Errorf("key-up: %+v %v", res, err)
	}
	r.clock.Advance(1100 * time.Millisecond)
	r.write(3, 0x100, 60)
	if p := r.face(3).Rating; !p.Prompt {
		t.Errorf("the same PROMPT 1.1 s after the rating: %+v, want a prompt", p)
	}
	r.write(3, 0x100, 0)

	// A prompt that runs out takes no press.
	r.write(3, 0x100, 5)
	r.clock.Advance(5 * time.Second)
	if res := r.press(3, 1, false); res.Outcome != emulator.NoPrompt {
		t.Errorf("after the prompt ran out: %+v", res)
	}
}

// TestQueueFull: the 65th press without an ack is dropped, counted in
// EV_LOST (which survives a power cut) and STATUS bit 6, with a double
// beep.
func TestQueueFull(t *testing.T) {
	r := newRig(t, "2:keypad", nil)
	for i := range 64 {
		if res := r.press(2, 1+i%7, false); res.Outcome != emulator.Queued || int(res.Seq) != i+1 {
			t.Fatalf("press %d: %+v", i, res)
		}
	}
	if res := r.press(2, 1, false); res.Outcome != emulator.Dropped {
		t.Fatalf("65th press: %+v", res)
	}
	if v := r.in(2, 0, 3); v[0]&0x40 == 0 || v[2] != 64 {
		t.Errorf("STATUS %#x, EV_PENDING %d", v[0], v[2])
	}
	if v := r.in(2, 0x2C, 1); v[0] != 1 {
		t.Errorf("EV_LOST %d", v[0])
	}
	if k := r.face(2).Keypad; k.Beep.Kind != emulator.BeepDouble {
		t.Errorf("beep %+v", k.Beep)
	}
	r.write(2, 1, 10)
	if res := r.press(2, 1, false); res.Outcome != emulator.Queued || res.Seq != 65 {
		t.Errorf("after acking 10: %+v, want seq 65 queued", res)
	}
	r.bus.PowerCut(2, time.Second)
	r.clock.Advance(2 * time.Second)
	if v := r.in(2, 0, 3); v[0]&0x40 != 0 {
		t.Errorf("STATUS %#x after a power cut: bit 6 is since power-on", v[0])
	}
	if v := r.in(2, 0x2C, 1); v[0] < 1 {
		t.Errorf("EV_LOST %d after the power cut", v[0])
	}
}

func TestParseSpecs(t *testing.T) {
	sp, err := emulator.ParseSpecs("1:window-display, 2:keypad,3:rating")
	if err != nil || len(sp) != 3 || sp[2] != (emulator.Spec{Addr: 3, Type: emulator.RatingPanel}) {
		t.Fatalf("%v %v", sp, err)
	}
	for _, bad := range []string{"", "0:keypad", "248:keypad", "1:printer", "1", "1:keypad,1:rating", "x:keypad"} {
		if _, err := emulator.ParseSpecs(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if _, err := emulator.NewBus(sp, emulator.Options{Line: modbus.Line{Baud: 4800, Parity: 'N', StopBits: 2}}); err == nil ||
		!strings.Contains(err.Error(), "baud") {
		t.Errorf("a 4800 baud bus: %v", err)
	}
}
