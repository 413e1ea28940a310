package modbustest

import (
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/cherga/kiosk/firmware-bridge/modbus"
)

// Fault makes a simulated device misbehave.
type Fault struct {
	Silent        bool          // never answers
	Delay         time.Duration // answers this much later than its turnaround
	Corrupt       bool          // one byte of each answer flipped (bad CRC)
	AnswerAs      byte          // answers with this address instead of its own
	WrongFunction bool          // answers 03 to 04 and 04 to 03 (others: bit 0 flipped)
	Garbage       []byte        // sent right before each answer, without a gap
	Babble        int           // this many noise bytes right after each answer
	Gap           time.Duration // a pause this long in the middle of each answer
}

// Unit is one simulated device on a Bus.
type Unit struct {
	Handler modbus.Handler
	// Turnaround is the time from the end of t3.5 to the first byte of the
	// answer. Default 1 ms.
	Turnaround time.Duration
	Fault      Fault
	Heard      int // requests for it that it heard
}

type arrival struct {
	at time.Time
	b  byte
}

type flood struct{ from, until time.Time }

// Bus simulates one RS-485 line in virtual time: it is the master's
// modbus.Port, and answers with the devices attached to it. Bytes take
// their wire time at the line's baud rate; a Read with nothing in flight
// advances the clock by its timeout. So a poll cycle on a Bus lasts, on
// its clock, what it would on a real line with devices as fast as their
// Turnaround.
//
// A Bus is for one master goroutine.
type Bus struct {
	mu      sync.Mutex
	clock   *clockwork.FakeClock
	line    modbus.Line
	units   map[byte]*Unit
	rx      []arrival
	txEnd   time.Time
	timeout time.Duration
	floods  []flood
	noise   byte
	// Sent holds every frame the master sent, in order.
	Sent [][]byte
}

// NewBus returns an empty line.
func NewBus(line modbus.Line) *Bus {
	return &Bus{
		clock: clockwork.NewFakeClockAt(time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC)),
		line:  line, units: map[byte]*Unit{},
	}
}

// Clock is the bus's virtual clock; give it to modbus.RTUOptions.
func (b *Bus) Clock() *clockwork.FakeClock { return b.clock }

// Line returns the line settings.
func (b *Bus) Line() modbus.Line { return b.line }

// Attach puts a device at unit.
func (b *Bus) Attach(unit byte, h modbus.Handler) *Unit {
	b.mu.Lock()
	defer b.mu.Unlock()
	u := &Unit{Handler: h, Turnaround: time.Millisecond}
	b.units[unit] = u
	return u
}

// Unit returns the device at unit, or nil.
func (b *Bus) Unit(unit byte) *Unit {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.units[unit]
}

// Flood makes noise on the line, a byte every character time, for d from
// now: a device stuck transmitting.
func (b *Bus) Flood(d time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.clock.Now()
	b.floods = append(b.floods, flood{from: now, until: now.Add(d)})
	char := b.line.WireTime(1)
	for t := now.Add(char); t.Before(now.Add(d)); t = t.Add(char) {
		b.noise = b.noise*31 + 7
		b.rx = append(b.rx, arrival{at: t, b: b.noise})
	}
	b.sortRx()
}

func (b *Bus) flooded(t time.Time) bool {
	for _, f := range b.floods {
		if !t.Before(f.from) && t.Before(f.until) {
			return true
		}
	}
	return false
}

func (b *Bus) sortRx() {
	sort.SliceStable(b.rx, func(i, j int) bool { return b.rx[i].at.Before(b.rx[j].at) })
}

// SetReadTimeout implements modbus.Port.
func (b *Bus) SetReadTimeout(t time.Duration) error {
	b.mu.Lock()
	b.timeout = t
	b.mu.Unlock()
	return nil
}

// Drain implements modbus.Port: the clock moves to the end of the last
// transmission.
func (b *Bus) Drain() error {
	b.mu.Lock()
	end := b.txEnd
	b.mu.Unlock()
	if d := end.Sub(b.clock.Now()); d > 0 {
		b.clock.Advance(d)
	}
	return nil
}

// Write implements modbus.Port: the master transmits p; the devices hear
// it when it ends and schedule their answers.
func (b *Bus) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	start := b.clock.Now()
	if b.txEnd.After(start) {
		start = b.txEnd
	}
	end := start.Add(b.line.WireTime(len(p)))
	b.txEnd = end
	b.Sent = append(b.Sent, slices.Clone(p))
	// A collision with noise spoils the request for everyone.
	if b.flooded(start) || b.flooded(end) {
		return len(p), nil
	}
	unit, pdu, err := modbus.SplitADU(p)
	if err != nil {
		return len(p), nil
	}
	req, derr := modbus.DecodeRequest(pdu)
	if unit == modbus.BroadcastUnit {
		if derr == nil && (req.Function == modbus.FuncWriteSingleRegister || req.Function == modbus.FuncWriteMultipleRegisters || req.Function == modbus.FuncWriteFileRecord) {
			for _, u := range b.units {
				u.Heard++
				u.Handler.ServeModbus(unit, req)
			}
		}
		return len(p), nil
	}
	u := b.units[unit]
	if u == nil {
		return len(p), nil
	}
	u.Heard++
	if u.Fault.Silent {
		return len(p), nil
	}
	var resp modbus.Response
	var exc *modbus.Exception
	switch {
	case derr == nil:
		resp = u.Handler.ServeModbus(unit, req)
		if resp.Function == 0 {
			resp.Function = req.Function
		}
	case asException(derr, &exc):
		resp = modbus.ExceptionResponse(exc.Function, exc.Code)
	default:
		return len(p), nil
	}
	out, err := resp.AppendPDU(nil)
	if err != nil {
		return len(p), fmt.Errorf("modbustest: unit %d: answer: %w", unit, err)
	}
	f := u.Fault
	if f.WrongFunction {
		switch out[0] {
		case 0x03, 0x04:
			out[0] ^= 0x07
		default:
			out[0] ^= 0x01
		}
	}
	addr := unit
	if f.AnswerAs != 0 {
		addr = f.AnswerAs
	}
	frame := modbus.AppendADU(nil, addr, out)
	if f.Corrupt {
		frame[len(frame)/2] ^= 0x10
	}
	frame = append(slices.Clone(f.Garbage), frame...)
	for range f.Babble {
		b.noise = b.noise*31 + 7
		frame = append(frame, b.noise)
	}
	char := b.line.WireTime(1)
	t := end.Add(b.line.T35() + u.Turnaround + f.Delay)
	for i, c := range frame {
		if f.Gap > 0 && i == len(frame)/2 {
			t = t.Add(f.Gap)
		}
		t = t.Add(char)
		if b.flooded(t) {
			c ^= 0x5A
		}
		b.rx = append(b.rx, arrival{at: t, b: c})
	}
	b.sortRx()
	return len(p), nil
}

func asException(err error, e **modbus.Exception) bool {
	x, ok := err.(*modbus.Exception)
	if ok {
		*e = x
	}
	return ok
}

// Read implements modbus.Port. It returns the bytes that have arrived; if
// none, it waits (advancing the clock) for the next burst, up to the read
// timeout, and returns that burst as far as it has arrived — as a USB
// adapter hands over a frame.
func (b *Bus) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.clock.Now()
	if len(b.rx) == 0 || b.rx[0].at.After(now) {
		if len(b.rx) == 0 || b.rx[0].at.Sub(now) > b.timeout {
			if b.timeout > 0 {
				b.clock.Advance(b.timeout)
			}
			return 0, nil
		}
		// Wait for the burst to end: bytes no more than a character apart.
		limit := now.Add(b.timeout)
		char := b.line.WireTime(1)
		end := b.rx[0].at
		for i := 1; i < len(b.rx) && i < len(p); i++ {
			if b.rx[i].at.Sub(b.rx[i-1].at) > char+char/8 || b.rx[i].at.After(limit) {
				break
			}
			end = b.rx[i].at
		}
		b.clock.Advance(end.Sub(now))
		now = end
	}
	n := 0
	for n < len(p) && n < len(b.rx) && !b.rx[n].at.After(now) {
		p[n] = b.rx[n].b
		n++
	}
	b.rx = b.rx[n:]
	return n, nil
}

// Pending is how many bytes are still in flight towards the master.
func (b *Bus) Pending() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.rx)
}
