package bridge_test

// The rating panel (CHG-RP1, PROTOCOL.md section 8) of the reference
// firmware under simavr, with the harness and helpers of simavr_test.go:
// buttons are the harness's pins, the LEDs are read back through its
// "leds" command (brightness now, least and most since the last look,
// simulated time of the last change), so breathing, the thank-you lamp
// and THANKS_MS are checked in simulated time, never by waiting.

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cherga/kiosk/firmware-bridge/modbus"
)

// buildRatingFirmware builds version vOld of the rating panel's factory
// image and the harness with the firmware's Makefile.
func buildRatingFirmware(t *testing.T) (dir string) {
	t.Helper()
	if _, err := exec.LookPath("avr-gcc"); err != nil {
		if os.Getenv("CI") == "" {
			t.Skip("avr-gcc not installed (Debian: gcc-avr avr-libc simavr libsimavr-dev; `make test` installs them)")
		}
		t.Fatal("CI is set but avr-gcc is missing: scripts/test-deps.sh should have installed gcc-avr")
	}
	dir = t.TempDir()
	args := []string{"-s", "-C", "firmware", "OUT=" + dir, "FW_VERSION=" + vOld,
		filepath.Join(dir, "cherga-rp1-factory.hex"), filepath.Join(dir, "cherga-avrsim")}
	cmd := exec.Command("make", args...)
	var b bytes.Buffer
	cmd.Stdout, cmd.Stderr = &b, &b
	if err := cmd.Run(); err != nil {
		t.Fatalf("make %s: %v\n%s", strings.Join(args, " "), err, b.String())
	}
	return dir
}

// ledLevel is one LED as the harness saw it: brightness in 1/256 (0 dark,
// 256 steady on) now, the least and most since the previous look, and the
// simulated millisecond of its last change.
type ledLevel struct{ Now, Min, Max, Since int }

// Indices into ratingLEDs.Leds: button LEDs 1-5 are 0-4, the lamp 5.
const lamp = 5

type ratingLEDs struct {
	T    int // simulated ms
	Leds [6]ledLevel
}

func (d *simDevice) leds() ratingLEDs {
	d.t.Helper()
	if _, err := fmt.Fprintln(d.stdin, "leds"); err != nil {
		d.fail("leds: %v", err)
	}
	select {
	case l := <-d.lines:
		var r ratingLEDs
		f := strings.Fields(l)
		ok := len(f) == 8 && f[0] == "leds"
		if ok {
			_, err := fmt.Sscan(f[1], &r.T)
			ok = err == nil
		}
		for i := 0; ok && i < 6; i++ {
			v := &r.Leds[i]
			_, err := fmt.Sscanf(f[2+i], "%d:%d:%d:%d", &v.Now, &v.Min, &v.Max, &v.Since)
			ok = err == nil
		}
		if ok {
			return r
		}
		d.fail("harness answered %q to leds", l)
	case <-time.After(5 * time.Second):
		d.fail("harness did not answer leds within 5 s")
	}
	return ratingLEDs{}
}

// now is the brightness of every LED at the moment.
func (r ratingLEDs) now() (v [6]int) {
	for i, l := range r.Leds {
		v[i] = l.Now
	}
	return v
}

// ratingPins: the harness's pin of each rating button (app/rating.c).
var ratingPins = [6]string{"", "C 0", "C 1", "C 2", "C 3", "D 4"}

// hold presses button b (1-5) and keeps it down until release; both wait
// until the firmware's debounced BUTTONS_DOWN (I 0x0041) shows it, so the
// press has certainly been seen.
func (d *simDevice) hold(b int) {
	d.t.Helper()
	if _, err := fmt.Fprintf(d.stdin, "pin %s 0\n", ratingPins[b]); err != nil {
		d.fail("hold: %v", err)
	}
	m := uint16(1) << (b - 1)
	d.pollUntil(factoryUnit, 0x0040, 2, 10*time.Second, fmt.Sprintf("button %d down", b),
		func(v []uint16) bool { return v[1]&m != 0 })
}

func (d *simDevice) release(b int) {
	d.t.Helper()
	if _, err := fmt.Fprintf(d.stdin, "pin %s 1\n", ratingPins[b]); err != nil {
		d.fail("release: %v", err)
	}
	m := uint16(1) << (b - 1)
	d.pollUntil(factoryUnit, 0x0040, 2, 10*time.Second, fmt.Sprintf("button %d up", b),
		func(v []uint16) bool { return v[1]&m == 0 })
}

func TestRatingPanelUnderSimavr(t *testing.T) {
	dir := buildRatingFirmware(t)
	harness := filepath.Join(dir, "cherga-avrsim")
	state := filepath.Join(t.TempDir(), "rp1")
	start := time.Now()
	d := startDevice(t, harness, state, filepath.Join(dir, "cherga-rp1-factory.hex"))
	const u = factoryUnit

	id := d.waitIdentity(u)
	if id.Vendor != "cherga" || id.Product != "CHG-RP1" || id.Revision != vOld || id.Model != "rating panel 5" {
		t.Fatalf("identity %+v, want cherga CHG-RP1 %s \"rating panel 5\"", id, vOld)
	}
	ident := d.input(u, 0x0020, 16)
	if ident[0] != 3 || ident[1] != 1 || ident[2] != 1 || ident[3] != 1 || ident[4] != 0 || ident[5] != 0 {
		t.Fatalf("I 0x0020: %v, want type 3, map 1, hw 1, firmware 1.0.0", ident)
	}
	if ident[0xD] != 64 {
		t.Fatalf("EV_CAPACITY %d, want 64", ident[0xD])
	}
	if h := d.holding(u, 0x0100, 3); h[0] != 0 || h[1] != 0 || h[2] != 3000 {
		t.Fatalf("H 0x0100 x3 = %v, want PROMPT 0, LEDS 0, THANKS_MS 3000", h)
	}
	for _, w := range []struct {
		addr, v uint16
	}{{0x0100, 601}, {0x0101, 0x40}, {0x0102, 10001}} {
		err := d.m.WriteRegister(d.ctx, u, w.addr, w.v)
		wantException(t, err, modbus.IllegalDataValue, fmt.Sprintf("H 0x%04X = %d", w.addr, w.v))
	}
	_, err := d.m.ReadHoldingRegisters(d.ctx, u, 0x0103, 1)
	wantException(t, err, modbus.IllegalDataAddress, "read H 0x0103")
	if l := d.leds(); l.now() != [6]int{} {
		t.Fatalf("LEDs %v after power-on, want all dark", l.now())
	}
	d.write(u, 0x0000, 0x5151) // SYNC

	// A press without a prompt: seen (BUTTONS_DOWN), but no event, no light.
	d.hold(2)
	d.release(2)
	if poll := d.input(u, 0, 6); poll[1] != 0x5151 || poll[2] != 0 {
		t.Fatalf("after a press without a prompt: poll %v, want SYNC 0x5151 and nothing pending", poll)
	}
	if l := d.leds(); l.now() != [6]int{} || l.Leds[1].Max != 0 || l.Leds[lamp].Max != 0 {
		t.Fatalf("LEDs %+v after a press without a prompt, want all dark", l.Leds)
	}

	// LEDS by hand while no prompt runs: button 1 and the lamp, steady at
	// brightness 10 (duty 170/256).
	d.write(u, 0x0101, 0x21)
	if l := d.leds(); l.now() != [6]int{170, 0, 0, 0, 0, 170} {
		t.Fatalf("LEDS 0x21: LEDs %v, want button 1 and the lamp at 170", l.now())
	}
	d.write(u, 0x0101, 0)
	d.write(u, 0x0102, 2000) // THANKS_MS

	// PROMPT: the five button LEDs breathe together, the lamp stays dark.
	d.write(u, 0x0100, 30)
	if left := d.input(u, 0x0040, 1)[0]; left < 29 || left > 30 {
		t.Fatalf("PROMPT_LEFT %d, want 30 s", left)
	}
	d.leds()     // start the window
	d.warp(3000) // a breathing period (2.56 s) without waiting for it
	lo, hi := 256, 0
	deadline := time.Now().Add(20 * time.Second)
	for lo > 8 || hi < 150 {
		l := d.leds()
		for i := 1; i < 5; i++ {
			if l.Leds[i].Now != l.Leds[0].Now {
				t.Fatalf("breathing: LEDs %v, want the five button LEDs alike", l.now())
			}
		}
		if l.Leds[lamp].Max != 0 {
			t.Fatalf("breathing: the lamp lit (%+v)", l.Leds[lamp])
		}
		lo, hi = min(lo, l.Leds[0].Min), max(hi, l.Leds[0].Max)
		if hi > 170 {
			t.Fatalf("breathing: button LED at %d, above brightness 10 (170)", hi)
		}
		if time.Now().After(deadline) {
			d.fail("breathing: button LEDs between %d and %d in 20 s, want from about 0 to about 167", lo, hi)
		}
	}

	d.warp(0) // simulated time at the wall clock's pace again

	// The first press ends the prompt: one event, code 4.
	d.press(4, 100)
	ev := d.pollUntil(u, 0, 6, 10*time.Second, "button 4 as an event", func(v []uint16) bool { return v[2] > 0 })
	if ev[2] != 1 || ev[3] != 1 || ev[4] != 0x0004 || ev[5] > 50 {
		t.Fatalf("poll %v: want one event, seq 1, rating 4, a few tenths of a second old", ev)
	}
	// Thanks: the lamp and the pressed button's LED, steady.
	l := d.leds()
	if now := l.now(); now != [6]int{0, 0, 0, 170, 0, 170} {
		t.Fatalf("after the rating: LEDs %v, want button 4 and the lamp at 170", now)
	}
	pressedAt := l.Leds[lamp].Since
	if left, h := d.input(u, 0x0040, 1)[0], d.holding(u, 0x0100, 1)[0]; left != 0 || h != 0 {
		t.Fatalf("after the rating: PROMPT_LEFT %d, PROMPT %d, want 0 and 0", left, h)
	}
	// The host's retry of the PROMPT write whose answer it lost: ignored
	// within 1 s of the rating, so the visit cannot be rated twice.
	d.write(u, 0x0100, 30)
	if l := d.leds(); l.T-pressedAt < 900 {
		if left := d.input(u, 0x0040, 1)[0]; left != 0 || l.Leds[lamp].Now != 170 {
			t.Fatalf("PROMPT 30 repeated %d ms after the rating: PROMPT_LEFT %d, lamp %+v; want the retry ignored",
				l.T-pressedAt, left, l.Leds[lamp])
		}
	} else {
		t.Logf("PROMPT retry came %d ms after the rating, too late to check the 1 s rule", l.T-pressedAt)
		d.write(u, 0x0100, 0)
	}

	// One press per prompt: a second press makes no event.
	d.hold(5)
	d.release(5)
	if poll := d.input(u, 0, 9); poll[2] != 1 || poll[3] != 1 || poll[6] != 0 {
		t.Fatalf("after a second press: poll %v, want still only seq 1", poll)
	}

	// The lamp goes out THANKS_MS (2 s) after the rating.
	d.warp(3000)
	deadline = time.Now().Add(10 * time.Second)
	for {
		l = d.leds()
		if l.Leds[lamp].Now == 0 {
			break
		}
		if time.Now().After(deadline) {
			d.fail("the thank-you lamp still lit: %+v", l.Leds)
		}
	}
	if on := l.Leds[lamp].Since - pressedAt; on < 1990 || on > 2020 {
		t.Fatalf("the thank-you lamp was lit %d ms, want THANKS_MS 2000", on)
	}
	if l.now() != [6]int{} {
		t.Fatalf("after the thanks: LEDs %v, want all dark (LEDS 0)", l.now())
	}
	t.Logf("breathing between %d and %d of 256; thank-you lamp lit for %d ms of simulated time", lo, hi, l.Leds[lamp].Since-pressedAt)

	// The power goes while the rating is pending: it is offered again.
	d.powerCut()
	d = startDevice(t, harness, state, "")
	d.waitIdentity(u)
	poll := d.input(u, 0, 9)
	if poll[1] != 0 || poll[2] != 1 || poll[3] != 1 || poll[4] != 0x0004 || poll[5] != 0xFFFF {
		t.Fatalf("after the power cut: poll %v, want SYNC 0, one event (seq 1, rating 4, age 0xFFFF)", poll)
	}
	if left := d.input(u, 0x0040, 1)[0]; left != 0 {
		t.Fatalf("after the power cut: PROMPT_LEFT %d, want no prompt", left)
	}
	if l := d.leds(); l.now() != [6]int{} {
		t.Fatalf("after the power cut: LEDs %v, want all dark", l.now())
	}
	d.write(u, 0x0001, 1) // EV_ACK
	if poll := d.input(u, 0, 6); poll[2] != 0 {
		t.Fatalf("after the ack: poll %v, want nothing pending", poll)
	}

	// A prompt nobody answers ends by itself, and LEDS shows again.
	d.write(u, 0x0002, 15) // BRIGHTNESS: full, duty 255
	d.write(u, 0x0101, 0x21)
	d.write(u, 0x0100, 3)
	if l := d.leds(); l.Leds[lamp].Now != 0 {
		t.Fatalf("prompt over LEDS 0x21: lamp %+v, want dark while the prompt runs", l.Leds[lamp])
	}
	d.warp(4000)
	d.pollUntil(u, 0x0040, 1, 10*time.Second, "the 3 s prompt to end", func(v []uint16) bool { return v[0] == 0 })
	if h := d.holding(u, 0x0100, 1)[0]; h != 0 {
		t.Fatalf("PROMPT reads %d after it ran out, want 0", h)
	}
	if l := d.leds(); l.now() != [6]int{255, 0, 0, 0, 0, 255} {
		t.Fatalf("after the prompt: LEDs %v, want LEDS 0x21 at 255", l.now())
	}
	d.hold(2)
	d.release(2)
	if poll := d.input(u, 0, 6); poll[2] != 0 {
		t.Fatalf("a press after the prompt ran out: poll %v, want no event", poll)
	}

	// The next rating continues the sequence from the journal.
	d.write(u, 0x0101, 0)
	d.write(u, 0x0100, 10)
	d.press(1, 100)
	ev = d.pollUntil(u, 0, 6, 10*time.Second, "button 1 as an event", func(v []uint16) bool { return v[2] > 0 })
	if ev[2] != 1 || ev[3] != 2 || ev[4] != 0x0001 {
		t.Fatalf("poll %v: want one event, seq 2, rating 1", ev)
	}
	if l := d.leds(); l.now() != [6]int{255, 0, 0, 0, 0, 255} {
		t.Fatalf("after rating 1: LEDs %v, want button 1 and the lamp at 255", l.now())
	}
	// PROMPT 0 first, then the same value: a deliberate new prompt, not a
	// retry, even within the second after the rating.
	d.write(u, 0x0100, 0)
	d.write(u, 0x0100, 10)
	if left := d.input(u, 0x0040, 1)[0]; left < 9 || left > 10 {
		t.Fatalf("PROMPT 0 then 10: PROMPT_LEFT %d, want a new prompt of 10 s", left)
	}
	d.press(3, 100)
	ev = d.pollUntil(u, 0, 9, 10*time.Second, "button 3 as an event", func(v []uint16) bool { return v[2] > 1 })
	if ev[2] != 2 || ev[6] != 3 || ev[7] != 0x0003 {
		t.Fatalf("poll %v: want a second event, seq 3, rating 3", ev)
	}
	t.Logf("rating panel: %v", time.Since(start).Round(time.Millisecond))
}
