package modbus

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// MasterOptions tune a Master. Zero fields take the defaults given, which
// are PROTOCOL.md section 11's recommendations.
type MasterOptions struct {
	// Attempts per request (Do); 2 = one retry. Default 2. A device that
	// is backed off gets one attempt. DoOnce always makes one.
	Attempts int
	// Turnaround is the time a device may take to start answering after
	// the t3.5 that ends a request: 10 ms for registers and
	// identification, FileTurnaround (30 ms) for file records.
	Turnaround     time.Duration
	FileTurnaround time.Duration
	// Slack is added to every timeout for USB adapters, which hold
	// received bytes up to their latency timer. Default 20 ms.
	Slack time.Duration
	// OfflineAfter failed requests in a row make a device offline.
	// Default 3.
	OfflineAfter int
	// An offline device is probed after BackoffMin, then twice as long
	// each time up to BackoffMax. Defaults 1 s and 30 s.
	BackoffMin, BackoffMax time.Duration
	// BroadcastDelay is the turnaround after a broadcast. Default 20 ms.
	BroadcastDelay time.Duration
}

func (o MasterOptions) normal() MasterOptions {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	if o.Attempts <= 0 {
		o.Attempts = 2
	}
	if o.OfflineAfter <= 0 {
		o.OfflineAfter = 3
	}
	def(&o.Turnaround, 10*time.Millisecond)
	def(&o.FileTurnaround, 30*time.Millisecond)
	def(&o.Slack, 20*time.Millisecond)
	def(&o.BackoffMin, time.Second)
	def(&o.BackoffMax, 30*time.Second)
	def(&o.BroadcastDelay, 20*time.Millisecond)
	return o
}

// Identity is what a device says of itself in Read Device Identification.
type Identity struct {
	Vendor   string `json:"vendor,omitempty"`   // object 0
	Product  string `json:"product,omitempty"`  // object 1, e.g. CHG-WD1
	Revision string `json:"revision,omitempty"` // object 2, the firmware version
	Model    string `json:"model,omitempty"`    // object 5
}

// Health is one device's state as the master sees it.
type Health struct {
	Unit     byte      `json:"unit"`
	Online   bool      `json:"online"`
	LastSeen time.Time `json:"last_seen,omitzero"`
	// Failures is the number of failed requests in a row.
	Failures      int       `json:"failures,omitempty"`
	BackedOff     bool      `json:"backed_off,omitempty"`
	NextProbe     time.Time `json:"next_probe,omitzero"`
	Requests      uint64    `json:"requests"`
	Answers       uint64    `json:"answers"`
	Timeouts      uint64    `json:"timeouts,omitempty"`
	Exceptions    uint64    `json:"exceptions,omitempty"`
	BadAnswers    uint64    `json:"bad_answers,omitempty"`    // good CRC, wrong layout or echo
	WrongUnit     uint64    `json:"wrong_unit,omitempty"`     // frames from another address while waiting for this one
	WrongFunction uint64    `json:"wrong_function,omitempty"` // frames for another function
	LastError     string    `json:"last_error,omitempty"`
	Identity      Identity  `json:"identity,omitzero"`
}

type deviceState struct {
	h       Health
	backoff time.Duration
}

// Master drives one bus: it is the only one that talks on it. It is safe
// for concurrent use; requests go out one at a time.
type Master struct {
	rtu  *RTU
	opts MasterOptions

	mu      sync.Mutex
	devices map[byte]*deviceState
}

// NewMaster returns a master over the RTU port.
func NewMaster(rtu *RTU, o MasterOptions) *Master {
	return &Master{rtu: rtu, opts: o.normal(), devices: map[byte]*deviceState{}}
}

// RTU returns the master's port.
func (m *Master) RTU() *RTU { return m.rtu }

// Options returns the options in force (defaults filled in).
func (m *Master) Options() MasterOptions { return m.opts }

func (m *Master) device(unit byte) *deviceState {
	d := m.devices[unit]
	if d == nil {
		d = &deviceState{h: Health{Unit: unit}}
		m.devices[unit] = d
	}
	return d
}

// Health returns one device's health.
func (m *Master) Health(unit byte) Health {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.device(unit).h
}

// Healths returns the health of every device the master has talked to,
// by address.
func (m *Master) Healths() []Health {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Health, 0, len(m.devices))
	for _, d := range m.devices {
		out = append(out, d.h)
	}
	slices.SortFunc(out, func(a, b Health) int { return int(a.Unit) - int(b.Unit) })
	return out
}

// BackedOff reports whether unit is offline and its next probe is not due.
func (m *Master) BackedOff(unit byte) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	d := m.device(unit)
	return d.h.BackedOff && m.rtu.clock.Now().Before(d.h.NextProbe)
}

// ProbeDue reports whether unit is offline and may be probed now.
func (m *Master) ProbeDue(unit byte) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	d := m.device(unit)
	return d.h.BackedOff && !m.rtu.clock.Now().Before(d.h.NextProbe)
}

// Timeouts returns how long the master waits for the first byte of the
// answer to req (counted from the end of the request on the wire) and
// for the whole answer once it has started.
func (m *Master) Timeouts(req Request) (firstByte, whole time.Duration) {
	line := m.rtu.line
	turn := m.opts.Turnaround
	if req.Function == FuncReadFileRecord || req.Function == FuncWriteFileRecord {
		turn = m.opts.FileTurnaround
	}
	firstByte = line.T35() + turn + line.WireTime(1) + m.opts.Slack
	whole = line.WireTime(ResponseSize(req)) + m.opts.Slack
	return firstByte, whole
}

// RequestTimeout is how long a request to a device that does not answer
// holds the bus: its wire time and the first-byte timeout (which covers
// the silence the next request needs).
func (m *Master) RequestTimeout(req Request) time.Duration {
	first, _ := m.Timeouts(req)
	return m.rtu.line.WireTime(RequestSize(req)) + first
}

// RequestSize is the ADU size of req in bytes.
func RequestSize(req Request) int {
	pdu, err := req.AppendPDU(nil)
	if err != nil {
		return MaxADU
	}
	return len(pdu) + 3
}

// ResponseSize is the ADU size of a normal answer to req; for Read Device
// Identification, whose size the request does not tell, the largest frame.
func ResponseSize(req Request) int {
	switch req.Function {
	case FuncReadHoldingRegisters, FuncReadInputRegisters:
		return 5 + 2*int(req.Quantity)
	case FuncWriteSingleRegister, FuncWriteMultipleRegisters:
		return 8
	case FuncReadFileRecord:
		n := 5
		for _, f := range req.Records {
			n += 2 + 2*int(f.Length)
		}
		return n
	case FuncWriteFileRecord:
		return RequestSize(req)
	}
	return MaxADU
}

// Do sends req to unit and returns its answer, retrying up to
// Options().Attempts times on a timeout or a bad answer. An exception
// answer is returned as the Response and an *Exception error, and is not
// retried. A backed-off device gets ErrOffline without bus time, or one
// attempt when its probe is due.
func (m *Master) Do(ctx context.Context, unit byte, req Request) (Response, error) {
	return m.do(ctx, unit, req, m.opts.Attempts)
}

// DoOnce is Do with a single attempt: for polls, which the next cycle
// repeats anyway.
func (m *Master) DoOnce(ctx context.Context, unit byte, req Request) (Response, error) {
	return m.do(ctx, unit, req, 1)
}

func (m *Master) do(ctx context.Context, unit byte, req Request, attempts int) (Response, error) {
	if unit == BroadcastUnit || unit > 247 {
		return Response{}, invalid("unit %d: use 1–247 (Broadcast for 0)", unit)
	}
	pdu, err := req.AppendPDU(nil)
	if err != nil {
		return Response{}, err
	}
	m.mu.Lock()
	d := m.device(unit)
	if d.h.BackedOff {
		if m.rtu.clock.Now().Before(d.h.NextProbe) {
			m.mu.Unlock()
			return Response{}, fmt.Errorf("unit %d: %w", unit, ErrOffline)
		}
		attempts = 1
	}
	m.mu.Unlock()
	first, whole := m.Timeouts(req)
	var last error
	for range attempts {
		if err := ctx.Err(); err != nil {
			return Response{}, err
		}
		resp, err := m.attempt(unit, req, pdu, first, whole)
		var exc *Exception
		if err == nil || errors.As(err, &exc) {
			return resp, err
		}
		last = err
		var fatal *portError
		if errors.As(err, &fatal) {
			break
		}
	}
	return Response{}, last
}

// portError marks a failure of the port itself (not of the device), which
// retrying does not cure.
type portError struct{ err error }

func (e *portError) Error() string { return e.err.Error() }
func (e *portError) Unwrap() error { return e.err }

func (m *Master) attempt(unit byte, req Request, pdu []byte, first, whole time.Duration) (Response, error) {
	var (
		resp     Response
		answer   error
		got      bool
		wrongU   uint64
		wrongF   uint64
		badCount uint64
	)
	err := m.rtu.exchange(transaction{unit: unit, pdu: pdu, firstByte: first, whole: whole}, 0, func(frame []byte) bool {
		u, p, _ := SplitADU(frame)
		if u != unit {
			wrongU++
			return false
		}
		if len(p) == 0 || Function(p[0]&^0x80) != req.Function {
			wrongF++
			return false
		}
		r, derr := DecodeResponse(p)
		if derr == nil && r.Exception == 0 {
			derr = matches(req, r)
		}
		if derr != nil {
			badCount++
			answer = fmt.Errorf("unit %d: %s: %w", unit, req.Function, derr)
			got = true
			return true
		}
		resp, got = r, true
		answer = r.Err()
		return true
	})
	now := m.rtu.clock.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	d := m.device(unit)
	d.h.Requests++
	d.h.WrongUnit += wrongU
	d.h.WrongFunction += wrongF
	d.h.BadAnswers += badCount
	switch {
	case err != nil && !errors.Is(err, ErrTimeout):
		d.h.LastError = err.Error()
		return Response{}, &portError{fmt.Errorf("unit %d: %w", unit, err)}
	case err != nil:
		d.h.Timeouts++
		m.failed(d, now, fmt.Errorf("unit %d: %s: %w", unit, req.Function, ErrTimeout))
		return Response{}, fmt.Errorf("unit %d: %s: %w", unit, req.Function, ErrTimeout)
	case got && badCount > 0:
		m.failed(d, now, answer)
		return Response{}, answer
	}
	d.h.Answers++
	d.h.LastSeen = now
	d.h.Online = true
	d.h.Failures = 0
	d.h.BackedOff = false
	d.h.NextProbe = time.Time{}
	d.backoff = 0
	if answer != nil {
		d.h.Exceptions++
		d.h.LastError = answer.Error()
	}
	return resp, answer
}

func (m *Master) failed(d *deviceState, now time.Time, err error) {
	d.h.Failures++
	d.h.LastError = err.Error()
	if d.h.Failures < m.opts.OfflineAfter {
		return
	}
	d.h.Online = false
	switch {
	case !d.h.BackedOff:
		d.backoff = m.opts.BackoffMin
	case d.backoff < m.opts.BackoffMax:
		d.backoff = min(2*d.backoff, m.opts.BackoffMax)
	}
	d.h.BackedOff = true
	d.h.NextProbe = now.Add(d.backoff)
}

// matches checks that a normal answer fits its request.
func matches(req Request, r Response) error {
	switch req.Function {
	case FuncReadHoldingRegisters, FuncReadInputRegisters:
		if len(r.Values) != int(req.Quantity) {
			return fmt.Errorf("%w: %d registers for %d asked", ErrMismatch, len(r.Values), req.Quantity)
		}
	case FuncWriteSingleRegister:
		if r.Address != req.Address || r.Values[0] != req.Values[0] {
			return fmt.Errorf("%w: echo %#04x=%#04x", ErrMismatch, r.Address, r.Values[0])
		}
	case FuncWriteMultipleRegisters:
		if r.Address != req.Address || int(r.Quantity) != len(req.Values) {
			return fmt.Errorf("%w: echo %#04x×%d", ErrMismatch, r.Address, r.Quantity)
		}
	case FuncReadFileRecord:
		if len(r.Records) != len(req.Records) {
			return fmt.Errorf("%w: %d records for %d asked", ErrMismatch, len(r.Records), len(req.Records))
		}
		for i, f := range r.Records {
			if len(f.Data) != int(req.Records[i].Length) {
				return fmt.Errorf("%w: record %d: %d registers for %d asked", ErrMismatch, i, len(f.Data), req.Records[i].Length)
			}
		}
	case FuncWriteFileRecord:
		if len(r.Records) != len(req.Records) {
			return fmt.Errorf("%w: echo of %d records", ErrMismatch, len(r.Records))
		}
		for i, f := range r.Records {
			q := req.Records[i]
			if f.File != q.File || f.Record != q.Record || !slices.Equal(f.Data, q.Data) {
				return fmt.Errorf("%w: echo of record %d differs", ErrMismatch, i)
			}
		}
	case FuncEncapsulatedInterface:
		if r.DeviceID.Code != req.IDCode {
			return fmt.Errorf("%w: identification code %d for %d", ErrMismatch, r.DeviceID.Code, req.IDCode)
		}
	}
	return nil
}

// Broadcast sends a write to every device (unit 0) and waits the
// turnaround delay; nobody answers. PROTOCOL.md allows it for brightness
// and time only.
func (m *Master) Broadcast(ctx context.Context, req Request) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	switch req.Function {
	case FuncWriteSingleRegister, FuncWriteMultipleRegisters, FuncWriteFileRecord:
	default:
		return invalid("broadcast of %s: only writes", req.Function)
	}
	pdu, err := req.AppendPDU(nil)
	if err != nil {
		return err
	}
	return m.rtu.exchange(transaction{unit: BroadcastUnit, pdu: pdu}, m.opts.BroadcastDelay, nil)
}

// ReadHoldingRegisters reads qty holding registers from addr (03).
func (m *Master) ReadHoldingRegisters(ctx context.Context, unit byte, addr, qty uint16) ([]uint16, error) {
	r, err := m.Do(ctx, unit, ReadHolding(addr, qty))
	return r.Values, err
}

// ReadInputRegisters reads qty input registers from addr (04).
func (m *Master) ReadInputRegisters(ctx context.Context, unit byte, addr, qty uint16) ([]uint16, error) {
	r, err := m.Do(ctx, unit, ReadInput(addr, qty))
	return r.Values, err
}

// WriteRegister writes one holding register (06).
func (m *Master) WriteRegister(ctx context.Context, unit byte, addr, value uint16) error {
	_, err := m.Do(ctx, unit, WriteRegister(addr, value))
	return err
}

// WriteRegisters writes consecutive holding registers from addr (0x10).
func (m *Master) WriteRegisters(ctx context.Context, unit byte, addr uint16, values ...uint16) error {
	_, err := m.Do(ctx, unit, WriteRegisters(addr, values...))
	return err
}

// ReadFileRecord reads length registers of one record (0x14).
func (m *Master) ReadFileRecord(ctx context.Context, unit byte, file, record, length uint16) ([]uint16, error) {
	r, err := m.Do(ctx, unit, ReadFile(file, record, length))
	if err != nil {
		return nil, err
	}
	return r.Records[0].Data, nil
}

// WriteFileRecord writes one record (0x15).
func (m *Master) WriteFileRecord(ctx context.Context, unit byte, file, record uint16, data []uint16) error {
	_, err := m.Do(ctx, unit, WriteFile(file, record, data))
	return err
}

// ReadIdentification reads the regular device identification (0x2B/0x0E,
// falling back to basic for devices that only have that), follows
// more-follows, and keeps the result in the device's Health.
func (m *Master) ReadIdentification(ctx context.Context, unit byte) (Identity, error) {
	objs := map[byte]string{}
	code, next := DeviceIDRegular, byte(0)
	for range 8 {
		r, err := m.Do(ctx, unit, ReadDeviceID(code, next))
		if code == DeviceIDRegular && (IsException(err, IllegalDataValue) || IsException(err, IllegalFunction)) && len(objs) == 0 {
			code = DeviceIDBasic
			continue
		}
		if err != nil {
			return Identity{}, err
		}
		for _, o := range r.DeviceID.Objects {
			objs[o.ID] = string(o.Value)
		}
		if !r.DeviceID.MoreFollows || r.DeviceID.NextObject <= next {
			break
		}
		next = r.DeviceID.NextObject
	}
	id := Identity{Vendor: objs[0], Product: objs[1], Revision: objs[2], Model: objs[5]}
	m.mu.Lock()
	m.device(unit).h.Identity = id
	m.mu.Unlock()
	return id, nil
}
