package announce

import (
	"math"
	"sync"
)

// A recording at 48 kHz holds sound up to 24 kHz. Played at 22,050 Hz,
// everything above 11,025 Hz would fold back into the speech as hiss and
// whistles, which linear interpolation does nothing to stop. Resampling
// therefore goes through a low-pass filter: a Kaiser-windowed sinc, laid
// out as a bank of fixed phases (a polyphase FIR), cut off below the lower
// of the two rates' Nyquist frequencies.
//
// The filter's figures, for every pair of rates:
//   - passband: up to 90 % of the lower Nyquist frequency (9.9 kHz at
//     22,050 Hz), flat to a few thousandths of a dB;
//   - stopband: from the lower Nyquist frequency up, 80 dB down;
//   - in between, the transition band, 10 % of the lower Nyquist.
const (
	resampleStopDB   = 80.0
	resamplePassEdge = 0.90 // of the lower Nyquist frequency
	// maxPhases bounds the bank. Rates whose ratio needs more phases
	// (44,101 to 22,050 Hz needs 22,050) take the nearest of 512: the
	// timing error is under 1/1024 of an input sample, a phase error of
	// −64 dB at 10 kHz from 48 kHz.
	maxPhases = 512
)

// filterBank is the polyphase filter for one pair of rates.
type filterBank struct {
	up, down int // output i is at input position i·down/up
	phases   int
	taps     int       // per phase, a multiple of 4
	coef     []float64 // phases × taps; phase p is for a fraction p/phases
}

// resampleBanks keeps the banks of the last few pairs of rates: a pack's
// recordings mostly come at one rate, and a bank takes a millisecond or
// more to design.
var resampleBanks struct {
	sync.Mutex
	banks map[[2]int]*filterBank
}

const maxBanks = 8

func bankFor(in, out int) *filterBank {
	key := [2]int{in, out}
	resampleBanks.Lock()
	b, ok := resampleBanks.banks[key]
	resampleBanks.Unlock()
	if ok {
		return b
	}
	b = newFilterBank(in, out)
	resampleBanks.Lock()
	defer resampleBanks.Unlock()
	if resampleBanks.banks == nil || len(resampleBanks.banks) >= maxBanks {
		resampleBanks.banks = map[[2]int]*filterBank{}
	}
	resampleBanks.banks[key] = b
	return b
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// newFilterBank designs the filter from in to out samples per second.
func newFilterBank(in, out int) *filterBank {
	g := gcd(in, out)
	b := &filterBank{up: out / g, down: in / g}
	b.phases = min(b.up, maxPhases)

	// Frequencies in cycles per input sample.
	nyquist := float64(min(in, out)) / 2 / float64(in)
	transition := (1 - resamplePassEdge) * nyquist
	cutoff := nyquist - transition/2
	// Kaiser's formulas for the window's shape and the filter's length.
	beta := 0.1102 * (resampleStopDB - 8.7)
	length := (resampleStopDB - 7.95) / (2.285 * 2 * math.Pi * transition)
	half := int(math.Ceil(length / 2))
	half += half % 2 // taps a multiple of 4, for the unrolled sum
	b.taps = 2 * half
	b.coef = make([]float64, b.phases*b.taps)
	i0beta := besselI0(beta)
	for p := range b.phases {
		frac := float64(p) / float64(b.phases)
		row := b.coef[p*b.taps : (p+1)*b.taps]
		sum := 0.0
		for k := range row {
			// Tap k multiplies input sample n−half+1+k for an output at
			// n+frac, which is d input samples after it.
			d := frac + float64(half-1-k)
			x := d / float64(half)
			if x <= -1 || x >= 1 {
				continue
			}
			w := besselI0(beta*math.Sqrt(1-x*x)) / i0beta
			row[k] = 2 * cutoff * sinc(2*cutoff*d) * w
			sum += row[k]
		}
		// Every phase passes a constant unchanged: no ripple at the
		// output's rate from one phase's gain to the next.
		for k := range row {
			row[k] /= sum
		}
	}
	return b
}

func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	return math.Sin(math.Pi*x) / (math.Pi * x)
}

// besselI0 is the modified Bessel function of the first kind, order 0,
// by its power series (converges fast for the window's arguments, ≤ 8).
func besselI0(x float64) float64 {
	sum, term := 1.0, 1.0
	q := x * x / 4
	for k := 1; k < 64; k++ {
		term *= q / float64(k*k)
		sum += term
		if term < sum*1e-17 {
			break
		}
	}
	return sum
}

// resample converts s from in to out samples per second.
func resample(s []int16, in, out int) []int16 {
	b := bankFor(in, out)
	n := int(int64(len(s)) * int64(out) / int64(in))
	half := b.taps / 2
	// The input with quiet before and after, so every output sums whole
	// rows.
	x := make([]float64, len(s)+b.taps+1)
	for i, v := range s {
		x[half-1+i] = float64(v)
	}
	y := make([]int16, n)
	for i := range y {
		// Output i is at input position i·down/up: sample pos plus a
		// fraction, taken as the nearest phase.
		num := int64(i) * int64(b.down)
		pos := int(num / int64(b.up))
		p := int((num%int64(b.up)*int64(b.phases) + int64(b.up)/2) / int64(b.up))
		if p == b.phases {
			pos, p = pos+1, 0
		}
		row := b.coef[p*b.taps : (p+1)*b.taps]
		win := x[pos : pos+len(row)]
		// Four sums at once: the additions need not wait on each other.
		var a0, a1, a2, a3 float64
		for k := 0; k+3 < len(row) && k+3 < len(win); k += 4 {
			a0 += row[k] * win[k]
			a1 += row[k+1] * win[k+1]
			a2 += row[k+2] * win[k+2]
			a3 += row[k+3] * win[k+3]
		}
		acc := (a0 + a1) + (a2 + a3)
		y[i] = int16(max(math.MinInt16, min(math.MaxInt16, math.Round(acc))))
	}
	return y
}
