package webtest

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"testing"
)

// A picture of at most 256 colours comes back exact; one of more (text
// smoothed between a few colours, as a page has) comes back close, as a
// palette image, and the same bytes every time.
func TestCompactPNG(t *testing.T) {
	encode := func(img image.Image) []byte {
		var b bytes.Buffer
		if err := png.Encode(&b, img); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	few := image.NewNRGBA(image.Rect(0, 0, 64, 48))
	many := image.NewNRGBA(image.Rect(0, 0, 320, 240))
	for y := range 240 {
		for x := range 320 {
			// A yellow-to-black ramp and a white-to-blue one: 640 colours.
			v := uint8(x * 255 / 319)
			c := color.NRGBA{v, uint8(int(v) * 212 / 255), 0, 255}
			if y >= 120 {
				c = color.NRGBA{255 - v, 255 - v, 255 - uint8(int(v)*100/255), 255}
			}
			many.Set(x, y, c)
			if x < 64 && y < 48 {
				few.Set(x, y, color.NRGBA{uint8(x / 8 * 30), uint8(y / 8 * 40), 128, 255})
			}
		}
	}
	for _, tt := range []struct {
		name   string
		img    *image.NRGBA
		maxErr int // the largest difference on any channel
	}{{"few", few, 0}, {"many", many, 6}} {
		src := encode(tt.img)
		got, err := CompactPNG(src)
		if err != nil {
			t.Fatal(err)
		}
		again, _ := CompactPNG(src)
		if !bytes.Equal(got, again) {
			t.Errorf("%s: two runs, two encodings", tt.name)
		}
		out, err := png.Decode(bytes.NewReader(got))
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := out.(*image.Paletted); !ok || out.Bounds() != tt.img.Bounds() {
			t.Fatalf("%s: %T of %v", tt.name, out, out.Bounds())
		}
		worst := 0
		for y := range tt.img.Bounds().Dy() {
			for x := range tt.img.Bounds().Dx() {
				a := tt.img.NRGBAAt(x, y)
				b := color.NRGBAModel.Convert(out.At(x, y)).(color.NRGBA)
				for _, d := range []int{int(a.R) - int(b.R), int(a.G) - int(b.G), int(a.B) - int(b.B), int(a.A) - int(b.A)} {
					worst = max(worst, d, -d)
				}
			}
		}
		if worst > tt.maxErr {
			t.Errorf("%s: a channel off by %d, want at most %d", tt.name, worst, tt.maxErr)
		}
	}
}
