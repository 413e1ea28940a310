package flash_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cherga/kiosk/firmware-bridge/flash"
	"github.com/cherga/kiosk/firmware-bridge/flash/flashtest"
	"github.com/cherga/kiosk/firmware-bridge/fwpkg"
	"github.com/cherga/kiosk/firmware-bridge/modbus"
	"github.com/cherga/kiosk/firmware-bridge/modbus/modbustest"
)

const unit = 5

var key = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{3}, ed25519.SeedSize))

// pkg signs a package of two 13,496-byte links (the keypad's size).
func pkg(t testing.TB, typ fwpkg.DeviceType, hw uint16, version string, size int) *fwpkg.Package {
	t.Helper()
	v, err := fwpkg.ParseVersion(version)
	if err != nil {
		t.Fatal(err)
	}
	a, b := make([]byte, size), make([]byte, size)
	for i := range a {
		a[i], b[i] = byte(i*13), byte(i*13+1)
	}
	created := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	data, err := fwpkg.Sign(key, fwpkg.Manifest{Type: typ, Hardware: hw, Version: v, Created: created, Expires: created.AddDate(1, 0, 0)}, a, b)
	if err != nil {
		t.Fatal(err)
	}
	p, err := fwpkg.Open(data, []ed25519.PublicKey{key.Public().(ed25519.PublicKey)}, created)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// keypad is a keypad running 1.0.0 at unit 5 on a simulated 19200 8E1
// line, in virtual time.
func keypad(t testing.TB) (*flashtest.Device, *modbus.Master) {
	dev := flashtest.New(2, 1, [3]uint16{1, 0, 0})
	bus := modbustest.NewBus(modbus.DefaultLine)
	port := dev.Attach(bus, unit)
	rtu := modbus.NewRTU(port, modbus.RTUOptions{Line: bus.Line(), Clock: bus.Clock()})
	return dev, modbus.NewMaster(rtu, modbus.MasterOptions{})
}

func wantRunning(t *testing.T, dev *flashtest.Device, slot int, v [3]uint16) {
	t.Helper()
	s, got := dev.Running()
	if st, _, _ := dev.State(); s != slot || got != v || st != 0 {
		t.Fatalf("device runs %v in slot %d, state %d; want %v in slot %d, idle", got, s, st, v, slot)
	}
}

func TestUpdate(t *testing.T) {
	dev, m := keypad(t)
	p := pkg(t, fwpkg.Keypad, 1, "1.1.0", 13496)
	var (
		phases  []flash.Phase
		last    = -1
		between int
	)
	res, err := flash.Update(context.Background(), m, unit, p, flash.Options{
		Progress: func(pr flash.Progress) {
			if len(phases) == 0 || phases[len(phases)-1] != pr.Phase {
				phases = append(phases, pr.Phase)
			}
			if pr.Phase == flash.PhaseTransfer {
				if pr.Done < last || pr.Total != 106 {
					t.Errorf("progress %+v after %d", pr, last)
				}
				last = pr.Done
			}
		},
		Between: func(context.Context) error { between++; return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []flash.Phase{"identify", "check", "manifest", "transfer", "verify", "commit", "restart", "confirm", "done"}
	if !slices.Equal(phases, want) {
		t.Fatalf("phases %v, want %v", phases, want)
	}
	if res.Chunks != 106 || res.Sent != 106 || res.Retries != 0 || res.Resumed || res.Slot != 1 ||
		res.From.String() != "1.0.0" || res.To.String() != "1.1.0" || res.Serial != 0x1234ABCD {
		t.Fatalf("result %+v", res)
	}
	if between < 105 {
		t.Fatalf("Between called %d times, want at least once between each two chunks", between)
	}
	wantRunning(t, dev, 1, [3]uint16{1, 1, 0})

	// What the device got is the package's slot B link, and the commands
	// went to H 0x0080 in order.
	var cmds []uint16
	var manifests int
	for _, w := range dev.Writes() {
		switch {
		case w.Function == modbus.FuncWriteSingleRegister && w.Address == 0x0080:
			cmds = append(cmds, w.Values[0])
		case w.Function == modbus.FuncWriteFileRecord && w.Records[0].File == 1:
			manifests++
			if !slices.Equal(w.Records[0].Data, flash.BusManifest(p, 1)) {
				t.Fatal("manifest differs")
			}
		}
	}
	if !slices.Equal(cmds, []uint16{2, 3, 4}) || manifests != 1 {
		t.Fatalf("commands %v, %d manifests", cmds, manifests)
	}

	// And the next update goes back to slot A.
	res, err = flash.Update(context.Background(), m, unit, pkg(t, fwpkg.Keypad, 1, "1.2.0", 100), flash.Options{})
	if err != nil || res.Slot != 0 || res.Chunks != 1 {
		t.Fatalf("second update: %+v, %v", res, err)
	}
	wantRunning(t, dev, 0, [3]uint16{1, 2, 0})
}

// TestRefusedBeforeAnyByte: a package that does not fit the device is
// refused after reading its identity, and nothing is written.
func TestRefusedBeforeAnyByte(t *testing.T) {
	for _, c := range []struct {
		name string
		p    *fwpkg.Package
		want error
		text string
	}{
		{"wrong model", pkg(t, fwpkg.WindowDisplay, 1, "1.1.0", 1000), fwpkg.ErrWrongModel,
			"flash: unit 5: check: fwpkg: wrong device model: package is for window-display (type 1), device 5 is a keypad (type 2)"},
		{"wrong hardware", pkg(t, fwpkg.Keypad, 2, "1.1.0", 1000), fwpkg.ErrWrongHardware, "package is for hardware revision 2, device 5 is revision 1"},
		{"same version", pkg(t, fwpkg.Keypad, 1, "1.0.0", 1000), fwpkg.ErrNotNewer, "1.0.0 is the same as the 1.0.0 device 5 runs"},
		{"older", pkg(t, fwpkg.Keypad, 1, "0.9.9", 1000), fwpkg.ErrNotNewer, "older than"},
		{"too big", pkg(t, fwpkg.Keypad, 1, "1.1.0", 14337), fwpkg.ErrTooBig, "image B is 14337 bytes, slot B of device 5 holds 14336"},
	} {
		dev, m := keypad(t)
		_, err := flash.Update(context.Background(), m, unit, c.p, flash.Options{})
		var fe *flash.Error
		if !errors.Is(err, c.want) || !errors.As(err, &fe) || fe.Phase != flash.PhaseCheck {
			t.Errorf("%s: %v, want %v in phase check", c.name, err, c.want)
			continue
		}
		if !strings.Contains(err.Error(), c.text) {
			t.Errorf("%s: %q does not say %q", c.name, err, c.text)
		}
		if w := dev.Writes(); len(w) != 0 {
			t.Errorf("%s: the device got %d writes", c.name, len(w))
		}
	}
	// Forced, the older version goes on.
	dev, m := keypad(t)
	if _, err := flash.Update(context.Background(), m, unit, pkg(t, fwpkg.Keypad, 1, "0.9.9", 1000), flash.Options{Force: true}); err != nil {
		t.Fatal(err)
	}
	wantRunning(t, dev, 1, [3]uint16{0, 9, 9})
}

// TestResume: a host stopped after 20 chunks resumes at 20; a device
// that lost power after 40 has kept 32 (saved every 16) and the host
// resumes there.
func TestResume(t *testing.T) {
	dev, m := keypad(t)
	p := pkg(t, fwpkg.Keypad, 1, "1.1.0", 13496)
	ctx, cancel := context.WithCancel(context.Background())
	_, err := flash.Update(ctx, m, unit, p, flash.Options{Progress: func(pr flash.Progress) {
		if pr.Phase == flash.PhaseTransfer && pr.Done == 20 {
			cancel()
		}
	}})
	var fe *flash.Error
	if !errors.Is(err, context.Canceled) || !errors.As(err, &fe) || fe.Phase != flash.PhaseTransfer {
		t.Fatalf("cancelled at 20: %v", err)
	}
	if _, held, _ := dev.State(); held != 20 {
		t.Fatalf("held %d", held)
	}

	// Resume at 20; the power goes after chunk 40: the next chunk is
	// refused, and the error says why.
	res, err := flash.Update(context.Background(), m, unit, p, flash.Options{Progress: func(pr flash.Progress) {
		if pr.Phase == flash.PhaseTransfer && pr.Done == 40 {
			dev.PowerCut()
		}
	}})
	if !res.Resumed || res.ResumedAt != 20 || res.Sent != 20 {
		t.Fatalf("second run %+v", res)
	}
	if !errors.As(err, &fe) || fe.Phase != flash.PhaseTransfer || !modbus.IsException(err, modbus.IllegalDataValue) ||
		!strings.Contains(err.Error(), "chunk 40 of 106") || !strings.Contains(err.Error(), "device's last error: chunk out of order (LAST_ERROR 7)") {
		t.Fatalf("after the power cut: %v", err)
	}
	if fe.Status == nil || fe.Status.ChunksHeld != 32 {
		t.Fatalf("status %+v", fe.Status)
	}

	res, err = flash.Update(context.Background(), m, unit, p, flash.Options{})
	if err != nil || !res.Resumed || res.ResumedAt != 32 || res.Sent != 106-32 {
		t.Fatalf("third run: %+v, %v", res, err)
	}
	wantRunning(t, dev, 1, [3]uint16{1, 1, 0})
}

// TestLostAnswers: chunks, VERIFY, COMMIT and CONFIRM acted on by the
// device whose answers never arrive: the repeats are harmless.
func TestLostAnswers(t *testing.T) {
	dev, m := keypad(t)
	lost := map[string]bool{}
	dev.LoseAnswers(func(r modbus.Request) bool {
		var what string
		switch {
		case r.Function == modbus.FuncWriteFileRecord && r.Records[0].File == 2 && r.Records[0].Record%30 == 7:
			what = "chunk"
		case r.Function == modbus.FuncWriteSingleRegister && r.Address == 0x0080:
			what = []string{2: "verify", 3: "commit", 4: "confirm"}[r.Values[0]]
		default:
			return false
		}
		if r.Function == modbus.FuncWriteFileRecord {
			what += string(rune('0' + r.Records[0].Record/30))
		}
		if lost[what] {
			return false
		}
		lost[what] = true
		return true
	})
	dev.VerifyPolls(3)
	res, err := flash.Update(context.Background(), m, unit, pkg(t, fwpkg.Keypad, 1, "1.1.0", 13496), flash.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Retries != 4 || res.Sent != 106 {
		t.Fatalf("result %+v, want 4 chunks retried", res)
	}
	if len(lost) != 7 {
		t.Fatalf("lost %v", lost)
	}
	wantRunning(t, dev, 1, [3]uint16{1, 1, 0})
}

func TestVerifyFails(t *testing.T) {
	dev, m := keypad(t)
	dev.BadFlash(true)
	dev.VerifyPolls(2)
	_, err := flash.Update(context.Background(), m, unit, pkg(t, fwpkg.Keypad, 1, "1.1.0", 500), flash.Options{})
	var fe *flash.Error
	if !errors.Is(err, flash.ErrVerifyFailed) || !errors.As(err, &fe) || fe.Phase != flash.PhaseVerify ||
		!strings.Contains(err.Error(), "SHA-256 mismatch (LAST_ERROR 10)") {
		t.Fatalf("%v", err)
	}
	// A state 4 device is not resumed: the staged image is known bad, so
	// the next run sends it all again.
	dev.BadFlash(false)
	res, err := flash.Update(context.Background(), m, unit, pkg(t, fwpkg.Keypad, 1, "1.1.0", 500), flash.Options{})
	if err != nil || res.Resumed || res.Sent != 4 {
		t.Fatalf("after a failed verify: %+v, %v", res, err)
	}
}

func TestReverted(t *testing.T) {
	dev, m := keypad(t)
	dev.RevertOnBoot(true)
	p := pkg(t, fwpkg.Keypad, 1, "1.1.0", 500)
	_, err := flash.Update(context.Background(), m, unit, p, flash.Options{})
	var fe *flash.Error
	if !errors.Is(err, flash.ErrReverted) || !errors.As(err, &fe) || fe.Phase != flash.PhaseRestart ||
		!strings.Contains(err.Error(), "1.0.0 runs again") || !strings.Contains(err.Error(), "trial not confirmed, reverted (LAST_ERROR 12)") {
		t.Fatalf("%v", err)
	}
	wantSlot, _ := dev.Running()
	if wantSlot != 0 {
		t.Fatal("slot")
	}
	// The staged image stays (PROTOCOL.md 10.5): the next run verifies
	// and commits again without resending.
	dev.RevertOnBoot(false)
	res, err := flash.Update(context.Background(), m, unit, p, flash.Options{})
	if err != nil || !res.Resumed || res.Sent != 0 {
		t.Fatalf("after the revert: %+v, %v", res, err)
	}
	wantRunning(t, dev, 1, [3]uint16{1, 1, 0})
}

// TestTrialAtStart: a host that stopped between COMMIT and CONFIRM
// confirms on the next run; a trial of something else is left alone.
func TestTrialAtStart(t *testing.T) {
	dev, m := keypad(t)
	p := pkg(t, fwpkg.Keypad, 1, "1.1.0", 500)
	ctx, cancel := context.WithCancel(context.Background())
	_, err := flash.Update(ctx, m, unit, p, flash.Options{Progress: func(pr flash.Progress) {
		if pr.Phase == flash.PhaseConfirm {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled before CONFIRM: %v", err)
	}
	if st, _, _ := dev.State(); st != 6 {
		t.Fatalf("state %d, want the trial", st)
	}
	if _, err := flash.Update(context.Background(), m, unit, pkg(t, fwpkg.Keypad, 1, "1.2.0", 500), flash.Options{}); !errors.Is(err, flash.ErrTrial) ||
		!strings.Contains(err.Error(), "firmware 1.1.0 in slot B") {
		t.Fatalf("another package during the trial: %v", err)
	}
	if _, err := flash.Update(context.Background(), m, unit, pkg(t, fwpkg.WindowDisplay, 1, "1.1.0", 500), flash.Options{}); !errors.Is(err, flash.ErrTrial) {
		t.Fatalf("a display package during the trial: %v", err)
	}
	res, err := flash.Update(context.Background(), m, unit, p, flash.Options{})
	if err != nil || res.Sent != 0 || res.Slot != 1 {
		t.Fatalf("the same package again: %+v, %v", res, err)
	}
	wantRunning(t, dev, 1, [3]uint16{1, 1, 0})
}

func TestNoRestart(t *testing.T) {
	dev, m := keypad(t)
	dev.RestartQuiet(1 << 20)
	start := m.RTU().Clock().Now()
	_, err := flash.Update(context.Background(), m, unit, pkg(t, fwpkg.Keypad, 1, "1.1.0", 500), flash.Options{RestartTimeout: 3 * time.Second})
	var fe *flash.Error
	if !errors.Is(err, flash.ErrNoRestart) || !errors.As(err, &fe) || fe.Phase != flash.PhaseRestart {
		t.Fatalf("%v", err)
	}
	if took := m.RTU().Clock().Since(start); took < 3*time.Second || took > 4*time.Second {
		t.Fatalf("gave up after %v of bus time", took)
	}
}

func TestBetweenStops(t *testing.T) {
	_, m := keypad(t)
	stop := errors.New("scheduler stopping")
	n := 0
	_, err := flash.Update(context.Background(), m, unit, pkg(t, fwpkg.Keypad, 1, "1.1.0", 13496), flash.Options{
		Between: func(context.Context) error {
			if n++; n == 10 {
				return stop
			}
			return nil
		}})
	var fe *flash.Error
	if !errors.Is(err, stop) || !errors.As(err, &fe) || fe.Phase != flash.PhaseTransfer {
		t.Fatalf("%v", err)
	}
}

func TestChunk(t *testing.T) {
	img := []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
		32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63,
		64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95,
		96, 97, 98, 99, 100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, 113, 114, 115, 116, 117, 118, 119, 120, 121, 122, 123, 124, 125, 126, 127, 0xAA}
	// PROTOCOL.md 12, frame 15-req: chunk 0 of bytes 00…7F has CRC-32 0x24650D57.
	c := flash.Chunk(img, 0)
	if len(c) != 66 || c[0] != 0x0001 || c[63] != 0x7E7F || c[64] != 0x2465 || c[65] != 0x0D57 {
		t.Fatalf("chunk 0 = %04x", c)
	}
	last := flash.Chunk(img, 1)
	if last[0] != 0xAAFF || last[1] != 0xFFFF || flash.Chunks(img) != 2 {
		t.Fatalf("chunk 1 = %04x", last[:4])
	}
}
