package announce

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// ErrBadWAV is a file that is not a WAV this package can read.
var ErrBadWAV = errors.New("announce: not a readable WAV file")

// maxWAVBytes bounds a segment file: a word is a second or two.
const maxWAVBytes = 16 << 20

// ReadWAV reads a PCM WAV file (8, 16, 24 or 32 bit, any channel count)
// into a mono 16-bit clip, mixing channels down. Anything else is an
// error naming what is wrong, never a panic.
func ReadWAV(r io.Reader) (*Clip, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxWAVBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxWAVBytes {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrBadWAV, maxWAVBytes)
	}
	if len(b) < 12 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return nil, fmt.Errorf("%w: no RIFF/WAVE header", ErrBadWAV)
	}
	var channels, bits, format int
	var rate int
	var data []byte
	le := binary.LittleEndian
	for p := 12; p+8 <= len(b); {
		id, size := string(b[p:p+4]), int(le.Uint32(b[p+4:]))
		body := b[p+8:]
		if size < 0 || size > len(body) {
			if id == "data" { // streamed WAVs leave the size unset
				size = len(body)
			} else {
				return nil, fmt.Errorf("%w: chunk %q runs past the end", ErrBadWAV, id)
			}
		}
		switch id {
		case "fmt ":
			if size < 16 {
				return nil, fmt.Errorf("%w: short fmt chunk", ErrBadWAV)
			}
			format, channels = int(le.Uint16(body)), int(le.Uint16(body[2:]))
			rate, bits = int(le.Uint32(body[4:])), int(le.Uint16(body[14:]))
			if format == 0xFFFE && size >= 26 { // WAVE_FORMAT_EXTENSIBLE: the sub-format
				format = int(le.Uint16(body[24:]))
			}
		case "data":
			data = body[:size]
		}
		p += 8 + size + size%2
	}
	switch {
	case format != 1:
		return nil, fmt.Errorf("%w: format %d, only PCM is read", ErrBadWAV, format)
	case channels < 1 || channels > 8:
		return nil, fmt.Errorf("%w: %d channels", ErrBadWAV, channels)
	case rate < 4000 || rate > 192000:
		return nil, fmt.Errorf("%w: %d samples per second", ErrBadWAV, rate)
	case bits != 8 && bits != 16 && bits != 24 && bits != 32:
		return nil, fmt.Errorf("%w: %d bits per sample", ErrBadWAV, bits)
	case data == nil:
		return nil, fmt.Errorf("%w: no data chunk", ErrBadWAV)
	}
	width := bits / 8
	frames := len(data) / (width * channels)
	out := make([]int16, frames)
	for i := range frames {
		sum := 0.0
		for c := range channels {
			s := data[(i*channels+c)*width:]
			var v float64
			switch bits {
			case 8:
				v = float64(int(s[0])-128) / 128
			case 16:
				v = float64(int16(le.Uint16(s))) / 32768
			case 24:
				v = float64(int32(uint32(s[0])<<8|uint32(s[1])<<16|uint32(s[2])<<24)) / (1 << 31)
			case 32:
				v = float64(int32(le.Uint32(s))) / (1 << 31)
			}
			sum += v
		}
		out[i] = int16(max(math.MinInt16, min(math.MaxInt16, math.Round(sum/float64(channels)*32768))))
	}
	return &Clip{Rate: rate, Samples: out}, nil
}

// Resample converts c to rate through a low-pass filter (resample.go), so
// a centre's own recordings may come at any rate without hiss from what
// lies above the new rate's Nyquist frequency.
func (c *Clip) Resample(rate int) *Clip {
	if c.Rate == rate || len(c.Samples) == 0 || c.Rate <= 0 || rate <= 0 {
		return c
	}
	return &Clip{Name: c.Name, Rate: rate, Samples: resample(c.Samples, c.Rate, rate)}
}
