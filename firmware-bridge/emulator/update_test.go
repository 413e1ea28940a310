package emulator_test

import (
	"slices"
	"testing"
	"time"

	"github.com/cherga/kiosk/firmware-bridge/emulator"
	"github.com/cherga/kiosk/firmware-bridge/modbus"
)

// upd reads I 0x0080 ×8: state, chunks held, active slot, 112, 128,
// last error, trial left, 0.
func (r *rig) upd(unit byte) []uint16 {
	r.t.Helper()
	return r.in(unit, 0x80, 8)
}

func (r *rig) wantUpd(unit byte, state, held, slot, lastErr uint16, what string) {
	r.t.Helper()
	v := r.upd(unit)
	if v[0] != state || v[1] != held || v[2] != slot || v[3] != 112 || v[4] != 128 || v[5] != lastErr {
		r.t.Fatalf("%s: I 0x80 = %v, want state %d, held %d, slot %d, error %d", what, v, state, held, slot, lastErr)
	}
}

func (r *rig) sendChunks(unit byte, image []byte, from, to int) {
	r.t.Helper()
	for k := from; k < to; k++ {
		if err := r.m.WriteFileRecord(r.ctx, unit, 2, uint16(k), chunk(image, k)); err != nil {
			r.t.Fatalf("chunk %d: %v", k, err)
		}
	}
}

func (r *rig) refusedWith(unit byte, req modbus.Request, code modbus.ExceptionCode, lastErr uint16) {
	r.t.Helper()
	r.exception(unit, req, code)
	if v := r.upd(unit); v[5] != lastErr {
		r.t.Fatalf("%s: LAST_ERROR %d, want %d", req.Function, v[5], lastErr)
	}
}

func (r *rig) version(unit byte) (regs []uint16, ident string) {
	r.t.Helper()
	id, err := r.m.ReadIdentification(r.ctx, unit)
	if err != nil {
		r.t.Fatal(err)
	}
	return r.in(unit, 0x23, 3), id.Revision
}

// transfer sends the manifest and every chunk, and verifies.
func (r *rig) transfer(unit byte, typ emulator.Type, slot int, v emulator.Version, image []byte) {
	r.t.Helper()
	if err := r.m.WriteFileRecord(r.ctx, unit, 1, 0, manifest(typ, slot, v, image)); err != nil {
		r.t.Fatal(err)
	}
	r.sendChunks(unit, image, 0, chunks(image))
	r.write(unit, 0x80, 2)
	r.clock.Advance(r.opts.VerifyTime + time.Second)
	r.wantUpd(unit, 3, uint16(chunks(image)), uint16(slot^1), 0, "verified")
}

// TestUpdate: manifest checks, chunks in order with the one-back retry
// and CRC-32, a power cut after chunk 20 and the resume at 16, VERIFY on
// the clock, COMMIT into a trial that reports the new version, CONFIRM.
func TestUpdate(t *testing.T) {
	r := newRig(t, "2:keypad", func(o *emulator.Options) { o.VerifyTime = 800 * time.Millisecond })
	r.wantUpd(2, 0, 0, 0, 0, "at start")
	image := testImage(5000, "")
	n := chunks(image) // 40
	good := manifest(emulator.Keypad, 1, emulator.Version{1, 1, 0}, image)
	for _, c := range []struct {
		what string
		edit func(m []uint16)
		err  uint16
	}{
		{"bad magic", func(m []uint16) { m[0] = 0x4347 }, 1},
		{"format 2", func(m []uint16) { m[1] = 2 }, 1},
		{"a display's image", func(m []uint16) { m[2] = 1 }, 2},
		{"hardware 2", func(m []uint16) { m[3] = 2 }, 3},
		{"the running slot", func(m []uint16) { m[10] = 0 }, 4},
		{"size 0", func(m []uint16) { m[8] = 0 }, 5},
		{"size 14337", func(m []uint16) { m[8] = 14337 }, 5},
		{"size over 64 KB", func(m []uint16) { m[7] = 1 }, 5},
		{"chunk size 64", func(m []uint16) { m[9] = 64 }, 6},
	} {
		m := slices.Clone(good)
		c.edit(m)
		r.refusedWith(2, modbus.WriteFile(1, 0, m), modbus.IllegalDataValue, c.err)
	}
	r.exception(2, modbus.ReadFile(1, 0, 27), modbus.IllegalDataAddress)
	r.refusedWith(2, modbus.WriteFile(2, 0, chunk(image, 0)), modbus.IllegalDataValue, 7) // no manifest

	if err := r.m.WriteFileRecord(r.ctx, 2, 1, 0, good); err != nil {
		t.Fatal(err)
	}
	r.wantUpd(2, 1, 0, 0, 0, "manifest written")
	if got, err := r.m.ReadFileRecord(r.ctx, 2, 1, 0, 27); err != nil || !slices.Equal(got, good) {
		t.Fatalf("manifest read back %v %v", got, err)
	}
	if v := r.in(2, 0, 1); v[0]&0x04 == 0 {
		t.Errorf("STATUS %#x during an update, want bit 2", v[0])
	}
	r.refusedWith(2, modbus.WriteFile(2, 1, chunk(image, 1)), modbus.IllegalDataValue, 7)
	bad := chunk(image, 0)
	bad[3] ^= 1
	r.refusedWith(2, modbus.WriteFile(2, 0, bad), modbus.IllegalDataValue, 8)
	r.exception(2, modbus.WriteFile(2, 0, chunk(image, 0)[:65]), modbus.IllegalDataValue)

	r.sendChunks(2, image, 0, 6)
	r.sendChunks(2, image, 5, 6) // its answer was lost: the repeat is taken
	r.refusedWith(2, modbus.WriteFile(2, 3, chunk(image, 3)), modbus.IllegalDataValue, 7)
	r.wantUpd(2, 1, 6, 0, 7, "6 chunks")
	if got, err := r.m.ReadFileRecord(r.ctx, 2, 2, 5, 66); err != nil || !slices.Equal(got, chunk(image, 5)) {
		t.Fatalf("chunk 5 read back: %v %v", got, err)
	}
	r.exception(2, modbus.ReadFile(2, 6, 66), modbus.IllegalDataAddress)
	r.refusedWith(2, modbus.WriteRegister(0x80, 2), modbus.IllegalDataValue, 7) // VERIFY with chunks missing

	// The power goes after chunk 20: its answer came, the next is lost.
	if err := r.bus.PowerCutAfterChunk(2, 20, 2*time.Second); err != nil {
		t.Fatal(err)
	}
	r.sendChunks(2, image, 6, 21)
	r.silent(2, modbus.WriteFile(2, 21, chunk(image, 21)))
	r.clock.Advance(2100 * time.Millisecond)
	r.wantUpd(2, 1, 16, 0, 0, "after the power cut")
	if got, err := r.m.ReadFileRecord(r.ctx, 2, 1, 0, 27); err != nil || !slices.Equal(got, good) {
		t.Fatalf("manifest after the power cut %v %v", got, err)
	}
	r.sendChunks(2, image, 16, n)
	r.wantUpd(2, 1, uint16(n), 0, 0, "all chunks")

	r.write(2, 0x80, 2) // VERIFY
	r.wantUpd(2, 2, uint16(n), 0, 0, "verifying")
	r.exception(2, modbus.WriteFile(2, 0, chunk(image, 0)), modbus.ServerDeviceBusy)
	r.exception(2, modbus.WriteRegister(0x80, 3), modbus.ServerDeviceBusy)
	r.exception(2, modbus.WriteFile(1, 0, good), modbus.ServerDeviceBusy)
	r.clock.Advance(799 * time.Millisecond)
	r.wantUpd(2, 2, uint16(n), 0, 0, "still verifying")
	r.clock.Advance(time.Millisecond)
	r.wantUpd(2, 3, uint16(n), 0, 0, "verified")
	r.write(2, 0x80, 2) // a repeated VERIFY verifies again
	r.clock.Advance(time.Second)
	r.wantUpd(2, 3, uint16(n), 0, 0, "verified again")

	r.write(2, 0x80, 3) // COMMIT: answered, then the restart
	r.clock.Advance(100 * time.Millisecond)
	v := r.upd(2)
	if v[0] != 6 || v[2] != 1 || v[6] != 60 {
		t.Fatalf("after COMMIT: %v, want trial in slot B, 60 s left", v)
	}
	if regs, ident := r.version(2); !slices.Equal(regs, []uint16{1, 1, 0}) || ident != "1.1.0" {
		t.Errorf("trial runs %v / %q, want 1.1.0", regs, ident)
	}
	if s := r.in(2, 0, 1)[0]; s&0x08 == 0 || s&0x04 != 0 {
		t.Errorf("STATUS %#x in a trial: want bit 3, not bit 2", s)
	}
	r.refusedWith(2, modbus.WriteRegister(0x80, 3), modbus.IllegalDataValue, 13) // a repeated COMMIT
	r.refusedWith(2, modbus.WriteFile(2, 0, chunk(image, 0)), modbus.IllegalDataValue, 13)
	r.refusedWith(2, modbus.WriteFile(1, 0, good), modbus.IllegalDataValue, 13)
	r.refusedWith(2, modbus.WriteRegister(0x80, 5), modbus.IllegalDataValue, 13)
	r.clock.Advance(30 * time.Second)
	if v := r.upd(2); v[6] != 30 {
		t.Errorf("TRIAL_LEFT %d after 30 s", v[6])
	}
	r.write(2, 0x80, 4) // CONFIRM
	r.wantUpd(2, 0, 0, 1, 13, "confirmed")
	r.write(2, 0x80, 4) // a repeat answers as the first did
	if s := r.in(2, 0, 1)[0]; s&0x0C != 0 {
		t.Errorf("STATUS %#x after CONFIRM", s)
	}
	r.exception(2, modbus.ReadFile(1, 0, 27), modbus.IllegalDataAddress)
	r.clock.Advance(time.Minute) // no 60 s rule once confirmed
	r.bus.PowerCut(2, time.Second)
	r.clock.Advance(1100 * time.Millisecond)
	if regs, ident := r.version(2); !slices.Equal(regs, []uint16{1, 1, 0}) || ident != "1.1.0" {
		t.Errorf("after a power cut %v %q, want 1.1.0 confirmed", regs, ident)
	}
	r.wantUpd(2, 0, 0, 1, 0, "after a power cut")
	r.refusedWith(2, modbus.WriteRegister(0x80, 4), modbus.IllegalDataValue, 11) // nothing to confirm
}

// TestUpdateRevert: a trial not confirmed in 60 s restarts and the old
// image runs (state 7, error 12); the staged image is VERIFYed and
// COMMITted again without resending; a power cut in a trial reverts too.
func TestUpdateRevert(t *testing.T) {
	r := newRig(t, "1:window-display", nil)
	image := testImage(3000, "")
	r.transfer(1, emulator.WindowDisplay, 1, emulator.Version{2, 0, 0}, image)
	r.write(1, 0x80, 3)
	r.clock.Advance(100 * time.Millisecond)
	r.wantUpd(1, 6, 0, 1, 0, "trial")
	r.clock.Advance(59920 * time.Millisecond) // 60.02 s after the reset: restarted, booting
	r.silent(1, modbus.ReadInput(0x80, 8))
	r.clock.Advance(100 * time.Millisecond)
	r.wantUpd(1, 7, uint16(chunks(image)), 0, 12, "reverted")
	if regs, ident := r.version(1); !slices.Equal(regs, []uint16{1, 0, 0}) || ident != "1.0.0" {
		t.Errorf("after the revert %v %q", regs, ident)
	}
	if s := r.in(1, 0, 1)[0]; s&0x18 != 0x10 {
		t.Errorf("STATUS %#x after the revert: watchdog reset, no trial", s)
	}
	r.write(1, 0x80, 2)
	r.clock.Advance(2 * time.Second)
	r.wantUpd(1, 3, uint16(chunks(image)), 0, 12, "verified again")
	r.write(1, 0x80, 3)
	r.clock.Advance(100 * time.Millisecond)
	r.wantUpd(1, 6, 0, 1, 0, "trial again")
	// A power cut during the trial reverts a good image.
	r.bus.PowerCut(1, time.Second)
	r.clock.Advance(1100 * time.Millisecond)
	r.wantUpd(1, 7, uint16(chunks(image)), 0, 12, "reverted by a power cut")
	r.write(1, 0x80, 2)
	r.clock.Advance(2 * time.Second)
	r.write(1, 0x80, 3)
	r.clock.Advance(100 * time.Millisecond)
	r.write(1, 0x80, 4)
	if regs, _ := r.version(1); !slices.Equal(regs, []uint16{2, 0, 0}) {
		t.Errorf("confirmed %v", regs)
	}
	// The next update goes to slot A; ABORT forgets it.
	next := testImage(200, "")
	if err := r.m.WriteFileRecord(r.ctx, 1, 1, 0, manifest(emulator.WindowDisplay, 0, emulator.Version{2, 1, 0}, next)); err != nil {
		t.Fatal(err)
	}
	r.write(1, 0x80, 5)
	r.wantUpd(1, 0, 0, 1, 0, "aborted")
	r.exception(1, modbus.ReadFile(1, 0, 1), modbus.IllegalDataAddress)
}

// TestUpdateBadImages: an image that fails its SHA-256, one that crashes
// at boot, one that never speaks, and an empty one all leave the old
// image running.
func TestUpdateBadImages(t *testing.T) {
	r := newRig(t, "3:rating", nil)
	image := testImage(1000, "")
	m := manifest(emulator.RatingPanel, 1, emulator.Version{1, 5, 0}, image)
	m[11] ^= 1
	if err := r.m.WriteFileRecord(r.ctx, 3, 1, 0, m); err != nil {
		t.Fatal(err)
	}
	r.sendChunks(3, image, 0, chunks(image))
	r.write(3, 0x80, 2)
	r.clock.Advance(2 * time.Second)
	r.wantUpd(3, 4, uint16(chunks(image)), 0, 10, "SHA-256 mismatch")
	r.refusedWith(3, modbus.WriteRegister(0x80, 3), modbus.IllegalDataValue, 11)
	r.sendChunks(3, image, chunks(image)-1, chunks(image)) // chunks are taken in state 4
	r.wantUpd(3, 1, uint16(chunks(image)), 0, 11, "a chunk again")

	t.Run("crash at boot", func(t *testing.T) {
		r.t = t
		img := testImage(2000, emulator.MarkerCrash)
		r.transfer(3, emulator.RatingPanel, 1, emulator.Version{1, 6, 0}, img)
		boots := r.in(3, 0x28, 1)[0]
		r.write(3, 0x80, 3)
		r.clock.Advance(100 * time.Millisecond)
		if f := r.face(3); f.Power != "crashed" {
			t.Errorf("power %q while the watchdog waits", f.Power)
		}
		r.silent(3, modbus.ReadInput(0x80, 8))
		r.clock.Advance(2 * time.Second)
		r.wantUpd(3, 7, uint16(chunks(img)), 0, 12, "reverted from a crashing image")
		if v := r.in(3, 0x23, 8); v[0] != 1 || v[1] != 0 || v[5] != boots+1 || v[7] != 0x08 {
			t.Errorf("after the crash: I 0x23 %v", v)
		}
	})
	t.Run("mute", func(t *testing.T) {
		r.t = t
		img := testImage(2000, emulator.MarkerMute)
		r.transfer(3, emulator.RatingPanel, 1, emulator.Version{1, 7, 0}, img)
		r.write(3, 0x80, 3)
		r.clock.Advance(100 * time.Millisecond)
		if f := r.face(3); f.Power != "mute" || f.Firmware != "1.7.0" {
			t.Errorf("face %q %s", f.Power, f.Firmware)
		}
		r.silent(3, modbus.ReadInput(0x80, 8))
		r.clock.Advance(60 * time.Second)
		r.wantUpd(3, 7, uint16(chunks(img)), 0, 12, "reverted from a mute image")
	})
	t.Run("empty", func(t *testing.T) {
		r.t = t
		img := testImage(256, "")
		img[0], img[1] = 0xFF, 0xFF
		r.transfer(3, emulator.RatingPanel, 1, emulator.Version{1, 8, 0}, img)
		r.write(3, 0x80, 3)
		r.clock.Advance(100 * time.Millisecond)
		r.wantUpd(3, 7, uint16(chunks(img)), 0, 12, "an empty image reverts at once")
		if regs, _ := r.version(3); !slices.Equal(regs, []uint16{1, 0, 0}) {
			t.Errorf("version %v", regs)
		}
	})
}
