package emulator

import (
	"context"
	"fmt"

	"github.com/cherga/kiosk/firmware-bridge/modbus"
)

// busPort is the Bus's side of the line: it hears what the master sends
// as every device would (frames with a bad CRC are counted), and spoils
// answers as the faults say.
type busPort struct {
	modbus.Port
	b     *Bus
	ctx   context.Context
	rx    frameCounter
	noise uint32
}

func (p *busPort) Read(buf []byte) (int, error) {
	if p.ctx.Err() != nil {
		return 0, errStopped
	}
	n, err := p.Port.Read(buf)
	if bad := p.rx.heard(buf[:max(n, 0)]); bad > 0 {
		for range bad {
			for _, d := range p.b.devs {
				d.crcError()
			}
		}
	}
	return n, err
}

func (p *busPort) Write(frame []byte) (int, error) {
	b := p.b
	b.mu.Lock()
	plan := b.plan
	b.plan = answerPlan{}
	b.mu.Unlock()
	if plan.drop || len(frame) < 4 {
		// Nobody answers; or the server could not encode an answer (to
		// a "request" whose function has bit 7 set, which is no request):
		// silence, not a frame without a PDU.
		return len(frame), nil
	}
	out := append([]byte(nil), frame...)
	if plan.collision && len(out) > 0 {
		out[len(out)/2] ^= 0x5A
	}
	if len(plan.devs) > 0 {
		d := plan.devs[0]
		d.mu.Lock()
		f, ok := d.takeFault(false)
		d.mu.Unlock()
		if ok {
			switch f.Kind {
			case FaultCorrupt:
				if len(out) > 0 {
					out[len(out)/2] ^= 0x10
				}
			case FaultSlow:
				select {
				case <-b.o.Clock.After(f.Delay):
				case <-p.ctx.Done():
					return 0, errStopped
				}
			case FaultGarbage:
				before := p.garbage(f.Bytes / 2)
				out = append(append(before, out...), p.garbage(f.Bytes-f.Bytes/2)...)
			}
		}
	}
	for n := 0; n < len(out); {
		m, err := p.Port.Write(out[n:])
		if err != nil {
			return 0, fmt.Errorf("emulator: write: %w", err)
		}
		if m == 0 {
			return 0, fmt.Errorf("emulator: write: port takes no bytes")
		}
		n += m
	}
	return len(frame), nil
}

// garbage is n bytes of noise (xorshift32).
func (p *busPort) garbage(n int) []byte {
	out := make([]byte, n)
	for i := range out {
		p.noise ^= p.noise << 13
		p.noise ^= p.noise >> 17
		p.noise ^= p.noise << 5
		out[i] = byte(p.noise)
	}
	return out
}

// frameCounter cuts what the devices hear into frames the way the
// firmware does — bytes up to a silence are one frame — and counts those
// that are not good frames (CRC_ERRORS). A Read that returns nothing is a
// silence: the server's reader only waits that long when t3.5 (or more)
// passes without a byte. Good frames are taken as soon as their length
// says they are complete, as the server's reader takes them.
type frameCounter struct {
	buf []byte
}

// maxHeld bounds what is kept while no silence comes (a flooding line).
const maxHeld = 2 * modbus.MaxADU

// heard takes the bytes of one Read and returns how many bad frames ended.
func (c *frameCounter) heard(b []byte) int {
	bad := 0
	if len(b) == 0 {
		if len(c.buf) > 0 && !(len(c.buf) >= 4 && len(c.buf) <= modbus.MaxADU && modbus.CRC16(c.buf) == 0) {
			bad++
		}
		c.buf = c.buf[:0]
		return bad
	}
	c.buf = append(c.buf, b...)
	for len(c.buf) > 0 {
		n := requestLength(c.buf)
		if n < 4 || n > modbus.MaxADU || n > len(c.buf) || modbus.CRC16(c.buf[:n]) != 0 {
			break
		}
		c.buf = c.buf[:copy(c.buf, c.buf[n:])]
	}
	if len(c.buf) > maxHeld {
		bad++
		c.buf = c.buf[:0]
	}
	return bad
}

// requestLength is the length of the request frame at b[0] as far as b
// tells it: > 0 the frame's length, 0 more bytes needed, -1 a function
// whose length only silence tells.
func requestLength(b []byte) int {
	if len(b) < 2 {
		return 0
	}
	switch modbus.Function(b[1]) {
	case modbus.FuncReadHoldingRegisters, modbus.FuncReadInputRegisters, modbus.FuncWriteSingleRegister:
		return 8
	case modbus.FuncWriteMultipleRegisters:
		if len(b) < 7 {
			return 0
		}
		return 9 + int(b[6])
	case modbus.FuncReadFileRecord, modbus.FuncWriteFileRecord:
		if len(b) < 3 {
			return 0
		}
		return 5 + int(b[2])
	case modbus.FuncEncapsulatedInterface:
		return 7
	}
	return -1
}
