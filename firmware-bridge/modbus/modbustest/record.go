package modbustest

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/cherga/kiosk/firmware-bridge/modbus"
)

// Recorder wraps a real port and writes its traffic as a session file:
// one line per transmission, "> " and the bytes the master sent, "< " and
// the bytes that came back before the next transmission, in hex. A
// session recorded against real hardware (or an independent
// implementation) is kept in testdata and replayed with Replay.
type Recorder struct {
	Port modbus.Port
	W    io.Writer

	mu sync.Mutex
	rx []byte
}

func (r *Recorder) flush() {
	if len(r.rx) > 0 {
		fmt.Fprintf(r.W, "< % X\n", r.rx)
		r.rx = r.rx[:0]
	}
}

// Flush writes out what was received since the last transmission.
func (r *Recorder) Flush() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.flush()
}

func (r *Recorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	r.flush()
	fmt.Fprintf(r.W, "> % X\n", p)
	r.mu.Unlock()
	return r.Port.Write(p)
}

func (r *Recorder) Read(p []byte) (int, error) {
	n, err := r.Port.Read(p)
	if n > 0 {
		r.mu.Lock()
		r.rx = append(r.rx, p[:n]...)
		r.mu.Unlock()
	}
	return n, err
}

func (r *Recorder) SetReadTimeout(t time.Duration) error { return r.Port.SetReadTimeout(t) }
func (r *Recorder) Drain() error                         { return r.Port.Drain() }

type exchange struct {
	tx []byte
	rx []byte
}

// Replay is a port that plays a recorded session back: each transmission
// must equal the recorded one, and is answered with what was recorded
// after it. A Read with nothing left to deliver times out at once,
// moving the clock by the read timeout.
type Replay struct {
	mu      sync.Mutex
	clock   *clockwork.FakeClock
	steps   []exchange
	next    int
	rx      []byte
	timeout time.Duration
	err     error
}

// NewReplay parses a session file.
func NewReplay(session []byte) (*Replay, error) {
	r := &Replay{clock: clockwork.NewFakeClockAt(time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC))}
	s := bufio.NewScanner(bytes.NewReader(session))
	for line := 1; s.Scan(); line++ {
		text := strings.TrimSpace(s.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		if len(text) < 2 || (text[0] != '>' && text[0] != '<') {
			return nil, fmt.Errorf("modbustest: session line %d: want > or <", line)
		}
		b, err := hex.DecodeString(strings.ReplaceAll(text[1:], " ", ""))
		if err != nil {
			return nil, fmt.Errorf("modbustest: session line %d: %w", line, err)
		}
		switch {
		case text[0] == '>':
			r.steps = append(r.steps, exchange{tx: b})
		case len(r.steps) == 0:
			return nil, fmt.Errorf("modbustest: session line %d: an answer before any request", line)
		default:
			last := &r.steps[len(r.steps)-1]
			last.rx = append(last.rx, b...)
		}
	}
	return r, s.Err()
}

// Clock is the replay's virtual clock.
func (r *Replay) Clock() *clockwork.FakeClock { return r.clock }

// Err is the first difference from the session, if any.
func (r *Replay) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// Done reports whether every recorded transmission was replayed.
func (r *Replay) Done() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.next == len(r.steps)
}

func (r *Replay) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.next >= len(r.steps) {
		r.err = fmt.Errorf("modbustest: replay: transmission % X after the end of the session", p)
		return 0, r.err
	}
	st := r.steps[r.next]
	if !bytes.Equal(st.tx, p) {
		r.err = fmt.Errorf("modbustest: replay: step %d sent % X, recorded % X", r.next, p, st.tx)
		return 0, r.err
	}
	r.next++
	r.rx = append(r.rx, st.rx...)
	return len(p), nil
}

func (r *Replay) Read(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.rx) == 0 {
		if r.timeout > 0 {
			r.clock.Advance(r.timeout)
		}
		return 0, nil
	}
	n := copy(p, r.rx)
	r.rx = r.rx[n:]
	return n, nil
}

func (r *Replay) SetReadTimeout(t time.Duration) error {
	r.mu.Lock()
	r.timeout = t
	r.mu.Unlock()
	return nil
}

func (r *Replay) Drain() error { return nil }
