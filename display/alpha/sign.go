package alpha

import (
	"errors"
	"io"
	"sync"
)

// Sign is a simulated Alpha sign: it reads frames from its end of the
// line and shows the TEXT file A it was last sent. It keeps count of what
// it dropped, as a real sign drops a frame whose checksum is wrong.
type Sign struct {
	Address string // "" answers every address
	Charset Charset

	mu       sync.Mutex
	lines    []string
	received int
	dropped  int
	lastErr  error
	frames   chan Frame
}

// NewSign makes a simulated sign at address.
func NewSign(address string, cs Charset) *Sign {
	return &Sign{Address: address, Charset: cs, frames: make(chan Frame, 64)}
}

// Frames delivers every frame the sign took (addressed to it and intact).
func (s *Sign) Frames() <-chan Frame { return s.frames }

// Serve reads frames from line until it fails; io.EOF and a closed line
// return nil.
func (s *Sign) Serve(line io.Reader) error {
	r := NewReader(line)
	for {
		f, err := r.Next()
		if err != nil {
			if errors.Is(err, ErrShort) || errors.Is(err, ErrFraming) || errors.Is(err, ErrChecksum) || errors.Is(err, ErrTooLong) {
				s.mu.Lock()
				s.dropped++
				s.lastErr = err
				s.mu.Unlock()
				continue
			}
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		if s.Address != "" && f.Address != BroadcastAddr && f.Address != s.Address {
			continue
		}
		s.mu.Lock()
		s.received++
		if f.Command == CmdWriteText && f.Label == FileA {
			s.lines = Decode(f.Text(), s.Charset)
		}
		s.mu.Unlock()
		select {
		case s.frames <- f:
		default:
		}
	}
}

// Lines is what the sign shows now.
func (s *Sign) Lines() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.lines...)
}

// Dropped is how many frames the sign threw away, and the last reason.
func (s *Sign) Dropped() (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dropped, s.lastErr
}
