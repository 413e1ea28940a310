// Package flashtest is a device for tests of bus hosts: a Go model of one
// of our devices' identity, poll block and update engine
// (firmware-bridge/PROTOCOL.md 4, 9, 10 and the firmware's notes), served
// by a modbus.Server on a pseudo-terminal or any modbus.Port. It restarts,
// loses answers, fails verification or reverts on request, so a host's
// update procedure can be tested against every branch without the
// simulator. It is not the device emulator (kioskctl bridge emulate) and
// models no display or keys beyond a settable event queue.
package flashtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"slices"
	"sync"

	"github.com/cherga/kiosk/firmware-bridge/modbus"
	"github.com/cherga/kiosk/firmware-bridge/modbus/modbustest"
)

// Update states and errors (PROTOCOL.md 10.4).
const (
	stIdle, stReceiving, stVerifying, stVerified, stVerifyFailed, stCommitted, stTrial, stReverted = 0, 1, 2, 3, 4, 5, 6, 7

	errMagic, errType, errHW, errSlot, errTooBig, errChunkSize, errOrder, errCRC, errFlash, errSHA,
	errNotVerified, errReverted, errTrialRunning = 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13

	slotChunks = 112
	chunkBytes = 128
)

// Device is one simulated device. Set the exported fields before serving;
// change them while it runs only through the methods.
type Device struct {
	Type     uint16 // 1 display, 2 keypad, 3 rating panel
	Hardware uint16
	Version  [3]uint16 // running firmware of the active slot
	Serial   uint32

	mu sync.Mutex
	// Faults, set with the methods below.
	lose         func(modbus.Request) bool
	verifyPolls  int // status reads in state 2 before the result
	restartQuiet int // requests ignored while restarting
	badFlash     bool
	revertOnBoot bool

	active      int
	slots       [2][]byte
	slotVersion [2][3]uint16
	manifest    []uint16
	state       int
	held        int
	lastError   int
	verifyLeft  int
	trialLeft   int
	quietLeft   int
	dropAnswer  bool
	sync        uint16
	evAck       uint16
	events      []event
	seq         uint16
	writes      []modbus.Request
	heard       int
	restarts    int
	holding     [0x12E]uint16
	unit        *modbustest.Unit // when attached to a simulated bus
}

type event struct{ seq, code uint16 }

// New returns an idle device running version in slot A.
func New(typ, hw uint16, version [3]uint16) *Device {
	d := &Device{Type: typ, Hardware: hw, Version: version, Serial: 0x1234ABCD, restartQuiet: 2}
	d.slotVersion[0] = version
	d.slots[0] = []byte("factory image")
	return d
}

// LoseAnswers makes the device act on every request f accepts and lose
// its answer on the wire (nil: none).
func (d *Device) LoseAnswers(f func(modbus.Request) bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.lose = f
}

// VerifyPolls: status reads that see state 2 before the result.
func (d *Device) VerifyPolls(n int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.verifyPolls = n
}

// RestartQuiet: requests the device does not hear while it restarts.
func (d *Device) RestartQuiet(n int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.restartQuiet = n
}

// BadFlash makes the staged image differ from what was sent, so VERIFY
// fails with LAST_ERROR 10.
func (d *Device) BadFlash(bad bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.badFlash = bad
}

// RevertOnBoot makes a committed image fail to start: the bootloader
// falls back (state 7).
func (d *Device) RevertOnBoot(revert bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.revertOnBoot = revert
}

// Press queues an event with code (low byte key, high byte 1 long press).
func (d *Device) Press(code uint16) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.seq++
	if d.seq == 0 {
		d.seq = 1
	}
	d.events = append(d.events, event{d.seq, code})
}

// PowerCut is the power going and coming back: RAM is lost, CHUNKS_HELD
// falls back to its last save (every 16 chunks and the last), a trial
// reverts.
func (d *Device) PowerCut() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.sync = 0
	if d.state == stReceiving && d.held < d.chunks() {
		d.held -= d.held % 16
	}
	if d.state == stVerifying {
		d.state = stReceiving
	}
	d.quietLeft = 0
	d.boot()
}

// Writes returns every write request the device heard (06, 0x10, 0x15).
func (d *Device) Writes() []modbus.Request {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.writes)
}

// Heard is the number of requests for the device it heard.
func (d *Device) Heard() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.heard
}

// Running returns the active slot and its version.
func (d *Device) Running() (slot int, version [3]uint16) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.active, d.Version
}

// State returns UPD_STATE, CHUNKS_HELD and LAST_ERROR.
func (d *Device) State() (state, held, lastError int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.state, d.held, d.lastError
}

// Restarts counts the device's restarts (commits, power cuts).
func (d *Device) Restarts() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.restarts
}

// Serve answers on port until ctx ends, as unit (1–247).
func (d *Device) Serve(ctx context.Context, port modbus.Port, line modbus.Line, unit byte) error {
	s := &modbus.Server{
		Port: &lossyPort{Port: port, d: d}, Line: line, Handler: d,
		Units: func(u byte) bool { return u == unit && d.Hears() },
	}
	return s.Serve(ctx)
}

// Attach puts the device on a simulated line at unit and returns the
// port the master uses: the bus, except that the device does not hear
// requests while it restarts. Everything runs in the bus's virtual time.
func (d *Device) Attach(bus *modbustest.Bus, unit byte) modbus.Port {
	u := bus.Attach(unit, d)
	d.mu.Lock()
	d.unit = u
	d.mu.Unlock()
	return &quietBus{Bus: bus, d: d, unit: unit}
}

// quietBus keeps a restarting device from hearing its requests.
type quietBus struct {
	*modbustest.Bus
	d    *Device
	unit byte
}

func (q *quietBus) Write(p []byte) (int, error) {
	if len(p) > 0 && p[0] == q.unit && !q.d.Hears() {
		q.Bus.Clock().Advance(q.Bus.Line().WireTime(len(p)))
		return len(p), nil
	}
	return q.Bus.Write(p)
}

// Hears says whether the device hears a frame addressed to it: not while
// it restarts. Serve and Attach call it once a frame; a server of several
// devices calls it from its Units.
func (d *Device) Hears() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.quietLeft > 0 {
		d.quietLeft--
		if d.quietLeft == 0 {
			d.boot()
		}
		return false
	}
	d.heard++
	return true
}

// lossyPort drops the answer the device chose to lose.
type lossyPort struct {
	modbus.Port
	d *Device
}

func (p *lossyPort) Write(b []byte) (int, error) {
	p.d.mu.Lock()
	drop := p.d.dropAnswer
	p.d.dropAnswer = false
	p.d.mu.Unlock()
	if drop {
		return len(b), nil
	}
	return p.Port.Write(b)
}

func (d *Device) chunks() int {
	if len(d.manifest) < 9 {
		return 0
	}
	size := int(d.manifest[7])<<16 | int(d.manifest[8])
	return (size + chunkBytes - 1) / chunkBytes
}

// boot is the bootloader's choice at reset (PROTOCOL.md 10.5).
func (d *Device) boot() {
	d.restarts++
	switch d.state {
	case stCommitted:
		other := 1 - d.active
		if d.revertOnBoot {
			d.state, d.lastError = stReverted, errReverted
			return
		}
		d.active = other
		d.Version = d.slotVersion[other]
		d.state, d.trialLeft = stTrial, 60
	case stTrial:
		d.active = 1 - d.active
		d.Version = d.slotVersion[d.active]
		d.state, d.lastError, d.trialLeft = stReverted, errReverted, 0
	}
}

func exc(fn modbus.Function, c modbus.ExceptionCode) modbus.Response {
	return modbus.ExceptionResponse(fn, c)
}

// ServeModbus implements modbus.Handler.
func (d *Device) ServeModbus(unit byte, req modbus.Request) modbus.Response {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch req.Function {
	case modbus.FuncWriteSingleRegister, modbus.FuncWriteMultipleRegisters, modbus.FuncWriteFileRecord:
		d.writes = append(d.writes, req)
	}
	resp := d.serve(req)
	lose := d.lose != nil && d.lose(req)
	if d.unit != nil {
		// Called by the bus under its lock, which also guards Fault: a
		// corrupted answer is one the master never gets.
		d.unit.Fault.Corrupt = lose
	} else {
		d.dropAnswer = lose
	}
	return resp
}

func (d *Device) serve(req modbus.Request) modbus.Response {
	fn := req.Function
	switch fn {
	case modbus.FuncReadInputRegisters:
		return d.readInput(req)
	case modbus.FuncReadHoldingRegisters:
		end := int(req.Address) + int(req.Quantity)
		if !(end <= 0x000C || (req.Address >= 0x0100 && end <= len(d.holding))) {
			return exc(fn, modbus.IllegalDataAddress)
		}
		d.holding[0], d.holding[1] = d.sync, d.evAck
		return modbus.Response{Values: slices.Clone(d.holding[req.Address:end])}
	case modbus.FuncWriteSingleRegister:
		if req.Address == 0x0080 {
			if r := d.command(req.Values[0]); r.Exception != 0 {
				return r
			}
			return modbus.Response{Address: req.Address, Values: req.Values}
		}
		return d.writeHolding(req, req.Address, req.Values)
	case modbus.FuncWriteMultipleRegisters:
		return d.writeHolding(req, req.Address, req.Values)
	case modbus.FuncReadFileRecord:
		return d.readFile(req)
	case modbus.FuncWriteFileRecord:
		return d.writeFile(req)
	case modbus.FuncEncapsulatedInterface:
		return d.identification(req)
	}
	return exc(fn, modbus.IllegalFunction)
}

func (d *Device) writeHolding(req modbus.Request, addr uint16, v []uint16) modbus.Response {
	end := int(addr) + len(v)
	if !(end <= 0x000C || (addr >= 0x0100 && end <= len(d.holding))) {
		return exc(req.Function, modbus.IllegalDataAddress)
	}
	copy(d.holding[addr:], v)
	if addr <= 0 && end > 0 {
		d.sync = d.holding[0]
	}
	if addr <= 1 && end > 1 {
		d.evAck = d.holding[1]
		d.events = slices.DeleteFunc(d.events, func(e event) bool { return int16(e.seq-d.evAck) <= 0 })
	}
	return modbus.Response{Address: addr, Quantity: uint16(len(v)), Values: v}
}

func (d *Device) readInput(req modbus.Request) modbus.Response {
	var block []uint16
	var base uint16
	switch {
	case req.Address < 0x001B:
		base = 0
		status := uint16(0)
		if d.state >= stReceiving && d.state <= stVerified {
			status |= 1 << 2
		}
		if d.state == stTrial {
			status |= 1 << 3
		}
		block = make([]uint16, 27)
		block[0], block[1], block[2] = status, d.sync, uint16(len(d.events))
		for i, e := range d.events {
			if i == 8 {
				break
			}
			block[3+3*i], block[4+3*i], block[5+3*i] = e.seq, e.code, 1
		}
	case req.Address >= 0x0020 && req.Address < 0x0030:
		base = 0x0020
		block = []uint16{d.Type, 1, d.Hardware, d.Version[0], d.Version[1], d.Version[2],
			uint16(d.Serial >> 16), uint16(d.Serial), uint16(d.restarts + 1), 0, 1, 0, 0, 0, 64, 0}
	case req.Address >= 0x0040 && req.Address < 0x0048:
		base, block = 0x0040, make([]uint16, 8)
	case req.Address >= 0x0080 && req.Address < 0x0088:
		base = 0x0080
		if d.state == stVerifying {
			if d.verifyLeft > 0 {
				d.verifyLeft--
			} else {
				d.finishVerify()
			}
		}
		block = []uint16{uint16(d.state), uint16(d.held), uint16(d.active), slotChunks, chunkBytes,
			uint16(d.lastError), uint16(d.trialLeft), 0}
	default:
		return exc(req.Function, modbus.IllegalDataAddress)
	}
	from, to := int(req.Address-base), int(req.Address-base)+int(req.Quantity)
	if to > len(block) {
		return exc(req.Function, modbus.IllegalDataAddress)
	}
	return modbus.Response{Values: block[from:to]}
}

func (d *Device) finishVerify() {
	size := int(d.manifest[7])<<16 | int(d.manifest[8])
	staged := d.slots[1-d.active]
	var want [32]byte
	for i := range 16 {
		binary.BigEndian.PutUint16(want[2*i:], d.manifest[11+i])
	}
	if len(staged) >= size && sha256.Sum256(staged[:size]) == want {
		d.state = stVerified
		return
	}
	d.state, d.lastError = stVerifyFailed, errSHA
}

func (d *Device) refuse(fn modbus.Function, e int) modbus.Response {
	d.lastError = e
	return exc(fn, modbus.IllegalDataValue)
}

func (d *Device) command(c uint16) modbus.Response {
	const fn = modbus.FuncWriteSingleRegister
	if d.state == stVerifying {
		return exc(fn, modbus.ServerDeviceBusy)
	}
	if d.state == stTrial && c != 4 {
		return d.refuse(fn, errTrialRunning)
	}
	switch c {
	case 2: // VERIFY
		ok := (d.state == stReceiving && d.held == d.chunks() && d.chunks() > 0) ||
			d.state == stVerified || d.state == stVerifyFailed || (d.state == stReverted && d.held == d.chunks() && d.chunks() > 0)
		if !ok {
			return d.refuse(fn, errOrder)
		}
		d.state, d.verifyLeft = stVerifying, d.verifyPolls
	case 3: // COMMIT
		if d.state != stVerified {
			return d.refuse(fn, errNotVerified)
		}
		d.slotVersion[1-d.active] = [3]uint16{d.manifest[4], d.manifest[5], d.manifest[6]}
		d.state, d.quietLeft = stCommitted, d.restartQuiet
		if d.quietLeft == 0 {
			d.quietLeft = 1
		}
	case 4: // CONFIRM
		switch {
		case d.state == stTrial:
			d.state, d.trialLeft = stIdle, 0
			d.manifest, d.held = nil, 0
		case d.state == stIdle:
		default:
			return d.refuse(fn, errNotVerified)
		}
	case 5: // ABORT
		d.state, d.manifest, d.held = stIdle, nil, 0
	default:
		return exc(fn, modbus.IllegalDataValue)
	}
	return modbus.Response{}
}

func (d *Device) readFile(req modbus.Request) modbus.Response {
	fn := req.Function
	if len(req.Records) != 1 {
		return exc(fn, modbus.IllegalDataValue)
	}
	r := req.Records[0]
	switch {
	case r.File == 1 && r.Record == 0 && d.manifest != nil && int(r.Length) <= len(d.manifest):
		return modbus.Response{Records: []modbus.FileRecord{{Data: slices.Clone(d.manifest[:r.Length])}}}
	case r.File == 2 && int(r.Record) < d.held && r.Length == 66:
		page := d.slots[1-d.active][int(r.Record)*chunkBytes:][:chunkBytes]
		return modbus.Response{Records: []modbus.FileRecord{{Data: chunkRegs(page)}}}
	}
	return exc(fn, modbus.IllegalDataAddress)
}

func chunkRegs(page []byte) []uint16 {
	out := make([]uint16, 0, 66)
	for i := 0; i < chunkBytes; i += 2 {
		out = append(out, binary.BigEndian.Uint16(page[i:]))
	}
	c := crc32.ChecksumIEEE(page)
	return append(out, uint16(c>>16), uint16(c))
}

func (d *Device) writeFile(req modbus.Request) modbus.Response {
	fn := req.Function
	if len(req.Records) != 1 {
		return exc(fn, modbus.IllegalDataValue)
	}
	r := req.Records[0]
	if d.state == stVerifying {
		return exc(fn, modbus.ServerDeviceBusy)
	}
	if d.state == stTrial {
		return d.refuse(fn, errTrialRunning)
	}
	echo := modbus.Response{Records: []modbus.FileRecord{r}}
	switch r.File {
	case 1:
		if r.Record != 0 || len(r.Data) != 27 {
			return exc(fn, modbus.IllegalDataAddress)
		}
		m := r.Data
		size := int(m[7])<<16 | int(m[8])
		switch {
		case m[0] != 0x4346 || m[1] != 1:
			return d.refuse(fn, errMagic)
		case m[2] != d.Type:
			return d.refuse(fn, errType)
		case m[3] != d.Hardware:
			return d.refuse(fn, errHW)
		case int(m[10]) != 1-d.active:
			return d.refuse(fn, errSlot)
		case size == 0 || size > slotChunks*chunkBytes:
			return d.refuse(fn, errTooBig)
		case m[9] != chunkBytes:
			return d.refuse(fn, errChunkSize)
		}
		d.manifest = slices.Clone(m)
		d.state, d.held, d.lastError = stReceiving, 0, 0
		d.slots[1-d.active] = bytes.Repeat([]byte{0xFF}, slotChunks*chunkBytes)
		return echo
	case 2:
		k := int(r.Record)
		if d.state == stIdle || d.state == stCommitted || d.manifest == nil {
			return d.refuse(fn, errOrder)
		}
		if k >= d.chunks() || (k != d.held && k != d.held-1) {
			return d.refuse(fn, errOrder)
		}
		if len(r.Data) != 66 {
			return d.refuse(fn, errChunkSize)
		}
		page := make([]byte, chunkBytes)
		for i := range 64 {
			binary.BigEndian.PutUint16(page[2*i:], r.Data[i])
		}
		if crc32.ChecksumIEEE(page) != uint32(r.Data[64])<<16|uint32(r.Data[65]) {
			return d.refuse(fn, errCRC)
		}
		if d.badFlash {
			page[0] ^= 0xFF
		}
		copy(d.slots[1-d.active][k*chunkBytes:], page)
		if k == d.held {
			d.held++
		}
		d.state = stReceiving
		return echo
	}
	return exc(fn, modbus.IllegalDataAddress)
}

var products = map[uint16][2]string{
	1: {"CHG-WD1", "window display 8x1"},
	2: {"CHG-KP1", "operator keypad 2x20"},
	3: {"CHG-RP1", "rating panel 5"},
}

func (d *Device) identification(req modbus.Request) modbus.Response {
	fn := req.Function
	if req.MEI != modbus.MEIReadDeviceID {
		return exc(fn, modbus.IllegalFunction)
	}
	p := products[d.Type]
	objs := []modbus.DeviceObject{
		{ID: 0, Value: []byte("cherga")},
		{ID: 1, Value: []byte(p[0])},
		{ID: 2, Value: []byte(fmt.Sprintf("%d.%d.%d", d.Version[0], d.Version[1], d.Version[2]))},
		{ID: 5, Value: []byte(p[1])},
	}
	var out []modbus.DeviceObject
	switch req.IDCode {
	case modbus.DeviceIDBasic:
		out = objs[:3]
	case modbus.DeviceIDRegular, modbus.DeviceIDExtended:
		out = objs
	case modbus.DeviceIDIndividual:
		for _, o := range objs {
			if o.ID == req.ObjectID {
				out = []modbus.DeviceObject{o}
			}
		}
		if out == nil {
			return exc(fn, modbus.IllegalDataAddress)
		}
	default:
		return exc(fn, modbus.IllegalDataValue)
	}
	return modbus.Response{DeviceID: modbus.DeviceID{Code: req.IDCode, Conformity: 0x82, Objects: out}}
}
