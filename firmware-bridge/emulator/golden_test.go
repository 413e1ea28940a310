package emulator_test

import (
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.bug.st/serial"

	"github.com/cherga/kiosk/firmware-bridge/emulator"
	"github.com/cherga/kiosk/firmware-bridge/modbus"
)

func golden(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "modbus", "testdata", name+".hex"))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := hex.DecodeString(strings.Join(strings.Fields(string(b)), ""))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return raw
}

// wire sends frames on a raw pty end and reads answers byte for byte.
type wire struct {
	t    *testing.T
	port serial.Port
}

func (w *wire) send(frame []byte) {
	w.t.Helper()
	if _, err := w.port.Write(frame); err != nil {
		w.t.Fatal(err)
	}
}

// answer reads n bytes (the bound is only there so a broken device fails
// the test instead of hanging it).
func (w *wire) answer(n int) []byte {
	w.t.Helper()
	got := make([]byte, 0, n)
	buf := make([]byte, 256)
	deadline := time.Now().Add(10 * time.Second)
	for len(got) < n && time.Now().Before(deadline) {
		w.port.SetReadTimeout(time.Until(deadline))
		m, err := w.port.Read(buf[:n-len(got)])
		if err != nil {
			w.t.Fatal(err)
		}
		got = append(got, buf[:m]...)
	}
	return got
}

func (w *wire) exchange(req []byte, want []byte, what string) {
	w.t.Helper()
	w.send(req)
	if got := w.answer(len(want)); !bytes.Equal(got, want) {
		w.t.Fatalf("%s: answer\n% X\nwant\n% X", what, got, want)
	}
}

func frame(unit byte, r modbus.Request) []byte {
	pdu, err := r.AppendPDU(nil)
	if err != nil {
		panic(err)
	}
	return modbus.AppendADU(nil, unit, pdu)
}

// TestWorkedFrames plays every worked frame of PROTOCOL.md section 12
// (the golden files of the modbus package) against the emulated devices
// over a pseudo-terminal, byte for byte.
func TestWorkedFrames(t *testing.T) {
	r := newRig(t, "1:window-display,2:keypad,3:rating", func(o *emulator.Options) {
		o.Firmware = emulator.Version{1, 2, 0}
		o.StateDir = ""
	})
	port, err := modbus.OpenSerial(r.pty.Path(), modbus.PTYLine)
	if err != nil {
		t.Fatal(err)
	}
	defer port.Close()
	w := &wire{t: t, port: port}
	echo := func(unit byte, req modbus.Request, what string) {
		t.Helper()
		f := frame(unit, req)
		want := f
		if req.Function == modbus.FuncWriteMultipleRegisters {
			want = modbus.AppendADU(nil, unit, []byte{0x10, byte(req.Address >> 8), byte(req.Address), 0, byte(len(req.Values))})
		}
		w.exchange(f, want, what)
	}

	// Broadcasts: acted on, never answered; the answer after them is the
	// next request's.
	w.send(golden(t, "10-bcast"))
	w.send(golden(t, "06-bcast"))
	w.exchange(golden(t, "10-req"), golden(t, "10-rsp"), "10")
	for _, a := range []byte{1, 2, 3} {
		if f := r.face(a); f.Brightness != 8 {
			t.Errorf("unit %d: brightness %d after the broadcast, want 8", a, f.Brightness)
		}
	}
	if d := r.face(1).Display; d.Text != "А123" || d.Window != 3 || !d.Blinking || d.CallID != 0x0102 {
		t.Errorf("display after the call: %+v", d)
	}
	echo(1, modbus.WriteRegisters(0, 0x1234, 7), "SYNC and EV_ACK")
	w.exchange(golden(t, "03-req"), golden(t, "03-rsp"), "03")

	// The keypad: 41 events acknowledged, then seq 42 and 43, 0.3 s old.
	for range 41 {
		r.press(2, emulator.KeyNext, false)
	}
	echo(2, modbus.WriteRegister(1, 41), "ack 41")
	echo(2, modbus.WriteRegister(0, 0x1234), "SYNC")
	r.press(2, emulator.KeyNext, false)
	r.press(2, emulator.KeyRecall, false)
	r.clock.Advance(300 * time.Millisecond)
	w.exchange(golden(t, "04-req"), golden(t, "04-rsp"), "04")
	w.exchange(golden(t, "06-req"), golden(t, "06-rsp"), "06")

	w.exchange(golden(t, "2b-req"), golden(t, "2b-rsp"), "2B")
	w.exchange(frame(1, modbus.ReadHolding(0x0050, 2)), golden(t, "exc-02"), "03 outside the map")

	// A manifest on the display, read back (14); one chunk to the rating
	// panel (15), then VERIFY, then the chunk again while it verifies.
	echo(1, modbus.WriteFile(1, 0, manifest(emulator.WindowDisplay, 1, emulator.Version{1, 3, 0}, make([]byte, 300))), "manifest")
	w.exchange(golden(t, "14-req"), golden(t, "14-rsp"), "14")
	chunk := make([]byte, 128)
	for i := range chunk {
		chunk[i] = byte(i)
	}
	echo(3, modbus.WriteFile(1, 0, manifest(emulator.RatingPanel, 1, emulator.Version{1, 3, 0}, chunk)), "manifest")
	w.exchange(golden(t, "15-req"), golden(t, "15-req"), "15")
	echo(3, modbus.WriteRegister(0x0080, 2), "VERIFY")
	w.exchange(golden(t, "15-req"), golden(t, "exc-06"), "chunk while verifying")
}
