package printer

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"strings"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"

	"github.com/cherga/kiosk/i18n"
)

// The Go fonts cover WGL4, which has every Ukrainian letter (і ї є ґ).
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

// line is one laid-out line of the ticket.
type line struct {
	face   font.Face
	text   string
	gap    int // extra pixels above
	rule   bool
	height int
}

// Render draws t as a thermal printer would print it on paper paperMM wide.
func Render(t *Ticket, paperMM int) *image.Gray {
	width := widthDots(paperMM)
	margin := width / 24
	inner := width - 2*margin
	scale := float64(width) / 576

	small := face(regular, 20*scale)
	normal := face(regular, 24*scale)
	strong := face(bold, 26*scale)
	huge := face(bold, 132*scale)
	var lines []line
	add := func(f font.Face, text string, gap int) {
		for i, l := range wrap(f, text, inner) {
			g := 0
			if i == 0 {
				g = gap
			}
			lines = append(lines, line{face: f, text: l, gap: g, height: f.Metrics().Height.Ceil()})
		}
	}
	rule := func() { lines = append(lines, line{rule: true, gap: 10, height: 12}) }

	add(strong, t.Centre.UK, 0)
	add(small, t.Centre.EN, 2)
	rule()
	add(normal, i18n.Both("ticket.your_number"), 8)
	add(huge, t.Number, 0)
	add(strong, t.Service.UK, 4)
	add(small, t.Service.EN, 2)
	rule()
	add(normal, i18n.T("uk", "ticket.ahead", "n", t.Ahead), 8)
	add(small, i18n.T("en", "ticket.ahead", "n", t.Ahead), 0)
	if t.Ahead > 0 {
		add(normal, i18n.T("uk", "ticket.wait", "n", t.WaitMin), 6)
		add(small, i18n.T("en", "ticket.wait", "n", t.WaitMin), 0)
	}
	add(normal, t.IssuedAt.Format("02.01.2006  15:04"), 10)
	rule()
	add(small, i18n.T("uk", "ticket.footer"), 8)
	add(small, i18n.T("en", "ticket.footer"), 2)

	height := 2 * margin
	for _, l := range lines {
		height += l.gap + l.height
	}
	img := image.NewGray(image.Rect(0, 0, width, height+24))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	y := margin
	for _, l := range lines {
		y += l.gap
		if l.rule {
			fill(img, margin, y+l.height/2, width-margin, y+l.height/2+2)
		} else {
			d := font.Drawer{Dst: img, Src: image.Black, Face: l.face}
			w := d.MeasureString(l.text).Ceil()
			d.Dot = fixed.P((width-w)/2, y+l.face.Metrics().Ascent.Ceil())
			d.DrawString(l.text)
		}
		y += l.height
	}
	// The cut: a dashed line where the cutter separates the ticket.
	for x := 0; x < width; x += 16 {
		fill(img, x, height+12, min(x+8, width), height+14)
	}
	return img
}

func fill(img *image.Gray, x0, y0, x1, y1 int) {
	draw.Draw(img, image.Rect(x0, y0, x1, y1), &image.Uniform{color.Black}, image.Point{}, draw.Src)
}

// wrap breaks text into lines no wider than width, between words. A single
// word wider than the paper is broken between letters, as a last resort.
func wrap(f font.Face, text string, width int) []string {
	words := strings.Fields(text)
	if len(words) == 0 {
		return nil
	}
	fits := func(s string) bool { return font.MeasureString(f, s).Ceil() <= width }
	var out []string
	cur := ""
	for _, w := range words {
		next := w
		if cur != "" {
			next = cur + " " + w
		}
		if fits(next) {
			cur = next
			continue
		}
		if cur != "" {
			out = append(out, cur)
		}
		cur = w
		for !fits(cur) && len([]rune(cur)) > 1 {
			r := []rune(cur)
			n := len(r) - 1
			for n > 1 && !fits(string(r[:n])) {
				n--
			}
			out = append(out, string(r[:n]))
			cur = string(r[n:])
		}
	}
	return append(out, cur)
}
