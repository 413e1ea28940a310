// Package escpos is the ESC/POS command language of thermal receipt
// printers, both ways: Writer builds the bytes of a job, Parse reads them
// back into commands (the simulated printer prints what Parse sees), and
// the status and identity (GS I) functions decode what a printer answers.
//
// It knows bytes, not tickets: what goes on a ticket, in which code page,
// is the printer package's business. Nothing here panics on bad input:
// parsers of outside bytes return what they understood and an error.
package escpos

import (
	"fmt"
	"image"
)

// Control bytes.
const (
	ESC = 0x1B
	GS  = 0x1D
	FS  = 0x1C
	DLE = 0x10
	EOT = 0x04
	LF  = 0x0A
)

// Alignment of ESC a.
type Align byte

const (
	Left   Align = 0
	Center Align = 1
	Right  Align = 2
)

// Cut kinds of GS V.
type Cut byte

const (
	FullCut    Cut = 0
	PartialCut Cut = 1
)

// QR error correction levels of GS ( k function 169.
type QRLevel byte

const (
	QRLevelL QRLevel = '0' // 7 %
	QRLevelM QRLevel = '1' // 15 %
	QRLevelQ QRLevel = '2' // 25 %
	QRLevelH QRLevel = '3' // 30 %
)

// Writer accumulates the bytes of one job. Its methods never fail; limits
// a printer cannot take (a QR code too long, an image too wide) are
// reported by Err after the fact, and the offending command is left out.
type Writer struct {
	buf []byte
	err error
}

// Bytes is the job so far.
func (w *Writer) Bytes() []byte { return w.buf }

// Err is the first command that could not be written, if any.
func (w *Writer) Err() error { return w.err }

// Len is the job's size in bytes.
func (w *Writer) Len() int { return len(w.buf) }

func (w *Writer) fail(format string, args ...any) {
	if w.err == nil {
		w.err = fmt.Errorf("escpos: "+format, args...)
	}
}

func (w *Writer) put(b ...byte) *Writer {
	w.buf = append(w.buf, b...)
	return w
}

// Init resets the printer to its power-on settings (ESC @).
func (w *Writer) Init() *Writer { return w.put(ESC, '@') }

// CodePage selects the character table (ESC t n); the number is the
// printer maker's, see the printer profiles.
func (w *Writer) CodePage(n byte) *Writer { return w.put(ESC, 't', n) }

// Align sets the alignment of the following lines (ESC a n).
func (w *Writer) Align(a Align) *Writer { return w.put(ESC, 'a', byte(a)) }

// Bold switches emphasis (ESC E n).
func (w *Writer) Bold(on bool) *Writer { return w.put(ESC, 'E', b2b(on)) }

// FontB selects the small font B, or font A (ESC M n).
func (w *Writer) FontB(on bool) *Writer { return w.put(ESC, 'M', b2b(on)) }

// Size sets character width and height multipliers, 1 to 8 (GS ! n).
func (w *Writer) Size(width, height int) *Writer {
	width, height = clamp(width, 1, 8), clamp(height, 1, 8)
	return w.put(GS, '!', byte((width-1)<<4|(height-1)))
}

// Text adds bytes already in the printer's code page.
func (w *Writer) Text(encoded []byte) *Writer { return w.put(encoded...) }

// LF ends the line.
func (w *Writer) LF() *Writer { return w.put(LF) }

// FeedDots feeds n dots of paper (ESC J n), printing what is buffered.
func (w *Writer) FeedDots(n int) *Writer { return w.put(ESC, 'J', byte(clamp(n, 0, 255))) }

// Feed feeds n lines (ESC d n).
func (w *Writer) Feed(n int) *Writer { return w.put(ESC, 'd', byte(clamp(n, 0, 255))) }

// Cut feeds lines dots past the cutter and cuts (GS V m n, m = 65 or 66),
// so the whole ticket leaves the printer.
func (w *Writer) Cut(c Cut, feed int) *Writer {
	return w.put(GS, 'V', 65+byte(c), byte(clamp(feed, 0, 255)))
}

// QR prints data as a QR code (model 2) with the printer's own encoder:
// a few dozen bytes instead of the kilobytes of an image. module is the
// dot size of one module, 1 to 16.
func (w *Writer) QR(data []byte, module int, level QRLevel) *Writer {
	if len(data) == 0 || len(data) > 7089 {
		w.fail("QR data of %d bytes (1 to 7089)", len(data))
		return w
	}
	w.qr('A', '2', 0)                          // function 165: model 2
	w.qr('C', byte(clamp(module, 1, 16)))      // function 167: module size
	w.qr('E', byte(level))                     // function 169: error correction
	w.qr('P', append([]byte{'0'}, data...)...) // function 180: store
	return w.qr('Q', '0')                      // function 181: print
}

// qr writes GS ( k pL pH cn fn params with cn = 49.
func (w *Writer) qr(fn byte, params ...byte) *Writer {
	n := len(params) + 2
	w.put(GS, '(', 'k', byte(n), byte(n>>8), '1', fn)
	return w.put(params...)
}

// Code128 prints a CODE128 barcode of data in code set B (GS k 73), with
// its text below and bars height dots tall, module dots wide.
func (w *Writer) Code128(data string, height, module int) *Writer {
	if len(data) == 0 || len(data) > 253 {
		w.fail("CODE128 data of %d bytes (1 to 253)", len(data))
		return w
	}
	for _, c := range []byte(data) {
		if c < 0x20 || c > 0x7E {
			w.fail("CODE128 set B cannot hold byte %#x", c)
			return w
		}
	}
	w.put(GS, 'h', byte(clamp(height, 1, 255)), GS, 'w', byte(clamp(module, 2, 6)), GS, 'H', 2)
	payload := append([]byte("{B"), data...)
	w.put(GS, 'k', 73, byte(len(payload)))
	return w.put(payload...)
}

// UserChar is one user-defined character (ESC &) for a font whose cell
// is 24 dots tall, as font A's 12 × 24 is: Width columns from the left
// (those to the right of them print blank), each three bytes from the
// top, the most significant bit the highest dot.
type UserChar struct {
	Width int
	Data  []byte
}

// Dot reports whether the character prints the dot at column x, row y.
func (c UserChar) Dot(x, y int) bool {
	if x < 0 || x >= c.Width || y < 0 || y >= 24 || len(c.Data) < 3*c.Width {
		return false
	}
	return c.Data[x*3+y/8]&(0x80>>(y%8)) != 0
}

// User-defined character codes: the printable ASCII range, as every
// ESC/POS printer has it.
const (
	UserCharFirst = 0x20
	UserCharLast  = 0x7E
	// UserCharMaxWidth is the widest character font A takes.
	UserCharMaxWidth = 12
)

// DefineUserChars defines chars as the user-defined characters of codes
// first, first+1, ... in the font in force (ESC & 3 c1 c2 [x d...]...).
// A character of width 0 is defined blank. The printer forgets them at
// ESC @; they print only between UserChars(true) and UserChars(false).
func (w *Writer) DefineUserChars(first byte, chars []UserChar) *Writer {
	last := int(first) + len(chars) - 1
	if len(chars) == 0 || first < UserCharFirst || last > UserCharLast {
		w.fail("user-defined characters %#x to %#x (%#x to %#x)", first, last, UserCharFirst, UserCharLast)
		return w
	}
	for i, c := range chars {
		if c.Width < 0 || c.Width > UserCharMaxWidth || len(c.Data) != 3*c.Width {
			w.fail("user-defined character %#x: width %d with %d bytes (0 to %d columns of 3)", int(first)+i, c.Width, len(c.Data), UserCharMaxWidth)
			return w
		}
	}
	w.put(ESC, '&', 3, first, byte(last))
	for _, c := range chars {
		w.put(byte(c.Width))
		w.put(c.Data...)
	}
	return w
}

// UserChars selects the user-defined characters, or the printer's own
// again (ESC % n).
func (w *Writer) UserChars(on bool) *Writer { return w.put(ESC, '%', b2b(on)) }

// Raster modes of GS v 0: how many printer dots each image dot covers.
type RasterMode byte

const (
	RasterNormal    RasterMode = 0 // one dot per dot
	RasterWide      RasterMode = 1 // two dots wide
	RasterTall      RasterMode = 2 // two dots tall
	RasterQuadruple RasterMode = 3 // two by two: a quarter of the bytes
)

// Raster prints a 1-bit image (GS v 0): black where img is dark. The width
// is rounded up to whole bytes.
func (w *Writer) Raster(img image.Image) *Writer { return w.RasterScaled(img, RasterNormal) }

// RasterScaled prints img with each of its dots covering the printer dots
// mode says: a large picture of little detail (a ticket number 15 mm
// tall) costs a quarter of the bytes in RasterQuadruple.
func (w *Writer) RasterScaled(img image.Image, mode RasterMode) *Writer {
	b := img.Bounds()
	wb := (b.Dx() + 7) / 8
	if wb == 0 || b.Dy() == 0 || wb > 0xFFFF || b.Dy() > 0x0FFF || mode > RasterQuadruple {
		w.fail("raster image %dx%d (mode %d) out of range", b.Dx(), b.Dy(), mode)
		return w
	}
	w.put(GS, 'v', '0', byte(mode), byte(wb), byte(wb>>8), byte(b.Dy()), byte(b.Dy()>>8))
	row := make([]byte, wb)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		clear(row)
		for x := b.Min.X; x < b.Max.X; x++ {
			if Dark(img, x, y) {
				i := x - b.Min.X
				row[i/8] |= 0x80 >> (i % 8)
			}
		}
		w.put(row...)
	}
	return w
}

// Dark reports whether the pixel at x, y prints black.
func Dark(img image.Image, x, y int) bool {
	r, g, bl, a := img.At(x, y).RGBA()
	if a < 0x8000 {
		return false
	}
	return (r*299+g*587+bl*114)/1000 < 0x8000
}

// StoredLogo prints the image kept in the printer's memory under key n
// (FS p n m): four bytes instead of an image.
func (w *Writer) StoredLogo(n int) *Writer {
	return w.put(FS, 'p', byte(clamp(n, 1, 255)), 0)
}

// AutoStatus enables automatic status back (GS a n): the printer then
// sends four status bytes by itself whenever its state changes.
func (w *Writer) AutoStatus(on bool) *Writer {
	if on {
		return w.put(GS, 'a', 0x0F) // drawer, online/offline, errors, paper sensors
	}
	return w.put(GS, 'a', 0)
}

func b2b(on bool) byte {
	if on {
		return 1
	}
	return 0
}

func clamp(v, lo, hi int) int { return max(lo, min(hi, v)) }
