package emulator

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"hash/crc32"
	"time"

	"github.com/cherga/kiosk/firmware-bridge/modbus"
)

// The update engine (PROTOCOL.md section 10, the firmware's update.c).
// The caller of every function here holds d.mu.

// LAST_ERROR codes (I 0x0085).
const (
	errNone        = 0
	errFormat      = 1
	errType        = 2
	errHardware    = 3
	errSlot        = 4
	errTooBig      = 5
	errChunkSize   = 6
	errOrder       = 7
	errChunkCRC    = 8
	errFlash       = 9
	errSHA         = 10
	errNotVerified = 11
	errReverted    = 12
	errTrial       = 13
)

// UPD_STATE values (I 0x0080).
const (
	updIdle      = 0
	updReceiving = 1
	updVerifying = 2
	updVerified  = 3
	updFailed    = 4
	updCommitted = 5
	updTrial     = 6
	updReverted  = 7
)

type updater struct {
	st         uint8
	held       int // CHUNKS_HELD
	err        uint8
	confirmed  bool // this power-on's trial was confirmed
	verifyDone time.Time
}

func (d *Device) manifest() *[27]uint16 { return d.nv.Manifest }

func (d *Device) msize() int {
	m := d.manifest()
	if m == nil {
		return 0
	}
	return int(m[7])<<16 | int(m[8])
}

func (d *Device) nchunks() int { return (d.msize() + chunkBytes - 1) / chunkBytes }

func (d *Device) stagedSlot() int { return int(d.manifest()[10]) }

// updInit is upd_init: the state after a reset.
func (d *Device) updInit() {
	u := &d.ram.upd
	*u = updater{}
	if d.ram.trial {
		u.st = updTrial
		return
	}
	if d.ram.reverted {
		u.st, u.err = updReverted, errReverted
	}
	if m := d.manifest(); m != nil && int(m[10]) == d.ram.running^1 {
		if d.nv.ChunksHeld <= d.nchunks() {
			u.held = d.nv.ChunksHeld
		}
		if u.st == updIdle {
			u.st = updReceiving
		}
	}
}

func (d *Device) updIreg(i int, now time.Time) uint16 {
	u := &d.ram.upd
	switch i {
	case 0:
		return uint16(u.st)
	case 1:
		return uint16(u.held)
	case 2:
		return uint16(d.ram.running)
	case 3:
		return slotChunks
	case 4:
		return chunkBytes
	case 5:
		return uint16(u.err)
	case 6:
		if u.st == updTrial {
			return secondsLeft(d.resetAt.Add(trialTime), now)
		}
	}
	return 0
}

func (d *Device) saveHeld() error {
	d.nv.ChunksHeld = d.ram.upd.held
	return d.save()
}

func (d *Device) forgetManifest() error {
	d.nv.Manifest = nil
	d.ram.upd.held = 0
	return d.saveHeld()
}

func (d *Device) finishVerify() {
	u := &d.ram.upd
	m := d.manifest()
	if m == nil {
		u.st, u.err = updFailed, errSHA
		return
	}
	sum := sha256.Sum256(d.nv.Slots[d.stagedSlot()].Flash[:d.msize()])
	var want [32]byte
	for i := range 16 {
		binary.BigEndian.PutUint16(want[2*i:], m[11+i])
	}
	if sum == want {
		u.st = updVerified
	} else {
		u.st, u.err = updFailed, errSHA
	}
}

// updCommandCheck is upd_command_check: 0 or the exception, with
// LAST_ERROR set for a command refused in this state (firmware note 5).
func (d *Device) updCommandCheck(v uint16, now time.Time) modbus.ExceptionCode {
	u := &d.ram.upd
	if u.st == updVerifying {
		return modbus.ServerDeviceBusy
	}
	refuse := func(e uint8) modbus.ExceptionCode {
		u.err = e
		return modbus.IllegalDataValue
	}
	switch v {
	case 2: // VERIFY; in 3 too, a repeat whose answer was lost
		if (u.st == updReceiving || u.st == updVerified || u.st == updFailed || u.st == updReverted) &&
			d.manifest() != nil && u.held == d.nchunks() {
			return 0
		}
		if u.st == updTrial {
			return refuse(errTrial)
		}
		return refuse(errOrder)
	case 3: // COMMIT
		if u.st == updVerified {
			return 0
		}
		if u.st == updTrial {
			return refuse(errTrial)
		}
		return refuse(errNotVerified)
	case 4: // CONFIRM; in 0 too right after this power-on's confirm
		if u.st == updTrial || (u.st == updIdle && u.confirmed) {
			return 0
		}
		return refuse(errNotVerified)
	case 5: // ABORT
		if u.st != updTrial {
			return 0
		}
		return refuse(errTrial)
	}
	return modbus.IllegalDataValue
}

func (d *Device) updCommand(v uint16, now time.Time) error {
	u := &d.ram.upd
	switch v {
	case 2:
		u.st, u.verifyDone = updVerifying, now.Add(d.o.VerifyTime)
	case 3:
		// Answer, then boot_commit() and the watchdog reset.
		u.st = updCommitted
		d.restartAt, d.restartCommit = now, true
	case 4:
		if u.st != updTrial {
			return nil
		}
		// boot_confirm() before the answer (firmware note 3).
		old, oldM, oldHeld := d.nv.Boot, d.nv.Manifest, d.nv.ChunksHeld
		d.nv.Boot = nvBoot{State: bootConfirmed, Active: d.ram.running, Trial: d.ram.running}
		d.nv.Manifest, d.nv.ChunksHeld = nil, 0
		if err := d.save(); err != nil {
			d.nv.Boot, d.nv.Manifest, d.nv.ChunksHeld = old, oldM, oldHeld
			return err
		}
		d.ram.trial = false
		u.st, u.held, u.confirmed = updIdle, 0, true
	case 5:
		u.st = updIdle
		return d.forgetManifest()
	}
	return nil
}

// bootCommit is boot_commit(): the inactive slot is PENDING, and runs the
// manifest's version.
func (d *Device) bootCommit() {
	r := d.ram.running
	d.nv.Boot = nvBoot{State: bootPending, Active: r, Trial: r ^ 1}
	if m := d.manifest(); m != nil {
		d.nv.Slots[r^1].Version = Version{m[4], m[5], m[6]}
	}
	_ = d.save() // a failed save leaves the old boot state: the device restarts into the old image
}

func (d *Device) readFile(req modbus.Request, now time.Time) (modbus.Response, bool) {
	fn := req.Function
	if len(req.Records) != 1 {
		return exc(fn, modbus.IllegalDataValue) // one sub-request per frame
	}
	r := req.Records[0]
	if r.File == 0 || r.Record > modbus.MaxFileRecordNum {
		return exc(fn, modbus.IllegalDataAddress)
	}
	var data []uint16
	switch r.File {
	case 1:
		m := d.manifest()
		if r.Record != 0 || m == nil {
			return exc(fn, modbus.IllegalDataAddress)
		}
		if r.Length < 1 || r.Length > 27 {
			return exc(fn, modbus.IllegalDataValue)
		}
		data = append([]uint16(nil), m[:r.Length]...)
	case 2:
		if d.manifest() == nil || int(r.Record) >= d.ram.upd.held {
			return exc(fn, modbus.IllegalDataAddress)
		}
		if r.Length != 66 {
			return exc(fn, modbus.IllegalDataValue)
		}
		off := chunkBytes * int(r.Record)
		page := d.nv.Slots[d.stagedSlot()].Flash[off : off+chunkBytes]
		data = make([]uint16, 66)
		for i := range 64 {
			data[i] = binary.BigEndian.Uint16(page[2*i:])
		}
		c := crc32.ChecksumIEEE(page)
		data[64], data[65] = uint16(c>>16), uint16(c)
	default:
		return exc(fn, modbus.IllegalDataAddress)
	}
	return modbus.Response{Function: fn, Records: []modbus.FileRecord{{Data: data}}}, true
}

func (d *Device) writeFile(req modbus.Request, now time.Time) (modbus.Response, bool) {
	fn := req.Function
	if len(req.Records) != 1 {
		return exc(fn, modbus.IllegalDataValue)
	}
	r := req.Records[0]
	if r.File == 0 || r.Record > modbus.MaxFileRecordNum {
		return exc(fn, modbus.IllegalDataAddress)
	}
	if int(r.Length) != len(r.Data) {
		return exc(fn, modbus.IllegalDataValue)
	}
	switch r.File {
	case 1:
		if r.Record != 0 {
			return exc(fn, modbus.IllegalDataAddress)
		}
		if len(r.Data) != 27 {
			return exc(fn, modbus.IllegalDataValue)
		}
	case 2:
		if len(r.Data) != 66 {
			return exc(fn, modbus.IllegalDataValue)
		}
	default:
		return exc(fn, modbus.IllegalDataAddress)
	}
	u := &d.ram.upd
	if u.st == updVerifying {
		return exc(fn, modbus.ServerDeviceBusy)
	}
	if u.st == updTrial {
		u.err = errTrial
		return exc(fn, modbus.IllegalDataValue)
	}
	var code modbus.ExceptionCode
	if r.File == 1 {
		code = d.writeManifest(r.Data)
	} else {
		code = d.writeChunk(int(r.Record), r.Data)
	}
	if code != 0 {
		return exc(fn, code)
	}
	echo := modbus.FileRecord{File: r.File, Record: r.Record, Length: r.Length, Data: append([]uint16(nil), r.Data...)}
	return modbus.Response{Function: fn, Records: []modbus.FileRecord{echo}}, true
}

// writeManifest checks what the device can (type, hardware, slot, size)
// and starts a new transfer.
func (d *Device) writeManifest(m []uint16) modbus.ExceptionCode {
	u := &d.ram.upd
	refuse := func(e uint8) modbus.ExceptionCode {
		u.err = e
		return modbus.IllegalDataValue
	}
	switch {
	case m[0] != 0x4346 || m[1] != 1:
		return refuse(errFormat)
	case m[2] != uint16(d.spec.Type):
		return refuse(errType)
	case m[3] != d.nv.HWRev:
		return refuse(errHardware)
	case int(m[10]) != d.ram.running^1:
		return refuse(errSlot)
	case m[7] != 0 || m[8] == 0 || m[8] > slotBytes:
		return refuse(errTooBig)
	case m[9] != chunkBytes:
		return refuse(errChunkSize)
	}
	old, oldHeld := d.nv.Manifest, d.nv.ChunksHeld
	var stored [27]uint16
	copy(stored[:], m)
	d.nv.Manifest, d.nv.ChunksHeld = &stored, 0
	if err := d.save(); err != nil {
		d.nv.Manifest, d.nv.ChunksHeld = old, oldHeld
		u.err = errFlash
		return modbus.ServerDeviceFailure
	}
	u.st, u.held, u.err = updReceiving, 0, errNone
	return 0
}

// writeChunk takes chunk k when it is the next one or a repeat of the
// last (its answer was lost), with a good CRC-32, and flashes it.
func (d *Device) writeChunk(k int, data []uint16) modbus.ExceptionCode {
	u := &d.ram.upd
	refuse := func(e uint8) modbus.ExceptionCode {
		u.err = e
		return modbus.IllegalDataValue
	}
	if !(u.st == updReceiving || u.st == updVerified || u.st == updFailed || u.st == updReverted) || d.manifest() == nil {
		return refuse(errOrder)
	}
	if k >= d.nchunks() || !(k == u.held || k+1 == u.held) {
		return refuse(errOrder)
	}
	var page [chunkBytes]byte
	for i := range 64 {
		binary.BigEndian.PutUint16(page[2*i:], data[i])
	}
	if crc32.ChecksumIEEE(page[:]) != uint32(data[64])<<16|uint32(data[65]) {
		return refuse(errChunkCRC)
	}
	flash := d.nv.Slots[d.stagedSlot()].Flash[chunkBytes*k : chunkBytes*(k+1)]
	var was [chunkBytes]byte
	copy(was[:], flash)
	copy(flash, page[:])
	held := u.held
	if k == u.held {
		held++
	}
	// The page is flashed at once; CHUNKS_HELD goes to EEPROM every 16
	// chunks and after the last (firmware note 6).
	var err error
	if held%16 == 0 || held == d.nchunks() {
		oldHeld := d.nv.ChunksHeld
		d.nv.ChunksHeld = held
		if err = d.save(); err != nil {
			d.nv.ChunksHeld = oldHeld
		}
	} else if !bytes.Equal(was[:], page[:]) {
		err = d.save()
	}
	if err != nil {
		copy(flash, was[:])
		u.err = errFlash
		return modbus.ServerDeviceFailure
	}
	u.held, u.st = held, updReceiving
	if k == d.cutAfterChunk {
		d.cutAfterChunk, d.cutNow = -1, true
	}
	return 0
}
