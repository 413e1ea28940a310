package bridge_test

// The reference firmware (firmware-bridge/firmware) on a simulated
// ATmega328P: cherga-avrsim runs the bootloader and the application under
// simavr with the USART bridged to a pseudo-terminal, and the Go host
// (firmware-bridge/modbus) talks to it as to a device on a serial port.
// Killing the harness is a power cut: flash and EEPROM live in files that
// the next start reuses.
//
// Nothing here sleeps to synchronise: every wait is a bus request or a
// read of the harness's output, bounded by a deadline that only fails
// the test.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.bug.st/serial"

	"github.com/cherga/kiosk/firmware-bridge/flash"
	"github.com/cherga/kiosk/firmware-bridge/fwpkg"
	"github.com/cherga/kiosk/firmware-bridge/modbus"
)

const (
	factoryUnit = 247 // a fresh device's address (PROTOCOL.md 1.1)
	vOld        = "1.0.0"
	vNew        = "1.1.0"
)

// buildFirmware builds, with the firmware's own Makefile (what `make
// firmware` runs), version vOld of both device types with the harness, and
// version vNew of the keypad linked for both slots (what a package holds).
func buildFirmware(t testing.TB) (oldDir, newDir string) {
	t.Helper()
	if _, err := exec.LookPath("avr-gcc"); err != nil {
		if os.Getenv("CI") == "" {
			t.Skip("avr-gcc not installed (Debian: gcc-avr avr-libc simavr libsimavr-dev; `make test` installs them)")
		}
		t.Fatal("CI is set but avr-gcc is missing: scripts/test-deps.sh should have installed gcc-avr")
	}
	dir := t.TempDir()
	oldDir, newDir = filepath.Join(dir, vOld), filepath.Join(dir, vNew)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	build := func(i int, out, version string, targets ...string) {
		defer wg.Done()
		args := []string{"-s", "-C", "firmware", "OUT=" + out, "FW_VERSION=" + version}
		for _, tg := range targets {
			args = append(args, filepath.Join(out, tg))
		}
		cmd := exec.Command("make", args...)
		var b bytes.Buffer
		cmd.Stdout, cmd.Stderr = &b, &b
		if err := cmd.Run(); err != nil {
			errs[i] = fmt.Errorf("make %s: %v\n%s", strings.Join(args, " "), err, b.String())
		}
	}
	start := time.Now()
	wg.Add(2)
	go build(0, oldDir, vOld, "cherga-wd1-factory.hex", "cherga-kp1-factory.hex", "cherga-avrsim")
	go build(1, newDir, vNew, "cherga-kp1-a.bin", "cherga-kp1-b.bin")
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	t.Logf("firmware built in %v", time.Since(start).Round(time.Millisecond))
	return oldDir, newDir
}

// lockedBuffer collects the harness's stderr, written by exec's copier.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// wire is the host's end of the harness's pty. A power cut takes the pty
// away and the next start brings a new one, which the wire is attached
// to, so a master (and an update in progress) keeps its port across
// restarts of the device. It keeps every frame the host sent.
type wire struct {
	mu     sync.Mutex
	port   serial.Port // nil while the device is off
	cur    []byte
	frames [][]byte
}

var errNoPower = errors.New("the device is off (power cut)")

func (w *wire) current() serial.Port {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.port
}

func (w *wire) Read(b []byte) (int, error) {
	p := w.current()
	if p == nil {
		return 0, errNoPower
	}
	return p.Read(b)
}

func (w *wire) Write(b []byte) (int, error) {
	w.mu.Lock()
	p := w.port
	w.cur = append(w.cur, b...)
	w.mu.Unlock()
	if p == nil {
		return 0, errNoPower
	}
	return p.Write(b)
}

func (w *wire) SetReadTimeout(t time.Duration) error {
	if p := w.current(); p != nil {
		return p.SetReadTimeout(t)
	}
	return nil
}

// Drain ends a frame: the modbus package drains after each.
func (w *wire) Drain() error {
	w.mu.Lock()
	if len(w.cur) > 0 {
		w.frames = append(w.frames, w.cur)
		w.cur = nil
	}
	p := w.port
	w.mu.Unlock()
	if p == nil {
		return errNoPower
	}
	return p.Drain()
}

func (w *wire) attach(p serial.Port) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.port = p
}

// detach closes p, and takes it off the wire if it is still on it.
func (w *wire) detach(p serial.Port) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.port == p {
		w.port = nil
	}
	p.Close()
}

// writes returns the write requests (06, 0x10, 0x15) the host sent since
// the last call, as "unit function" strings.
func (w *wire) writes() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for _, f := range w.frames {
		unit, pdu, err := modbus.SplitADU(f)
		if err == nil && len(pdu) > 0 {
			switch fn := modbus.Function(pdu[0]); fn {
			case modbus.FuncWriteSingleRegister, modbus.FuncWriteMultipleRegisters, modbus.FuncWriteFileRecord:
				out = append(out, fmt.Sprintf("unit %d: %s", unit, fn))
			}
		}
	}
	w.frames = nil
	return out
}

// simDevice is one running harness and the master on its pty.
type simDevice struct {
	t      testing.TB
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr *lockedBuffer
	lines  chan string // the harness's stdout after the pty line
	wire   *wire
	port   serial.Port // this harness's pty
	m      *modbus.Master
	probe  *modbus.Master // one attempt, short timeout: for waits that retry anyway
	ctx    context.Context
}

// startDevice starts the harness on state (programming hex into a new
// one); extra are more harness flags.
func startDevice(t testing.TB, harness, state, hex string, extra ...string) *simDevice {
	t.Helper()
	return startDeviceOn(t, &wire{}, harness, state, hex, extra...)
}

// startDeviceOn is startDevice with the host's port on w: after a power
// cut, the same wire is the same port to whoever holds it.
func startDeviceOn(t testing.TB, w *wire, harness, state, hex string, extra ...string) *simDevice {
	t.Helper()
	args := append([]string{"-state", state}, extra...)
	if hex != "" {
		args = append(args, "-hex", hex)
	}
	cmd := exec.Command(harness, args...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d := &simDevice{t: t, cmd: cmd, stdin: stdin, stderr: stderr, ctx: context.Background(),
		lines: make(chan string, 16), wire: w}
	t.Cleanup(d.powerCut)

	go func() {
		r := bufio.NewReader(stdout)
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				close(d.lines)
				return
			}
			d.lines <- strings.TrimSpace(l)
		}
	}()
	var line string
	select {
	case line = <-d.lines:
	case <-time.After(10 * time.Second):
		t.Fatalf("harness printed no pty within 10 s; stderr:\n%s", stderr.String())
	}
	path, ok := strings.CutPrefix(line, "pty ")
	if !ok {
		t.Fatalf("harness said %q, want \"pty PATH\"; stderr:\n%s", line, stderr.String())
	}
	// A pseudo-terminal ignores parity: 8N2 keeps 11 bits a character.
	d.port, err = modbus.OpenSerial(path, modbus.PTYLine)
	if err != nil {
		t.Fatal(err)
	}
	w.attach(d.port)
	rtu := modbus.NewRTU(w, modbus.RTUOptions{Line: modbus.PTYLine})
	// Generous slack: the simulator shares two cores with the other tests;
	// never back a device off, the test waits for restarts itself.
	d.m = modbus.NewMaster(rtu, modbus.MasterOptions{
		Attempts: 3, Slack: 300 * time.Millisecond, OfflineAfter: 1 << 30,
	})
	d.probe = modbus.NewMaster(rtu, modbus.MasterOptions{
		Attempts: 1, Slack: 50 * time.Millisecond, OfflineAfter: 1 << 30,
	})
	return d
}

// powerCut kills the harness: flash.bin and eeprom.bin keep what the
// device had written.
func (d *simDevice) powerCut() {
	if d.cmd.ProcessState == nil {
		d.cmd.Process.Kill()
		d.cmd.Wait()
	}
	if d.port != nil {
		d.wire.detach(d.port)
		d.port = nil
	}
}

func (d *simDevice) fail(format string, a ...any) {
	d.t.Helper()
	d.t.Fatalf(format+"\nharness stderr:\n%s", append(a, d.stderr.String())...)
}

func (d *simDevice) press(key, ms int) {
	d.t.Helper()
	if _, err := fmt.Fprintf(d.stdin, "key %d %d\n", key, ms); err != nil {
		d.fail("press: %v", err)
	}
}

// lcd returns the virtual keypad LCD: two lines of 20 character codes and
// the 64 bytes of CGRAM (the 8 custom characters).
func (d *simDevice) lcd() (line1, line2, cgram []byte) {
	d.t.Helper()
	if _, err := fmt.Fprintln(d.stdin, "lcd"); err != nil {
		d.fail("lcd: %v", err)
	}
	select {
	case l := <-d.lines:
		f := strings.Fields(l)
		if len(f) == 4 && f[0] == "lcd" {
			a, err1 := hex.DecodeString(f[1])
			b, err2 := hex.DecodeString(f[2])
			c, err3 := hex.DecodeString(f[3])
			if err := errors.Join(err1, err2, err3); err == nil {
				return a, b, c
			}
		}
		d.fail("harness answered %q to lcd", l)
	case <-time.After(5 * time.Second):
		d.fail("harness did not answer lcd within 5 s")
	}
	return nil, nil, nil
}

// warp runs ms of simulated time without idle pacing.
func (d *simDevice) warp(ms int) {
	d.t.Helper()
	if _, err := fmt.Fprintf(d.stdin, "warp %d\n", ms); err != nil {
		d.fail("warp: %v", err)
	}
}

// waitIdentity asks for the identification until the device answers: after
// power-on or a restart the USART starts only when the firmware has
// initialised, and requests before that are lost.
func (d *simDevice) waitIdentity(unit byte) modbus.Identity {
	d.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		id, err := d.probe.ReadIdentification(d.ctx, unit)
		if err == nil {
			return id
		}
		if time.Now().After(deadline) {
			d.fail("unit %d: no identification within 15 s: %v", unit, err)
		}
	}
}

func (d *simDevice) input(unit byte, addr, n uint16) []uint16 {
	d.t.Helper()
	v, err := d.m.ReadInputRegisters(d.ctx, unit, addr, n)
	if err != nil {
		d.fail("read I 0x%04X x%d: %v", addr, n, err)
	}
	return v
}

func (d *simDevice) holding(unit byte, addr, n uint16) []uint16 {
	d.t.Helper()
	v, err := d.m.ReadHoldingRegisters(d.ctx, unit, addr, n)
	if err != nil {
		d.fail("read H 0x%04X x%d: %v", addr, n, err)
	}
	return v
}

func (d *simDevice) write(unit byte, addr uint16, v ...uint16) {
	d.t.Helper()
	var err error
	if len(v) == 1 {
		err = d.m.WriteRegister(d.ctx, unit, addr, v[0])
	} else {
		err = d.m.WriteRegisters(d.ctx, unit, addr, v...)
	}
	if err != nil {
		d.fail("write H 0x%04X = %v: %v", addr, v, err)
	}
}

// pollUntil reads I addr ×n until ok accepts it, for at most limit. A
// request the device does not answer (it may be restarting) is asked again.
func (d *simDevice) pollUntil(unit byte, addr, n uint16, limit time.Duration, what string, ok func([]uint16) bool) []uint16 {
	d.t.Helper()
	deadline := time.Now().Add(limit)
	for {
		v, err := d.probe.ReadInputRegisters(d.ctx, unit, addr, n)
		if err == nil && ok(v) {
			return v
		}
		if err != nil && !errors.Is(err, modbus.ErrTimeout) {
			d.fail("%s: read I 0x%04X x%d: %v", what, addr, n, err)
		}
		if time.Now().After(deadline) {
			d.fail("%s: not within %v; last I 0x%04X = %v (%v)", what, limit, addr, v, err)
		}
	}
}

func wantException(t *testing.T, err error, c modbus.ExceptionCode, what string) {
	t.Helper()
	if !modbus.IsException(err, c) {
		t.Fatalf("%s: got %v, want exception %v", what, err, c)
	}
}

func TestFirmwareUnderSimavr(t *testing.T) {
	oldDir, newDir := buildFirmware(t)
	harness := filepath.Join(oldDir, "cherga-avrsim")
	states := t.TempDir()

	t.Run("display", func(t *testing.T) {
		start := time.Now()
		d := startDevice(t, harness, filepath.Join(states, "wd1"), filepath.Join(oldDir, "cherga-wd1-factory.hex"))
		id := d.waitIdentity(factoryUnit)
		if id.Vendor != "cherga" || id.Product != "CHG-WD1" || id.Revision != vOld || id.Model != "window display 8x1" {
			t.Fatalf("identity %+v", id)
		}
		ident := d.input(factoryUnit, 0x0020, 16)
		if ident[0] != 1 || ident[1] != 1 || ident[2] != 1 || ident[3] != 1 || ident[4] != 0 || ident[5] != 0 {
			t.Fatalf("I 0x0020: %v, want type 1, map 1, hw 1, firmware 1.0.0", ident)
		}
		if ident[0xD] != 0 {
			t.Fatalf("a display's EV_CAPACITY is %d, want 0", ident[0xD])
		}

		// Give it address 5 (saved, then the device restarts with it) and
		// scan 1-8: only 5 answers.
		d.write(factoryUnit, 0x0008, 5, 192, 0, 0xA5A5)
		scan := modbus.NewMaster(d.m.RTU(), modbus.MasterOptions{Attempts: 1, Slack: 150 * time.Millisecond, OfflineAfter: 1 << 30})
		d.waitIdentity(5)
		var found []byte
		for unit := byte(1); unit <= 8; unit++ {
			id, err := scan.ReadIdentification(d.ctx, unit)
			if err == nil {
				found = append(found, unit)
				if id.Vendor != "cherga" || id.Product != "CHG-WD1" || id.Revision != vOld {
					t.Fatalf("scan: unit %d is %+v", unit, id)
				}
			}
		}
		if !slices.Equal(found, []byte{5}) {
			t.Fatalf("scan of 1-8 found %v, want [5]", found)
		}
		if st := d.input(5, 0, 2); st[0]&1 != 0 {
			t.Fatalf("STATUS %04x after a save: config fault still set", st[0])
		}

		// A call: encoding CHG-1, "А123", window 3, blink 5 s, call id 0x0102
		// (PROTOCOL.md 12, frame 10-req), read back from display memory.
		call := []uint16{1, 0xC031, 0x3233, 0, 0, 0, 0, 0, 0, 3, 5, 0x0102}
		d.write(5, 0x0100, call...)
		if got := d.holding(5, 0x0100, 12); !slices.Equal(got, call) {
			t.Fatalf("display memory H 0x0100 = %04x, want %04x", got, call)
		}
		if shown := d.input(5, 0x0040, 2); shown[0] != 0x0102 || shown[1] == 0 || shown[1] > 5 {
			t.Fatalf("SHOWN_CALL, BLINK_LEFT = %v, want 0x0102 and 1-5 s", shown)
		}
		_, err := d.m.ReadHoldingRegisters(d.ctx, 5, 0x0200, 1)
		wantException(t, err, modbus.IllegalDataAddress, "read H 0x0200")
		err = d.m.WriteRegister(d.ctx, 5, 0x0109, 1000)
		wantException(t, err, modbus.IllegalDataValue, "WINDOW = 1000")
		d.write(5, 0x010C, 1) // CLEAR
		if got := d.holding(5, 0x0100, 12); got[1] != 0 || got[9] != 3 || got[11] != 0 {
			t.Fatalf("after CLEAR: %04x, want text and call id blank, window 3 kept", got)
		}
		t.Logf("display: %v", time.Since(start).Round(time.Millisecond))
	})

	kpState := filepath.Join(states, "kp1")
	kpHex := filepath.Join(oldDir, "cherga-kp1-factory.hex")

	events := t.Run("keypad events", func(t *testing.T) {
		start := time.Now()
		d := startDevice(t, harness, kpState, kpHex)
		id := d.waitIdentity(factoryUnit)
		if id.Product != "CHG-KP1" || id.Revision != vOld {
			t.Fatalf("identity %+v", id)
		}
		d.write(factoryUnit, 0x0000, 0x1234) // SYNC
		poll := d.input(factoryUnit, 0, 6)
		if poll[1] != 0x1234 || poll[2] != 0 {
			t.Fatalf("poll %v: want SYNC_MIRROR 0x1234, nothing pending", poll)
		}

		d.press(1, 100) // next
		ev := d.pollUntil(factoryUnit, 0, 6, 10*time.Second, "key 1 as an event", func(v []uint16) bool { return v[2] > 0 })
		if ev[2] != 1 || ev[3] != 1 || ev[4] != 0x0001 || ev[5] > 50 {
			t.Fatalf("poll %v: want one event, seq 1, key 1 pressed, a few tenths of a second old", ev)
		}
		d.write(factoryUnit, 0x0001, ev[3]) // EV_ACK
		if poll := d.input(factoryUnit, 0, 6); poll[2] != 0 {
			t.Fatalf("after the ack: poll %v, want nothing pending", poll)
		}
		d.write(factoryUnit, 0x0001, ev[3]) // acks are idempotent

		// A press the host has not taken yet, then the power goes.
		d.press(3, 100) // came
		d.pollUntil(factoryUnit, 0, 6, 10*time.Second, "key 3 as an event", func(v []uint16) bool { return v[2] == 1 && v[3] == 2 })
		d.powerCut()

		d = startDevice(t, harness, kpState, "")
		d.waitIdentity(factoryUnit)
		poll = d.input(factoryUnit, 0, 9)
		// SYNC_MIRROR 0 tells the host of the power loss; the acknowledged
		// event is gone, the pending one is offered again with its seq and
		// age unknown.
		if poll[1] != 0 || poll[2] != 1 || poll[3] != 2 || poll[4] != 0x0003 || poll[5] != 0xFFFF {
			t.Fatalf("after the power cut: poll %v, want SYNC 0, one event (seq 2, key 3, age 0xFFFF)", poll)
		}
		if boots := d.input(factoryUnit, 0x0028, 1)[0]; boots != 2 {
			t.Fatalf("BOOT_COUNT %d, want 2", boots)
		}
		// A long press (>= 1 s) continues the sequence.
		d.press(2, 1200)
		ev = d.pollUntil(factoryUnit, 0, 9, 15*time.Second, "key 2 as a long press", func(v []uint16) bool { return v[2] == 2 })
		if ev[6] != 3 || ev[7] != 0x0102 {
			t.Fatalf("poll %v: want the second event seq 3, key 2 long (0x0102)", ev)
		}
		d.write(factoryUnit, 0x0001, 3)
		if poll := d.input(factoryUnit, 0, 6); poll[2] != 0 {
			t.Fatalf("after acking both: poll %v", poll)
		}

		// The text lines reach the LCD (a virtual HD44780 on a PCF8574 in
		// the harness): the ROM's Latin look-alikes where they exist, the
		// other Cyrillic letters as custom characters 0-7.
		text := func(s string) []uint16 {
			b := make([]byte, 40)
			copy(b, s)
			r := make([]uint16, 20)
			for i := range r {
				r[i] = binary.BigEndian.Uint16(b[2*i:])
			}
			return r
		}
		lines := append(append([]uint16{0}, text("А123 Житло")...), text("Чекають: 7")...)
		d.write(factoryUnit, 0x0100, lines...)
		if got := d.holding(factoryUnit, 0x0100, 41); !slices.Equal(got, lines) {
			t.Fatalf("H 0x0100 x41 = %04x, want what was written", got)
		}
		want1 := append([]byte("A123 \x00\x01\x02\x03o"), bytes.Repeat([]byte(" "), 10)...)
		want2 := append([]byte("\x04e\x05a\x06\x02\x07: 7"), bytes.Repeat([]byte(" "), 10)...)
		deadline := time.Now().Add(10 * time.Second)
		for {
			l1, l2, cg := d.lcd()
			if bytes.Equal(l1, want1) && bytes.Equal(l2, want2) {
				zhe := []byte{0x15, 0x15, 0x0E, 0x04, 0x0E, 0x15, 0x15, 0x00} // Ж
				if !bytes.Equal(cg[:8], zhe) {
					t.Fatalf("CGRAM 0 = % x, want Ж % x", cg[:8], zhe)
				}
				break
			}
			if time.Now().After(deadline) {
				d.fail("LCD shows % x / % x, want % x / % x", l1, l2, want1, want2)
			}
		}
		t.Logf("keypad events: %v", time.Since(start).Round(time.Millisecond))
	})

	if !events {
		return // the update continues on the keypad the events left
	}
	t.Run("update", func(t *testing.T) {
		start := time.Now()
		good, keys := releasePackage(t, newDir, vNew)
		p, err := fwpkg.Open(good, keys, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		chunks := flash.Chunks(p.Image(fwpkg.SlotB))
		const (
			iState, iHeld, iSlot, iError, iTrial = 0, 1, 2, 5, 6
		)
		upd := func(d *simDevice) []uint16 { return d.input(factoryUnit, 0x0080, 8) }
		waitState := func(d *simDevice, what string, want ...uint16) []uint16 {
			return d.pollUntil(factoryUnit, 0x0080, 8, 20*time.Second, what, func(v []uint16) bool {
				return v[iState] != 2 && slices.Contains(want, v[iState])
			})
		}
		// update runs the host's procedure as kioskctl bridge flash does:
		// open the package (signature, expiry), then flash.Update.
		update := func(d *simDevice, data []byte, o flash.Options) (*flash.Result, error) {
			p, err := fwpkg.Open(data, keys, time.Now())
			if err != nil {
				return nil, err
			}
			o.RestartTimeout = 15 * time.Second // two busy cores: the restart may take a while
			t0 := time.Now()
			res, err := flash.Update(d.ctx, d.m, factoryUnit, p, o)
			t.Logf("flash.Update: %v", time.Since(t0).Round(time.Millisecond))
			return res, err
		}

		d := startDevice(t, harness, kpState, "")
		d.waitIdentity(factoryUnit)
		if u := upd(d); u[iState] != 0 || u[iSlot] != 0 || u[3] != 112 || u[4] != 128 {
			t.Fatalf("I 0x0080 = %v: want idle, slot A, 112 chunks of 128", u)
		}

		// Refused before a byte is written: a package changed after
		// signing, one for another model, one not newer than 1.0.0.
		tampered := slices.Clone(good)
		tampered[fwpkg.HeaderSize+len(p.Image(fwpkg.SlotA))+100] ^= 0x01 // a byte of image B
		display, _ := signRelease(t, newDir, vNew, fwpkg.WindowDisplay)
		older, _ := signRelease(t, newDir, "0.9.0", fwpkg.Keypad)
		for _, c := range []struct {
			name string
			data []byte
			want error
		}{
			{"tampered", tampered, fwpkg.ErrTampered},
			{"wrong model", display, fwpkg.ErrWrongModel},
			{"older", older, fwpkg.ErrNotNewer},
		} {
			d.wire.writes()
			_, err := update(d, c.data, flash.Options{})
			if !errors.Is(err, c.want) {
				t.Fatalf("%s package: %v, want %v", c.name, err, c.want)
			}
			if w := d.wire.writes(); len(w) != 0 {
				t.Fatalf("%s package: the host wrote %v", c.name, w)
			}
			t.Logf("refused: %v", err)
		}
		if u := upd(d); u[iState] != 0 || u[iError] != 0 {
			t.Fatalf("after the refusals: I 0x0080 = %v", u)
		}

		// The firmware's own checks, by hand: the manifest for the running
		// slot, a chunk out of order, a bad CRC-32.
		manifest := flash.BusManifest(p, fwpkg.SlotB)
		bad := slices.Clone(manifest)
		bad[10] = 0 // the running slot
		err = d.m.WriteFileRecord(d.ctx, factoryUnit, 1, 0, bad)
		wantException(t, err, modbus.IllegalDataValue, "manifest for the active slot")
		if u := upd(d); u[iError] != 4 {
			t.Fatalf("LAST_ERROR %d, want 4 (wrong slot)", u[iError])
		}
		if err := d.m.WriteFileRecord(d.ctx, factoryUnit, 1, 0, manifest); err != nil {
			d.fail("manifest: %v", err)
		}
		img := p.Image(fwpkg.SlotB)
		err = d.m.WriteFileRecord(d.ctx, factoryUnit, 2, 1, flash.Chunk(img, 1))
		wantException(t, err, modbus.IllegalDataValue, "chunk 1 before chunk 0")
		corrupt := flash.Chunk(img, 0)
		corrupt[7] ^= 0x0100
		err = d.m.WriteFileRecord(d.ctx, factoryUnit, 2, 0, corrupt)
		wantException(t, err, modbus.IllegalDataValue, "chunk 0 with a bad CRC-32")

		// The host stops after 20 chunks (the device holds our manifest,
		// so it resumes at 0), and resumes at exactly 20.
		sendStart := time.Now()
		ctx, cancel := context.WithCancel(d.ctx)
		res, err := flash.Update(ctx, d.m, factoryUnit, p, flash.Options{Progress: func(pr flash.Progress) {
			if pr.Phase == flash.PhaseTransfer && pr.Done == 20 {
				cancel()
			}
		}})
		if !errors.Is(err, context.Canceled) || !res.Resumed || res.ResumedAt != 0 {
			t.Fatalf("host stopped at 20: %+v, %v", res, err)
		}
		// Then the power goes after chunk 40.
		res, err = update(d, good, flash.Options{Progress: func(pr flash.Progress) {
			if pr.Phase == flash.PhaseTransfer && pr.Done == 40 {
				d.powerCut()
			}
		}})
		var fe *flash.Error
		if !errors.As(err, &fe) || fe.Phase != flash.PhaseTransfer || res.ResumedAt != 20 || res.Sent != 20 {
			t.Fatalf("power cut at 40: %+v, %v", res, err)
		}

		d = startDevice(t, harness, kpState, "")
		d.waitIdentity(factoryUnit)
		if u := upd(d); u[iState] != 1 || u[iHeld] != 32 {
			t.Fatalf("after the power cut: I 0x0080 = %v, want receiving with 32 chunks held (saved every 16)", u)
		}
		page, err := d.m.ReadFileRecord(d.ctx, factoryUnit, 2, 31, 66)
		if err != nil || !slices.Equal(page, flash.Chunk(img, 31)) {
			d.fail("file 2 record 31 = %04x, %v; want chunk 31 as sent", page, err)
		}

		// Resumed at 32 to the end, verified, committed, and the power goes
		// again just before the host confirms: the bootloader falls back,
		// and the host reports the revert.
		var phases []flash.Phase
		res, err = update(d, good, flash.Options{Progress: func(pr flash.Progress) {
			if len(phases) == 0 || phases[len(phases)-1] != pr.Phase {
				phases = append(phases, pr.Phase)
			}
			if pr.Phase == flash.PhaseConfirm {
				d.powerCut()
				d = startDeviceOn(t, d.wire, harness, kpState, "")
				d.waitIdentity(factoryUnit)
			}
		}})
		t.Logf("update: %d chunks (%d bytes, %d resent after the power cut) in %v", chunks, len(img), 40-32,
			time.Since(sendStart).Round(time.Millisecond))
		if !errors.Is(err, flash.ErrReverted) || !res.Resumed || res.ResumedAt != 32 || res.Sent != chunks-32 {
			t.Fatalf("resumed at 32, power cut before CONFIRM: %+v, %v (phases %v)", res, err, phases)
		}
		want := []flash.Phase{"identify", "check", "manifest", "transfer", "verify", "commit", "restart", "confirm"}
		if !slices.Equal(phases, want) {
			t.Fatalf("phases %v, want %v", phases, want)
		}
		t.Logf("reported: %v", err)
		if id := d.waitIdentity(factoryUnit); id.Revision != vOld {
			t.Fatalf("after a power cut in the trial: revision %q, want the old %q", id.Revision, vOld)
		}
		// LAST_ERROR is the refused CONFIRM's (11, not in a trial).
		if u := upd(d); u[iState] != 7 || u[iSlot] != 0 || u[iError] != 11 {
			t.Fatalf("after the revert: I 0x0080 = %v, want reverted (7), slot A, LAST_ERROR 11", u)
		}

		// The staged image is still there: verify and commit by hand, and
		// nobody confirms: after 60 s the trial restarts itself and is
		// reverted too.
		t0 := time.Now()
		d.write(factoryUnit, 0x0080, 2)
		if u := waitState(d, "verify", 3, 4); u[iState] != 3 {
			t.Fatalf("verify: I 0x0080 = %v, want verified", u)
		}
		t.Logf("SHA-256 of %d bytes verified in %v", len(img), time.Since(t0).Round(time.Millisecond))
		d.write(factoryUnit, 0x0080, 3) // the device answers, then restarts
		if id := d.waitIdentity(factoryUnit); id.Revision != vNew {
			t.Fatalf("after commit: revision %q, want %q", id.Revision, vNew)
		}
		u := waitState(d, "the trial", 6)
		if u[iSlot] != 1 || u[iTrial] == 0 || u[iTrial] > 60 {
			t.Fatalf("after commit: I 0x0080 = %v, want trial (6) in slot B with TRIAL_LEFT 1-60", u)
		}
		if st := d.input(factoryUnit, 0, 1)[0]; st&0x08 == 0 {
			t.Fatalf("STATUS %04x: want bit 3, unconfirmed trial", st)
		}
		warpStart := time.Now()
		d.warp(65000)
		d.pollUntil(factoryUnit, 0x0080, 8, 20*time.Second, "the 60 s trial rule", func(v []uint16) bool {
			return v[iState] == 7 && v[iSlot] == 0 && v[iError] == 12
		})
		if id := d.waitIdentity(factoryUnit); id.Revision != vOld {
			t.Fatalf("after an unconfirmed trial: revision %q, want %q", id.Revision, vOld)
		}
		t.Logf("60 s of trial simulated in %v", time.Since(warpStart).Round(time.Millisecond))

		// Third time, the host's whole procedure: the device holds the
		// image, so nothing is sent again; verified, committed, confirmed.
		res, err = update(d, good, flash.Options{})
		if err != nil {
			d.fail("update: %v", err)
		}
		if !res.Resumed || res.Sent != 0 || res.Slot != 1 || res.From.String() != vOld || res.To.String() != vNew {
			t.Fatalf("result %+v", res)
		}
		if u := upd(d); u[iState] != 0 || u[iTrial] != 0 || u[iSlot] != 1 {
			t.Fatalf("after confirm: I 0x0080 = %v", u)
		}

		// It stays: power cycle, the new version runs from slot B.
		d.powerCut()
		d = startDevice(t, harness, kpState, "")
		if id := d.waitIdentity(factoryUnit); id.Revision != vNew {
			t.Fatalf("after confirm and a power cycle: revision %q, want %q", id.Revision, vNew)
		}
		if u := upd(d); u[iState] != 0 || u[iSlot] != 1 {
			t.Fatalf("I 0x0080 = %v, want idle in slot B", u)
		}
		// The new image reads the old one's event journal: the sequence
		// goes on from 3.
		d.press(4, 100)
		ev := d.pollUntil(factoryUnit, 0, 6, 10*time.Second, "key 4 under the new firmware", func(v []uint16) bool { return v[2] > 0 })
		if ev[3] != 4 || ev[4] != 0x0004 {
			t.Fatalf("poll %v: want seq 4, key 4", ev)
		}
		t.Logf("update: %v", time.Since(start).Round(time.Millisecond))
	})
}

// testKey signs the test's packages; its public key is the only trusted one.
var testKey = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{0x5A}, ed25519.SeedSize))

// signRelease signs the keypad links in dir as a package of the given
// type and version, as kioskctl firmware sign does.
func signRelease(t testing.TB, dir, version string, typ fwpkg.DeviceType) ([]byte, []ed25519.PublicKey) {
	t.Helper()
	a, errA := os.ReadFile(filepath.Join(dir, "cherga-kp1-a.bin"))
	b, errB := os.ReadFile(filepath.Join(dir, "cherga-kp1-b.bin"))
	v, errV := fwpkg.ParseVersion(version)
	if err := errors.Join(errA, errB, errV); err != nil {
		t.Fatal(err)
	}
	now := time.Now().Truncate(time.Second)
	data, err := fwpkg.Sign(testKey, fwpkg.Manifest{Type: typ, Hardware: 1, Version: v, Created: now, Expires: now.Add(time.Hour)}, a, b)
	if err != nil {
		t.Fatal(err)
	}
	return data, []ed25519.PublicKey{testKey.Public().(ed25519.PublicKey)}
}

func releasePackage(t testing.TB, dir, version string) ([]byte, []ed25519.PublicKey) {
	return signRelease(t, dir, version, fwpkg.Keypad)
}

// warpLine: with -v the harness stamps its log with the simulated time
// in ms, and "warp 1" makes it print a line now.
var warpLine = regexp.MustCompile(`\[\s*([0-9.]+)\] warp 1 ms`)

func (d *simDevice) simNow(seen int) float64 {
	d.t.Helper()
	d.warp(1)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if m := warpLine.FindAllStringSubmatch(d.stderr.String(), -1); len(m) > seen {
			ms, _ := strconv.ParseFloat(m[seen][1], 64)
			return ms
		}
		if time.Now().After(deadline) {
			d.fail("the harness printed no time")
		}
		runtime.Gosched()
	}
}

var pageLine = regexp.MustCompile(`\[\s*([0-9.]+)\] flash page [0-9a-f]+ (erased|written)`)

// BenchmarkFirmwareUpdateUnderSimavr: the whole update of the keypad
// (13.5 KB, 106 chunks) by flash.Update against the firmware under
// simavr, its UART at 19200 baud. Reported: wall-clock figures of this
// run, and the same on the simulated device's clock (what a real
// ATmega328P on a real 19200 line would take with this host, since the
// simulator runs flat out while bytes move and paces idle time to the
// wall clock).
func BenchmarkFirmwareUpdateUnderSimavr(b *testing.B) {
	oldDir, newDir := buildFirmware(b)
	harness := filepath.Join(oldDir, "cherga-avrsim")
	good, keys := releasePackage(b, newDir, vNew)
	p, err := fwpkg.Open(good, keys, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	size := len(p.Image(fwpkg.SlotB))
	var wall, wallXfer, sim, simXfer float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		d := startDevice(b, harness, b.TempDir(), filepath.Join(oldDir, "cherga-kp1-factory.hex"), "-v")
		d.waitIdentity(factoryUnit)
		simStart := d.simNow(0)
		var xferStart, xferEnd time.Time
		b.StartTimer()
		start := time.Now()
		res, err := flash.Update(d.ctx, d.m, factoryUnit, p, flash.Options{RestartTimeout: 15 * time.Second,
			Progress: func(pr flash.Progress) {
				switch {
				case pr.Phase == flash.PhaseTransfer && pr.Done == 0:
					xferStart = time.Now()
				case pr.Phase == flash.PhaseVerify && xferEnd.IsZero():
					xferEnd = time.Now()
				}
			}})
		elapsed := time.Since(start)
		b.StopTimer()
		if err != nil || res.Sent != 106 {
			d.fail("update: %+v, %v", res, err)
		}
		simEnd := d.simNow(1)
		pages := pageLine.FindAllStringSubmatch(d.stderr.String(), -1)
		if len(pages) < 2*106 {
			d.fail("%d flash page lines", len(pages))
		}
		first, _ := strconv.ParseFloat(pages[0][1], 64)
		last, _ := strconv.ParseFloat(pages[len(pages)-1][1], 64)
		wall += elapsed.Seconds()
		wallXfer += xferEnd.Sub(xferStart).Seconds()
		sim += (simEnd - simStart) / 1000
		simXfer += (last - first) / 1000
		d.powerCut()
		b.StartTimer()
	}
	n := float64(b.N)
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(wall/n, "wall-s/update")
	b.ReportMetric(float64(size)*n/wallXfer, "wall-image-B/s")
	b.ReportMetric(sim/n, "sim-s/update")
	b.ReportMetric(float64(size)*n/simXfer, "sim-image-B/s")
}
