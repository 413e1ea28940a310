package simprinter

import (
	"image"
	"image/color"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/boombuler/barcode"
	"github.com/boombuler/barcode/code128"
	"github.com/boombuler/barcode/qr"
	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gomono"
	"golang.org/x/image/font/gofont/gomonobold"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"

	"github.com/cherga/kiosk/printer"
	"github.com/cherga/kiosk/printer/escpos"
)

// Paper is what the simulated print head has put on paper since the last
// cut: it draws the commands of package escpos the way a thermal printer
// does, at the printer's dot width.
type Paper struct {
	prof  *printer.Profile
	width int
	pages map[int]*printer.CodePage // ESC t number → page

	dots  []byte    // printed rows, width bytes each, one per dot: 0 black, 255 white
	line  []segment // text of the line being composed
	text  []string  // the text lines printed since the last cut
	head  string    // the tallest text printed: the ticket number
	headH int
	align escpos.Align
	bold  bool
	small bool
	w, h  int
	page  *printer.CodePage
	gap   int // line spacing in dots, -1 default
	// user holds the user-defined characters of font A and font B (ESC
	// &), a map per font never changed once made: a line being composed
	// keeps the characters it was sent with. useUser: ESC % 1 is in force.
	user    [2]map[byte]escpos.UserChar
	useUser bool
}

type segment struct {
	text        string
	bold, small bool
	w, h        int
	// codes and user: the bytes of a segment sent while the user-defined
	// characters were selected, and those characters; a code with none
	// prints the page's character.
	codes []byte
	user  map[byte]escpos.UserChar
}

// NewPaper starts a blank ticket for prof on paper paperMM wide.
func NewPaper(prof *printer.Profile, paperMM int) (*Paper, error) {
	width, err := prof.Width(paperMM)
	if err != nil {
		return nil, err
	}
	p := &Paper{prof: prof, width: width, pages: map[int]*printer.CodePage{}}
	for name, n := range prof.CodePages {
		if cp, ok := printer.LookupCodePage(name); ok {
			p.pages[n] = cp
		}
	}
	p.reset()
	return p, nil
}

func (p *Paper) reset() {
	p.align, p.bold, p.small, p.w, p.h, p.gap = escpos.Left, false, false, 1, 1, -1
	p.page, _ = printer.LookupCodePage("cp437")
	p.user, p.useUser = [2]map[byte]escpos.UserChar{}, false // ESC @ forgets them
}

// Empty reports whether nothing was printed since the last cut.
func (p *Paper) Empty() bool { return len(p.dots) == 0 && len(p.line) == 0 }

// Apply prints one command.
func (p *Paper) Apply(op escpos.Op) {
	switch op.Kind {
	case escpos.OpInit:
		p.flush()
		p.reset()
	case escpos.OpText:
		seg := segment{text: p.page.Decode(op.Data), bold: p.bold, small: p.small, w: p.w, h: p.h}
		if user := p.user[p.font()]; p.useUser && len(user) > 0 {
			seg.codes, seg.user = op.Data, user
			seg.text = readUserChars(seg.text, op.Data, user)
		}
		p.line = append(p.line, seg)
	case escpos.OpDefineChars:
		p.define(op)
	case escpos.OpCancelChar:
		if _, ok := p.user[p.font()][byte(op.N)]; ok {
			m := maps.Clone(p.user[p.font()])
			delete(m, byte(op.N))
			p.user[p.font()] = m
		}
	case escpos.OpUserChars:
		p.useUser = op.N == 1
	case escpos.OpLF:
		if len(p.line) == 0 {
			p.blank(p.lineHeight(1)) // an empty line still feeds the paper
		}
		p.flush()
	case escpos.OpFeed:
		p.flush()
		p.blank(op.N * p.lineHeight(1))
	case escpos.OpFeedDots:
		p.flush()
		p.blank(op.N)
	case escpos.OpCodePage:
		if cp, ok := p.pages[op.N]; ok {
			p.page = cp
		} else {
			p.page, _ = printer.LookupCodePage("cp437")
		}
	case escpos.OpAlign:
		p.align = escpos.Align(op.N)
	case escpos.OpBold:
		p.bold = op.N == 1
	case escpos.OpFont:
		p.small = op.N == 1
	case escpos.OpSize:
		p.w, p.h = op.W, op.H
	case escpos.OpLineSpacing:
		p.gap = op.N
	case escpos.OpQR:
		p.flush()
		if code, err := qr.Encode(string(op.Data), qrLevel(op.Level), qr.Auto); err == nil {
			p.image(qrPicture(code, op.N))
		}
	case escpos.OpBarcode:
		p.flush()
		data := strings.TrimPrefix(string(op.Data), "{B")
		if code, err := code128.Encode(data); err == nil {
			p.image(barPicture(code, op.W, op.H))
		}
	case escpos.OpRaster:
		p.flush()
		img := image.NewGray(image.Rect(0, 0, op.W*8, op.H))
		for y := 0; y < op.H; y++ {
			for x := 0; x < op.W*8; x++ {
				if op.Data[y*op.W+x/8]&(0x80>>(x%8)) != 0 {
					img.Pix[y*img.Stride+x] = 0
				} else {
					img.Pix[y*img.Stride+x] = 255
				}
			}
		}
		// Bit 0 of the mode doubles every dot's width, bit 1 its height.
		if sx, sy := 1+op.N&1, 1+op.N>>1&1; sx > 1 || sy > 1 {
			img = scale(img, sx, sy)
		}
		p.image(img)
	case escpos.OpStoredLogo:
		p.flush()
		p.image(logoPlaceholder(op.N))
	}
}

// font is 0 for font A, 1 for font B: the index of its user-defined
// characters.
func (p *Paper) font() int {
	if p.small {
		return 1
	}
	return 0
}

// define stores user-defined characters for the font in force; a
// character wider than the font's cell cancels the command, as on the
// printers.
func (p *Paper) define(op escpos.Op) {
	cw, _ := cell(p.small)
	for _, c := range op.Chars {
		if c.Width > cw {
			return
		}
	}
	m := maps.Clone(p.user[p.font()])
	if m == nil {
		m = map[byte]escpos.UserChar{}
	}
	for i, c := range op.Chars {
		m[byte(op.N+i)] = c
	}
	p.user[p.font()] = m
}

// Cut ends the ticket and returns it as an image, with the cut marked.
// The image is the paper's own dots, handed over: the next ticket starts
// on new paper.
func (p *Paper) Cut() *image.Gray {
	img := p.picture()
	p.discard()
	return img
}

// picture is the ticket so far, fed out and with the cut marked, sharing
// the paper's dots.
func (p *Paper) picture() *image.Gray {
	p.flush()
	p.blank(16)
	img := p.rowsImage(0)
	for y := img.Rect.Dy() - 2; y < img.Rect.Dy(); y++ {
		row := img.Pix[y*img.Stride : y*img.Stride+p.width]
		for x := range row {
			if x%16 < 8 {
				row[x] = 0 // the cut
			}
		}
	}
	return img
}

// reuse forgets the ticket so far (after picture, say) and keeps the
// paper's dots for the next one, unless a very long job made them large.
func (p *Paper) reuse() {
	dots := p.dots[:0]
	p.discard()
	if cap(dots) <= 2<<20 {
		p.dots = dots
	}
}

// discard forgets the ticket so far.
func (p *Paper) discard() {
	p.line, p.dots, p.text, p.head, p.headH = nil, nil, nil, "", 0
}

// Text is the text printed since the last cut, a line each.
func (p *Paper) Text() string { return strings.Join(p.text, "\n") }

// Headline is the tallest text printed since the last cut.
func (p *Paper) Headline() string { return p.head }

func (p *Paper) lineHeight(h int) int {
	if p.gap >= 0 {
		return max(p.gap, 24*h)
	}
	return max(30, 24*h+6)
}

// blank feeds n rows of white paper and returns them, to draw on.
func (p *Paper) blank(n int) *image.Gray {
	from := len(p.dots)
	p.dots = slices.Grow(p.dots, n*p.width)[:from+n*p.width]
	paint(p.dots[from:], 255)
	return p.rowsImage(from / p.width)
}

// rowsImage is the paper from row from to the end, sharing its dots.
func (p *Paper) rowsImage(from int) *image.Gray {
	rows := len(p.dots) / p.width
	return &image.Gray{Pix: p.dots[from*p.width:], Stride: p.width, Rect: image.Rect(0, 0, p.width, rows-from)}
}

// flush prints the line composed so far.
func (p *Paper) flush() {
	if len(p.line) == 0 {
		return
	}
	h := 1
	for _, s := range p.line {
		h = max(h, s.h)
	}
	lh := p.lineHeight(h)
	var cells []*image.Gray
	total := 0
	var txt string
	for _, s := range p.line {
		txt += s.text
	}
	p.text = append(p.text, txt)
	if h > p.headH {
		p.head, p.headH = strings.TrimSpace(txt), h
	}
	for _, s := range p.line {
		c := renderSegment(s)
		cells = append(cells, c)
		total += c.Bounds().Dx()
	}
	img := p.blank(lh)
	x := p.offset(total)
	for _, c := range cells {
		y := lh - c.Bounds().Dy() - (lh-24*h)/2
		put(img, image.Pt(x, max(y, 0)), c)
		x += c.Bounds().Dx()
	}
	p.line = nil
}

func (p *Paper) offset(w int) int {
	switch p.align {
	case escpos.Center:
		return max((p.width-w)/2, 0)
	case escpos.Right:
		return max(p.width-w, 0)
	}
	return 0
}

// image prints a picture at the current alignment.
func (p *Paper) image(src *image.Gray) {
	put(p.blank(src.Rect.Dy()), image.Pt(p.offset(src.Rect.Dx()), 0), src)
}

// put copies src onto dst with its top left corner at at, cut to dst: the
// same dots as draw.Draw with draw.Src, without its per-dot colour
// conversions (a ticket is half a million dots).
func put(dst *image.Gray, at image.Point, src *image.Gray) {
	r := src.Rect.Sub(src.Rect.Min).Add(at).Intersect(dst.Rect)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		sx, sy := src.Rect.Min.X+r.Min.X-at.X, src.Rect.Min.Y+y-at.Y
		copy(dst.Pix[dst.PixOffset(r.Min.X, y):dst.PixOffset(r.Max.X, y)], src.Pix[src.PixOffset(sx, sy):])
	}
}

// fill paints r of img with the grey level v.
func fill(img *image.Gray, r image.Rectangle, v byte) {
	r = r.Intersect(img.Rect)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		paint(img.Pix[img.PixOffset(r.Min.X, y):img.PixOffset(r.Max.X, y)], v)
	}
}

// paint sets every byte of b to v, doubling what is painted with each
// copy: white paper is a few copies, not a store per dot.
func paint(b []byte, v byte) {
	if len(b) == 0 {
		return
	}
	b[0] = v
	for n := 1; n < len(b); n *= 2 {
		copy(b[n:], b[:n])
	}
}

// Fonts: Go Mono in cells of 12×24 dots (font A) and 9×17 (font B), the
// sizes of a thermal printer's own fonts; size multipliers scale the cells.
// They stand in for the printer's letters, not measure them: their
// baseline is 18 dots down font A's cell (capitals 14 dots tall) and 12
// down font B's, where Epson puts it at 21 and 16, and no maker gives its
// capitals' height. Nothing that must reach a size is printed in them:
// the ticket number goes as user-defined characters or an image, drawn
// here dot for dot as sent.
var (
	monoA     = mustFace(gomono.TTF, 20)
	monoABold = mustFace(gomonobold.TTF, 20)
	monoB     = mustFace(gomono.TTF, 15)
	monoBBold = mustFace(gomonobold.TTF, 15)
)

func mustFace(ttf []byte, px float64) font.Face {
	f, err := opentype.Parse(ttf)
	if err != nil {
		panic(err)
	}
	fc, err := opentype.NewFace(f, &opentype.FaceOptions{Size: px, DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		panic(err)
	}
	return fc
}

// cell is the size of a character of font A or font B, in dots.
func cell(small bool) (w, h int) {
	if small {
		return 9, 17
	}
	return 12, 24
}

func renderSegment(s segment) *image.Gray {
	cw, ch := cell(s.small)
	fc := monoA
	if s.small {
		fc = monoB
		if s.bold {
			fc = monoBBold
		}
	} else if s.bold {
		fc = monoABold
	}
	runes := []rune(s.text)
	base := white(cw*len(runes), ch)
	d := font.Drawer{Dst: base, Src: image.Black, Face: fc}
	var user []int // the cells drawn from user-defined characters
	for i, r := range runes {
		if i < len(s.codes) {
			if c, ok := s.user[s.codes[i]]; ok {
				for x := 0; x < cw; x++ {
					for y := 0; y < ch; y++ { // font B's cell keeps 17 of the 24 rows
						if c.Dot(x, y) {
							base.Pix[y*base.Stride+i*cw+x] = 0
						}
					}
				}
				user = append(user, i)
				continue
			}
		}
		adv, _ := fc.GlyphAdvance(r)
		x := i*cw + (cw-adv.Ceil())/2
		d.Dot = fixed.P(x, ch-fc.Metrics().Descent.Ceil()-1)
		d.DrawString(string(r))
	}
	img := threshold(base)
	if s.w != 1 || s.h != 1 {
		img = scale(img, s.w, s.h) // the same dots, a 64th of the work at 8×8
	}
	if s.bold {
		// Emphasis prints each dot of a user-defined character a dot wider,
		// as a thermal head does; the printer's own letters are drawn bold.
		for _, i := range user {
			for y := 0; y < img.Rect.Dy(); y++ {
				row := img.Pix[y*img.Stride+i*cw*s.w : y*img.Stride+(i+1)*cw*s.w]
				for x := len(row) - 1; x > 0; x-- {
					if row[x-1] == 0 {
						row[x] = 0
					}
				}
			}
		}
	}
	return img
}

// readUserChars is the text of a segment sent in user-defined characters:
// those the printer package draws for ticket numbers read as what they
// draw, the way a reader of the ticket would; others as "�"; codes with
// no character defined print, and read, as the page has them.
func readUserChars(text string, codes []byte, user map[byte]escpos.UserChar) string {
	runes := []rune(text)
	for i, c := range codes {
		if u, ok := user[c]; ok && i < len(runes) {
			runes[i] = recognise(u)
		}
	}
	return string(runes)
}

// numberRunes is every character a ticket number may hold (a capital
// letter, Ukrainian or Latin, digits, and the dash of a kiosk's offline
// series, "П3-007"), by the user-defined character that draws it. Where a Latin and a Cyrillic capital are drawn alike,
// the Cyrillic one is read: numbers start with one.
var numberRunes = sync.OnceValue(func() map[string]rune {
	m := map[string]rune{}
	add := func(from, to rune) {
		for r := from; r <= to; r++ {
			if g := printer.NumberGlyph(r); g.Width > 0 {
				m[string(g.Data)] = r
			}
		}
	}
	add('A', 'Z')
	add('А', 'Я')
	for _, r := range "ЁЄІЇЎҐ" {
		add(r, r)
	}
	add('0', '9')
	add('-', '-')
	return m
})

func recognise(c escpos.UserChar) rune {
	if r, ok := numberRunes()[string(c.Data)]; ok {
		return r
	}
	return '\uFFFD'
}

// threshold makes every dot black or white, as a thermal head does.
func threshold(img *image.Gray) *image.Gray {
	for i, v := range img.Pix {
		if v < 128 {
			img.Pix[i] = 0
		} else {
			img.Pix[i] = 255
		}
	}
	return img
}

func scale(src *image.Gray, sx, sy int) *image.Gray {
	b := src.Bounds()
	dst := image.NewGray(image.Rect(0, 0, b.Dx()*sx, b.Dy()*sy))
	w := dst.Rect.Dx()
	for y := 0; y < b.Dy(); y++ {
		// Each row widened once, then copied: a number eight times the
		// font's size is sixty-four dots a dot.
		row := dst.Pix[y*sy*dst.Stride : y*sy*dst.Stride+w]
		srow := src.Pix[y*src.Stride : y*src.Stride+b.Dx()]
		for x, v := range srow {
			paint(row[x*sx:(x+1)*sx], v)
		}
		for k := 1; k < sy; k++ {
			copy(dst.Pix[(y*sy+k)*dst.Stride:], row)
		}
	}
	return dst
}

// qrPicture draws a QR code at module dots per module, with the
// standard quiet zone of four modules.
func qrPicture(code barcode.Barcode, module int) *image.Gray {
	module = max(module, 1)
	n := code.Bounds().Dx()
	side := (n + 8) * module
	img := white(side, side)
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			if dark(code.At(code.Bounds().Min.X+x, code.Bounds().Min.Y+y)) {
				fill(img, image.Rect((x+4)*module, (y+4)*module, (x+5)*module, (y+5)*module), 0)
			}
		}
	}
	return img
}

// barPicture draws a 1D barcode module dots per module and height dots
// tall, with a quiet zone of ten modules each side.
func barPicture(code barcode.Barcode, module, height int) *image.Gray {
	module, height = max(module, 1), max(height, 1)
	n := code.Bounds().Dx()
	img := white((n+20)*module, height)
	for x := 0; x < n; x++ {
		if dark(code.At(code.Bounds().Min.X+x, code.Bounds().Min.Y)) {
			fill(img, image.Rect((x+10)*module, 0, (x+11)*module, height), 0)
		}
	}
	return img
}

func white(w, h int) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, w, h))
	fill(img, img.Rect, 255)
	return img
}

func dark(c color.Color) bool { return color.GrayModel.Convert(c).(color.Gray).Y < 128 }

func qrLevel(l escpos.QRLevel) qr.ErrorCorrectionLevel {
	switch l {
	case escpos.QRLevelM:
		return qr.M
	case escpos.QRLevelQ:
		return qr.Q
	case escpos.QRLevelH:
		return qr.H
	}
	return qr.L
}

// logoPlaceholder stands for a logo kept in a real printer's memory.
func logoPlaceholder(n int) *image.Gray {
	img := white(200, 80)
	for x := 0; x < 200; x++ {
		img.Pix[x], img.Pix[79*img.Stride+x] = 0, 0
	}
	for y := 0; y < 80; y++ {
		img.Pix[y*img.Stride], img.Pix[y*img.Stride+199] = 0, 0
	}
	seg := renderSegment(segment{text: "LOGO " + string(rune('0'+n%10)), w: 1, h: 1})
	put(img, image.Pt((200-seg.Bounds().Dx())/2, 28), seg)
	return img
}
