package printer

import (
	"fmt"
	"image"
	"strings"

	"github.com/boombuler/barcode/qr"

	"github.com/cherga/kiosk/printer/escpos"
)

// Job is a ticket in a printer's bytes.
type Job struct {
	Bytes []byte
	// HeightDots is how much paper it takes, for printers that cannot say
	// when their paper runs out.
	HeightDots int
	// RasterBytes is how much of it is images: text no code page of the
	// printer holds, or a QR code the printer cannot draw itself.
	RasterBytes int
}

// Dots per line of text at size 1 with the default line spacing.
const lineDots = 30

// Encode lays t out by tpl and writes it in prof's ESC/POS for paper
// paperMM wide. Text goes in the first of the profile's code pages that
// holds every character of the line; a line no page holds is printed as
// an image of the text, never with letters swapped for look-alikes.
func Encode(t *Ticket, tpl Template, prof *Profile, paperMM int) (*Job, error) {
	if err := tpl.Check(); err != nil {
		return nil, err
	}
	width, err := prof.Width(paperMM)
	if err != nil {
		return nil, err
	}
	e := &encoder{w: &escpos.Writer{}, prof: prof, width: width, page: -1, size: 1}
	e.w.Init()
	for _, l := range layout(t, tpl) {
		switch l.kind {
		case "text":
			e.text(l)
		case "rule":
			// Half the width: a full line costs a byte a column at 9600 baud.
			e.style(escpos.Center, false, false, 1)
			e.line(strings.Repeat("-", Columns(width)/2), false, 1)
		case "feed":
			e.w.LF()
			e.height += lineDots
		case "qr":
			e.qr(l.text)
		case "logo":
			e.style(l.align, false, false, 1)
			e.w.StoredLogo(l.n)
			e.w.LF()
			e.height += 200 // a typical stored logo; the printer knows better
		}
	}
	e.style(escpos.Left, false, false, 1)
	if prof.Cutter == "none" {
		e.w.Feed(4)
	} else {
		cut := escpos.PartialCut
		if prof.Cutter == "full" {
			cut = escpos.FullCut
		}
		e.w.Cut(cut, 24) // past the cutter: the whole ticket comes out
	}
	e.height += 4 * lineDots
	if err := e.w.Err(); err != nil {
		return nil, err
	}
	return &Job{Bytes: e.w.Bytes(), HeightDots: e.height, RasterBytes: e.raster}, nil
}

// encoder tracks the printer's state so each setting is sent only when it
// changes: every byte costs a millisecond at 9600 baud.
type encoder struct {
	w      *escpos.Writer
	prof   *Profile
	width  int
	page   int // ESC t number in force, -1 before the first
	align  escpos.Align
	bold   bool
	small  bool
	size   int
	height int
	raster int
}

func (e *encoder) style(a escpos.Align, bold, small bool, size int) {
	if a != e.align {
		e.w.Align(a)
		e.align = a
	}
	if bold != e.bold {
		e.w.Bold(bold)
		e.bold = bold
	}
	if small != e.small {
		e.w.FontB(small)
		e.small = small
	}
	if size != e.size {
		e.w.Size(size, size)
		e.size = size
	}
}

// maxSize is the largest character size for the big ticket number.
func (e *encoder) maxSize(s string) int {
	n := max(len([]rune(s)), 1)
	size := min(4, e.width/(12*n))
	if e.width < 500 {
		size = min(size, 3)
	}
	return max(size, 1)
}

func (e *encoder) text(l line) {
	size := l.size
	if size == 0 {
		size = e.maxSize(l.text)
	}
	e.style(l.align, l.bold, l.small, size)
	cols := Columns(e.width)
	if l.small {
		cols = ColumnsB(e.width)
	}
	cols /= size
	// A line longer than the paper is wrapped between words, whether the
	// template asked for it or not: nothing is cut off.
	for _, part := range wrapWords(l.text, cols) {
		e.line(part, l.bold, size)
	}
}

// line prints one line that fits, in the first page that holds it, or as
// an image.
func (e *encoder) line(s string, bold bool, size int) {
	// The page in force wins if it holds the line: switching costs bytes.
	for name, n := range e.prof.CodePages {
		if n == e.page {
			if b, ok := codePages[name].Encode(s); ok {
				e.w.Text(b).LF()
				e.height += lineDots * size
				return
			}
		}
	}
	if name, b, ok := e.prof.EncodeLine(s); ok {
		if n, has := e.prof.CodePages[name]; has && n != e.page && !isASCII(s) {
			e.w.CodePage(byte(n))
			e.page = n
		}
		e.w.Text(b).LF()
		e.height += lineDots * size
		return
	}
	img := renderText(s, e.width, bold, e.small, size)
	before := e.w.Len()
	e.w.Raster(img)
	e.raster += e.w.Len() - before
	e.height += img.Bounds().Dy()
}

// EncodeLine gives s in the first of the profile's pages that holds every
// character of it; ok is false when none does (the line goes as an image).
func (p *Profile) EncodeLine(s string) (page string, b []byte, ok bool) {
	for _, name := range p.Prefer {
		if b, ok := codePages[name].Encode(s); ok {
			return name, b, true
		}
	}
	return "", nil, false
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// qrByteCapacityM is how many bytes a QR code of each version holds at
// error level M (ISO/IEC 18004 table 7), versions 1 to 20: a tracking
// address fits in the first few, and knowing the size this way is a
// thousand times cheaper than encoding the code to measure it.
var qrByteCapacityM = []int{14, 26, 42, 62, 84, 106, 122, 152, 180, 213, 251, 287, 331, 362, 412, 450, 504, 560, 624, 666}

// qrModules is how many modules wide the QR code of data is, for choosing
// the module size of a code the printer draws itself.
func qrModules(data string) (int, error) {
	for v, capacity := range qrByteCapacityM {
		if len(data) <= capacity {
			return 17 + 4*(v+1), nil
		}
	}
	code, err := qr.Encode(data, qr.M, qr.Auto)
	if err != nil {
		return 0, fmt.Errorf("printer: QR code of %q: %w", data, err)
	}
	return code.Bounds().Dx(), nil
}

func (e *encoder) qr(data string) {
	modules, err := qrModules(data)
	if err != nil {
		return // a tracking address no QR holds: the ticket prints without it
	}
	// About half the paper wide: big enough for any phone, small enough
	// not to waste paper.
	module := min(8, max(2, e.width/2/(modules+8)))
	e.style(escpos.Center, false, false, 1)
	if e.prof.QR {
		e.w.QR([]byte(data), module, escpos.QRLevelM)
		e.w.LF()
	} else {
		img := qrImage(data, module, e.width)
		e.w.Align(escpos.Center) // images follow ESC a too
		before := e.w.Len()
		e.w.Raster(img)
		e.raster += e.w.Len() - before
	}
	e.height += (modules+8)*module + lineDots
}

// qrImage draws data as a QR code, module dots per module, with its quiet
// zone; the printer centres it (ESC a), so only the code itself is sent.
func qrImage(data string, module, width int) *image.Gray {
	code, err := qr.Encode(data, qr.M, qr.Auto)
	if err != nil {
		return image.NewGray(image.Rect(0, 0, 8, 1))
	}
	n := code.Bounds().Dx()
	side := min((n+8)*module, width)
	img := image.NewGray(image.Rect(0, 0, side, side))
	fillWhite(img)
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			r, _, _, _ := code.At(x, y).RGBA()
			if r < 0x8000 {
				fillRect(img, (x+4)*module, (y+4)*module, module, module)
			}
		}
	}
	return img
}
