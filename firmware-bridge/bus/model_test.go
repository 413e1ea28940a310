package bus

import (
	"slices"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/cherga/kiosk/firmware-bridge/modbus"
)

// model is a device of ours as PROTOCOL.md describes it, in memory, for
// the tests: the common block, the poll and event block with the
// acknowledged queue, identity, the type's holding registers, and a power
// cut. (firmware-bridge/emulator is the complete one.)
type model struct {
	mu      sync.Mutex
	clock   clockwork.Clock
	typ     uint16 // 1 display, 2 keypad, 3 rating
	serial  uint32
	common  [12]uint16
	typeReg []uint16 // H 0x0100…
	events  []modelEvent
	nextSeq uint16
	boots   uint16
	status  uint16
	// writes is every write request carried out (not broadcasts), and
	// broadcasts every broadcast acted on.
	writes     []modbus.Request
	broadcasts []modbus.Request
	// onWrite, if set, is called (unlocked) after each write is applied.
	onWrite func(req modbus.Request)
}

type modelEvent struct {
	seq, code uint16
	at        time.Time
	beforeOn  bool // from before the last power-on
}

var typeRegs = map[uint16]int{1: 14, 2: 46, 3: 3}

func newModel(clock clockwork.Clock, typ uint16, serial uint32) *model {
	m := &model{clock: clock, typ: typ, serial: serial, nextSeq: 1, boots: 1}
	m.reset()
	return m
}

// reset is what a power-on leaves: SYNC and the ack 0, brightness 10,
// every type register at its default, the time unset.
func (m *model) reset() {
	m.common = [12]uint16{}
	m.common[2] = 10
	m.typeReg = make([]uint16, typeRegs[m.typ])
	switch m.typ {
	case 2:
		m.typeReg[0x2C] = 10     // HOST_TIMEOUT
		m.typeReg[0x2D] = 0xFFFF // KEY_ENABLE
	case 3:
		m.typeReg[2] = 3000 // THANKS_MS
	}
}

// powerCut loses power and comes back: the journal keeps the pending
// events (their age now unknown) and the sequence.
func (m *model) powerCut() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reset()
	m.boots++
	for i := range m.events {
		m.events[i].beforeOn = true
	}
}

// press makes an event, as a key released; on a rating panel only
// while prompted, and it ends the prompt.
func (m *model) press(code uint16) (seq uint16, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.typ == 3 {
		if m.typeReg[0] == 0 {
			return 0, false
		}
		m.typeReg[0] = 0
	}
	if len(m.events) >= 64 {
		m.status |= statusOverflow
		return 0, false
	}
	seq = m.nextSeq
	if m.nextSeq++; m.nextSeq == 0 {
		m.nextSeq = 1
	}
	m.events = append(m.events, modelEvent{seq: seq, code: code, at: m.clock.Now()})
	return seq, true
}

func (m *model) pending() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.events)
}

func (m *model) sync() uint16 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.common[0]
}

// holding returns the type's holding registers from addr (0x0100 on).
func (m *model) holding(addr uint16, n int) []uint16 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.typeReg[addr-0x100 : int(addr-0x100)+n])
}

func (m *model) writeLog() []modbus.Request {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.writes)
}

func (m *model) inputs(addr uint16, n int) ([]uint16, bool) {
	reg := func(a uint16) (uint16, bool) {
		switch {
		case a <= 0x001A:
			switch a {
			case 0:
				return m.status, true
			case 1:
				return m.common[0], true
			case 2:
				return uint16(len(m.events)), true
			}
			i := int(a-3) / 3
			if i >= len(m.events) {
				return 0, true
			}
			e := m.events[i]
			switch (a - 3) % 3 {
			case 0:
				return e.seq, true
			case 1:
				return e.code, true
			}
			if e.beforeOn {
				return 0xFFFF, true
			}
			return uint16(min(m.clock.Since(e.at)/(100*time.Millisecond), 0xFFFE)), true
		case a >= 0x20 && a <= 0x2F:
			v := map[uint16]uint16{0x20: m.typ, 0x21: 1, 0x22: 1, 0x23: 1, 0x24: 2, 0x25: 0,
				0x26: uint16(m.serial >> 16), 0x27: uint16(m.serial), 0x28: m.boots, 0x2D: 64}
			return v[a], true
		case a >= 0x40 && a <= 0x47:
			if m.typ == 1 && a == 0x40 && m.typeReg[1] != 0 {
				return m.typeReg[11], true
			}
			return 0, true
		case a >= 0x80 && a <= 0x87:
			return 0, true
		}
		return 0, false
	}
	// One block per request.
	out := make([]uint16, n)
	block := func(a uint16) int {
		switch {
		case a <= 0x1A:
			return 0
		case a >= 0x20 && a <= 0x2F:
			return 1
		case a >= 0x40 && a <= 0x47:
			return 2
		case a >= 0x80 && a <= 0x87:
			return 3
		}
		return -1
	}
	for i := range n {
		a := addr + uint16(i)
		v, ok := reg(a)
		if !ok || block(a) != block(addr) {
			return nil, false
		}
		out[i] = v
	}
	return out, true
}

// valid checks a value for a holding register (section 4.2, 6–8).
func (m *model) valid(a, v uint16) bool {
	switch {
	case a == 2:
		return v <= 15
	case a == 5:
		return int16(v) >= -840 && int16(v) <= 840
	case a == 0x0B:
		return v == 0xA5A5 || v == 0xDEAD
	case a >= 0x100:
		i := a - 0x100
		switch m.typ {
		case 1:
			switch i {
			case 0:
				return v <= 1
			case 9:
				return v <= 999
			case 10:
				return v <= 60
			case 12:
				return v == 1
			case 13:
				return v <= 2
			}
		case 2:
			switch i {
			case 0:
				return v <= 1
			case 0x2B:
				return v >= 1 && v <= 2000
			case 0x2C:
				return v <= 255
			}
		case 3:
			switch i {
			case 0:
				return v <= 600
			case 2:
				return v <= 10000
			}
		}
	}
	return true
}

func (m *model) holdingRef(a uint16) (*uint16, bool) {
	switch {
	case a < 12:
		return &m.common[a], true
	case a >= 0x100 && int(a-0x100) < len(m.typeReg):
		return &m.typeReg[a-0x100], true
	}
	return nil, false
}

// ServeModbus implements modbus.Handler.
func (m *model) ServeModbus(unit byte, req modbus.Request) modbus.Response {
	m.mu.Lock()
	resp, write := m.serve(unit, req)
	hook := m.onWrite
	m.mu.Unlock()
	if write && hook != nil {
		hook(req)
	}
	return resp
}

func (m *model) serve(unit byte, req modbus.Request) (modbus.Response, bool) {
	fn := req.Function
	exc := func(c modbus.ExceptionCode) (modbus.Response, bool) { return modbus.ExceptionResponse(fn, c), false }
	switch fn {
	case modbus.FuncReadInputRegisters:
		v, ok := m.inputs(req.Address, int(req.Quantity))
		if !ok {
			return exc(modbus.IllegalDataAddress)
		}
		return modbus.Response{Function: fn, Values: v}, false
	case modbus.FuncReadHoldingRegisters:
		v := make([]uint16, req.Quantity)
		for i := range v {
			p, ok := m.holdingRef(req.Address + uint16(i))
			if !ok || (req.Address < 12) != (req.Address+uint16(i) < 12) {
				return exc(modbus.IllegalDataAddress)
			}
			v[i] = *p
			if req.Address+uint16(i) == 0x010C && m.typ == 1 {
				v[i] = 0
			}
		}
		return modbus.Response{Function: fn, Values: v}, false
	case modbus.FuncWriteSingleRegister, modbus.FuncWriteMultipleRegisters:
		if unit == modbus.BroadcastUnit {
			for i := range req.Values {
				if a := req.Address + uint16(i); a < 2 || a > 5 {
					return modbus.Response{}, false // not a B register: ignored whole
				}
			}
		}
		for i, v := range req.Values {
			a := req.Address + uint16(i)
			if _, ok := m.holdingRef(a); !ok || (req.Address < 12) != (a < 12) {
				return exc(modbus.IllegalDataAddress)
			}
			if !m.valid(a, v) {
				return exc(modbus.IllegalDataValue)
			}
		}
		for i, v := range req.Values {
			m.apply(req.Address+uint16(i), v)
		}
		if unit == modbus.BroadcastUnit {
			m.broadcasts = append(m.broadcasts, req)
			return modbus.Response{}, false
		}
		m.writes = append(m.writes, req)
		if fn == modbus.FuncWriteSingleRegister {
			return modbus.Response{Function: fn, Address: req.Address, Quantity: 1, Values: req.Values}, true
		}
		return modbus.Response{Function: fn, Address: req.Address, Quantity: uint16(len(req.Values))}, true
	case modbus.FuncEncapsulatedInterface:
		objs := []modbus.DeviceObject{{ID: 0, Value: []byte("cherga")},
			{ID: 1, Value: []byte(map[uint16]string{1: "CHG-WD1", 2: "CHG-KP1", 3: "CHG-RP1"}[m.typ])},
			{ID: 2, Value: []byte("1.2.0")}}
		if req.IDCode == modbus.DeviceIDRegular {
			objs = append(objs, modbus.DeviceObject{ID: 5, Value: []byte("test model")})
		}
		return modbus.Response{Function: fn, DeviceID: modbus.DeviceID{Code: req.IDCode, Conformity: 0x82, Objects: objs}}, false
	}
	return exc(modbus.IllegalFunction)
}

func (m *model) apply(a, v uint16) {
	switch {
	case a == 1: // EV_ACK: every event up to v leaves the queue
		m.common[1] = v
		m.events = slices.DeleteFunc(m.events, func(e modelEvent) bool { return int16(v-e.seq) >= 0 })
		return
	case a == 0x0B:
		return
	case m.typ == 1 && a == 0x010C: // CLEAR
		for i := 1; i <= 8; i++ {
			m.typeReg[i] = 0
		}
		m.typeReg[10], m.typeReg[11] = 0, 0
		return
	case m.typ == 2 && a == 0x012B: // BEEP reads 0
		return
	}
	p, _ := m.holdingRef(a)
	*p = v
}

// face is what a window display shows: its text, window and call id.
func (m *model) face() (text string, window, id uint16) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return DecodeCHG1(unpackText(m.typeReg[1:9])), m.typeReg[9], m.typeReg[11]
}

// lcd is a keypad's two lines and LEDs.
func (m *model) lcd() (line1, line2 string, leds uint16) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return DecodeCHG1(unpackText(m.typeReg[1:21])), DecodeCHG1(unpackText(m.typeReg[21:41])), m.typeReg[0x29]
}
