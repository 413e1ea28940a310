package printer

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
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
