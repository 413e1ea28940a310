package announce

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// A phrase pack is a directory of WAV files, one per segment, and a
// manifest.json. A centre may replace any file with a human recording of
// the same name (docs/voice.md); the manifest may change the wording (the
// texts), the order of the call's parts and the pauses between them.

// Manifest describes a pack.
type Manifest struct {
	Lang string `json:"lang"`
	Name string `json:"name"`
	// Pauses join the segments; what a manifest leaves out is the
	// default. (gap_ms, one pause for every join, is no longer read.)
	Pauses Pauses `json:"pauses"`
	// Sequence overrides the language's order of a call's parts.
	Sequence []string `json:"sequence,omitempty"`
	// Texts is what each segment says: what the builder synthesises, and
	// what text-to-speech says when a file is missing.
	Texts map[string]string `json:"texts"`
	// Built records the files espeak-ng made: from what input, and the
	// file's SHA-256. A file whose hash no longer matches is a centre's
	// own recording, kept; one whose input has changed since (a corrected
	// stress) is made again.
	Built map[string]Built `json:"built"`
}

// Built is how the builder made a segment's file.
type Built struct {
	From   string `json:"from"`
	SHA256 string `json:"sha256"`
}

// Pauses are the silences between the parts of a call, in milliseconds
// (a pause of ms lasts ms·22,050/1,000 samples, rounded down), so that
// words stay apart ("номер · А", not "номера") while the call
// still sounds like one sentence. In "Відвідувач номер · А · сто · двадцять
// · три, · підійдіть до вікна номер · п'ять":
type Pauses struct {
	// Word: between the words of a number (сто · двадцять · три).
	Word int `json:"word_ms"`
	// Letter: between a ticket's letter and its number (А · сто).
	Letter int `json:"letter_ms"`
	// AfterPhrase: after a fixed phrase, before the number it introduces
	// (номер · А, номер · п'ять).
	AfterPhrase int `json:"after_phrase_ms"`
	// AfterNumber: after a number, before the next phrase: the comma of
	// the sentence (три, · підійдіть).
	AfterNumber int `json:"after_number_ms"`
	// AfterChime: between the chime and the call, when this language
	// speaks first.
	AfterChime int `json:"after_chime_ms"`
	// BetweenLanguages: before this language's call when another
	// language's call comes first; the listener hears the change of
	// language as a new sentence.
	BetweenLanguages int `json:"between_languages_ms"`
}

// DefaultPauses are what a built pack is joined with: each long enough to
// be heard as a pause through a hall's echo, the call still one sentence
// (about 1.8 s of pauses in a language's call, 0.9 s between languages).
var DefaultPauses = Pauses{Word: 80, Letter: 160, AfterPhrase: 280, AfterNumber: 550, AfterChime: 350, BetweenLanguages: 900}

// maxPauseMS bounds each pause: longer, and a listener takes the call
// for over.
const maxPauseMS = 3000

func (p Pauses) check() error {
	for name, ms := range map[string]int{"word_ms": p.Word, "letter_ms": p.Letter, "after_phrase_ms": p.AfterPhrase,
		"after_number_ms": p.AfterNumber, "after_chime_ms": p.AfterChime, "between_languages_ms": p.BetweenLanguages} {
		if ms < 0 || ms > maxPauseMS {
			return fmt.Errorf("pauses.%s %d (0 to %d)", name, ms, maxPauseMS)
		}
	}
	return nil
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
	m, err := parseManifest(b)
	if err != nil {
		return nil, fmt.Errorf("announce: pack %s: manifest.json: %w", dir, err)
	}
	lang, ok := Languages[m.Lang]
	if !ok {
		return nil, fmt.Errorf("announce: pack %s: language %q (known: uk, en)", dir, m.Lang)
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

// parseManifest reads a manifest; the pauses it leaves out are the
// defaults.
func parseManifest(b []byte) (Manifest, error) {
	m := Manifest{Pauses: DefaultPauses}
	if err := json.Unmarshal(b, &m); err != nil {
		return Manifest{}, err
	}
	if err := m.Pauses.check(); err != nil {
		return Manifest{}, err
	}
	return m, nil
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

// levelSpreadDB is how far a segment's speech may be from the pack's
// median level before a listener hears one word jump out of the call.
const levelSpreadDB = 6.0

// UnevenLevels lists the segments whose speech is more than 6 dB louder
// or quieter than the pack's median: typically a human recording among
// built segments, or one recorded at another level than the rest.
func (p *Pack) UnevenLevels() []string {
	p.mu.Lock()
	levels := map[string]float64{}
	for k, s := range p.segments {
		if k != "chime" {
			if l, ok := speechLevel(s); ok {
				levels[k] = l
			}
		}
	}
	p.mu.Unlock()
	all := make([]float64, 0, len(levels))
	for _, l := range levels {
		all = append(all, l)
	}
	if len(all) < 3 {
		return nil
	}
	sort.Float64s(all)
	median := all[len(all)/2]
	var out []string
	for k, l := range levels {
		if d := l - median; d > levelSpreadDB || d < -levelSpreadDB {
			out = append(out, fmt.Sprintf("%s.wav: speech at %.1f dBFS, the pack's median %.1f dBFS", k, l, median))
		}
	}
	sort.Strings(out)
	return out
}

// speechLevel is the RMS level of s's speech in dBFS: over the 10 ms
// frames louder than the trimming's quiet, so the pauses within a phrase
// do not count.
func speechLevel(s []int16) (float64, bool) {
	frame := SampleRate / 100
	var sum float64
	n := 0
	for i := 0; i+frame <= len(s); i += frame {
		e := 0.0
		for _, v := range s[i : i+frame] {
			e += float64(v) * float64(v)
		}
		if e/float64(frame) > silence*silence {
			sum += e
			n += frame
		}
	}
	if n == 0 {
		return 0, false
	}
	return 10 * math.Log10(sum/float64(n)/(32768*32768)), true
}

// text is what a segment says in this pack.
func (p *Pack) text(key string) string { return p.Manifest.text(key) }

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

// OutdatedFiles lists the segment files of lang's pack in dir that the
// builder made from an input it would no longer give espeak-ng (a stress
// corrected since, or a text the manifest changed) and that are still as
// it made them: a build makes them again. A centre's own recording is
// never among them.
func OutdatedFiles(lang, dir string) []string {
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return nil
	}
	m, err := parseManifest(b)
	if err != nil || m.Lang != lang {
		return nil
	}
	var out []string
	for k := range m.Built {
		if m.outdated(dir, k) {
			out = append(out, k+".wav")
		}
	}
	sort.Strings(out)
	return out
}

// legacy reports whether m is the manifest of a pack built before the
// builder recorded its files (Built).
func (m *Manifest) legacy() bool { return m.Built == nil && strings.HasPrefix(m.Name, "espeak-ng") }

// legacyPack reports whether the pack in dir is one whose files a build
// must first tell from a centre's recordings.
func legacyPack(dir string) bool {
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return false
	}
	m, err := parseManifest(b)
	return err == nil && m.legacy()
}

// text is what segment key says by this manifest.
func (m *Manifest) text(key string) string {
	if t, ok := m.Texts[key]; ok {
		return t
	}
	if l, ok := Languages[m.Lang]; ok {
		return l.Texts[key]
	}
	return ""
}

// ownFile reports whether the segment's file is still the one the
// builder made.
func (m *Manifest) ownFile(dir, key string) bool {
	rec, ok := m.Built[key]
	if !ok {
		return false
	}
	sum, err := fileSHA256(filepath.Join(dir, key+".wav"))
	return err == nil && sum == rec.SHA256
}

func (m *Manifest) outdated(dir, key string) bool {
	rec, ok := m.Built[key]
	return ok && rec.From != EspeakInput(m.Lang, m.text(key)) && m.ownFile(dir, key)
}

func fileSHA256(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
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
