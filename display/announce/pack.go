package announce

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"
)

// A phrase pack is a directory of WAV files, one per segment, and a
// manifest.json. A centre may replace any file with a human recording of
// the same name; the manifest may change the wording (the texts) and the
// order of the call's parts.

// Manifest describes a pack.
type Manifest struct {
	Lang string `json:"lang"`
	Name string `json:"name"`
	// GapMS is the pause between segments, in milliseconds.
	GapMS int `json:"gap_ms"`
	// Sequence overrides the language's order of a call's parts.
	Sequence []string `json:"sequence,omitempty"`
	// Texts is what each segment says: what the builder synthesises, and
	// what text-to-speech says when a file is missing.
	Texts map[string]string `json:"texts"`
}

// Pack is a loaded phrase pack.
type Pack struct {
	Dir      string
	Manifest Manifest
	Lang     *Language
	broken   map[string]string // segment → why it could not be loaded

	mu        sync.Mutex
	segments  map[string][]int16 // trimmed, at SampleRate
	ttsFailed map[string]bool    // segments text-to-speech could not say
}

// DefaultGapMS is the pause between words of a built pack: short enough
// to sound like one sentence, long enough to keep the words apart.
const DefaultGapMS = 60

func (p *Pack) segment(key string) ([]int16, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s, ok := p.segments[key]
	return s, ok
}

// silence is what counts as quiet when trimming: about 1 % of full scale.
const silence = 330

// margin of quiet kept around a trimmed segment, so a word's breath is not
// cut; the fades keep the joins click-free.
const (
	margin = 10 * time.Millisecond
	fade   = 5 * time.Millisecond
)

// LoadPack reads the pack in dir. Missing and broken files are recorded,
// not fatal: a call then says what it can.
func LoadPack(dir string) (*Pack, error) {
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return nil, fmt.Errorf("announce: pack %s: %w", dir, err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("announce: pack %s: manifest.json: %w", dir, err)
	}
	lang, ok := Languages[m.Lang]
	if !ok {
		return nil, fmt.Errorf("announce: pack %s: language %q (known: uk, en)", dir, m.Lang)
	}
	if m.GapMS < 0 || m.GapMS > 2000 {
		return nil, fmt.Errorf("announce: pack %s: gap_ms %d (0 to 2000)", dir, m.GapMS)
	}
	p := &Pack{Dir: dir, Manifest: m, Lang: lang, segments: map[string][]int16{}, broken: map[string]string{}}
	keys := map[string]bool{}
	for k := range lang.Texts {
		keys[k] = true
	}
	for k := range m.Texts {
		keys[k] = true
	}
	keys["chime"] = true
	for k := range keys {
		clip, err := readSegment(filepath.Join(dir, k+".wav"))
		switch {
		case errors.Is(err, os.ErrNotExist) && k == "chime":
		case err != nil:
			p.broken[k] = err.Error()
		default:
			p.segments[k] = trim(clip.Resample(SampleRate).Samples)
		}
	}
	return p, nil
}

func readSegment(path string) (*Clip, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadWAV(f)
}

// Problems lists the segments that could not be loaded, and why.
func (p *Pack) Problems() []string {
	var out []string
	for k, why := range p.broken {
		out = append(out, k+": "+why)
	}
	sort.Strings(out)
	return out
}

// text is what a segment says in this pack.
func (p *Pack) text(key string) string {
	if t, ok := p.Manifest.Texts[key]; ok {
		return t
	}
	return p.Lang.Texts[key]
}

// trim cuts the quiet from both ends, keeping a short margin.
func trim(s []int16) []int16 {
	first, last := -1, -1
	for i, v := range s {
		if v > silence || v < -silence {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first < 0 {
		return nil
	}
	m := int(margin.Seconds() * SampleRate)
	out := append([]int16(nil), s[max(0, first-m):min(len(s), last+m+1)]...)
	fadeEdges(out)
	return out
}

func fadeEdges(s []int16) {
	n := min(int(fade.Seconds()*SampleRate), len(s)/2)
	for i := range n {
		g := float64(i) / float64(n)
		s[i] = int16(float64(s[i]) * g)
		s[len(s)-1-i] = int16(float64(s[len(s)-1-i]) * g)
	}
}

// MissingFiles lists the files of lang's pack that are not in dir: the
// manifest, the chime, and each segment.
func MissingFiles(lang, dir string) []string {
	l, ok := Languages[lang]
	if !ok {
		return nil
	}
	var out []string
	for _, name := range append([]string{"manifest.json", "chime.wav"}, segmentFiles(l)...) {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			out = append(out, name)
		}
	}
	return out
}

func segmentFiles(l *Language) []string {
	out := make([]string, 0, len(l.Texts))
	for k := range l.Texts {
		out = append(out, k+".wav")
	}
	sort.Strings(out)
	return out
}
