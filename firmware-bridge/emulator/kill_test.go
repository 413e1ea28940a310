package emulator_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cherga/kiosk/firmware-bridge/emulator"
	"github.com/cherga/kiosk/firmware-bridge/modbus"
)

// TestChildEmulator is the emulator process TestSurvivesSIGKILL kills;
// run by itself it does nothing.
func TestChildEmulator(t *testing.T) {
	dir, link := os.Getenv("EMULATOR_CHILD_STATE"), os.Getenv("EMULATOR_CHILD_LINK")
	if dir == "" {
		return
	}
	specs, _ := emulator.ParseSpecs("1:window-display,2:keypad")
	bus, err := emulator.NewBus(specs, emulator.Options{StateDir: dir, Line: modbus.PTYLine})
	if err != nil {
		t.Fatal(err)
	}
	p, err := modbus.OpenPTY()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Link(link); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go http.Serve(ln, emulator.NewControl(bus, ln.Addr().String(), link, nil))
	fmt.Println("READY", ln.Addr())
	t.Fatal(bus.Serve(context.Background(), p))
}

func postJSON(t *testing.T, url, body string, v any) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("POST %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

// TestSurvivesSIGKILL: an emulator process killed with SIGKILL in the
// middle of things — events pending, one acknowledged, an update 21
// chunks in — comes back from its state files as the firmware would after
// a power cut.
func TestSurvivesSIGKILL(t *testing.T) {
	dir := t.TempDir()
	link := filepath.Join(dir, "bus")
	cmd := exec.Command(os.Args[0], "-test.run=^TestChildEmulator$")
	cmd.Env = append(os.Environ(), "EMULATOR_CHILD_STATE="+filepath.Join(dir, "state"), "EMULATOR_CHILD_LINK="+link)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := bufio.NewScanner(out)
	var api string
	for lines.Scan() {
		if a, ok := strings.CutPrefix(lines.Text(), "READY "); ok {
			api = "http://" + a
			break
		}
	}
	if api == "" {
		t.Fatal("the child emulator did not start")
	}

	var seqs []uint16
	for _, body := range []string{`{"key":"next"}`, `{"key":"came"}`, `{"key":4,"long":true}`, `{"key":"pause"}`} {
		var res emulator.PressResult
		postJSON(t, api+"/api/v1/devices/2/press", body, &res)
		if res.Outcome != emulator.Queued {
			t.Fatalf("press %s: %+v", body, res)
		}
		seqs = append(seqs, res.Seq)
	}
	if !slices.Equal(seqs, []uint16{1, 2, 3, 4}) {
		t.Fatalf("seqs %v", seqs)
	}
	port, err := modbus.OpenSerial(link, modbus.PTYLine)
	if err != nil {
		t.Fatal(err)
	}
	defer port.Close()
	m := modbus.NewMaster(modbus.NewRTU(port, modbus.RTUOptions{Line: modbus.PTYLine}), ptyOptions)
	ctx := context.Background()
	id, err := m.ReadInputRegisters(ctx, 2, 0x26, 3)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.WriteRegister(ctx, 2, 1, 1); err != nil { // ack seq 1
		t.Fatal(err)
	}
	image := testImage(4000, "")
	mf := manifest(emulator.WindowDisplay, 1, emulator.Version{1, 9, 0}, image)
	if err := m.WriteFileRecord(ctx, 1, 1, 0, mf); err != nil {
		t.Fatal(err)
	}
	for k := range 21 {
		if err := m.WriteFileRecord(ctx, 1, 2, uint16(k), chunk(image, k)); err != nil {
			t.Fatal(err)
		}
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	cmd.Wait()

	clock := newFakeClock()
	specs, _ := emulator.ParseSpecs("1:window-display,2:keypad")
	bus, err := emulator.NewBus(specs, emulator.Options{StateDir: filepath.Join(dir, "state"), Line: modbus.PTYLine, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Second)
	kp, _ := bus.Device(2)
	got, _ := call(kp, 2, []byte{0x04, 0, 0, 0, 12})
	want := []byte{0x04, 24, 0, 0, 0, 0, 0, 3, 0, 2, 0, 3, 0xFF, 0xFF, 0, 3, 0x01, 0x04, 0xFF, 0xFF, 0, 4, 0, 7, 0xFF, 0xFF}
	if !slices.Equal(got, want) {
		t.Errorf("keypad after SIGKILL: % X\nwant % X", got, want)
	}
	got, _ = call(kp, 2, []byte{0x04, 0, 0x26, 0, 3})
	if !slices.Equal(got[2:], []byte{byte(id[0] >> 8), byte(id[0]), byte(id[1] >> 8), byte(id[1]), 0, byte(id[2] + 1)}) {
		t.Errorf("serial and boot count % X, before % 04X", got[2:], id)
	}
	if res, err := kp.Press(1, false); err != nil || res.Seq != 5 {
		t.Errorf("next press %+v %v, want seq 5", res, err)
	}
	disp, _ := bus.Device(1)
	got, _ = call(disp, 1, []byte{0x04, 0, 0x80, 0, 2})
	if !slices.Equal(got[2:], []byte{0, 1, 0, 16}) {
		t.Errorf("display's update after SIGKILL: % X, want receiving, 16 held", got)
	}
	rec, _ := call(disp, 1, []byte{0x14, 7, 6, 0, 1, 0, 0, 0, 27})
	if len(rec) != 58 || rec[4] != 0x43 || rec[5] != 0x46 || rec[15] != 9 {
		t.Errorf("manifest after SIGKILL: % X", rec)
	}
}
