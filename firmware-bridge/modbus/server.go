package modbus

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/jonboulle/clockwork"
)

// Handler answers requests on the device side. It is called with every
// well-formed request for an address Units accepts, and with broadcast
// writes (unit 0; 06, 0x10, 0x15), whose answer is discarded. A request
// the decoder refused never reaches it: the server answers the exception
// itself.
type Handler interface {
	ServeModbus(unit byte, req Request) Response
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(unit byte, req Request) Response

func (f HandlerFunc) ServeModbus(unit byte, req Request) Response { return f(unit, req) }

// ServerStats counts what a server saw.
type ServerStats struct {
	ReaderStats
	Requests   uint64 // for our units, answered
	Broadcasts uint64
	Exceptions uint64 // answered with an exception
	NotOurs    uint64 // good frames for other addresses, or not requests (function 0x80–0xFF)
}

// Server is the device side of a bus port: it reads requests, hands
// those for its units to Handler and sends the answers. The device
// emulator runs one per pseudo-terminal.
type Server struct {
	Port      Port
	Line      Line
	Handler   Handler
	Units     func(unit byte) bool // nil: every unit 1–247
	Direction Direction            // nil: AutoDirection
	Clock     clockwork.Clock      // nil: the real clock

	mu    sync.Mutex
	stats ServerStats
}

// Stats returns the server's counters.
func (s *Server) Stats() ServerStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Serve answers requests until ctx ends or the port fails.
func (s *Server) Serve(ctx context.Context) error {
	line := s.Line.normal()
	dir := s.Direction
	if dir == nil {
		dir = AutoDirection{}
	}
	r := NewRequestReader(s.Port, line, s.Clock)
	var out []byte
	for ctx.Err() == nil {
		frame, _, err := r.readFrame(r.clock.Now().Add(r.idle), 0)
		s.mu.Lock()
		s.stats.ReaderStats = r.Stats()
		s.mu.Unlock()
		if errors.Is(err, ErrTimeout) {
			continue
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
		unit, pdu, _ := SplitADU(frame)
		if unit > 247 || (unit != BroadcastUnit && s.Units != nil && !s.Units(unit)) {
			s.count(func(st *ServerStats) { st.NotOurs++ })
			continue
		}
		if len(pdu) > 0 && pdu[0] >= 0x80 {
			// Function codes 0x80–0xFF are exception answers, never
			// requests: nothing sensible can be said back.
			s.count(func(st *ServerStats) { st.NotOurs++ })
			continue
		}
		req, derr := DecodeRequest(pdu)
		if unit == BroadcastUnit {
			// Only writes mean anything to everyone at once; nobody answers.
			if derr == nil && isWrite(req.Function) {
				s.Handler.ServeModbus(unit, req)
			}
			s.count(func(st *ServerStats) { st.Broadcasts++ })
			continue
		}
		var resp Response
		var exc *Exception
		switch {
		case errors.As(derr, &exc):
			resp = ExceptionResponse(exc.Function, exc.Code)
		case derr != nil:
			continue
		default:
			resp = s.Handler.ServeModbus(unit, req)
			if resp.Function == 0 {
				resp.Function = req.Function
			}
		}
		out, err = resp.AppendPDU(out[:0])
		if err != nil {
			// The handler built an answer the specification cannot carry:
			// that is the device failing.
			if out, err = ExceptionResponse(req.Function, ServerDeviceFailure).AppendPDU(out[:0]); err != nil {
				continue
			}
		}
		frame = AppendADU(nil, unit, out)
		// The specification wants t3.5 of silence between the request and
		// its answer; a frame cut by length ends before that silence.
		if err := r.settle(); err != nil {
			return err
		}
		// Counted before the answer leaves, so a master that has read it
		// finds it counted.
		s.count(func(st *ServerStats) {
			st.Requests++
			if resp.Exception != 0 {
				st.Exceptions++
			}
		})
		if err := dir.Transmit(); err != nil {
			return err
		}
		werr := writeFrame(s.Port, frame)
		if err := errors.Join(werr, dir.Receive()); err != nil {
			return fmt.Errorf("modbus: server: send: %w", err)
		}
	}
	return ctx.Err()
}

func (s *Server) count(f func(*ServerStats)) {
	s.mu.Lock()
	f(&s.stats)
	s.mu.Unlock()
}

func isWrite(fn Function) bool {
	return fn == FuncWriteSingleRegister || fn == FuncWriteMultipleRegisters || fn == FuncWriteFileRecord
}
