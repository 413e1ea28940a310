package modbus

import (
	"fmt"
	"io"
	"time"

	"github.com/jonboulle/clockwork"
)

// Port is the part of a serial port the RTU layer uses. go.bug.st/serial's
// Port has it; modbustest.Bus simulates it in virtual time.
type Port interface {
	io.ReadWriter
	// SetReadTimeout makes a Read that sees no byte for t return 0, nil.
	// t = 0 returns at once with what is already buffered.
	SetReadTimeout(t time.Duration) error
	// Drain returns when every written byte has left the transmitter.
	Drain() error
}

// ReaderStats counts what a FrameReader threw away.
type ReaderStats struct {
	Frames       uint64 // good frames returned
	GarbageBytes uint64 // bytes dropped while resynchronising
	BadFrames    uint64 // runs of dropped bytes (each is one corrupt frame or burst of noise)
}

// FrameReader cuts the byte stream of a port into RTU frames.
//
// A frame ends where its function says (the length follows from its
// first bytes) and its CRC checks. Bytes that do not make a good frame
// are dropped one at a time until one does (resynchronisation by CRC).
// A silence of at least the configured gap (t3.5 by default, measured
// with the port's read timeout) ends whatever came before it: a frame of
// a function whose length only silence tells (a request for an unknown
// function, which a device must still answer with exception 01), or
// garbage, which is dropped. Bytes before a silence that could still be
// the start of a longer frame are kept, because USB adapters deliver a
// frame in bursts with gaps the wire never had; a good frame starting
// right after the silence wins over them.
type FrameReader struct {
	port  Port
	kind  frameKind
	gap   time.Duration
	idle  time.Duration
	clock clockwork.Clock

	buf      []byte
	boundary []int // offsets in buf where a silence was seen
	scratch  [MaxADU]byte
	timeout  time.Duration // the port's read timeout as last set
	stats    ReaderStats
	// LastByte is when the last byte arrived (on the reader's clock).
	LastByte time.Time
}

// NewRequestReader reads requests (the device side); NewResponseReader
// reads answers (the master side). gap is the silence that ends a frame;
// idle how long one Read waits while nothing is buffered.
func newFrameReader(p Port, kind frameKind, gap, idle time.Duration, clock clockwork.Clock) *FrameReader {
	if clock == nil {
		clock = clockwork.NewRealClock()
	}
	return &FrameReader{port: p, kind: kind, gap: gap, idle: idle, clock: clock, timeout: -2}
}

// NewRequestReader returns a reader of request frames, for a device.
func NewRequestReader(p Port, line Line, clock clockwork.Clock) *FrameReader {
	return newFrameReader(p, requests, line.T35(), 100*time.Millisecond, clock)
}

// NewResponseReader returns a reader of response frames, for a master.
func NewResponseReader(p Port, line Line, clock clockwork.Clock) *FrameReader {
	return newFrameReader(p, responses, line.T35(), 100*time.Millisecond, clock)
}

// Stats returns the reader's counters.
func (r *FrameReader) Stats() ReaderStats { return r.stats }

// Buffered is how many bytes wait in the reader.
func (r *FrameReader) Buffered() int { return len(r.buf) }

// Discard drops everything buffered, counting it as garbage.
func (r *FrameReader) Discard() {
	r.drop(len(r.buf))
}

func (r *FrameReader) drop(n int) {
	if n <= 0 {
		return
	}
	r.stats.GarbageBytes += uint64(n)
	r.stats.BadFrames++
	r.buf = r.buf[:copy(r.buf, r.buf[n:])]
	b := r.boundary[:0]
	for _, o := range r.boundary {
		if o-n > 0 {
			b = append(b, o-n)
		}
	}
	r.boundary = b
}

func (r *FrameReader) take(start, end int) []byte {
	r.drop(start)
	n := end - start
	f := append([]byte(nil), r.buf[:n]...)
	r.buf = r.buf[:copy(r.buf, r.buf[n:])]
	b := r.boundary[:0]
	for _, o := range r.boundary {
		if o-n > 0 {
			b = append(b, o-n)
		}
	}
	r.boundary = b
	r.stats.Frames++
	return f
}

// extract returns a good frame from the buffer if there is one. At a
// silence it also ends frames of unknown length and drops what cannot be
// completed.
func (r *FrameReader) extract(silence bool) []byte {
	for len(r.buf) > 0 {
		n := frameLength(r.kind, r.buf)
		switch {
		case n > 0 && n <= len(r.buf):
			if n >= 4 && n <= MaxADU && crcOK(r.buf[:n]) {
				return r.take(0, n)
			}
			r.drop(1)
			continue
		case n < 0 && r.kind == responses:
			r.drop(1)
			continue
		}
		// The frame at the front is incomplete, or (requests) of a length
		// only silence tells. A good frame that began at a silence wins.
		for _, o := range r.boundary {
			if m := frameLength(r.kind, r.buf[o:]); m > 0 && o+m <= len(r.buf) && m >= 4 && crcOK(r.buf[o:o+m]) {
				return r.take(o, o+m)
			}
		}
		if !silence {
			if len(r.buf) > MaxADU || (n > MaxADU) {
				r.drop(1)
				continue
			}
			return nil
		}
		if n < 0 && len(r.buf) <= MaxADU && crcOK(r.buf) {
			return r.take(0, len(r.buf))
		}
		// At a silence, a complete good frame anywhere in the buffer beats
		// an incomplete one at its front: that was noise that looked like
		// the start of a long frame.
		for o := 1; o < len(r.buf); o++ {
			m := frameLength(r.kind, r.buf[o:])
			if m >= 4 && m <= MaxADU && o+m <= len(r.buf) && crcOK(r.buf[o:o+m]) {
				return r.take(o, o+m)
			}
			if m < 0 && r.kind == requests && len(r.buf)-o >= 4 && crcOK(r.buf[o:]) {
				return r.take(o, len(r.buf))
			}
		}
		if n > MaxADU || n < 0 {
			r.drop(1)
			continue
		}
		// A plausible frame still short of its length: keep it, in case
		// the silence was a USB adapter's, and note the boundary.
		if len(r.boundary) == 0 || r.boundary[len(r.boundary)-1] != len(r.buf) {
			if len(r.boundary) == 8 {
				r.boundary = r.boundary[1:]
			}
			r.boundary = append(r.boundary, len(r.buf))
		}
		return nil
	}
	return nil
}

func (r *FrameReader) setTimeout(t time.Duration) error {
	if t == r.timeout {
		return nil
	}
	r.timeout = t
	return r.port.SetReadTimeout(t)
}

// ReadFrame returns the next good frame, or ErrTimeout once deadline (on
// the reader's clock) has passed without one; a zero deadline waits for
// ever. Bytes left after a frame stay buffered for the next call.
func (r *FrameReader) ReadFrame(deadline time.Time) ([]byte, error) {
	f, _, err := r.readFrame(deadline, 0)
	return f, err
}

// readFrame is ReadFrame whose deadline moves, once the first byte has
// arrived, to at least that moment plus extend: the time a whole answer
// may take once it has started. It returns the deadline in force.
func (r *FrameReader) readFrame(deadline time.Time, extend time.Duration) ([]byte, time.Time, error) {
	for {
		if f := r.extract(false); f != nil {
			return f, deadline, nil
		}
		wait := r.idle
		if len(r.buf) > 0 {
			wait = r.gap
		}
		if !deadline.IsZero() {
			left := deadline.Sub(r.clock.Now())
			if left <= 0 {
				if f := r.extract(true); f != nil {
					return f, deadline, nil
				}
				return nil, deadline, ErrTimeout
			}
			wait = min(wait, left)
		}
		if err := r.setTimeout(wait); err != nil {
			return nil, deadline, fmt.Errorf("modbus: read timeout: %w", err)
		}
		n, err := r.port.Read(r.scratch[:])
		if n > 0 {
			r.LastByte = r.clock.Now()
			r.buf = append(r.buf, r.scratch[:n]...)
			if extend > 0 && !deadline.IsZero() {
				if d := r.LastByte.Add(extend); d.After(deadline) {
					deadline = d
				}
				extend = 0
			}
		}
		if err != nil {
			return nil, deadline, fmt.Errorf("modbus: read: %w", err)
		}
		if n == 0 && len(r.buf) > 0 && wait >= r.gap {
			if f := r.extract(true); f != nil {
				return f, deadline, nil
			}
		}
	}
}

// settle waits until the line has been silent for the gap since the last
// byte; bytes that arrive meanwhile are kept for the next ReadFrame.
func (r *FrameReader) settle() error {
	for {
		wait := r.gap - r.clock.Since(r.LastByte)
		if wait <= 0 {
			return nil
		}
		if err := r.setTimeout(wait); err != nil {
			return err
		}
		n, err := r.port.Read(r.scratch[:])
		if n > 0 {
			r.LastByte = r.clock.Now()
			r.buf = append(r.buf, r.scratch[:n]...)
		}
		if err != nil {
			return fmt.Errorf("modbus: read: %w", err)
		}
		if n == 0 {
			return nil
		}
	}
}
