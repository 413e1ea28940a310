package emulator

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/cherga/kiosk/firmware-bridge/modbus"
)

// Options configure the emulated devices. Zero fields take the defaults
// given.
type Options struct {
	// Clock is the one clock of every device (and of the Bus's server).
	// Default: the real clock.
	Clock clockwork.Clock
	// StateDir holds one state file per device (its EEPROM and flash).
	// Empty: the state lives in memory only.
	StateDir string
	// Line is the bus's line. A device stores it as its own line settings
	// when first made, and answers only while its settings equal the
	// bus's (after a CFG save with another baud rate it falls silent, as
	// a real one would). Zero: 19200 8E1, as modbus.Line.
	Line modbus.Line
	// HWRev is I 0x0022 of new devices. Default 1.
	HWRev uint16
	// Firmware is the version of the factory image in slot A of new
	// devices. Default 1.0.0.
	Firmware Version
	// VerifyTime is how long VERIFY's SHA-256 takes (UPD_STATE 2).
	// Default 1 s, as the firmware measured (PROTOCOL.md firmware note 9).
	VerifyTime time.Duration
	// BootTime is how long a device is deaf after a reset or power-up
	// (bootloader, start-up, LCD init). Default 50 ms.
	BootTime time.Duration
	// WatchdogTime is how long an image that crashes at boot takes to be
	// reset by the watchdog. Default 2 s (the bootloader's WDTO_2S).
	WatchdogTime time.Duration
	// Rand makes the serial numbers of new devices. Default crypto/rand.
	Rand io.Reader
}

func (o Options) normal() Options {
	if o.Clock == nil {
		o.Clock = clockwork.NewRealClock()
	}
	if o.Line.Baud == 0 {
		o.Line.Baud = modbus.DefaultLine.Baud
	}
	if o.Line.Parity == 0 {
		o.Line.Parity = modbus.DefaultLine.Parity
	}
	if o.Line.StopBits == 0 {
		o.Line.StopBits = 1
	}
	if o.HWRev == 0 {
		o.HWRev = 1
	}
	if o.Firmware == (Version{}) {
		o.Firmware = Version{1, 0, 0}
	}
	if o.VerifyTime == 0 {
		o.VerifyTime = time.Second
	}
	if o.BootTime == 0 {
		o.BootTime = 50 * time.Millisecond
	}
	if o.WatchdogTime == 0 {
		o.WatchdogTime = 2 * time.Second
	}
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	return o
}

// The baud rates of CFG_BAUD (÷100), by code.
var bauds = [5]uint16{96, 192, 384, 576, 1152}

func baudCode(div100 uint16) int {
	for i, b := range bauds {
		if b == div100 {
			return i
		}
	}
	return -1
}

// lineConfig is a line as CFG_BAUD and CFG_FORMAT store it.
func lineConfig(l modbus.Line) (baud, format uint16, err error) {
	if l.Baud%100 != 0 || baudCode(uint16(l.Baud/100)) < 0 {
		return 0, 0, fmt.Errorf("emulator: line %s: our devices speak 9600, 19200, 38400, 57600 or 115200 baud", l)
	}
	switch {
	case l.Parity == modbus.ParityEven && l.StopBits == 1:
		format = 0
	case l.Parity == modbus.ParityOdd && l.StopBits == 1:
		format = 1
	case l.Parity == modbus.ParityNone && l.StopBits == 2:
		format = 2
	case l.Parity == modbus.ParityNone && l.StopBits == 1:
		format = 3
	default:
		return 0, 0, fmt.Errorf("emulator: line %s: our devices speak 8E1, 8O1, 8N2 or 8N1", l)
	}
	return uint16(l.Baud / 100), format, nil
}

func configLine(baud, format uint16) modbus.Line {
	l := modbus.Line{Baud: int(baud) * 100, StopBits: 1}
	switch format {
	case 0:
		l.Parity = modbus.ParityEven
	case 1:
		l.Parity = modbus.ParityOdd
	case 2:
		l.Parity, l.StopBits = modbus.ParityNone, 2
	default:
		l.Parity = modbus.ParityNone
	}
	return l
}

// Reset causes, as MCUSR (I 0x002A).
const (
	resetPowerOn  = 0x01
	resetWatchdog = 0x08
)

// STATUS bits the device sets (I 0x0000).
const (
	stCfgFault   = 0x01
	stEEFault    = 0x02
	stUpdating   = 0x04
	stTrial      = 0x08
	stWatchdog   = 0x10
	stBrownOut   = 0x20
	stOverflow   = 0x40
	stHostTimout = 0x80
)

type phase int

const (
	phaseOn      phase = iota
	phaseOff           // no power
	phaseCrashed       // an image crashed at boot; the watchdog resets it at nextBoot
	phaseDead          // no image to run, or a confirmed image that crashes: silent for good
)

func (p phase) String() string {
	return [...]string{"on", "off", "crashed", "dead"}[p]
}

// Device is one emulated device. It is a modbus.Handler; its methods are
// safe for concurrent use.
type Device struct {
	mu   sync.Mutex
	o    Options
	spec Spec
	path string // the state file, "" in memory
	nv   *nvState

	phase    phase
	offUntil time.Time // phaseOff: zero until PowerOn
	nextBoot time.Time // phaseCrashed
	resetAt  time.Time // the last reset
	listenAt time.Time // deaf until then (booting)
	// A restart the device owes after its answer (CFG_APPLY, COMMIT).
	restartAt     time.Time
	restartCommit bool
	// A power cut armed for after a chunk.
	cutAfterChunk int
	cutFor        time.Duration
	cutNow        bool

	ram      ram
	fault    Fault
	counters Counters
}

// Counters count what a device did since the emulator started.
type Counters struct {
	Requests   uint64 `json:"requests"`   // frames for it answered
	Exceptions uint64 `json:"exceptions"` // of them, answered with an exception
	Broadcasts uint64 `json:"broadcasts"` // broadcasts heard
	Ignored    uint64 `json:"ignored"`    // frames for it not heard (silent fault, off, booting)
}

// ram is the application's RAM: lost at every reset.
type ram struct {
	running         int
	trial, reverted bool
	mute            bool
	resetCause      byte

	sync, evAck   uint16
	brightness    uint16
	timeVal       uint32
	timeAt        time.Time
	utcOffset     int16
	identifyUntil time.Time
	cfgNew        [3]uint16 // CFG_ADDRESS, CFG_BAUD, CFG_FORMAT as written
	status        uint16    // the bits the device keeps: config/EEPROM fault, overflow
	crcErrors     uint16
	lastHostFrame time.Time

	wr      int
	nextSeq uint16
	evAt    [ringSize]time.Time // zero: before this power-on

	upd updater

	disp displayRAM
	kp   keypadRAM
	rp   panelRAM
}

// NewDevice makes the device of spec, from its state file under
// o.StateDir if there is one (then its stored address, not spec.Addr, is
// the one it answers), and powers it up: a power-on reset (BOOT_COUNT + 1),
// booted by the time NewDevice returns.
func NewDevice(spec Spec, o Options) (*Device, error) {
	o = o.normal()
	if !spec.Type.valid() {
		return nil, fmt.Errorf("emulator: device type %d", spec.Type)
	}
	if spec.Addr < 1 || spec.Addr > 247 {
		return nil, fmt.Errorf("emulator: address %d, want 1–247", spec.Addr)
	}
	d := &Device{o: o, spec: spec, cutAfterChunk: -1}
	if o.StateDir != "" {
		if err := os.MkdirAll(o.StateDir, 0o755); err != nil {
			return nil, fmt.Errorf("emulator: state: %w", err)
		}
		d.path = stateFile(o.StateDir, spec)
		nv, err := loadState(d.path)
		if err != nil {
			return nil, err
		}
		if nv != nil && nv.Type != spec.Type {
			return nil, fmt.Errorf("emulator: %s holds a %s, not a %s", d.path, nv.Type, spec.Type)
		}
		d.nv = nv
	}
	if d.nv == nil {
		nv, err := newState(spec, o)
		if err != nil {
			return nil, err
		}
		d.nv = nv
		if err := d.save(); err != nil {
			return nil, err
		}
	}
	// Powered up BootTime ago: it answers as soon as NewDevice returns.
	d.powerUp(o.Clock.Now().Add(-o.BootTime), resetPowerOn)
	return d, nil
}

// newState is a device as it leaves the workshop: a serial number, the
// factory image in slot A, and the line settings it was given.
func newState(spec Spec, o Options) (*nvState, error) {
	baud, format, err := lineConfig(o.Line)
	if err != nil {
		return nil, err
	}
	nv := &nvState{
		Format: 1, Type: spec.Type, HWRev: o.HWRev,
		Config: &nvConfig{Address: spec.Addr, Baud: baud, Format: format, Brightness: 10},
		Boot:   nvBoot{State: bootConfirmed},
	}
	var b [4]byte
	for nv.Serial == 0 || nv.Serial == 0xFFFFFFFF {
		if _, err := io.ReadFull(o.Rand, b[:]); err != nil {
			return nil, fmt.Errorf("emulator: serial number: %w", err)
		}
		nv.Serial = binary.BigEndian.Uint32(b[:])
	}
	nv.Slots[0] = nvSlot{Version: o.Firmware, Flash: factoryImage(spec.Type, o.Firmware)}
	nv.Slots[1] = nvSlot{Flash: emptyFlash()}
	return nv, nil
}

// factoryImage stands for the firmware ISP put in slot A.
func factoryImage(t Type, v Version) []byte {
	f := emptyFlash()
	copy(f, fmt.Sprintf("CHERGA-EMU factory image %s %s\n", t.Product(), v))
	return f
}

// save writes the non-volatile state; a failure is the EEPROM failing
// (STATUS bit 1, exception 04 for the write that needed it).
func (d *Device) save() error {
	if d.path == "" {
		return nil
	}
	if err := saveState(d.path, d.nv); err != nil {
		d.ram.status |= stEEFault
		return err
	}
	return nil
}

// Spec is what the device was made as.
func (d *Device) Spec() Spec { return d.spec }

// Type is the device's type.
func (d *Device) Type() Type { return d.spec.Type }

// StatePath is the device's state file ("" in memory).
func (d *Device) StatePath() string { return d.path }

// Serial is the device's instance number (I 0x0026–0x0027).
func (d *Device) Serial() uint32 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.nv.Serial
}

// addr is the address the device answers: the stored one, or 247 with
// EEPROM defaults. The caller holds d.mu.
func (d *Device) addr() byte {
	if c := d.nv.Config; c != nil {
		return c.Address
	}
	return 247
}

func (d *Device) line() modbus.Line {
	if c := d.nv.Config; c != nil {
		return configLine(c.Baud, c.Format)
	}
	return modbus.DefaultLine
}

// Addr is the address the device answers now (after a CFG save, the new
// one).
func (d *Device) Addr() byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.addr()
}

// Line is the device's own line setting.
func (d *Device) Line() modbus.Line {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.line()
}

// listening: powered, booted, and running an image that speaks. The
// caller holds d.mu and has called advance.
func (d *Device) listening(now time.Time) bool {
	return d.phase == phaseOn && !now.Before(d.listenAt) && !d.ram.mute
}

// onLine: the device's line settings are the bus's, so it can hear it.
func (d *Device) onLine() bool {
	a, b := d.line(), d.o.Line
	return a.Baud == b.Baud && a.Parity == b.Parity && a.StopBits == b.StopBits
}

// Listening reports whether the device would hear a frame now.
func (d *Device) Listening() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.o.Clock.Now()
	d.advance(now)
	return d.listening(now) && d.onLine()
}

// hears reports whether a frame for unit reaches the device's
// application, and notes it (the keypad's HOST_TIMEOUT). The caller holds
// d.mu and has called advance.
func (d *Device) hears(unit byte, now time.Time) bool {
	if !d.listening(now) || !d.onLine() {
		return false
	}
	if unit == modbus.BroadcastUnit {
		return true
	}
	if unit != d.addr() {
		return false
	}
	d.ram.lastHostFrame = now
	return true
}

// ServeModbus implements modbus.Handler, for a device used alone (under
// a modbus.Server or on a modbustest.Bus at its address). Where the device
// would stay silent (off, booting, another address) it returns exception
// 0x0B (gateway target failed to respond), which a Bus never sends:
// a Bus keeps those silent.
func (d *Device) ServeModbus(unit byte, req modbus.Request) modbus.Response {
	resp, ok := d.Handle(unit, req)
	if !ok {
		return modbus.ExceptionResponse(req.Function, modbus.GatewayNoResponse)
	}
	return resp
}

// Handle answers one request as the device; ok is false where it stays
// silent (a broadcast, another address, off, booting, a frame it
// ignores).
func (d *Device) Handle(unit byte, req modbus.Request) (resp modbus.Response, ok bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.o.Clock.Now()
	d.advance(now)
	if !d.hears(unit, now) {
		if unit == d.addr() {
			d.counters.Ignored++
		}
		return modbus.Response{}, false
	}
	if unit == modbus.BroadcastUnit {
		d.counters.Broadcasts++
		d.pdu(req, now, true)
		return modbus.Response{}, false
	}
	resp, ok = d.pdu(req, now, false)
	if !ok {
		return resp, false
	}
	d.counters.Requests++
	if resp.Exception != 0 {
		d.counters.Exceptions++
	}
	if d.cutNow {
		// The chunk is in flash and its answer on the wire; then the
		// power goes.
		d.cutNow = false
		d.powerCut(now, d.cutFor)
	}
	return resp, true
}

// crcError counts a frame with a bad CRC seen on the bus (I 0x002B).
func (d *Device) crcError() {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.o.Clock.Now()
	d.advance(now)
	if d.listening(now) && d.onLine() {
		d.ram.crcErrors++
	}
}

func exc(fn modbus.Function, c modbus.ExceptionCode) (modbus.Response, bool) {
	return modbus.ExceptionResponse(fn, c), true
}

// pdu carries out one request as pdu.c does; ok false: no answer (a
// broadcast).
func (d *Device) pdu(req modbus.Request, now time.Time, bcast bool) (modbus.Response, bool) {
	fn := req.Function
	switch fn {
	case modbus.FuncReadHoldingRegisters, modbus.FuncReadInputRegisters:
		if bcast {
			return modbus.Response{}, false
		}
		return d.readRegs(req, now)
	case modbus.FuncWriteSingleRegister, modbus.FuncWriteMultipleRegisters:
		return d.writeRegs(req, now, bcast)
	}
	if bcast {
		return modbus.Response{}, false
	}
	switch fn {
	case modbus.FuncReadFileRecord:
		return d.readFile(req, now)
	case modbus.FuncWriteFileRecord:
		return d.writeFile(req, now)
	case modbus.FuncEncapsulatedInterface:
		return d.identification(req)
	}
	return exc(fn, modbus.IllegalFunction)
}

// inBlock: the range lies inside one block of section 4.
func (d *Device) inBlock(a uint16, n int, holding bool) bool {
	var first, size int
	if holding {
		switch {
		case a < 0x0080:
			first, size = 0x0000, 12
		case a < 0x0100:
			first, size = 0x0080, 1
		default:
			first, size = 0x0100, d.typeHregs()
		}
	} else {
		switch {
		case a < 0x0020:
			first, size = 0x0000, 27
		case a < 0x0040:
			first, size = 0x0020, 16
		case a < 0x0080:
			first, size = 0x0040, 8
		default:
			first, size = 0x0080, 8
		}
	}
	return int(a) >= first && int(a)+n <= first+size
}

func (d *Device) readRegs(req modbus.Request, now time.Time) (modbus.Response, bool) {
	fn := req.Function
	q := int(req.Quantity)
	if q < 1 || q > modbus.MaxReadQuantity {
		return exc(fn, modbus.IllegalDataValue)
	}
	holding := fn == modbus.FuncReadHoldingRegisters
	if int(req.Address)+q > 0x10000 || !d.inBlock(req.Address, q, holding) {
		return exc(fn, modbus.IllegalDataAddress)
	}
	var events []int
	if !holding && req.Address < 0x0020 {
		events = d.evList()
	}
	v := make([]uint16, q)
	for i := range v {
		a := req.Address + uint16(i)
		if holding {
			v[i] = d.hreg(a, now)
		} else {
			v[i] = d.ireg(a, now, events)
		}
	}
	return modbus.Response{Function: fn, Values: v}, true
}

func (d *Device) status(now time.Time) uint16 {
	s := d.ram.status
	if st := d.ram.upd.st; st >= 1 && st <= 3 {
		s |= stUpdating
	}
	if d.ram.trial {
		s |= stTrial
	}
	if d.ram.resetCause&resetWatchdog != 0 {
		s |= stWatchdog
	}
	if d.ram.resetCause&0x04 != 0 {
		s |= stBrownOut
	}
	if d.hostTimedOut(now) {
		s |= stHostTimout
	}
	return s
}

func (d *Device) ireg(a uint16, now time.Time, events []int) uint16 {
	switch {
	case a < 0x0020:
		switch a {
		case 0:
			return d.status(now)
		case 1:
			return d.ram.sync
		}
		return d.evReg(int(a-2), now, events)
	case a < 0x0040:
		v := d.runningVersion()
		switch a - 0x20 {
		case 0x0:
			return uint16(d.spec.Type)
		case 0x1:
			return 1 // MAP_VERSION
		case 0x2:
			return d.nv.HWRev
		case 0x3, 0x4, 0x5:
			return v[a-0x23]
		case 0x6:
			return uint16(d.nv.Serial >> 16)
		case 0x7:
			return uint16(d.nv.Serial)
		case 0x8:
			return d.nv.BootCount
		case 0x9:
			return uint16(now.Sub(d.resetAt) / time.Second)
		case 0xA:
			return uint16(d.ram.resetCause)
		case 0xB:
			return d.ram.crcErrors
		case 0xC:
			if d.spec.Type.hasEvents() {
				return d.nv.EvLost
			}
			return 0
		case 0xD:
			if d.spec.Type.hasEvents() {
				return ringSize
			}
			return 0
		}
		return 0
	case a < 0x0080:
		return d.typeIreg(int(a-0x40), now)
	}
	return d.updIreg(int(a-0x80), now)
}

func (d *Device) runningVersion() Version { return d.nv.Slots[d.ram.running].Version }

func (d *Device) unixTime(now time.Time) uint32 {
	if d.ram.timeVal == 0 {
		return 0
	}
	return d.ram.timeVal + uint32(now.Sub(d.ram.timeAt)/time.Second)
}

func secondsLeft(until, now time.Time) uint16 {
	if !now.Before(until) {
		return 0
	}
	return uint16((until.Sub(now) + time.Second - 1) / time.Second)
}

func (d *Device) hreg(a uint16, now time.Time) uint16 {
	if a >= 0x0100 {
		return d.typeHreg(int(a-0x0100), now)
	}
	switch a {
	case 0x0:
		return d.ram.sync
	case 0x1:
		return d.ram.evAck
	case 0x2:
		return d.ram.brightness
	case 0x3:
		return uint16(d.unixTime(now) >> 16)
	case 0x4:
		return uint16(d.unixTime(now))
	case 0x5:
		return uint16(d.ram.utcOffset)
	case 0x6:
		return secondsLeft(d.ram.identifyUntil, now)
	case 0x8, 0x9, 0xA:
		return d.ram.cfgNew[a-8]
	}
	return 0 // 0x7 reserved; 0xB and 0x80 read 0
}

// broadcastReg: the registers marked B in section 4.2.
func broadcastReg(a uint16) bool { return a >= 0x0002 && a <= 0x0005 }

// hcheck returns 0 or the exception a value gets.
func (d *Device) hcheck(a, v uint16, now time.Time) modbus.ExceptionCode {
	if a >= 0x0100 {
		return d.typeHcheck(int(a-0x0100), v)
	}
	bad := modbus.IllegalDataValue
	switch a {
	case 0x1:
		if v == 0 {
			return bad
		}
	case 0x2:
		if v > 15 {
			return bad
		}
	case 0x5:
		if int16(v) < -840 || int16(v) > 840 {
			return bad
		}
	case 0x6:
		if v > 255 {
			return bad
		}
	case 0x8:
		if v < 1 || v > 247 {
			return bad
		}
	case 0x9:
		if baudCode(v) < 0 {
			return bad
		}
	case 0xA:
		if v > 3 {
			return bad
		}
	case 0xB:
		if v != 0xA5A5 && v != 0xDEAD {
			return bad
		}
		if !d.restartAt.IsZero() {
			return modbus.ServerDeviceBusy
		}
	case 0x80:
		return d.updCommandCheck(v, now)
	}
	return 0
}

func (d *Device) hwrite(a, v uint16, now time.Time) error {
	if a >= 0x0100 {
		d.typeHwrite(int(a-0x0100), v, now)
		return nil
	}
	switch a {
	case 0x0:
		d.ram.sync = v
	case 0x1:
		d.ram.evAck = v
		return d.evAck(v)
	case 0x2:
		d.ram.brightness = v
	case 0x3, 0x4:
		t := d.unixTime(now)
		if a == 0x3 {
			t = t&0xFFFF | uint32(v)<<16
		} else {
			t = t&0xFFFF0000 | uint32(v)
		}
		d.ram.timeVal, d.ram.timeAt = t, now
	case 0x5:
		d.ram.utcOffset = int16(v)
	case 0x6:
		d.ram.identifyUntil = now.Add(time.Duration(v) * time.Second)
	case 0x8, 0x9, 0xA:
		d.ram.cfgNew[a-8] = v
	case 0xB:
		if v == 0xA5A5 {
			c := d.ram.cfgNew
			old := d.nv.Config
			d.nv.Config = &nvConfig{Address: byte(c[0]), Baud: c[1], Format: c[2], Brightness: d.ram.brightness}
			if err := d.save(); err != nil {
				d.nv.Config = old
				return err
			}
		}
		// Answer (with the old line settings), then restart.
		d.restartAt = now
	case 0x80:
		return d.updCommand(v, now)
	}
	return nil
}

// writeRegs: 06 and 0x10 — everything checked, then applied together.
func (d *Device) writeRegs(req modbus.Request, now time.Time, bcast bool) (modbus.Response, bool) {
	fn := req.Function
	vals := req.Values
	if fn == modbus.FuncWriteSingleRegister {
		if len(vals) != 1 {
			return exc(fn, modbus.IllegalDataValue)
		}
	} else if len(vals) < 1 || len(vals) > modbus.MaxWriteQuantity || (req.Quantity != 0 && int(req.Quantity) != len(vals)) {
		return exc(fn, modbus.IllegalDataValue)
	}
	a0 := req.Address
	if int(a0)+len(vals) > 0x10000 || !d.inBlock(a0, len(vals), true) {
		if bcast {
			return modbus.Response{}, false
		}
		return exc(fn, modbus.IllegalDataAddress)
	}
	for i, v := range vals {
		a := a0 + uint16(i)
		if bcast && !broadcastReg(a) {
			// A broadcast that touches any register not marked B is
			// ignored whole (firmware note 12).
			return modbus.Response{}, false
		}
		if e := d.hcheck(a, v, now); e != 0 {
			return exc(fn, e)
		}
	}
	var failed error
	for i, v := range vals {
		if err := d.hwrite(a0+uint16(i), v, now); err != nil && failed == nil {
			failed = err
		}
	}
	if int(a0)+len(vals) > 0x0100 && int(a0) < 0x0100+d.typeHregs() {
		d.typeHwriteDone(now)
	}
	if failed != nil {
		return exc(fn, modbus.ServerDeviceFailure)
	}
	if fn == modbus.FuncWriteSingleRegister {
		return modbus.Response{Function: fn, Address: a0, Quantity: 1, Values: []uint16{vals[0]}}, true
	}
	return modbus.Response{Function: fn, Address: a0, Quantity: uint16(len(vals))}, true
}

// identification answers 0x2B/0x0E (PROTOCOL.md section 9).
func (d *Device) identification(req modbus.Request) (modbus.Response, bool) {
	fn := req.Function
	if req.MEI != modbus.MEIReadDeviceID {
		return exc(fn, modbus.IllegalFunction)
	}
	if req.IDCode < modbus.DeviceIDBasic || req.IDCode > modbus.DeviceIDIndividual {
		return exc(fn, modbus.IllegalDataValue)
	}
	obj := func(id byte) (string, bool) {
		switch id {
		case 0:
			return "cherga", true
		case 1:
			return d.spec.Type.Product(), true
		case 2:
			return d.runningVersion().String(), true
		case 5:
			return d.spec.Type.Model(), true
		}
		return "", false
	}
	r := modbus.Response{Function: fn, DeviceID: modbus.DeviceID{Code: req.IDCode, Conformity: 0x82}}
	var ids []byte
	if req.IDCode == modbus.DeviceIDIndividual {
		if _, ok := obj(req.ObjectID); !ok {
			return exc(fn, modbus.IllegalDataAddress)
		}
		ids = []byte{req.ObjectID}
	} else {
		ids = []byte{0, 1, 2, 5}
		if req.IDCode == modbus.DeviceIDBasic {
			ids = ids[:3]
		}
		start := 0
		for i, id := range ids {
			if id == req.ObjectID {
				start = i
			}
		}
		ids = ids[start:]
	}
	for _, id := range ids {
		v, _ := obj(id)
		r.DeviceID.Objects = append(r.DeviceID.Objects, modbus.DeviceObject{ID: id, Value: []byte(v)})
	}
	return r, true
}
