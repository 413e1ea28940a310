package announce

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
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

// respell gives espeak-ng phonemes for texts it says badly: alone, "і"
// and "и" come out as a 40 ms blip, too short to hear in a hall.
var respell = map[string]map[string]string{
	"uk": {"і": "[['i:]]", "и": "[['I]]"},
}

// Say synthesises text in lang.
func (e Espeak) Say(lang, text string) (*Clip, error) {
	voice, ok := espeakVoices[lang]
	if !ok {
		return nil, fmt.Errorf("announce: espeak-ng has no voice for %q", lang)
	}
	if r, ok := respell[lang][text]; ok {
		text = r
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	cmd := exec.CommandContext(ctx, e.Path, "-v", voice, "-s", fmt.Sprint(e.Speed), "--stdout", "--", text)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("announce: espeak-ng %q: %w: %s", text, err, bytes.TrimSpace(errb.Bytes()))
	}
	return ReadWAV(&out)
}

// BuildPack writes a complete phrase pack for lang into dir: every
// segment spoken by sp, the chime, and the manifest. Files already there
// are kept (a centre's own recordings, a manifest with its own wording,
// whose texts are then what sp says) unless force is set.
func BuildPack(lang, dir string, sp Speaker, force bool) error {
	l, ok := Languages[lang]
	if !ok {
		return fmt.Errorf("announce: no language %q (known: uk, en)", lang)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("announce: %w", err)
	}
	m := Manifest{Lang: lang, Name: "espeak-ng " + lang, GapMS: DefaultGapMS, Texts: map[string]string{}}
	manifest := filepath.Join(dir, "manifest.json")
	if b, err := os.ReadFile(manifest); err == nil && !force {
		if err := json.Unmarshal(b, &m); err != nil {
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
	for _, k := range keys {
		if exists(k + ".wav") {
			continue
		}
		clip, err := sp.Say(lang, m.Texts[k])
		if err != nil {
			return err
		}
		if err := WriteWAVFile(filepath.Join(dir, k+".wav"), clip.Resample(SampleRate)); err != nil {
			return err
		}
	}
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
