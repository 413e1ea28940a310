package modbus

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Parity of the serial character.
type Parity byte

const (
	ParityEven Parity = 'E'
	ParityOdd  Parity = 'O'
	ParityNone Parity = 'N'
)

// Line is the serial line setting of a bus: baud rate, parity, stop
// bits; always 8 data bits. The zero value is the Modbus default, 19200
// 8E1.
type Line struct {
	Baud     int
	Parity   Parity
	StopBits int
}

// DefaultLine is 19200 8E1, the Modbus default and ours.
var DefaultLine = Line{Baud: 19200, Parity: ParityEven, StopBits: 1}

// PTYLine is what pseudo-terminals get: they refuse or ignore parity, and
// with no parity the specification asks for two stop bits.
var PTYLine = Line{Baud: 19200, Parity: ParityNone, StopBits: 2}

// normal fills in the defaults of a zero Line.
func (l Line) normal() Line {
	if l.Baud == 0 {
		l.Baud = DefaultLine.Baud
	}
	if l.Parity == 0 {
		l.Parity = DefaultLine.Parity
	}
	if l.StopBits == 0 {
		l.StopBits = 1
	}
	return l
}

// ParseLine reads "19200 8E1", "9600,8N2", "115200" (8E1 implied).
func ParseLine(s string) (Line, error) {
	f := strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' || r == '-' })
	if len(f) < 1 || len(f) > 2 {
		return Line{}, fmt.Errorf("modbus: line %q: want like \"19200 8E1\"", s)
	}
	baud, err := strconv.Atoi(f[0])
	if err != nil || baud < 300 || baud > 4000000 {
		return Line{}, fmt.Errorf("modbus: line %q: baud rate %q", s, f[0])
	}
	l := Line{Baud: baud, Parity: ParityEven, StopBits: 1}
	if len(f) == 2 {
		c := strings.ToUpper(f[1])
		if len(c) != 3 || c[0] != '8' || !strings.ContainsRune("EON", rune(c[1])) || (c[2] != '1' && c[2] != '2') {
			return Line{}, fmt.Errorf("modbus: line %q: format %q, want 8E1, 8O1, 8N2 or 8N1", s, f[1])
		}
		l.Parity, l.StopBits = Parity(c[1]), int(c[2]-'0')
	}
	return l, l.Validate()
}

// Validate checks the line's fields.
func (l Line) Validate() error {
	l = l.normal()
	if l.Baud < 300 {
		return fmt.Errorf("modbus: baud rate %d", l.Baud)
	}
	if l.Parity != ParityEven && l.Parity != ParityOdd && l.Parity != ParityNone {
		return fmt.Errorf("modbus: parity %q, want E, O or N", rune(l.Parity))
	}
	if l.StopBits != 1 && l.StopBits != 2 {
		return fmt.Errorf("modbus: %d stop bits, want 1 or 2", l.StopBits)
	}
	return nil
}

func (l Line) String() string {
	l = l.normal()
	return fmt.Sprintf("%d 8%c%d", l.Baud, rune(l.Parity), l.StopBits)
}

// CharBits is the number of bits of one character on the wire: start, 8
// data, parity, stop.
func (l Line) CharBits() int {
	l = l.normal()
	n := 1 + 8 + l.StopBits
	if l.Parity != ParityNone {
		n++
	}
	return n
}

// WireTime is how long n characters take on the line.
func (l Line) WireTime(n int) time.Duration {
	l = l.normal()
	return time.Duration(int64(n) * int64(l.CharBits()) * int64(time.Second) / int64(l.Baud))
}

// T15 is the longest silence allowed inside a frame: 1.5 characters, or
// 750 µs above 19200 baud (the specification fixes it there).
func (l Line) T15() time.Duration {
	if l.normal().Baud > 19200 {
		return 750 * time.Microsecond
	}
	return l.WireTime(3) / 2
}

// T35 is the silence that separates frames: 3.5 characters, or 1.75 ms
// above 19200 baud.
func (l Line) T35() time.Duration {
	if l.normal().Baud > 19200 {
		return 1750 * time.Microsecond
	}
	return l.WireTime(7) / 2
}
