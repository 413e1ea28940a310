package modbus

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
)

// RTUOptions configure one bus port. The zero value is 19200 8E1, a USB
// adapter that switches direction by itself, the real clock.
type RTUOptions struct {
	Line      Line
	Direction Direction       // nil: AutoDirection
	Clock     clockwork.Clock // nil: the real clock
	// MaxQuietWait bounds how long a transmission waits for the line to
	// fall silent (a device flooding the bus must not stop the master);
	// after it the frame goes out anyway and BusBusy is counted.
	// Default 20 × t3.5.
	MaxQuietWait time.Duration
	// Echo: the adapter hears its own transmission (RE held low while
	// transmitting); the echo is read back and checked.
	Echo bool
}

// RTUStats counts the line's troubles.
type RTUStats struct {
	ReaderStats
	Sent       uint64 // frames transmitted
	NoiseBytes uint64 // bytes heard while waiting for silence before a transmission
	BusBusy    uint64 // transmissions that went out without t3.5 of silence (flood)
	EchoErrors uint64
}

// RTU is one Modbus RTU port: it frames, paces and sends requests and
// reads answers. One transaction at a time; safe for concurrent use.
type RTU struct {
	mu     sync.Mutex
	port   Port
	opts   RTUOptions
	line   Line
	clock  clockwork.Clock
	dir    Direction
	reader *FrameReader
	out    []byte

	lastActivity time.Time
	stats        RTUStats
}

// NewRTU returns the RTU layer over port.
func NewRTU(port Port, o RTUOptions) *RTU {
	o.Line = o.Line.normal()
	if o.Clock == nil {
		o.Clock = clockwork.NewRealClock()
	}
	if o.Direction == nil {
		o.Direction = AutoDirection{}
	}
	if o.MaxQuietWait == 0 {
		o.MaxQuietWait = 20 * o.Line.T35()
	}
	return &RTU{
		port: port, opts: o, line: o.Line, clock: o.Clock, dir: o.Direction,
		reader: NewResponseReader(port, o.Line, o.Clock),
	}
}

// Line returns the port's line settings.
func (t *RTU) Line() Line { return t.line }

// Clock returns the port's clock.
func (t *RTU) Clock() clockwork.Clock { return t.clock }

// Stats returns the port's counters.
func (t *RTU) Stats() RTUStats {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.stats
	s.ReaderStats = t.reader.Stats()
	return s
}

// quiet waits until the line has been silent for t3.5, reading and
// counting whatever is heard meanwhile (late answers, a babbling device),
// for at most MaxQuietWait.
func (t *RTU) quiet() error {
	t35 := t.line.T35()
	if n := t.reader.Buffered(); n > 0 {
		t.stats.NoiseBytes += uint64(n)
		t.reader.buf = t.reader.buf[:0]
		t.reader.boundary = t.reader.boundary[:0]
	}
	start := t.clock.Now()
	var buf [MaxADU]byte
	for {
		now := t.clock.Now()
		wait := t35 - now.Sub(t.lastActivity)
		if wait < 0 {
			wait = 0
		}
		if err := t.reader.setTimeout(wait); err != nil {
			return err
		}
		n, err := t.port.Read(buf[:])
		if err != nil {
			return fmt.Errorf("modbus: read: %w", err)
		}
		if n > 0 {
			t.stats.NoiseBytes += uint64(n)
			t.lastActivity = t.clock.Now()
			if t.clock.Since(start) >= t.opts.MaxQuietWait {
				t.stats.BusBusy++
				return nil
			}
			continue
		}
		if wait == 0 || t.clock.Since(t.lastActivity) >= t35 {
			return nil
		}
	}
}

// send transmits one frame after t3.5 of silence, with the direction
// raised around it. The caller holds t.mu.
func (t *RTU) send(frame []byte) error {
	if err := t.quiet(); err != nil {
		return err
	}
	if err := t.dir.Transmit(); err != nil {
		return err
	}
	werr := writeFrame(t.port, frame)
	// Release the bus whatever happened: a stuck driver would silence
	// every device on it.
	rerr := t.dir.Receive()
	t.lastActivity = t.clock.Now()
	if err := errors.Join(werr, rerr); err != nil {
		return fmt.Errorf("modbus: send: %w", err)
	}
	t.stats.Sent++
	if t.opts.Echo {
		return t.readEcho(frame)
	}
	return nil
}

func (t *RTU) readEcho(frame []byte) error {
	got := make([]byte, 0, len(frame))
	deadline := t.clock.Now().Add(t.line.WireTime(len(frame)) + 20*time.Millisecond)
	var buf [MaxADU]byte
	for len(got) < len(frame) && t.clock.Now().Before(deadline) {
		if err := t.reader.setTimeout(deadline.Sub(t.clock.Now())); err != nil {
			return err
		}
		n, err := t.port.Read(buf[:len(frame)-len(got)])
		if err != nil {
			return fmt.Errorf("modbus: read echo: %w", err)
		}
		got = append(got, buf[:n]...)
	}
	if string(got) != string(frame) {
		t.stats.EchoErrors++
		return fmt.Errorf("modbus: echo % X differs from the frame sent", got)
	}
	return nil
}

// Transaction is one request sent and its answer awaited. Receive is
// called for every good frame that arrives until it returns done or the
// deadline passes.
type transaction struct {
	unit byte
	pdu  []byte
	// firstByte is how long to wait after the transmission for the
	// answer to start; whole how long the complete answer may take once
	// it has started.
	firstByte, whole time.Duration
}

// exchange sends tr and hands every good frame to accept until accept
// says done, or the time is up (ErrTimeout). For a broadcast it waits the
// turnaround delay and returns.
func (t *RTU) exchange(tr transaction, turnaround time.Duration, accept func(frame []byte) (done bool)) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.out = AppendADU(t.out[:0], tr.unit, tr.pdu)
	if len(t.out) > MaxADU {
		return invalid("frame of %d bytes", len(t.out))
	}
	if err := t.send(t.out); err != nil {
		return err
	}
	if tr.unit == BroadcastUnit {
		// Nobody answers; give every device time to act. Read meanwhile,
		// so the wait is on the port (and virtual in tests).
		return t.idle(turnaround)
	}
	deadline := t.clock.Now().Add(tr.firstByte)
	extend := tr.whole
	for {
		f, d, err := t.reader.readFrame(deadline, extend)
		if d != deadline {
			deadline, extend = d, 0
		}
		if t.reader.LastByte.After(t.lastActivity) {
			t.lastActivity = t.reader.LastByte
		}
		if err != nil {
			if errors.Is(err, ErrTimeout) {
				t.reader.Discard()
			}
			return err
		}
		if accept(f) {
			return nil
		}
	}
}

func (t *RTU) idle(d time.Duration) error {
	end := t.clock.Now().Add(d)
	var buf [MaxADU]byte
	for left := d; left > 0; left = end.Sub(t.clock.Now()) {
		if err := t.reader.setTimeout(left); err != nil {
			return err
		}
		n, err := t.port.Read(buf[:])
		if err != nil {
			return fmt.Errorf("modbus: read: %w", err)
		}
		if n > 0 {
			t.stats.NoiseBytes += uint64(n)
			t.lastActivity = t.clock.Now()
		}
	}
	return nil
}
