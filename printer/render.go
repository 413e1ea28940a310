package printer

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"

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

func fillWhite(img *image.Gray) {
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
}

func fillRect(img *image.Gray, x, y, w, h int) {
	draw.Draw(img, image.Rect(x, y, x+w, y+h), &image.Uniform{color.Black}, image.Point{}, draw.Src)
}
