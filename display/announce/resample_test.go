package announce

import (
	"fmt"
	"math"
	"testing"
)

// sweep is a linear sine sweep from f0 to f1 Hz over secs seconds at rate,
// amplitude a (of full scale), and the frequency it has at each sample.
func sweep(rate int, f0, f1, secs, a float64) (s []int16, freq func(i int) float64) {
	n := int(secs * float64(rate))
	k := (f1 - f0) / secs
	s = make([]int16, n)
	for i := range s {
		t := float64(i) / float64(rate)
		s[i] = int16(math.Round(a * 32767 * math.Sin(2*math.Pi*(f0*t+k*t*t/2))))
	}
	return s, func(i int) float64 { return f0 + k*float64(i)/float64(rate) }
}

func energy(s []int16) float64 {
	e := 0.0
	for _, v := range s {
		e += float64(v) * float64(v)
	}
	return e
}

func dB(ratio float64) float64 { return 10 * math.Log10(ratio) }

// A human recording at 48 kHz, brought down to the announcements' 22,050
// Hz: a sweep from 20 Hz to 24 kHz keeps its level below 9.9 kHz (90 % of
// the new Nyquist frequency) within 1 dB, and what lies above 11,025 Hz
// comes out at least 40 dB down instead of folding back as hiss.
func TestResampleSweep(t *testing.T) {
	const in, out = 48000, SampleRate
	x, freq := sweep(in, 20, 24000, 4, 0.5)
	c := (&Clip{Rate: in, Samples: x}).Resample(out)
	if c.Rate != out || len(c.Samples) != len(x)*out/in {
		t.Fatalf("rate %d, %d samples from %d", c.Rate, len(c.Samples), len(x))
	}
	y := c.Samples
	// 20 ms windows: 960 input samples, 441 output samples, the same span.
	const win = 20 // ms
	wi, wo := in*win/1000, out*win/1000
	nyquist := float64(out) / 2
	var worstPass, bestPass, worstStop = 0.0, 0.0, -300.0
	var stopIn, stopOut float64
	for w := 1; (w+2)*wi <= len(x); w++ { // the first and last windows hold the edges
		xs, ys := x[w*wi:(w+1)*wi], y[w*wo:(w+1)*wo]
		lo, hi := freq(w*wi), freq((w+1)*wi)
		// Scaled to energy per second, as the two rates differ.
		gain := dB((energy(ys) / float64(wo)) / (energy(xs) / float64(wi)))
		switch {
		case hi <= resamplePassEdge*nyquist:
			worstPass, bestPass = min(worstPass, gain), max(bestPass, gain)
		case lo >= nyquist:
			worstStop = max(worstStop, gain)
			stopIn += energy(xs) / float64(wi)
			stopOut += energy(ys) / float64(wo)
		}
	}
	if worstPass < -1 || bestPass > 1 {
		t.Errorf("passband to %.0f Hz: gain from %.3f to %.3f dB, want within ±1 dB", resamplePassEdge*nyquist, worstPass, bestPass)
	}
	if worstStop > -40 {
		t.Errorf("above %.0f Hz: a 20 ms window at %.1f dB, want ≤ −40 dB", nyquist, worstStop)
	}
	if a := dB(stopOut / stopIn); a > -40 {
		t.Errorf("energy above %.0f Hz: %.1f dB, want ≤ −40 dB", nyquist, a)
	}
	t.Logf("passband %.4f…%.4f dB; above Nyquist: worst window %.1f dB, all %.1f dB", worstPass, bestPass, worstStop, dB(stopOut/stopIn))
}

// goertzel is the amplitude (of full scale) of the hz component of s.
func goertzel(s []int16, rate int, hz float64) float64 {
	w := 2 * math.Pi * hz / float64(rate)
	var re, im float64
	for i, v := range s {
		re += float64(v) * math.Cos(w*float64(i))
		im -= float64(v) * math.Sin(w*float64(i))
	}
	return 2 * math.Hypot(re, im) / float64(len(s)) / 32767
}

func tone(rate int, hz, secs, a float64) []int16 {
	s := make([]int16, int(secs*float64(rate)))
	for i := range s {
		s[i] = int16(math.Round(a * 32767 * math.Sin(2*math.Pi*hz*float64(i)/float64(rate))))
	}
	return s
}

// Up as well as down: a tone keeps its pitch and level, and brought up
// from a lower rate it leaves no image above the old Nyquist frequency
// (a 7 kHz tone at 16 kHz would image at 9 kHz).
func TestResampleTones(t *testing.T) {
	for _, tc := range []struct {
		in     int
		hz     float64
		image  float64 // where an image or alias would land at 22,050 Hz; 0: none
		phases int
	}{
		{48000, 1000, 0, 147},
		{44100, 9000, 0, 1},
		{16000, 7000, 9000, 441},
		{8000, 3500, 4500, 441},
		{48000, 16000, 22050 - 16000, 147}, // above the new Nyquist: must go
		{44101, 5000, 0, maxPhases},        // a ratio that needs the nearest phase
	} {
		t.Run(fmt.Sprint(tc.in, "Hz-", tc.hz), func(t *testing.T) {
			x := tone(tc.in, tc.hz, 0.5, 0.5)
			y := (&Clip{Rate: tc.in, Samples: x}).Resample(SampleRate).Samples
			if b := bankFor(tc.in, SampleRate); b.phases != tc.phases {
				t.Errorf("%d phases, want %d", b.phases, tc.phases)
			}
			mid := y[len(y)/10 : len(y)*9/10] // away from the edges
			got := goertzel(mid, SampleRate, tc.hz)
			if tc.hz >= SampleRate/2 {
				if a := goertzel(mid, SampleRate, tc.image); a > 0.5*0.01 {
					t.Errorf("alias at %.0f Hz: %.1f dB of the tone", tc.image, dB(a*a/0.25))
				}
				return
			}
			if g := dB(got * got / 0.25); g < -1 || g > 1 {
				t.Errorf("tone at %.0f Hz: %.2f dB", tc.hz, g)
			}
			if tc.image > 0 {
				if a := goertzel(mid, SampleRate, tc.image); a > 0.5*0.01 {
					t.Errorf("image at %.0f Hz: %.1f dB of the tone", tc.image, dB(a*a/0.25))
				}
			}
		})
	}
}

// BenchmarkResample: a second of speech-band sound through the filter, in
// ns per output sample, for the rates centres' recordings come at.
func BenchmarkResample(b *testing.B) {
	for _, in := range []int{48000, 44100, 16000} {
		b.Run(fmt.Sprint(in), func(b *testing.B) {
			x, _ := sweep(in, 20, float64(in)/2, 1, 0.5)
			c := &Clip{Rate: in, Samples: x}
			c.Resample(SampleRate) // the bank, designed once per pair of rates
			n := 0
			for b.Loop() {
				n += len(c.Resample(SampleRate).Samples)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/sample")
			b.ReportMetric(float64(bankFor(in, SampleRate).taps), "taps")
		})
	}
}
