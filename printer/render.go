package printer

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"slices"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"

	"github.com/cherga/kiosk/printer/escpos"
)

// The Go fonts cover WGL4, which has every Ukrainian letter (і ї є ґ).
// They draw the lines a printer's own fonts cannot.
var (
	regular = mustParse(goregular.TTF)
	bold    = mustParse(gobold.TTF)
)

func mustParse(ttf []byte) *opentype.Font {
	f, err := opentype.Parse(ttf)
	if err != nil {
		panic(fmt.Sprintf("printer: embedded font: %v", err))
	}
	return f
}

func face(f *opentype.Font, px float64) font.Face {
	fc, err := opentype.NewFace(f, &opentype.FaceOptions{Size: px, DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		panic(fmt.Sprintf("printer: font face: %v", err))
	}
	return fc
}

// renderText draws one line of text as the printer's font would, 24 dots
// tall per size step (17 for the small font), for printing as an image.
func renderText(s string, width int, isBold, small bool, size int) *image.Gray {
	px := 22.0
	height := 24 * size
	if small {
		px, height = 16, 17*size
	}
	f := regular
	if isBold {
		f = bold
	}
	fc := face(f, px*float64(size))
	if w := font.MeasureString(fc, s).Ceil() + 2; w > width {
		// A word wider than the paper: the font shrinks rather than the
		// text being cut off.
		fc.Close()
		fc = face(f, px*float64(size)*float64(width)/float64(w))
	}
	defer fc.Close()
	// Only the text itself is sent, in whole bytes; the printer places it
	// by the alignment in force (ESC a applies to images too).
	w := min(font.MeasureString(fc, s).Ceil()+2, width)
	w = min((w+7)/8*8, width)
	img := image.NewGray(image.Rect(0, 0, w, height+6*size))
	fillWhite(img)
	d := font.Drawer{Dst: img, Src: image.Black, Face: fc, Dot: fixed.P(1, fc.Metrics().Ascent.Ceil()+2*size)}
	d.DrawString(s)
	return img
}

// renderNumber draws the ticket number in bold for RasterQuadruple, each
// dot of the image two by two on paper: inkDots tall on paper from the top
// of its capitals to the baseline, with a margin above and below. A number
// too wide for the paper at that height is narrowed, never made shorter.
func renderNumber(s string, width, inkDots int) *image.Gray {
	fc := face(bold, float64(inkDots+1)/2/boldCapRatio())
	defer fc.Close()
	bounds, adv := font.BoundString(fc, s)
	const margin = 6 // half-dots above and below: 1.5 mm at 8 dots a millimetre
	w := adv.Ceil() + 4
	img := image.NewGray(image.Rect(0, 0, (w+7)/8*8, (bounds.Max.Y-bounds.Min.Y).Ceil()+2*margin))
	fillWhite(img)
	d := font.Drawer{Dst: img, Src: image.Black, Face: fc, Dot: fixed.Point26_6{X: fixed.I(2), Y: fixed.I(margin) - bounds.Min.Y}}
	d.DrawString(s)
	if maxW := width / 2 / 8 * 8; img.Rect.Dx() > maxW {
		img = narrow(img, maxW)
	}
	return img
}

// narrow squeezes img to w dots wide, each new dot the average of the dots
// it covers.
func narrow(img *image.Gray, w int) *image.Gray {
	src := img.Rect.Dx()
	out := image.NewGray(image.Rect(0, 0, w, img.Rect.Dy()))
	for y := 0; y < img.Rect.Dy(); y++ {
		row := img.Pix[y*img.Stride:]
		for x := 0; x < w; x++ {
			from, to := x*src/w, max((x+1)*src/w, x*src/w+1)
			sum := 0
			for i := from; i < to; i++ {
				sum += int(row[i])
			}
			out.Pix[y*out.Stride+x] = uint8(sum / (to - from))
		}
	}
	return out
}

// boldCapRatio is the bold font's capital height over its size.
var boldCapRatio = sync.OnceValue(func() float64 {
	fc := face(bold, 1000)
	defer fc.Close()
	return float64(fc.Metrics().CapHeight) / 64 / 1000
})

// renderRule draws a rule width dots wide for RasterQuadruple: a bar two
// dots thick in the middle of a line's height.
func renderRule(width int) *image.Gray {
	w := (width/2 + 7) / 8 * 8
	img := image.NewGray(image.Rect(0, 0, w, lineDots/2))
	fillWhite(img)
	fillRect(img, 0, lineDots/4, w, 1)
	return img
}

func fillWhite(img *image.Gray) {
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
}

func fillRect(img *image.Gray, x, y, w, h int) {
	draw.Draw(img, image.Rect(x, y, x+w, y+h), &image.Uniform{color.Black}, image.Point{}, draw.Src)
}

// Font A's character cell, in dots, as Epson's manuals give it: 12 × 24,
// the baseline 21 dots from the top. A user-defined character (ESC &) is
// drawn in this cell and scaled by GS ! like the printer's own letters.
const (
	cellWidth  = 12
	cellHeight = 24
	// cellBaseline is the row under the capitals; rows below it are for
	// the tails of Д, Ц, Щ, rows above the capitals for the marks of Й, Ї.
	cellBaseline = 21
	// cellCapRows is how tall a capital or a digit is drawn: from row 3 to
	// the baseline, leaving three rows above for the marks.
	cellCapRows = 18
	// cellInkCols is the widest a glyph is drawn: two columns of every
	// cell stay blank, between one character and the next.
	cellInkCols = 10
)

// glyphOversample is how many dots of the drawing make one dot of a
// glyph, each way: a glyph dot is inked when at least half of it is.
const glyphOversample = 8

var (
	glyphMu    sync.Mutex
	glyphCache = map[rune]escpos.UserChar{}
)

// NumberGlyph draws r in the package's bold typeface for the ticket
// number, as a user-defined character of font A: capitals and digits 18
// dots tall on the cell's baseline, squeezed to 10 columns when wider,
// centred when narrower. At the number's size (GS ! up to 8 × 8) each of
// its dots is a block of the printer's dots, exactly as blocky as the
// printer's own font at that size; but the printer's font leaves the
// cell's top rows to accents and no maker says how tall its capitals are,
// while these are known to the dot. A rune the typeface lacks is blank.
func NumberGlyph(r rune) escpos.UserChar {
	glyphMu.Lock()
	g, ok := glyphCache[r]
	glyphMu.Unlock()
	if !ok {
		g = drawGlyph(r)
		glyphMu.Lock()
		if len(glyphCache) < 1024 { // the numbers' letters and digits, not whatever a caller sends
			glyphCache[r] = g
		}
		glyphMu.Unlock()
	}
	return escpos.UserChar{Width: g.Width, Data: slices.Clone(g.Data)}
}

func drawGlyph(r rune) escpos.UserChar {
	const s = glyphOversample
	size := float64(cellCapRows*s) / boldCapRatio()
	fc := face(bold, size)
	defer func() { fc.Close() }()
	bounds, _, ok := fc.GlyphBounds(r)
	if !ok || bounds.Max.X <= bounds.Min.X {
		return escpos.UserChar{}
	}
	// A letter whose marks rise above the cell (Й, Ї, Ґ) is drawn smaller,
	// whole: a mark cut off or run into the letter reads as another
	// letter. A tail below the baseline (Д, Ц, Щ) is squeezed into the
	// rows under it instead: a plain stroke stays one when shorter.
	if top := -bounds.Min.Y.Ceil(); top > cellBaseline*s {
		fc.Close()
		fc = face(bold, size*float64(cellBaseline*s)/float64(top))
		bounds, _, _ = fc.GlyphBounds(r)
	}
	tail := max(bounds.Max.Y.Ceil(), (cellHeight-cellBaseline)*s)
	x0, x1 := bounds.Min.X.Floor(), bounds.Max.X.Ceil()
	inkW := x1 - x0
	img := image.NewGray(image.Rect(0, 0, inkW, cellBaseline*s+tail))
	fillWhite(img)
	d := font.Drawer{Dst: img, Src: image.Black, Face: fc, Dot: fixed.Point26_6{X: fixed.I(-x0), Y: fixed.I(cellBaseline * s)}}
	d.DrawString(string(r))
	// rows gives the drawing's rows that make row of the glyph.
	rows := func(row int) (int, int) {
		if row < cellBaseline {
			return row * s, (row + 1) * s
		}
		k, n := row-cellBaseline, cellHeight-cellBaseline
		return cellBaseline*s + k*tail/n, cellBaseline*s + (k+1)*tail/n
	}
	cols, offset := cellInkCols, 0
	if inkW < cellInkCols*s {
		// Narrower than the cell allows (1, І): its natural width, centred.
		cols = (inkW + s - 1) / s
		offset = (cellInkCols - cols) / 2
	}
	g := escpos.UserChar{Data: make([]byte, 3*cellInkCols)}
	for c := 0; c < cols; c++ {
		from, to := c*inkW/cols, max((c+1)*inkW/cols, c*inkW/cols+1)
		for row := 0; row < cellHeight; row++ {
			ink, all := 0, 0
			y0, y1 := rows(row)
			for y := y0; y < y1; y++ {
				for x := from; x < to; x++ {
					all++
					ink += 255 - int(img.Pix[y*img.Stride+x])
				}
			}
			if 2*ink >= 255*all {
				g.Data[(offset+c)*3+row/8] |= 0x80 >> (row % 8)
			}
		}
	}
	// Columns blank on the right are not sent: the printer leaves them
	// blank itself.
	g.Width = cellInkCols
	for g.Width > 0 && g.Data[3*g.Width-1]|g.Data[3*g.Width-2]|g.Data[3*g.Width-3] == 0 {
		g.Width--
	}
	g.Data = g.Data[:3*g.Width]
	return g
}
