package escpos

import (
	"errors"
	"fmt"
)

// OpKind names a parsed command.
type OpKind int

const (
	OpText        OpKind = iota // Data: bytes in the current code page
	OpLF                        // end of line
	OpFeed                      // N lines
	OpFeedDots                  // N dots (ESC J)
	OpInit                      // ESC @
	OpCodePage                  // N
	OpAlign                     // N: 0 left, 1 center, 2 right
	OpBold                      // N: 0 or 1
	OpFont                      // N: 0 font A, 1 font B
	OpSize                      // W, H: multipliers
	OpLineSpacing               // N dots, or -1 for the default
	OpCut                       // N: 0 full, 1 partial; Feed dots before
	OpQR                        // Data; N module size; Level
	OpBarcode                   // Data; N system (73 = CODE128); H height; W module
	OpRaster                    // Data: rows of W bytes, H rows; N the RasterMode
	OpStoredLogo                // N key
	OpStatusQuery               // N: DLE EOT n
	OpAutoStatus                // N: GS a bits
	OpDefineChars               // N first code; Chars, one a code (ESC &)
	OpUserChars                 // N: 1 selects the user-defined characters, 0 the printer's (ESC %)
	OpCancelChar                // N: the code whose user-defined character is deleted (ESC ?)
	OpUnknown                   // Data: the command's bytes, skipped
	OpPrinterID                 // N: GS I n, a question about the printer's identity
)

// Op is one command.
type Op struct {
	Kind  OpKind
	N     int
	W, H  int
	Feed  int
	Level QRLevel
	Data  []byte
	Chars []UserChar
}

// MaxJob bounds what a Parser holds while waiting for the rest of a
// command: a raster image or QR code larger than this is garbage.
const MaxJob = 1 << 20

// ErrTooLarge is a command that announces more data than MaxJob.
var ErrTooLarge = errors.New("escpos: command larger than the printer would take")

// Parser reads a byte stream into commands, as a printer does. Feed it
// bytes as they arrive; an incomplete command waits for the rest.
type Parser struct {
	buf []byte
	// QR settings, as GS ( k stores them until "print".
	qrModule int
	qrLevel  QRLevel
	qrData   []byte
	// barcode settings
	barHeight, barModule int
	// Bad counts commands the parser could not make sense of.
	Bad int
}

// NewParser starts with a printer's power-on settings.
func NewParser() *Parser {
	return &Parser{qrModule: 3, qrLevel: QRLevelL, barHeight: 162, barModule: 3}
}

// Parse reads a whole job.
func Parse(b []byte) ([]Op, error) {
	p := NewParser()
	ops, err := p.Write(b)
	if err == nil && len(p.buf) > 0 {
		err = fmt.Errorf("escpos: job ends inside a command (%d bytes left)", len(p.buf))
	}
	return ops, err
}

// Write adds bytes and returns the commands now complete. An error means
// some bytes were dropped as garbage; parsing goes on after them.
func (p *Parser) Write(b []byte) ([]Op, error) {
	p.buf = append(p.buf, b...)
	var ops []Op
	var err error
	for len(p.buf) > 0 {
		op, n, cerr := p.next(p.buf)
		if n == 0 {
			if len(p.buf) > MaxJob {
				err = ErrTooLarge
				p.Bad++
				p.buf = nil
			}
			break
		}
		if cerr != nil {
			err = cerr
			p.Bad++
		}
		p.buf = p.buf[n:]
		if op != nil {
			ops = append(ops, *op)
		}
	}
	if len(p.buf) == 0 {
		p.buf = nil // let a long job's memory go
	}
	return ops, err
}

// next parses the command at the start of b. n == 0 means b holds only
// the beginning of a command.
func (p *Parser) next(b []byte) (*Op, int, error) {
	switch c := b[0]; {
	case c == LF:
		return &Op{Kind: OpLF}, 1, nil
	case c == '\r' || c == 0:
		return nil, 1, nil
	case c == ESC:
		return p.esc(b)
	case c == GS:
		return p.gs(b)
	case c == FS:
		if len(b) < 2 {
			return nil, 0, nil
		}
		if b[1] != 'p' {
			return &Op{Kind: OpUnknown, Data: append([]byte(nil), b[:2]...)}, 2, fmt.Errorf("escpos: unknown command FS %#x", b[1])
		}
		if len(b) < 4 {
			return nil, 0, nil
		}
		return &Op{Kind: OpStoredLogo, N: int(b[2])}, 4, nil
	case c == DLE:
		if len(b) < 3 {
			return nil, 0, nil
		}
		if b[1] != EOT {
			return &Op{Kind: OpUnknown, Data: b[:2]}, 2, fmt.Errorf("escpos: unknown command DLE %#x", b[1])
		}
		return &Op{Kind: OpStatusQuery, N: int(b[2])}, 3, nil
	case c < 0x20:
		return &Op{Kind: OpUnknown, Data: b[:1]}, 1, fmt.Errorf("escpos: stray control byte %#x", c)
	}
	i := 0
	for i < len(b) && b[i] >= 0x20 {
		i++
	}
	return &Op{Kind: OpText, Data: append([]byte(nil), b[:i]...)}, i, nil
}

func (p *Parser) esc(b []byte) (*Op, int, error) {
	if len(b) < 2 {
		return nil, 0, nil
	}
	arg := func(k OpKind) (*Op, int, error) {
		if len(b) < 3 {
			return nil, 0, nil
		}
		return &Op{Kind: k, N: int(b[2])}, 3, nil
	}
	switch b[1] {
	case '@':
		p.qrModule, p.qrLevel, p.qrData, p.barHeight, p.barModule = 3, QRLevelL, nil, 162, 3
		return &Op{Kind: OpInit}, 2, nil
	case 't':
		return arg(OpCodePage)
	case 'a':
		op, n, err := arg(OpAlign)
		if op != nil {
			op.N %= 48 // '0'..'2' mean the same as 0..2
		}
		return op, n, err
	case 'E':
		op, n, err := arg(OpBold)
		if op != nil {
			op.N &= 1
		}
		return op, n, err
	case 'M':
		op, n, err := arg(OpFont)
		if op != nil {
			op.N &= 1
		}
		return op, n, err
	case 'd':
		return arg(OpFeed)
	case 'J':
		return arg(OpFeedDots)
	case '3':
		return arg(OpLineSpacing)
	case '2':
		return &Op{Kind: OpLineSpacing, N: -1}, 2, nil
	case '!':
		if len(b) < 3 {
			return nil, 0, nil
		}
		// ESC ! n: bit 0 font B, bit 3 bold, bits 4/5 double height/width.
		w, h := 1, 1
		if b[2]&0x20 != 0 {
			w = 2
		}
		if b[2]&0x10 != 0 {
			h = 2
		}
		return &Op{Kind: OpSize, W: w, H: h}, 3, nil
	case '%':
		op, n, err := arg(OpUserChars)
		if op != nil {
			op.N &= 1
		}
		return op, n, err
	case '?':
		return arg(OpCancelChar)
	case '&':
		return defineChars(b)
	case '-', 'G', 'V', '{', 'R', 'c':
		if len(b) < 3 {
			return nil, 0, nil
		}
		return nil, 3, nil // underline, double strike, rotation...: not drawn
	}
	return &Op{Kind: OpUnknown, Data: append([]byte(nil), b[:2]...)}, 2, fmt.Errorf("escpos: unknown command ESC %#x", b[1])
}

func (p *Parser) gs(b []byte) (*Op, int, error) {
	if len(b) < 2 {
		return nil, 0, nil
	}
	switch b[1] {
	case '!':
		if len(b) < 3 {
			return nil, 0, nil
		}
		return &Op{Kind: OpSize, W: int(b[2]>>4&7) + 1, H: int(b[2]&7) + 1}, 3, nil
	case 'V':
		if len(b) < 3 {
			return nil, 0, nil
		}
		switch m := b[2]; m {
		case 0, 1, '0', '1':
			return &Op{Kind: OpCut, N: int(m & 1)}, 3, nil
		case 65, 66, 97, 98, 103, 104:
			if len(b) < 4 {
				return nil, 0, nil
			}
			return &Op{Kind: OpCut, N: int(m+1) & 1, Feed: int(b[3])}, 4, nil
		}
		return &Op{Kind: OpUnknown, Data: b[:3]}, 3, fmt.Errorf("escpos: unknown cut GS V %d", b[2])
	case 'h', 'w', 'H', 'f', 'L', 'W', 'a':
		if len(b) < 3 {
			return nil, 0, nil
		}
		switch b[1] {
		case 'h':
			p.barHeight = int(b[2])
		case 'w':
			p.barModule = int(b[2])
		case 'a':
			return &Op{Kind: OpAutoStatus, N: int(b[2])}, 3, nil
		case 'L', 'W':
			if len(b) < 4 {
				return nil, 0, nil
			}
			return nil, 4, nil // margins
		}
		return nil, 3, nil
	case 'I':
		if len(b) < 3 {
			return nil, 0, nil
		}
		return &Op{Kind: OpPrinterID, N: int(b[2])}, 3, nil
	case '(':
		return p.gsParen(b)
	case 'k':
		return p.barcode(b)
	case 'v':
		if len(b) < 8 {
			return nil, 0, nil
		}
		if b[2] != '0' {
			return &Op{Kind: OpUnknown, Data: b[:3]}, 3, fmt.Errorf("escpos: unknown command GS v %#x", b[2])
		}
		wb := int(b[4]) | int(b[5])<<8
		h := int(b[6]) | int(b[7])<<8
		size := 8 + wb*h
		if wb*h > MaxJob {
			return &Op{Kind: OpUnknown, Data: b[:8]}, 8, ErrTooLarge
		}
		if len(b) < size {
			return nil, 0, nil
		}
		// m = 0-3 or '0'-'3': bit 0 doubles the width, bit 1 the height.
		return &Op{Kind: OpRaster, N: int(b[3] & 3), W: wb, H: h, Data: append([]byte(nil), b[8:size]...)}, size, nil
	}
	return &Op{Kind: OpUnknown, Data: append([]byte(nil), b[:2]...)}, 2, fmt.Errorf("escpos: unknown command GS %#x", b[1])
}

// gsParen reads GS ( X pL pH data: its length is in the command.
func (p *Parser) gsParen(b []byte) (*Op, int, error) {
	if len(b) < 5 {
		return nil, 0, nil
	}
	n := int(b[3]) | int(b[4])<<8
	if len(b) < 5+n {
		return nil, 0, nil
	}
	body := b[5 : 5+n]
	if b[2] != 'k' || n < 2 || body[0] != '1' {
		return nil, 5 + n, nil // other GS ( functions, or other symbologies: skipped
	}
	switch fn, params := body[1], body[2:]; {
	case fn == 'C' && len(params) >= 1:
		p.qrModule = int(params[0])
	case fn == 'E' && len(params) >= 1:
		p.qrLevel = QRLevel(params[0])
	case fn == 'P' && len(params) >= 1:
		p.qrData = append([]byte(nil), params[1:]...)
	case fn == 'Q':
		if p.qrData == nil {
			return &Op{Kind: OpUnknown, Data: b[:5+n]}, 5 + n, errors.New("escpos: QR print without stored data")
		}
		return &Op{Kind: OpQR, N: p.qrModule, Level: p.qrLevel, Data: p.qrData}, 5 + n, nil
	}
	return nil, 5 + n, nil
}

// barcode reads GS k m: NUL-terminated for m 0 to 6, counted for 65 to 73.
func (p *Parser) barcode(b []byte) (*Op, int, error) {
	if len(b) < 3 {
		return nil, 0, nil
	}
	m := b[2]
	if m <= 6 {
		for i := 3; i < len(b); i++ {
			if b[i] == 0 {
				return &Op{Kind: OpBarcode, N: int(m), H: p.barHeight, W: p.barModule, Data: append([]byte(nil), b[3:i]...)}, i + 1, nil
			}
		}
		if len(b) > 260 {
			return &Op{Kind: OpUnknown, Data: b[:3]}, 3, errors.New("escpos: barcode without its end")
		}
		return nil, 0, nil
	}
	if len(b) < 4 {
		return nil, 0, nil
	}
	n := int(b[3])
	if len(b) < 4+n {
		return nil, 0, nil
	}
	return &Op{Kind: OpBarcode, N: int(m), H: p.barHeight, W: p.barModule, Data: append([]byte(nil), b[4:4+n]...)}, 4 + n, nil
}

// defineChars reads ESC & y c1 c2 [x d1...d(y×x)]...: its length is in
// its parameters. y is 3 on every thermal printer (2 on impact ones, whose
// cells are 9 dots tall). Parameters out of range cancel the command, and
// what follows them is read as ordinary data, as Epson's printers do.
func defineChars(b []byte) (*Op, int, error) {
	if len(b) < 5 {
		return nil, 0, nil
	}
	y, c1, c2 := int(b[2]), int(b[3]), int(b[4])
	if y != 3 || c1 < UserCharFirst || c2 > UserCharLast || c1 > c2 {
		return &Op{Kind: OpUnknown, Data: append([]byte(nil), b[:5]...)}, 5,
			fmt.Errorf("escpos: ESC & y=%d codes %#x to %#x out of range", y, c1, c2)
	}
	op := &Op{Kind: OpDefineChars, N: c1}
	i := 5
	for range c2 - c1 + 1 {
		if i >= len(b) {
			return nil, 0, nil
		}
		x := int(b[i])
		if x > UserCharMaxWidth {
			return &Op{Kind: OpUnknown, Data: append([]byte(nil), b[:i+1]...)}, i + 1,
				fmt.Errorf("escpos: ESC & character %d dots wide (0 to %d)", x, UserCharMaxWidth)
		}
		if len(b) < i+1+y*x {
			return nil, 0, nil
		}
		op.Chars = append(op.Chars, UserChar{Width: x, Data: append([]byte(nil), b[i+1:i+1+y*x]...)})
		i += 1 + y*x
	}
	return op, i, nil
}
