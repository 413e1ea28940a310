package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cherga/kiosk/firmware-bridge/flash/flashtest"
	"github.com/cherga/kiosk/firmware-bridge/fwpkg"
	"github.com/cherga/kiosk/firmware-bridge/modbus"
	"github.com/cherga/kiosk/firmware-bridge/modbus/modbustest"
)

// kioskctl runs the command in-process and returns what it printed.
func kioskctl(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var o, e bytes.Buffer
	err = run(context.Background(), args, &o, &e)
	return o.String(), e.String(), err
}

// release is a key pair and a signed keypad release made with the
// commands, as a release engineer would.
type release struct {
	dir, key, pub string
	a, b          string // the two links
}

func newRelease(t *testing.T) release {
	t.Helper()
	dir := t.TempDir()
	r := release{dir: dir, key: filepath.Join(dir, "keys", "firmware.key"), pub: filepath.Join(dir, "keys", "firmware.pub"),
		a: filepath.Join(dir, "kp1-a.bin"), b: filepath.Join(dir, "kp1-b.bin")}
	out, _, err := kioskctl(t, "firmware", "keygen", "-out", filepath.Join(dir, "keys"))
	if err != nil || !strings.Contains(out, r.key) || !strings.Contains(out, r.pub) {
		t.Fatalf("keygen: %q, %v", out, err)
	}
	a, b := make([]byte, 3000), make([]byte, 3000)
	for i := range a {
		a[i], b[i] = byte(i), byte(i*3)
	}
	if err := errors.Join(os.WriteFile(r.a, a, 0o644), os.WriteFile(r.b, b, 0o644)); err != nil {
		t.Fatal(err)
	}
	return r
}

func (r release) sign(t *testing.T, typ, version string) string {
	t.Helper()
	out := filepath.Join(r.dir, typ+"-"+version+".fw")
	stdout, stderr, err := kioskctl(t, "firmware", "sign", "-key", r.key, "-image", r.a, "-image-b", r.b,
		"-type", typ, "-hw", "1", "-version", version, "-expires", "24h", "-out", out)
	if err != nil {
		t.Fatalf("sign: %v\n%s", err, stderr)
	}
	if !strings.Contains(stdout, typ+" hw 1 firmware "+version) {
		t.Fatalf("sign said %q", stdout)
	}
	return out
}

func TestFirmwareKeygenSignShow(t *testing.T) {
	r := newRelease(t)
	fw := r.sign(t, "keypad", "1.1.0")

	out, _, err := kioskctl(t, "firmware", "show", "-pubkey", r.pub, fw)
	for _, want := range []string{"device   keypad (type 2), hardware revision 1", "version  1.1.0",
		"image A  3000 bytes, 24 chunks", "image B  3000 bytes", "signature good"} {
		if err != nil || !strings.Contains(out, want) {
			t.Fatalf("show: %v, %q lacks %q", err, out, want)
		}
	}
	out, _, err = kioskctl(t, "firmware", "show", fw)
	if err != nil || !strings.Contains(out, "signature not checked") {
		t.Fatalf("show without keys: %q, %v", out, err)
	}
	// Another office's key: shown, and refused.
	other := newRelease(t)
	out, _, err = kioskctl(t, "firmware", "show", "-pubkey", other.pub, fw)
	if !errors.Is(err, fwpkg.ErrUnknownKey) || !strings.Contains(out, "signature REFUSED") {
		t.Fatalf("show with a stranger's key: %q, %v", out, err)
	}
	// A file changed after signing.
	data, _ := os.ReadFile(fw)
	data[len(data)-100] ^= 1
	bad := filepath.Join(r.dir, "bad.fw")
	os.WriteFile(bad, data, 0o644)
	if _, _, err := kioskctl(t, "firmware", "show", "-pubkey", r.pub, bad); !errors.Is(err, fwpkg.ErrTampered) {
		t.Fatalf("tampered: %v", err)
	}
	// Not a package at all.
	if _, _, err := kioskctl(t, "firmware", "show", r.a); !errors.Is(err, fwpkg.ErrNotPackage) {
		t.Fatalf("an image as a package: %v", err)
	}

	// The signing key must be private.
	os.Chmod(r.key, 0o644)
	_, _, err = kioskctl(t, "firmware", "sign", "-key", r.key, "-image", r.a, "-image-b", r.b,
		"-type", "keypad", "-hw", "1", "-version", "1.2.0", "-out", filepath.Join(r.dir, "x.fw"))
	if !errors.Is(err, fwpkg.ErrKeyPermissions) || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("a readable key: %v", err)
	}
	os.Chmod(r.key, 0o600)
	// The same file as both links is refused.
	if _, _, err := kioskctl(t, "firmware", "sign", "-key", r.key, "-image", r.a, "-image-b", r.a,
		"-type", "keypad", "-hw", "1", "-version", "1.2.0", "-out", filepath.Join(r.dir, "x.fw")); err == nil ||
		!strings.Contains(err.Error(), "identical") {
		t.Fatalf("image A as B: %v", err)
	}
	if _, stderr, err := kioskctl(t, "firmware", "sign", "-key", r.key); !errors.Is(err, errUsage) ||
		!strings.Contains(stderr, "missing -hw, -image, -image-b, -out, -type, -version") {
		t.Fatalf("sign without flags: %v %q", err, stderr)
	}
	// Each subcommand's -h is its own usage, and no error.
	for _, args := range [][]string{{"firmware", "keygen", "-h"}, {"firmware", "sign", "-h"}, {"firmware", "show", "-h"},
		{"bridge", "flash", "-h"}, {"bridge", "scan", "-h"}, {"bridge", "watch", "-h"}} {
		_, stderr, err := kioskctl(t, args...)
		if err != nil || !strings.HasPrefix(stderr, "usage: kioskctl "+args[0]+" "+args[1]) {
			t.Errorf("%v: %v, %q", args, err, stderr)
		}
	}
}

// onPTY serves the devices (by address) on a new pseudo-terminal until
// the test ends and returns the path a master opens.
func onPTY(t *testing.T, devs map[byte]modbus.Handler) string {
	t.Helper()
	p, err := modbus.OpenPTY()
	if err != nil {
		t.Fatal(err)
	}
	srv := &modbus.Server{Port: p, Line: modbus.PTYLine,
		Handler: modbus.HandlerFunc(func(u byte, req modbus.Request) modbus.Response { return devs[u].ServeModbus(u, req) }),
		Units: func(u byte) bool {
			if d, ok := devs[u].(*flashtest.Device); ok {
				return d.Hears() // not while it restarts
			}
			return devs[u] != nil
		}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
		p.Close()
	})
	return p.Path()
}

// Over a pseudo-terminal the device is a goroutine on shared cores: give
// the answers room.
var ptyArgs = []string{"-line", "19200 8N2", "-slack", "200ms"}

func TestBridgeFlash(t *testing.T) {
	r := newRelease(t)
	dev := flashtest.New(2, 1, [3]uint16{1, 0, 0})
	port := onPTY(t, map[byte]modbus.Handler{5: dev})
	flashArgs := func(image string, more ...string) []string {
		return append(append([]string{"bridge", "flash", "-port", port, "-addr", "5", "-image", image}, ptyArgs...), more...)
	}

	// Refused, with the sentence and a non-zero exit, before any write.
	display := r.sign(t, "window-display", "1.1.0")
	older := r.sign(t, "keypad", "0.9.0")
	good := r.sign(t, "keypad", "1.1.0")
	data, _ := os.ReadFile(good)
	data[fwpkg.HeaderSize+10] ^= 1
	tampered := filepath.Join(r.dir, "tampered.fw")
	os.WriteFile(tampered, data, 0o644)
	stranger := newRelease(t)
	for _, c := range []struct {
		name string
		args []string
		want error
		text string
	}{
		{"wrong model", flashArgs(display, "-pubkey", r.pub), fwpkg.ErrWrongModel,
			"package is for window-display (type 1), device 5 is a keypad (type 2)"},
		{"older", flashArgs(older, "-pubkey", r.pub), fwpkg.ErrNotNewer, "package version 0.9.0 is older than the 1.0.0 device 5 runs"},
		{"tampered", flashArgs(tampered, "-pubkey", r.pub), fwpkg.ErrTampered, "image A does not match its SHA-256"},
		{"unknown key", flashArgs(good, "-pubkey", stranger.pub), fwpkg.ErrUnknownKey, "signed by an unknown key"},
	} {
		_, _, err := kioskctl(t, c.args...)
		if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.text) {
			t.Errorf("%s: %v, want %q", c.name, err, c.text)
		}
	}
	if _, stderr, err := kioskctl(t, flashArgs(good)...); !errors.Is(err, errUsage) || !strings.Contains(stderr, "no trusted keys") {
		t.Fatalf("without keys: %v %q", err, stderr)
	}
	if w := dev.Writes(); len(w) != 0 {
		t.Fatalf("refused packages wrote %d requests", len(w))
	}

	// The real thing, with the keys from a terminal configuration.
	conf := filepath.Join(r.dir, "kioskd.yaml")
	os.WriteFile(conf, []byte("device_id: window-05\ndata_dir: "+r.dir+"\nroles: [window]\nserver: {url: \"ws://127.0.0.1:8090/api/v1/link\"}\nwindow: {number: 5}\nfirmware_keys: [keys/firmware.pub]\n"), 0o644)
	stdout, stderr, err := kioskctl(t, flashArgs(good, "-config", conf)...)
	if err != nil {
		t.Fatalf("flash: %v\n%s", err, stderr)
	}
	if !strings.Contains(stdout, "unit 5: keypad firmware 1.0.0 → 1.1.0, slot B, confirmed (24 chunks sent") {
		t.Fatalf("flash said %q", stdout)
	}
	// stderr is not a terminal: plain lines, one per phase and every 16 chunks.
	for _, want := range []string{"identify: 0/0 chunks\n", "transfer: 0/24 chunks\n", "transfer: 16/24 chunks\n",
		"transfer: 24/24 chunks\n", "verify: 24/24", "confirm: 24/24", "done: 24/24"} {
		if !strings.Contains(stderr, want) {
			t.Fatalf("progress %q lacks %q", stderr, want)
		}
	}
	if slot, v := dev.Running(); slot != 1 || v != [3]uint16{1, 1, 0} {
		t.Fatalf("device runs %v in slot %d", v, slot)
	}
	// Again: the same version is refused, -force puts it on (slot A now).
	if _, _, err := kioskctl(t, flashArgs(good, "-pubkey", r.pub)...); !errors.Is(err, fwpkg.ErrNotNewer) {
		t.Fatalf("the same version again: %v", err)
	}
	if stdout, _, err := kioskctl(t, flashArgs(good, "-pubkey", r.pub, "-force")...); err != nil || !strings.Contains(stdout, "1.1.0 → 1.1.0, slot A") {
		t.Fatalf("forced: %q, %v", stdout, err)
	}
}

func TestBridgeScan(t *testing.T) {
	kp := flashtest.New(2, 1, [3]uint16{1, 2, 0})
	wd := flashtest.New(1, 3, [3]uint16{1, 0, 4})
	acme := modbustest.NewDevice().SetObject(0, "acme").SetObject(1, "LED-9").SetObject(2, "v7")
	port := onPTY(t, map[byte]modbus.Handler{3: wd, 5: kp, 7: acme})
	stdout, stderr, err := kioskctl(t, append([]string{"bridge", "scan", "-port", port, "-from", "2", "-to", "8", "-json"}, ptyArgs...)...)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	var got []scanEntry
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("%v: %s", err, stdout)
	}
	want := []scanEntry{
		{Address: 3, Vendor: "cherga", Product: "CHG-WD1", Revision: "1.0.4", Model: "window display 8x1", Type: "window-display", Hardware: 3, Serial: "1234ABCD", Firmware: "1.0.4"},
		{Address: 5, Vendor: "cherga", Product: "CHG-KP1", Revision: "1.2.0", Model: "operator keypad 2x20", Type: "keypad", Hardware: 1, Serial: "1234ABCD", Firmware: "1.2.0"},
		{Address: 7, Vendor: "acme", Product: "LED-9", Revision: "v7"},
	}
	if len(got) != len(want) {
		t.Fatalf("found %+v\n%s", got, stderr)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("entry %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	if !strings.Contains(stderr, "3 of 7 addresses answered") {
		t.Fatalf("stderr %q", stderr)
	}
	stdout, _, err = kioskctl(t, append([]string{"bridge", "scan", "-port", port, "-from", "5", "-to", "7"}, ptyArgs...)...)
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if err != nil || len(lines) != 3 || !strings.HasPrefix(lines[0], "ADDR  VENDOR") ||
		strings.Join(strings.Fields(lines[1]), " ") != "5 cherga CHG-KP1 1.2.0 operator keypad 2x20 keypad 1 1234ABCD 1.2.0" ||
		strings.Join(strings.Fields(lines[2]), " ") != "7 acme LED-9 v7 - - - - -" {
		t.Fatalf("table %v:\n%s", err, stdout)
	}
}

// lineWriter hands what a command prints to the test as it comes.
type lineWriter struct {
	mu  sync.Mutex
	buf bytes.Buffer
	ch  chan struct{}
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	select {
	case w.ch <- struct{}{}:
	default:
	}
	return len(p), nil
}

func (w *lineWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// waitFor returns once the output contains s; the deadline only fails
// the test.
func (w *lineWriter) waitFor(t *testing.T, s string) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for !strings.Contains(w.String(), s) {
		select {
		case <-w.ch:
		case <-deadline:
			t.Fatalf("no %q in:\n%s", s, w.String())
		}
	}
}

func TestBridgeWatch(t *testing.T) {
	for _, ack := range []bool{false, true} {
		dev := flashtest.New(2, 1, [3]uint16{1, 2, 0})
		dev.Press(0x0001)
		dev.Press(0x0103)
		port := onPTY(t, map[byte]modbus.Handler{5: dev})
		args := append([]string{"bridge", "watch", "-port", port, "-addr", "5", "-interval", "20ms"}, ptyArgs...)
		if ack {
			args = append(args, "-ack")
		}
		out := &lineWriter{ch: make(chan struct{}, 1)}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- run(ctx, args, out, out) }()
		out.waitFor(t, "unit 5: keypad hw 1 firmware 1.2.0, serial 1234ABCD")
		out.waitFor(t, "status ok, sync 0x0000, 2 pending")
		out.waitFor(t, "event 1: next, 0.1 s ago")
		out.waitFor(t, "event 2: came (long), 0.1 s ago")
		dev.Press(0x0004)
		out.waitFor(t, "event 3: finish")
		if ack {
			out.waitFor(t, "acknowledged up to 3")
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("watch: %v", err)
		}
		writes := dev.Writes()
		if !ack && len(writes) != 0 {
			t.Fatalf("watch without -ack wrote %+v", writes)
		}
		if ack && (len(writes) == 0 || writes[len(writes)-1].Address != 0x0001 || writes[len(writes)-1].Values[0] != 3) {
			t.Fatalf("watch -ack wrote %+v", writes)
		}
	}
}
