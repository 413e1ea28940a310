package webtest

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"slices"
)

// CompactPNG re-encodes a screenshot small enough to commit: a palette
// image of its own colours when it has at most 256 of them, else of the
// 256 that median cut finds for it, each pixel drawn in its nearest one
// (no dithering, so text stays crisp), compressed as hard as zlib goes.
// The same picture gives the same bytes.
func CompactPNG(src []byte) ([]byte, error) {
	img, err := png.Decode(bytes.NewReader(src))
	if err != nil {
		return nil, fmt.Errorf("compact png: %w", err)
	}
	rgba := image.NewNRGBA(img.Bounds())
	draw.Draw(rgba, rgba.Bounds(), img, img.Bounds().Min, draw.Src)
	counts := map[uint32]int{}
	for i := 0; i < len(rgba.Pix); i += 4 {
		counts[pack(rgba.Pix[i:i+4])]++
	}
	colours := make([]weighted, 0, len(counts))
	for c, n := range counts {
		colours = append(colours, weighted{c, n})
	}
	slices.SortFunc(colours, func(a, b weighted) int { return int(int64(a.c) - int64(b.c)) })
	palette := medianCut(colours, 256)

	out := image.NewPaletted(rgba.Bounds(), palette)
	index := make(map[uint32]uint8, len(colours))
	for _, w := range colours {
		index[w.c] = uint8(palette.Index(unpack(w.c)))
	}
	for i, j := 0, 0; i < len(rgba.Pix); i, j = i+4, j+1 {
		out.Pix[j] = index[pack(rgba.Pix[i:i+4])]
	}
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&buf, out); err != nil {
		return nil, fmt.Errorf("compact png: %w", err)
	}
	return buf.Bytes(), nil
}

// weighted is a colour (packed RGBA) and how many pixels have it.
type weighted struct {
	c uint32
	n int
}

func pack(p []uint8) uint32 {
	return uint32(p[0])<<24 | uint32(p[1])<<16 | uint32(p[2])<<8 | uint32(p[3])
}

func unpack(c uint32) color.NRGBA {
	return color.NRGBA{uint8(c >> 24), uint8(c >> 16), uint8(c >> 8), uint8(c)}
}

// medianCut finds at most n colours for colours (sorted, each once): the
// box of colours with the most pixels times its widest channel's range is
// split at that channel's pixel-weighted median until there are n boxes,
// and each box gives its pixel-weighted mean.
func medianCut(colours []weighted, n int) color.Palette {
	if len(colours) <= n {
		p := make(color.Palette, len(colours))
		for i, w := range colours {
			p[i] = unpack(w.c)
		}
		return p
	}
	boxes := [][]weighted{colours}
	for len(boxes) < n {
		best, bestScore, bestShift := -1, 0, uint32(0)
		for i, b := range boxes {
			if len(b) < 2 {
				continue
			}
			shift, spread := widest(b)
			pixels := 0
			for _, w := range b {
				pixels += w.n
			}
			if score := spread * pixels; best < 0 || score > bestScore {
				best, bestScore, bestShift = i, score, shift
			}
		}
		if best < 0 {
			break
		}
		b := boxes[best]
		ch := func(w weighted) int { return int(w.c >> bestShift & 0xff) }
		slices.SortStableFunc(b, func(x, y weighted) int { return ch(x) - ch(y) })
		total := 0
		for _, w := range b {
			total += w.n
		}
		cut, seen := 1, 0
		for i, w := range b[:len(b)-1] {
			seen += w.n
			cut = i + 1
			if 2*seen >= total {
				break
			}
		}
		boxes = append(boxes[:best], append([][]weighted{b[:cut:cut], b[cut:]}, boxes[best+1:]...)...)
	}
	p := make(color.Palette, len(boxes))
	for i, b := range boxes {
		var sum [4]int
		pixels := 0
		for _, w := range b {
			for k := range 4 {
				sum[k] += int(w.c>>(24-8*k)&0xff) * w.n
			}
			pixels += w.n
		}
		var c color.NRGBA
		for k, v := range []*uint8{&c.R, &c.G, &c.B, &c.A} {
			*v = uint8((sum[k] + pixels/2) / pixels)
		}
		p[i] = c
	}
	return p
}

// widest is the channel (as a shift of the packed colour) whose values
// in b spread the most, and that spread.
func widest(b []weighted) (shift uint32, spread int) {
	spread = -1
	for _, s := range []uint32{24, 16, 8, 0} {
		lo, hi := 255, 0
		for _, w := range b {
			v := int(w.c >> s & 0xff)
			lo, hi = min(lo, v), max(hi, v)
		}
		if hi-lo > spread {
			shift, spread = s, hi-lo
		}
	}
	return shift, spread
}
