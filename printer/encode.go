package printer

import (
	"fmt"
	"image"
	"math"
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
	// LengthMM is HeightDots in millimetres, at the printer's resolution.
	LengthMM float64
	// RasterBytes is how much of it is images: text no code page of the
	// printer holds, or a QR code the printer cannot draw itself.
	RasterBytes int
}

// Dots per line of text at size 1 with the default line spacing.
const lineDots = 30

// NumberMM is the least ink height of a ticket's number, in millimetres,
// on paper paperMM wide: read from a few steps away (service centres use
// 15 to 25 mm).
func NumberMM(paperMM int) float64 {
	if paperMM < 80 {
		return 12
	}
	return 15
}

// Encode lays t out by tpl and writes it in prof's ESC/POS for paper
// paperMM wide. Text goes in the first of the profile's code pages that
// holds every character of the line, never with letters swapped for
// look-alikes. A ticket with a line no page holds is printed all as
// images, every line in one typeface: lines alternating between the
// printer's font and a drawn one read as two documents. The number is in
// the package's bold typeface on every printer, at least NumberMM tall:
// user-defined characters where the profile has them (UserChars), else
// an image.
func Encode(t *Ticket, tpl Template, prof *Profile, paperMM int) (*Job, error) {
	if err := tpl.Check(); err != nil {
		return nil, err
	}
	width, err := prof.Width(paperMM)
	if err != nil {
		return nil, err
	}
	return encodeLines(layout(t, tpl), prof, width, paperMM)
}

// encodeLines writes laid-out lines in prof's ESC/POS, then feeds and
// cuts: a ticket's, or a list of documents' (EncodeDocuments), by the
// same typeface rules.
func encodeLines(lines []line, prof *Profile, width, paperMM int) (*Job, error) {
	e := &encoder{w: &escpos.Writer{}, prof: prof, width: width, paperMM: paperMM, page: -1, sw: 1, sh: 1,
		images: needsImages(lines, prof)}
	e.w.Init()
	for _, l := range lines {
		switch l.kind {
		case "text":
			e.text(l)
		case "rule":
			e.rule()
		case "feed":
			e.w.LF()
			e.height += lineDots
		case "qr":
			e.qr(l.text)
		case "codepage":
			e.codePageTable(l.text)
		case "logo":
			e.style(l.align, false, false, 1, 1)
			e.w.StoredLogo(l.n)
			e.w.LF()
			e.height += 200 // a typical stored logo; the printer knows better
		}
	}
	e.style(escpos.Left, false, false, 1, 1)
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
	return &Job{Bytes: e.w.Bytes(), HeightDots: e.height, LengthMM: float64(e.height) / prof.DotsPerMM(), RasterBytes: e.raster}, nil
}

// needsImages reports whether some text line of the ticket is in none of
// the profile's code pages. The number does not count: it is drawn in
// the package's typeface on every printer.
func needsImages(lines []line, prof *Profile) bool {
	for _, l := range lines {
		if l.kind == "text" && l.size != 0 {
			if _, _, ok := prof.EncodeLine(l.text); !ok {
				return true
			}
		}
	}
	return false
}

// encoder tracks the printer's state so each setting is sent only when it
// changes: every byte costs a millisecond at 9600 baud.
type encoder struct {
	w       *escpos.Writer
	prof    *Profile
	width   int
	paperMM int
	images  bool // every line as an image, in the package's typeface
	page    int  // ESC t number in force, -1 before the first
	align   escpos.Align
	bold    bool
	small   bool
	sw, sh  int // GS ! width and height multipliers
	height  int
	raster  int
}

func (e *encoder) style(a escpos.Align, bold, small bool, sw, sh int) {
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
	if sw != e.sw || sh != e.sh {
		e.w.Size(sw, sh)
		e.sw, e.sh = sw, sh
	}
}

// numberSize is the character size (GS !) of a ticket number of n
// user-defined characters: as wide as the paper takes it, up to eight
// times, and at least as tall, tall enough for NumberMM whatever the
// width (digits and capitals are 18 dots of the cell: 18 mm at 8 × 8 on a
// 203 dpi head).
func (e *encoder) numberSize(n int) (sw, sh int) {
	sw = max(1, min(8, e.width/(cellWidth*max(n, 1))))
	need := int(math.Ceil(NumberMM(e.paperMM) * e.prof.DotsPerMM() / cellCapRows))
	return sw, max(1, min(8, max(sw, need)))
}

// number prints the ticket number in the package's typeface, never the
// printer's (whose capitals no maker gives the height of): as
// user-defined characters where the printer takes them, a few dozen
// bytes each, defined for this ticket and deselected after the line (the
// next ticket's ESC @ forgets them; defining them clears a downloaded
// bit image, GS *, which tickets do not use, not a stored logo, FS p);
// else as an image. The characters are drawn bold, so emphasis is off.
func (e *encoder) number(l line) {
	first, chars, codes, ok := numberChars(l.text)
	if !e.prof.UserChars || !ok || len(codes)*cellWidth > e.width {
		e.imageText(l)
		return
	}
	sw, sh := e.numberSize(len(codes))
	// Font A first: ESC & defines the characters of the font in force.
	e.style(l.align, false, false, sw, sh)
	e.w.DefineUserChars(first, chars).UserChars(true).Text(codes).LF().UserChars(false)
	e.height += max(lineDots, 24*sh+6)
}

// numberChars gives each character of a ticket number its user-defined
// code, and the characters to define from first on: a digit keeps its
// own code, so the number's bytes are still its digits; the other
// characters take '/' and the codes below it, in the order they first
// appear. Codes between them the number does not use are defined blank
// (a byte each, less than a second command). ok is false for a number
// with more other characters than codes below '0'.
func numberChars(s string) (first byte, chars []escpos.UserChar, codes []byte, ok bool) {
	code := map[rune]byte{}
	next := byte('0')
	for _, r := range s {
		if _, seen := code[r]; seen {
			continue
		}
		if '0' <= r && r <= '9' {
			code[r] = byte(r)
			continue
		}
		if next--; next <= escpos.UserCharFirst {
			return 0, nil, nil, false
		}
		code[r] = next
	}
	if len(code) == 0 {
		return 0, nil, nil, false
	}
	lo, hi := byte(escpos.UserCharLast), byte(escpos.UserCharFirst)
	for _, c := range code {
		lo, hi = min(lo, c), max(hi, c)
	}
	chars = make([]escpos.UserChar, int(hi-lo)+1)
	for r, c := range code {
		chars[c-lo] = NumberGlyph(r)
	}
	for _, r := range s {
		codes = append(codes, code[r])
	}
	return lo, chars, codes, true
}

func (e *encoder) text(l line) {
	if e.images {
		e.imageText(l)
		return
	}
	if l.size == 0 {
		e.number(l)
		return
	}
	sw, sh := l.size, l.size
	e.style(l.align, l.bold, l.small, sw, sh)
	cols := Columns(e.width)
	if l.small {
		cols = ColumnsB(e.width)
	}
	cols /= sw
	// A line longer than the paper is wrapped between words, whether the
	// template asked for it or not: nothing is cut off.
	for _, part := range l.parts(cols) {
		e.line(part, sh)
	}
}

// line prints one line that fits, in the page in force if it holds the
// line (switching costs bytes), else in the first page that does.
func (e *encoder) line(s string, sh int) {
	b, ok := []byte(nil), false
	for name, n := range e.prof.CodePages {
		if n == e.page {
			b, ok = codePages[name].Encode(s)
		}
	}
	if !ok {
		var name string
		if name, b, ok = e.prof.EncodeLine(s); !ok {
			// Not reached: a ticket with such a line is all images.
			e.imageText(line{text: s, align: e.align, bold: e.bold, small: e.small, size: sh})
			return
		}
		if n, has := e.prof.CodePages[name]; has && n != e.page && !isASCII(s) {
			e.w.CodePage(byte(n))
			e.page = n
		}
	}
	e.w.Text(b).LF()
	e.height += max(lineDots, 24*sh+6)
}

// imageText prints a text line as images of its wrapped parts, in the
// package's typeface; the ticket number as one large image.
func (e *encoder) imageText(l line) {
	e.style(l.align, false, false, 1, 1) // images follow ESC a; the rest is drawn
	if l.size == 0 {
		e.image(renderNumber(l.text, e.width, int(NumberMM(e.paperMM)*e.prof.DotsPerMM())+numberMarginDots), escpos.RasterQuadruple)
		return
	}
	cols := Columns(e.width)
	if l.small {
		cols = ColumnsB(e.width)
	}
	for _, part := range l.parts(cols / l.size) {
		e.image(renderText(part, e.width, l.bold, l.small, l.size), escpos.RasterNormal)
	}
}

// numberMarginDots is how much taller than NumberMM a drawn number is
// made, so that rounding never takes it below.
const numberMarginDots = 16

// rule draws a line across half the paper: dashes in the printer's font,
// or a drawn bar on a ticket of images.
func (e *encoder) rule() {
	e.style(escpos.Center, false, false, 1, 1)
	if !e.images {
		// Half the width: a full line costs a byte a column at 9600 baud.
		e.line(strings.Repeat("-", Columns(e.width)/2), 1)
		return
	}
	e.image(renderRule(e.width/2), escpos.RasterQuadruple)
}

// image prints img at the alignment in force, each of its dots covering
// the printer dots mode says.
func (e *encoder) image(img *image.Gray, mode escpos.RasterMode) {
	before := e.w.Len()
	e.w.RasterScaled(img, mode)
	e.raster += e.w.Len() - before
	e.height += img.Bounds().Dy() * (1 + int(mode>>1&1))
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
	e.style(escpos.Center, false, false, 1, 1) // images follow ESC a too
	if e.prof.QR {
		e.w.QR([]byte(data), module, escpos.QRLevelM)
		e.w.LF()
		e.height += (modules+8)*module + lineDots
	} else {
		// Drawn at half the resolution, two by two dots a dot: a quarter of
		// the bytes, and the same code, its modules an even number of dots.
		e.image(qrImage(data, max(1, module/2), e.width/2), escpos.RasterQuadruple)
	}
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
