package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cherga/kiosk/firmware-bridge/emulator"
	"github.com/cherga/kiosk/firmware-bridge/modbus"
)

// emuCmd runs one kioskctl command in-process.
func emuCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var o, e bytes.Buffer
	err := bridgeMore(context.Background(), args, &o, &e)
	return o.String() + e.String(), err
}

// TestBridgeEmulate: kioskctl bridge emulate on a pseudo-terminal, driven
// by the host's master through the link and by kioskctl bridge press,
// fault and power-cut through its control API; it replaces a stale link
// and removes its own when stopped.
func TestBridgeEmulate(t *testing.T) {
	dir := t.TempDir()
	link := filepath.Join(dir, "bus0")
	if err := os.Symlink("/dev/pts/nonexistent", link); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, w := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- bridgeMore(ctx, []string{"emulate", "-link", link, "-devices", "1:window-display,2:keypad,3:rating",
			"-state", filepath.Join(dir, "state"), "-http", "127.0.0.1:0", "-firmware", "1.2.0"}, w, io.Discard)
		w.Close()
	}()
	lines := make(chan string, 16)
	go func() {
		s := bufio.NewScanner(out)
		for s.Scan() {
			lines <- s.Text()
		}
		close(lines)
	}()
	first := <-lines
	api := regexp.MustCompile(`http://(127\.0\.0\.1:\d+)/`).FindStringSubmatch(first)
	if api == nil || !strings.Contains(first, "Емулятор: пристроїв 3 на "+link) || !strings.Contains(first, "Emulator: 3 devices") {
		t.Fatalf("first line %q", first)
	}
	base := api[1]

	o, err := emuCmd(t, "press", "-emulator", base, "-addr", "2", "-key", "next")
	if err != nil || !strings.Contains(o, "Пристрій 2: натиснуто «next», подія 1 у черзі / Device 2: pressed \"next\", event 1 queued") {
		t.Fatalf("press: %v\n%s", err, o)
	}
	o, err = emuCmd(t, "press", "-emulator", base, "-addr", "2", "-key", "finish", "-long")
	if err != nil || !strings.Contains(o, "довго натиснуто «finish», подія 2") {
		t.Fatalf("long press: %v\n%s", err, o)
	}
	o, err = emuCmd(t, "press", "-emulator", base, "-addr", "3", "-key", "4")
	if err != nil || !strings.Contains(o, "запрошення оцінити немає") {
		t.Fatalf("rating without a prompt: %v\n%s", err, o)
	}
	if o, err := emuCmd(t, "press", "-emulator", base, "-addr", "2", "-key", "sing"); err == nil || !strings.Contains(err.Error(), "bad_key") {
		t.Fatalf("bad key: %v\n%s", err, o)
	}
	if _, err := emuCmd(t, "press", "-emulator", base, "-addr", "9", "-key", "1"); err == nil || !strings.Contains(err.Error(), "unknown_device") {
		t.Fatalf("unknown device: %v", err)
	}

	port, err := modbus.OpenSerial(link, modbus.PTYLine)
	if err != nil {
		t.Fatal(err)
	}
	defer port.Close()
	m := modbus.NewMaster(modbus.NewRTU(port, modbus.RTUOptions{Line: modbus.PTYLine}), modbus.MasterOptions{Slack: 300 * time.Millisecond})
	v, err := m.ReadInputRegisters(ctx, 2, 0, 9)
	if err != nil || v[2] != 2 || v[3] != 1 || v[4] != 1 || v[6] != 2 || v[7] != 0x0104 {
		t.Fatalf("poll %v %v", v, err)
	}
	if id, err := m.ReadIdentification(ctx, 1); err != nil || id.Product != "CHG-WD1" || id.Revision != "1.2.0" {
		t.Fatalf("identification %+v %v", id, err)
	}

	o, err = emuCmd(t, "fault", "-emulator", base, "-addr", "2", "-kind", "corrupt", "-count", "1")
	if err != nil || !strings.Contains(o, "Пристрій 2: несправність «corrupt ×1»") {
		t.Fatalf("fault: %v\n%s", err, o)
	}
	if _, err := m.DoOnce(ctx, 2, modbus.ReadInput(0, 6)); !errors.Is(err, modbus.ErrTimeout) {
		t.Fatalf("with a corrupt answer: %v", err)
	}
	if _, err := m.ReadInputRegisters(ctx, 2, 0, 6); err != nil {
		t.Fatalf("after the fault's count: %v", err)
	}
	o, err = emuCmd(t, "fault", "-emulator", base, "-addr", "2", "-kind", "none")
	if err != nil || !strings.Contains(o, "працює без несправностей") {
		t.Fatalf("fault none: %v\n%s", err, o)
	}
	if _, err := emuCmd(t, "fault", "-emulator", base, "-addr", "2", "-kind", "loud"); !errors.Is(err, errUsage) {
		t.Fatalf("bad kind: %v", err)
	}
	o, err = emuCmd(t, "power-cut", "-emulator", base, "-addr", "1", "-for", "1h")
	if err != nil || !strings.Contains(o, "Пристрій 1: живлення вимкнено на 1h0m0s / Device 1: power cut for 1h0m0s") {
		t.Fatalf("power-cut: %v\n%s", err, o)
	}
	o, err = emuCmd(t, "power-cut", "-emulator", base, "-addr", "3", "-after-chunk", "20")
	if err != nil || !strings.Contains(o, "після частини 20") {
		t.Fatalf("power-cut after a chunk: %v\n%s", err, o)
	}
	resp, err := http.Get("http://" + base + "/api/v1/devices")
	if err != nil {
		t.Fatal(err)
	}
	var reply emulator.DevicesReply
	json.NewDecoder(resp.Body).Decode(&reply)
	resp.Body.Close()
	if len(reply.Devices) != 3 || reply.Devices[0].Power != "off" || reply.Devices[1].Health.EvPending != 2 || reply.Link != link {
		t.Errorf("devices %+v", reply)
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("emulate: %v", err)
	}
	var rest []string
	for l := range lines {
		rest = append(rest, l)
	}
	if !strings.Contains(strings.Join(rest, "\n"), "Емулятор зупинено / Emulator stopped") {
		t.Errorf("last lines %q", rest)
	}
	if _, err := os.Lstat(link); !os.IsNotExist(err) {
		t.Errorf("the link is still there: %v", err)
	}
	// The state stays for the next run.
	if files, _ := filepath.Glob(filepath.Join(dir, "state", "*.json")); len(files) != 3 {
		t.Errorf("state files %v", files)
	}
}

func TestBridgeEmulateUsage(t *testing.T) {
	for _, args := range [][]string{
		{"emulate"},
		{"emulate", "-link", "/tmp/x"},
		{"emulate", "-link", "/tmp/x", "-devices", "1:printer"},
		{"emulate", "-link", "/tmp/x", "-devices", "1:keypad", "-http", "0.0.0.0:8095"},
		{"emulate", "-link", "/tmp/x", "-devices", "1:keypad", "-http", "192.168.1.5:8095"},
		{"emulate", "-link", "/tmp/x", "-devices", "1:keypad", "-line", "19200 7E1"},
		{"press", "-addr", "2"},
		{"press", "-addr", "0", "-key", "next"},
		{"fault", "-addr", "2"},
		{"power-cut", "-addr", "2", "-for", "0s"},
		{"sing"},
	} {
		if o, err := emuCmd(t, args...); !errors.Is(err, errUsage) {
			t.Errorf("%q: %v\n%s", args, err, o)
		}
	}
	if o, err := emuCmd(t, "press", "-emulator", "127.0.0.1:1", "-addr", "2", "-key", "next"); err == nil || errors.Is(err, errUsage) {
		t.Errorf("no emulator: %v\n%s", err, o)
	}
}
