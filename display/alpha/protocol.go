// Package alpha drives LED signs that speak the Alpha Sign Communications
// Protocol (Adaptive Micro Systems' Alpha, BetaBrite and the many clones
// sold as "Alpha protocol" boards) over a serial line, and simulates one.
//
// A board here holds one TEXT file, "A", written whole at every change in
// hold mode. That file needs no memory configuration, so a sign works as
// it comes out of the box. The protocol has no escaping and Alpha 1.0
// signs never answer, so the driver strips what the frame cannot carry,
// paces its writes, and rewrites the text now and then in case the sign
// was switched off and on.
//
// Protocol facts (frame layout, checksum, codes) are from the Alpha Sign
// Communications Protocol, pn 9708-8061, as transcribed by the
// mjaksn/readerboard project; the transliteration is the Cabinet of
// Ministers of Ukraine's Resolution No. 55 of 27 January 2010.
package alpha

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// Framing and control bytes.
const (
	NUL = 0x00
	SOH = 0x01
	STX = 0x02
	ETX = 0x03
	EOT = 0x04
	ESC = 0x1B

	// NewLine and NewPage separate lines and pages inside a TEXT file.
	NewLine = 0x0D
	NewPage = 0x0C
)

// Codes used in the frames we send.
const (
	TypeAll        = 'Z' // every sign type
	CmdWriteText   = 'A'
	FileA          = 'A' // the default TEXT file, usable without configuring memory
	PositionFill   = '0' // use every line of the sign
	ModeHold       = 'b' // no transition, text stays
	syncCount      = 5   // NULs that let the sign lock onto the baud rate
	BroadcastAddr  = "00"
	MaxText        = 125 // bytes of text we put in one frame (the size of the priority file)
	maxFrameLength = 4096
)

// Frame is one packet: SOH, type, address, STX, command and its data, and
// optionally ETX with a checksum, up to EOT.
type Frame struct {
	Type    byte
	Address string // two hex digits, "00" every sign
	Command byte
	Label   byte   // the file label, for TEXT commands
	Data    []byte // for a TEXT write: ESC, position, mode, text
	// Checked is true when the frame carried ETX and a checksum that
	// matched.
	Checked bool
}

// Text is the message of a TEXT write: what follows the mode field.
func (f Frame) Text() []byte {
	d := f.Data
	if len(d) >= 3 && d[0] == ESC {
		d = d[3:]
		if len(f.Data) >= 4 && f.Data[2] == 'n' {
			d = d[1:] // special mode specifier
		}
	}
	return d
}

// WriteText is the packet that replaces TEXT file A on the sign at
// address with text (already in the sign's bytes), shown on every line,
// held.
func WriteText(address string, text []byte) []byte {
	var b bytes.Buffer
	b.Write(make([]byte, syncCount))
	b.WriteByte(SOH)
	b.WriteByte(TypeAll)
	b.WriteString(address)
	start := b.Len()
	b.WriteByte(STX)
	b.WriteByte(CmdWriteText)
	b.WriteByte(FileA)
	b.WriteByte(ESC)
	b.WriteByte(PositionFill)
	b.WriteByte(ModeHold)
	b.Write(text)
	b.WriteByte(ETX)
	fmt.Fprintf(&b, "%04X", checksum(b.Bytes()[start:]))
	b.WriteByte(EOT)
	return b.Bytes()
}

// checksum is the 16-bit sum of the bytes from STX through ETX.
func checksum(b []byte) uint16 {
	var sum uint16
	for _, c := range b {
		sum += uint16(c)
	}
	return sum
}

// Errors of Parse.
var (
	ErrShort    = errors.New("alpha: frame too short")
	ErrFraming  = errors.New("alpha: malformed frame")
	ErrChecksum = errors.New("alpha: checksum mismatch")
	ErrTooLong  = errors.New("alpha: frame too long")
)

// Parse reads one frame: the bytes from SOH to EOT, both included
// (leading NULs are allowed). It checks the checksum when there is one.
func Parse(b []byte) (Frame, error) {
	b = bytes.TrimLeft(b, "\x00")
	if len(b) < 6 {
		return Frame{}, ErrShort
	}
	if b[0] != SOH || b[len(b)-1] != EOT {
		return Frame{}, fmt.Errorf("%w: want SOH first and EOT last", ErrFraming)
	}
	f := Frame{Type: b[1], Address: string(b[2:4])}
	if !isHexOrWild(b[2]) || !isHexOrWild(b[3]) {
		return Frame{}, fmt.Errorf("%w: address %q is not two hex digits", ErrFraming, f.Address)
	}
	body := b[4 : len(b)-1]
	if len(body) < 2 || body[0] != STX {
		return Frame{}, fmt.Errorf("%w: no STX after the address", ErrFraming)
	}
	if i := bytes.IndexByte(body, ETX); i >= 0 {
		tail := body[i+1:]
		if len(tail) != 4 {
			return Frame{}, fmt.Errorf("%w: want 4 checksum digits after ETX, got %d bytes", ErrFraming, len(tail))
		}
		want, err := strconv.ParseUint(string(tail), 16, 16)
		if err != nil {
			return Frame{}, fmt.Errorf("%w: checksum %q is not hex", ErrFraming, tail)
		}
		if got := checksum(body[:i+1]); uint16(want) != got {
			return Frame{}, fmt.Errorf("%w: frame says %04X, bytes add up to %04X", ErrChecksum, want, got)
		}
		f.Checked = true
		body = body[:i]
	}
	if bytes.IndexByte(body[1:], STX) >= 0 {
		return Frame{}, fmt.Errorf("%w: nested packets are not supported", ErrFraming)
	}
	f.Command = body[1]
	data := body[2:]
	if f.Command == CmdWriteText {
		if len(data) < 1 {
			return Frame{}, fmt.Errorf("%w: TEXT write without a file label", ErrFraming)
		}
		f.Label, data = data[0], data[1:]
		if len(data) > 0 && data[0] == ESC && len(data) < 3 {
			return Frame{}, fmt.Errorf("%w: mode field cut short", ErrFraming)
		}
	}
	f.Data = append([]byte(nil), data...)
	return f, nil
}

func isHexOrWild(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'F' || c >= 'a' && c <= 'f' || c == '?'
}

// Reader splits a byte stream into frames: it skips everything up to an
// SOH and returns the frame when its EOT arrives. Garbage between frames
// is dropped; a frame that runs past 4 KB without an EOT is an error and
// the reader looks for the next SOH.
type Reader struct {
	r *bufio.Reader
}

func NewReader(r io.Reader) *Reader { return &Reader{r: bufio.NewReader(r)} }

// Next returns the next frame's bytes (SOH to EOT) parsed; a frame that
// does not parse is returned with its error, and the next call goes on.
func (r *Reader) Next() (Frame, error) {
	for {
		c, err := r.r.ReadByte()
		if err != nil {
			return Frame{}, err
		}
		if c == SOH {
			break
		}
	}
	buf := []byte{SOH}
	for {
		c, err := r.r.ReadByte()
		if err != nil {
			return Frame{}, err
		}
		if c == SOH {
			// A new frame began before this one ended: the sign treats
			// the first as lost, and so do we.
			buf = buf[:1]
			continue
		}
		buf = append(buf, c)
		if c == EOT {
			return Parse(buf)
		}
		if len(buf) > maxFrameLength {
			return Frame{}, ErrTooLong
		}
	}
}
