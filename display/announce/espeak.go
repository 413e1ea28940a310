package announce

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"
)

// Espeak says text with espeak-ng, which Debian ships with a Ukrainian
// voice: offline, so the hall never goes silent for want of a network.
type Espeak struct {
	Path  string // the espeak-ng binary
	Speed int    // words per minute
}

// FindEspeak finds espeak-ng on the PATH.
func FindEspeak() (Espeak, bool) {
	p, err := exec.LookPath("espeak-ng")
	if err != nil {
		return Espeak{}, false
	}
	return Espeak{Path: p, Speed: 140}, true
}

var espeakVoices = map[string]string{"uk": "uk", "en": "en"}

// EspeakInput is what espeak-ng is given to say text in lang: the
// language's respelling of a segment it reads wrongly (words.go), else
// the text itself.
func EspeakInput(lang, text string) string {
	if l, ok := Languages[lang]; ok {
		if r, ok := l.Respell[text]; ok {
			return r
		}
	}
	return text
}

// Say synthesises text in lang.
func (e Espeak) Say(lang, text string) (*Clip, error) {
	return e.sayInput(lang, EspeakInput(lang, text))
}

// sayInput synthesises espeak-ng input as it is, respelling aside.
func (e Espeak) sayInput(lang, input string) (*Clip, error) {
	voice, ok := espeakVoices[lang]
	if !ok {
		return nil, fmt.Errorf("announce: espeak-ng has no voice for %q", lang)
	}
	b, err := e.run(voice, input, "-s", fmt.Sprint(e.Speed), "--stdout")
	if err != nil {
		return nil, err
	}
	return ReadWAV(bytes.NewReader(b))
}

// inputSpeaker is a Speaker that can also say its own input as it is.
type inputSpeaker interface {
	sayInput(lang, input string) (*Clip, error)
}

// legacyInput is what builders before the respellings gave espeak-ng.
func legacyInput(lang, text string) string {
	if lang == "uk" {
		switch text {
		case "і":
			return "[['i:]]"
		case "и":
			return "[['I]]"
		}
	}
	return text
}

// adoptLegacy tells a file of a pack built before the manifest recorded
// the builder's files: it is the builder's if it holds what espeak-ng
// says for the input the builder then gave it.
func adoptLegacy(sp Speaker, lang, path, text string) (Built, bool) {
	input := legacyInput(lang, text)
	var clip *Clip
	var err error
	if is, ok := sp.(inputSpeaker); ok {
		clip, err = is.sayInput(lang, input)
	} else {
		clip, err = sp.Say(lang, input)
	}
	if err != nil {
		return Built{}, false
	}
	f, err := readSegment(path)
	if err != nil {
		return Built{}, false
	}
	clip = clip.Resample(SampleRate)
	if f.Rate != clip.Rate || !slices.Equal(f.Samples, clip.Samples) {
		return Built{}, false
	}
	sum, err := fileSHA256(path)
	return Built{From: input, SHA256: sum}, err == nil
}

// Phonemes is what espeak-ng makes of text in lang, in its phoneme
// mnemonics (espeak-ng -x): where each word's stress falls.
func (e Espeak) Phonemes(lang, text string) (string, error) {
	voice, ok := espeakVoices[lang]
	if !ok {
		return "", fmt.Errorf("announce: espeak-ng has no voice for %q", lang)
	}
	b, err := e.run(voice, EspeakInput(lang, text), "-q", "-x")
	return strings.Join(strings.Fields(string(b)), " "), err
}

func (e Espeak) run(voice, input string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	cmd := exec.CommandContext(ctx, e.Path, append(append([]string{"-v", voice}, args...), "--", input)...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("announce: espeak-ng %q: %w: %s", input, err, bytes.TrimSpace(errb.Bytes()))
	}
	return out.Bytes(), nil
}

// BuildPack writes a complete phrase pack for lang into dir: every
// segment spoken by sp, the chime, and the manifest. Files already there
// are kept (a centre's own recordings, a manifest with its own wording,
// whose texts are then what sp says) unless force is set; of the files
// the builder made itself, those made from an input it would no longer
// give (OutdatedFiles) are made again.
func BuildPack(lang, dir string, sp Speaker, force bool) error {
	l, ok := Languages[lang]
	if !ok {
		return fmt.Errorf("announce: no language %q (known: uk, en)", lang)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("announce: %w", err)
	}
	m := Manifest{Lang: lang, Name: "espeak-ng " + lang, Pauses: DefaultPauses, Texts: map[string]string{}}
	manifest := filepath.Join(dir, "manifest.json")
	if b, err := os.ReadFile(manifest); err == nil && !force {
		if m, err = parseManifest(b); err != nil {
			return fmt.Errorf("announce: %s: %w (fix it, or build with -force)", manifest, err)
		}
		if m.Lang != lang {
			return fmt.Errorf("announce: %s is for %q, not %q", manifest, m.Lang, lang)
		}
	}
	if m.Texts == nil {
		m.Texts = map[string]string{}
	}
	for k, t := range l.Texts {
		if _, ok := m.Texts[k]; !ok {
			m.Texts[k] = t
		}
	}
	keys := make([]string, 0, len(m.Texts))
	for k := range m.Texts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	exists := func(name string) bool {
		_, err := os.Stat(filepath.Join(dir, name))
		return err == nil && !force
	}
	built := map[string]Built{}
	legacy := m.legacy()
	for _, k := range keys {
		path := filepath.Join(dir, k+".wav")
		input := EspeakInput(lang, m.Texts[k])
		if exists(k + ".wav") {
			if legacy {
				// Keep a centre's recording; make the builder's file again
				// if it would now be said otherwise.
				rec, ours := adoptLegacy(sp, lang, path, m.Texts[k])
				if !ours {
					continue
				}
				if rec.From == input {
					built[k] = rec
					continue
				}
			} else if !m.outdated(dir, k) {
				if m.ownFile(dir, k) {
					built[k] = m.Built[k]
				}
				continue
			}
		}
		clip, err := sp.Say(lang, m.Texts[k])
		if err != nil {
			return err
		}
		if err := WriteWAVFile(path, clip.Resample(SampleRate)); err != nil {
			return err
		}
		sum, err := fileSHA256(path)
		if err != nil {
			return fmt.Errorf("announce: %w", err)
		}
		built[k] = Built{From: input, SHA256: sum}
	}
	m.Built = built
	if !exists("chime.wav") {
		if err := WriteWAVFile(filepath.Join(dir, "chime.wav"), Chime(SampleRate)); err != nil {
			return err
		}
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	// The manifest last: a pack with a manifest is complete.
	tmp := manifest + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("announce: %w", err)
	}
	return os.Rename(tmp, manifest)
}

// WriteWAVFile writes c to path as a whole file: written aside, then
// renamed, so a reader never sees half an announcement.
func WriteWAVFile(path string, c *Clip) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("announce: %w", err)
	}
	if err := c.WriteWAV(f); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("announce: %w", err)
	}
	return os.Rename(tmp, path)
}
