package modbus

import (
	"errors"
	"fmt"
	"syscall"
)

// writeFrame writes all of frame and waits until it has left the port.
// go.bug.st/serial opens its descriptor non-blocking and does not retry:
// a Write may be short, fail with EAGAIN when the driver's buffer is
// full, or fail with EINTR when one of the Go runtime's signals lands,
// and Drain (TCSBRK, which blocks until the bytes are out) may fail with
// EINTR too. None of those is a dead port, so they are retried here, not
// by every caller.
func writeFrame(p Port, frame []byte) error {
	const maxStalls = 100
	stalls := 0
	for n := 0; n < len(frame); {
		m, err := p.Write(frame[n:])
		n += max(m, 0)
		switch {
		case err == nil && m > 0:
			stalls = 0
			continue
		case err == nil, errors.Is(err, syscall.EINTR):
		case errors.Is(err, syscall.EAGAIN):
			// The output buffer is full: wait for it to empty.
			if err := drain(p); err != nil {
				return err
			}
		default:
			return fmt.Errorf("modbus: write: %w", err)
		}
		if stalls++; stalls > maxStalls {
			return fmt.Errorf("modbus: write: %d of %d bytes written, port makes no progress", n, len(frame))
		}
	}
	return drain(p)
}

func drain(p Port) error {
	for range 100 {
		err := p.Drain()
		if !errors.Is(err, syscall.EINTR) {
			if err != nil {
				return fmt.Errorf("modbus: drain: %w", err)
			}
			return nil
		}
	}
	return errors.New("modbus: drain: interrupted 100 times")
}
