package bus

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/cherga/kiosk/devices"
	"github.com/cherga/kiosk/firmware-bridge/modbus"
)

// Type is what a bus device is; the names are the configuration's.
type Type string

const (
	TypeWindowDisplay Type = "window-display" // CHG-WD1
	TypeKeypad        Type = "keypad"         // CHG-KP1
	TypeRating        Type = "rating"         // CHG-RP1
	TypeProfile       Type = "display-profile"
)

// code is the DEVICE_TYPE (I 0x0020) of our types.
func (t Type) code() uint16 {
	switch t {
	case TypeWindowDisplay:
		return 1
	case TypeKeypad:
		return 2
	case TypeRating:
		return 3
	}
	return 0
}

func typeName(code uint16) string {
	switch code {
	case 1:
		return "a window display (CHG-WD1)"
	case 2:
		return "an operator keypad (CHG-KP1)"
	case 3:
		return "a rating panel (CHG-RP1)"
	}
	return fmt.Sprintf("device type %d", code)
}

// ErrNotReady: the device has not been found and set up yet (never
// answered, offline, the bus port is closed, or it is of another type):
// what was asked is kept and written when it is.
var ErrNotReady = errors.New("bus: device not ready")

// unit is what every device of ours shares: its address, its identity,
// whether it has been set up under the bus's token, and its health.
type unit struct {
	b    *Bus
	cfg  DeviceConfig
	kind string // devices.Status kind

	// mu is held for a whole poll of the device, and by writes made from
	// outside the poll (a call shown), so they never interleave with a
	// resync.
	mu       sync.Mutex
	synced   bool // set up under the bus's token since its last reset
	lastPoll time.Time

	// smu guards what Status reads.
	smu      sync.Mutex
	ident    Identity
	id       modbus.Identity
	identOK  bool
	status   uint16 // STATUS of the last poll
	fault    string // why the device cannot be used (wrong type), "" if it can
	resyncs  int
	state    devices.State
	since    time.Time
	lastErr  string
	ourBlock bool // a device of ours (has the common block); false for profiles
	// brightness changes: wanted and written
	brightGen, brightDone uint64
}

func newUnit(b *Bus, cfg DeviceConfig, kind string) unit {
	return unit{b: b, cfg: cfg, kind: kind, state: devices.Starting, since: b.clock.Now(), ourBlock: cfg.Type != TypeProfile}
}

// Name is the device's configured name.
func (u *unit) Name() string { return u.cfg.Name }

// Window is the device's window.
func (u *unit) Window() int { return u.cfg.Window }

// Address is the device's unit address.
func (u *unit) Address() byte { return u.cfg.Address }

func (u *unit) setFault(s string) {
	u.smu.Lock()
	u.fault = s
	u.smu.Unlock()
}

func (u *unit) noteErr(err error) {
	if err == nil {
		return
	}
	u.smu.Lock()
	u.lastErr = err.Error()
	u.smu.Unlock()
}

// identify reads I 0x0020 ×8 (and, for a new instance, the device
// identification objects) and checks that the device is of the type
// configured. It reports whether the instance changed.
func (u *unit) identify(ctx context.Context, m *modbus.Master) (changed bool, err error) {
	unit := u.cfg.Address
	r, err := m.Do(ctx, unit, modbus.ReadInput(inIdentity, identityQty))
	if err != nil {
		return false, fmt.Errorf("read identity: %w", err)
	}
	id, err := parseIdentity(r.Values)
	if err != nil {
		u.setFault(fmt.Sprintf("answers, but %v", err))
		return false, err
	}
	u.smu.Lock()
	changed = !u.identOK || u.ident.Serial != id.Serial
	u.ident, u.identOK = id, true
	u.smu.Unlock()
	switch {
	case id.Type != u.cfg.Type.code():
		u.setFault(fmt.Sprintf("%s answers at address %d, where %s is configured", typeName(id.Type), unit, typeName(u.cfg.Type.code())))
		return changed, errWrongDevice
	case id.MapVersion != mapVersion:
		u.setFault(fmt.Sprintf("register map version %d at address %d; this kioskd speaks version %d", id.MapVersion, unit, mapVersion))
		return changed, errWrongDevice
	}
	u.setFault("")
	if changed {
		// Vendor, product, firmware as text: for /healthz only, so a
		// device without 0x2B is not a fault.
		if ident, err := m.ReadIdentification(ctx, unit); err == nil {
			u.smu.Lock()
			u.id = ident
			u.smu.Unlock()
		}
	}
	return changed, nil
}

var errWrongDevice = errors.New("bus: not the device configured")

// resync sets a device of ours up after a reset, or at first contact: its
// brightness, the time, what its type holds (body), and last SYNC = the
// bus's token, in that order (PROTOCOL.md 6.4), so a power cut during the
// resync is noticed again.
func (u *unit) resync(ctx context.Context, m *modbus.Master, body func() error) error {
	unit := u.cfg.Address
	u.smu.Lock()
	bright, gen := u.cfg.Brightness, u.brightGen
	u.smu.Unlock()
	if _, err := m.Do(ctx, unit, modbus.WriteRegister(regBrightness, uint16(bright))); err != nil {
		return fmt.Errorf("resync: brightness: %w", err)
	}
	u.smu.Lock()
	u.brightDone = gen
	u.smu.Unlock()
	if _, err := m.Do(ctx, unit, modbus.WriteRegisters(regTime, timeRegs(u.b.clock.Now(), u.b.location())...)); err != nil {
		return fmt.Errorf("resync: time: %w", err)
	}
	if err := body(); err != nil {
		return fmt.Errorf("resync: %w", err)
	}
	if _, err := m.Do(ctx, unit, modbus.WriteRegister(regSync, u.b.token)); err != nil {
		return fmt.Errorf("resync: sync: %w", err)
	}
	u.synced = true
	u.smu.Lock()
	u.resyncs++
	u.smu.Unlock()
	return nil
}

// SetBrightness sets the device's brightness, 0 (dark) to 15; it is
// written in the device's next poll, and again after every reset.
func (u *unit) SetBrightness(n int) {
	u.smu.Lock()
	u.cfg.Brightness = min(max(n, 0), 15)
	u.brightGen++
	u.smu.Unlock()
	u.b.poke()
}

// applyBrightness writes a changed brightness; u.mu is held.
func (u *unit) applyBrightness(ctx context.Context, m *modbus.Master) error {
	u.smu.Lock()
	bright, gen, done := u.cfg.Brightness, u.brightGen, u.brightDone
	u.smu.Unlock()
	if gen == done {
		return nil
	}
	if _, err := m.Do(ctx, u.cfg.Address, modbus.WriteRegister(regBrightness, uint16(bright))); err != nil {
		return fmt.Errorf("brightness: %w", err)
	}
	u.smu.Lock()
	u.brightDone = gen
	u.smu.Unlock()
	return nil
}

// pollCommon reads the poll block and, if the device was reset (or never
// set up), identifies it and runs resync with body. It returns the poll
// block and whether the device can be driven now.
func (u *unit) pollCommon(ctx context.Context, m *modbus.Master, body func(changed bool) error) (pollBlock, error) {
	r, err := m.DoOnce(ctx, u.cfg.Address, modbus.ReadInput(inPoll, pollQty))
	if err != nil {
		u.synced = false // it may have lost power meanwhile; SYNC tells
		return pollBlock{}, err
	}
	p, err := parsePoll(r.Values)
	if err != nil {
		return p, err
	}
	u.smu.Lock()
	u.status = p.Status
	u.smu.Unlock()
	if p.Sync == u.b.token && u.synced {
		return p, nil
	}
	u.synced = false
	changed, err := u.identify(ctx, m)
	if err != nil {
		return p, err
	}
	if err := u.resync(ctx, m, func() error { return body(changed) }); err != nil {
		return p, err
	}
	return p, nil
}

// status is the device's health now.
func (u *unit) deviceStatus() devices.Status {
	b := u.b
	h := b.master.Health(u.cfg.Address)
	open, portDetail := b.portOpen()
	u.smu.Lock()
	defer u.smu.Unlock()
	st := devices.Status{Name: u.cfg.Name, Kind: u.kind, Driver: "modbus", LastSeen: h.LastSeen,
		Errors: h.Timeouts + h.BadAnswers + h.Exceptions, Address: fmt.Sprintf("%s:%d", b.cfg.Name, u.cfg.Address)}
	if u.identOK {
		st.Firmware = u.ident.Firmware
		st.Serial = fmt.Sprintf("%08X", u.ident.Serial)
	}
	st.Model = u.id.Product
	if st.Model == "" && u.identOK {
		st.Model = map[uint16]string{1: "CHG-WD1", 2: "CHG-KP1", 3: "CHG-RP1"}[u.ident.Type]
	}
	if u.id.Revision != "" && st.Firmware == "" {
		st.Firmware = u.id.Revision
	}
	st.LastError = h.LastError
	if st.LastError == "" {
		st.LastError = u.lastErr
	}
	where := fmt.Sprintf("window %d, address %d on %s", u.cfg.Window, u.cfg.Address, b.cfg.Port)
	var state devices.State
	var detail string
	switch {
	case !open:
		state, detail = devices.Fault, "bus port not open: "+portDetail
	case u.fault != "":
		state, detail = devices.Fault, u.fault
	case h.Answers == 0 && h.Failures < b.master.Options().OfflineAfter:
		state, detail = devices.Starting, "waiting for its first answer"
	case !h.Online || h.BackedOff:
		state = devices.Fault
		if h.LastSeen.IsZero() {
			detail = "does not answer"
		} else {
			detail = "does not answer since " + h.LastSeen.Format(time.RFC3339)
		}
	default:
		state, detail = devices.OK, "online"
		if w := statusWarning(u.status); w != "" && u.ourBlock {
			state, detail = devices.Warning, w
		}
	}
	detail += "; " + where
	if st.Model != "" {
		detail += "; " + st.Model
		if st.Firmware != "" {
			detail += " " + st.Firmware
		}
		if st.Serial != "" {
			detail += " #" + st.Serial
		}
	}
	if state != u.state {
		u.state, u.since = state, b.clock.Now()
	}
	st.State, st.Detail, st.Since = state, detail, u.since
	return st
}

// statusWarning words the STATUS bits a technician should look at.
func statusWarning(s uint16) string {
	var w []string
	if s&statusConfigFault != 0 {
		w = append(w, "configuration lost: the device runs on factory settings")
	}
	if s&statusEEPROMFault != 0 {
		w = append(w, "EEPROM fault")
	}
	if s&statusOverflow != 0 {
		w = append(w, "event queue overflowed: presses were lost")
	}
	if s&statusTrial != 0 {
		w = append(w, "running unconfirmed firmware")
	}
	return strings.Join(w, ", ")
}
