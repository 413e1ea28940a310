// Package announce makes calls heard: it composes the audio for a call and
// plays announcements one at a time, in order, through an Output (a sound
// device, or WAV files for the demo and tests).
//
// It must never cut an announcement off, never play two at once, and never
// stall the hall: a full queue is logged and the call still shows on
// screen.
package announce

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// Clip is mono 16-bit PCM audio.
type Clip struct {
	Name    string // file-safe name, used by the WAV output
	Rate    int    // samples per second
	Samples []int16
}

// Duration is the clip's length in seconds.
func (c *Clip) Seconds() float64 { return float64(len(c.Samples)) / float64(c.Rate) }

// WriteWAV writes the clip as a RIFF/WAVE file (PCM, mono, 16-bit).
func (c *Clip) WriteWAV(w io.Writer) error {
	data := len(c.Samples) * 2
	hdr := struct {
		Riff     [4]byte
		Size     uint32
		Wave     [4]byte
		Fmt      [4]byte
		FmtSize  uint32
		Format   uint16
		Channels uint16
		Rate     uint32
		ByteRate uint32
		Align    uint16
		Bits     uint16
		Data     [4]byte
		DataSize uint32
	}{
		[4]byte{'R', 'I', 'F', 'F'}, uint32(36 + data), [4]byte{'W', 'A', 'V', 'E'},
		[4]byte{'f', 'm', 't', ' '}, 16, 1, 1, uint32(c.Rate), uint32(c.Rate * 2), 2, 16,
		[4]byte{'d', 'a', 't', 'a'}, uint32(data),
	}
	if err := binary.Write(w, binary.LittleEndian, &hdr); err != nil {
		return fmt.Errorf("announce: write wav: %w", err)
	}
	if err := binary.Write(w, binary.LittleEndian, c.Samples); err != nil {
		return fmt.Errorf("announce: write wav: %w", err)
	}
	return nil
}

// Chime is the two-tone attention signal that starts every call. Each tone
// fades in over 5 ms and decays, so it starts and ends without a click.
func Chime(rate int) *Clip {
	var out []int16
	for _, tone := range []struct{ hz, secs float64 }{{659.25, 0.55}, {523.25, 0.9}} {
		n := int(tone.secs * float64(rate))
		attack := float64(rate) * 0.005
		for i := range n {
			t := float64(i) / float64(rate)
			env := math.Exp(-3.5 * t / tone.secs)
			if float64(i) < attack {
				env *= float64(i) / attack
			}
			// A touch of the octave makes it sound like a bell, not a beep.
			v := math.Sin(2*math.Pi*tone.hz*t) + 0.3*math.Sin(4*math.Pi*tone.hz*t)
			out = append(out, int16(v/1.3*env*0.6*math.MaxInt16))
		}
	}
	return &Clip{Name: "chime", Rate: rate, Samples: out}
}
