package announce

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/cherga/kiosk/devices"
	"github.com/cherga/kiosk/link/proto"
)

// Speaker says a segment no pack has; text-to-speech, optional.
type Speaker interface {
	Say(lang, text string) (*Clip, error)
}

// Setup is where a terminal's voice comes from.
type Setup struct {
	// Languages are spoken in this order, each from Dir/<lang>.
	Languages []string
	Dir       string
	// TTS says what a pack lacks with espeak-ng, when it is installed.
	TTS bool
	Log *slog.Logger
	// Clock is the terminal's, for the status's since; nil: the real clock.
	Clock clockwork.Clock
}

// Voice composes announcements from phrase packs, one language after
// another.
type Voice struct {
	setup Setup
	tts   Speaker // nil: none
	log   *slog.Logger
	since time.Time

	mu       sync.Mutex
	packs    []*Pack
	missing  map[string]string // lang → why its pack is not there
	building bool
}

// NewVoice speaks from packs, with tts (may be nil) for what they lack.
// clock, if given, is the terminal's, else the real clock.
func NewVoice(packs []*Pack, tts Speaker, log *slog.Logger, clock ...clockwork.Clock) *Voice {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Voice{packs: packs, tts: tts, log: log, since: clockOr(clock).Now(), missing: map[string]string{}}
}

// clockOr is the optional clock of a constructor; none or nil: the real
// clock.
func clockOr(clock []clockwork.Clock) clockwork.Clock {
	if len(clock) > 0 && clock[0] != nil {
		return clock[0]
	}
	return clockwork.NewRealClock()
}

// OpenVoice loads the packs of s. A pack that is not there leaves its
// language to text-to-speech, or silent (the chime still plays); Build
// makes it.
func OpenVoice(s Setup) *Voice {
	var tts Speaker
	if s.TTS {
		if e, ok := FindEspeak(); ok {
			tts = e
		}
	}
	v := NewVoice(nil, tts, s.Log, s.Clock)
	v.setup = s
	for _, lang := range s.Languages {
		v.packs = append(v.packs, v.load(lang))
	}
	return v
}

// load reads one language's pack; failing that, an empty pack of the
// language stands in, so text-to-speech can fill it.
func (v *Voice) load(lang string) *Pack {
	dir := filepath.Join(v.setup.Dir, lang)
	p, err := LoadPack(dir)
	if err == nil {
		if p.Lang.Code != lang {
			err = fmt.Errorf("announce: pack %s is for %q, not %q", dir, p.Lang.Code, lang)
		} else {
			delete(v.missing, lang)
			for _, why := range p.Problems() {
				v.log.Warn("voice segment unusable; the calls are spoken without it", "pack", dir, "segment", why)
			}
			return p
		}
	}
	v.missing[lang] = err.Error()
	v.log.Warn("no phrase pack; run kioskctl voice build", "lang", lang, "dir", dir, "err", err)
	return emptyPack(lang, dir)
}

func emptyPack(lang, dir string) *Pack {
	l := Languages[lang]
	if l == nil {
		l = Languages["uk"]
	}
	return &Pack{Dir: dir, Manifest: Manifest{Lang: l.Code, GapMS: DefaultGapMS}, Lang: l,
		segments: map[string][]int16{}, broken: map[string]string{}}
}

// NeedsBuild lists the languages whose pack lacks files the builder makes.
func (v *Voice) NeedsBuild() []string {
	var out []string
	for _, lang := range v.setup.Languages {
		if len(MissingFiles(lang, filepath.Join(v.setup.Dir, lang))) > 0 {
			out = append(out, lang)
		}
	}
	return out
}

// Build makes the missing files of every pack with espeak-ng, keeping the
// files that are there (a centre's own recordings), and loads the packs
// anew. It takes a second or two per language.
func (v *Voice) Build(ctx context.Context) error {
	need := v.NeedsBuild()
	if len(need) == 0 {
		return nil
	}
	sp, ok := FindEspeak()
	if !ok {
		return fmt.Errorf("announce: espeak-ng is not installed: install it (apt-get install espeak-ng) or copy phrase packs into %s", v.setup.Dir)
	}
	v.mu.Lock()
	v.building = true
	v.mu.Unlock()
	defer func() {
		v.mu.Lock()
		v.building = false
		v.mu.Unlock()
	}()
	var errs []error
	for _, lang := range need {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		dir := filepath.Join(v.setup.Dir, lang)
		start := time.Now() // how long espeak-ng really took, for the log
		if err := BuildPack(lang, dir, sp, false); err != nil {
			errs = append(errs, err)
			continue
		}
		v.log.Info("phrase pack built with espeak-ng", "lang", lang, "dir", dir, "took", time.Since(start).Round(time.Millisecond))
		v.mu.Lock()
		for i, p := range v.packs {
			if p.Dir == dir {
				v.packs[i] = v.load(lang)
			}
		}
		v.mu.Unlock()
	}
	return errors.Join(errs...)
}

// Status is the voice as /healthz shows it: which packs speak, and what
// is missing.
func (v *Voice) Status() devices.Status {
	v.mu.Lock()
	defer v.mu.Unlock()
	st := devices.Status{Name: "voice", Kind: "voice", Driver: "phrase-pack", State: devices.OK, Since: v.since}
	var ok, problems []string
	for _, p := range v.packs {
		if why, gone := v.missing[p.Lang.Code]; gone {
			if v.tts != nil {
				problems = append(problems, p.Lang.Code+": no pack, spoken by espeak-ng ("+why+")")
			} else {
				problems = append(problems, p.Lang.Code+": no pack, not spoken ("+why+")")
			}
			continue
		}
		ok = append(ok, fmt.Sprintf("%s (%s)", p.Lang.Code, p.Dir))
		for _, b := range p.Problems() {
			problems = append(problems, p.Lang.Code+": "+b)
		}
	}
	switch {
	case v.building:
		st.State, st.Detail = devices.Warning, "building phrase packs with espeak-ng"
	case len(ok) == 0 && v.tts == nil:
		st.State = devices.Fault
		st.Detail = "no phrase pack: calls get the chime only; run kioskctl voice build. " + strings.Join(problems, "; ")
	case len(problems) > 0:
		st.State = devices.Warning
		st.Detail = strings.Join(problems, "; ")
	default:
		st.Detail = "speaking " + strings.Join(ok, ", ")
	}
	return st
}

// Compose makes the whole announcement of a call: the chime, then the
// call in each language, joined with the packs' pauses into one clip that
// plays as one stream. With chimeOnly (quiet hours) it is the chime alone.
// What cannot be said is logged and left out; a call with nothing sayable
// is the chime.
func (v *Voice) Compose(c proto.Call, chimeOnly bool) *Clip {
	v.mu.Lock()
	packs := append([]*Pack(nil), v.packs...)
	v.mu.Unlock()
	out := &Clip{Name: ClipName(c), Rate: SampleRate}
	chime := Chime(SampleRate).Samples
	for _, p := range packs {
		if s, ok := p.segment("chime"); ok {
			chime = s
			break
		}
	}
	out.Samples = append(out.Samples, chime...)
	if chimeOnly {
		return out
	}
	for _, p := range packs {
		speech := v.speak(p, c)
		if len(speech) == 0 {
			continue
		}
		// A longer pause after the chime and between languages.
		gap := make([]int16, p.Manifest.GapMS*SampleRate/1000)
		out.Samples = append(out.Samples, gap...)
		out.Samples = append(out.Samples, gap...)
		for i, seg := range speech {
			if i > 0 {
				out.Samples = append(out.Samples, gap...)
			}
			out.Samples = append(out.Samples, seg...)
		}
	}
	return out
}

// speak gives the segments of a call in one pack's language.
func (v *Voice) speak(p *Pack, c proto.Call) [][]int16 {
	seq := p.Manifest.Sequence
	if len(seq) == 0 {
		seq = p.Lang.Sequence
	}
	var keys []string
	for _, part := range seq {
		switch part {
		case "{ticket}":
			k, unspoken := p.Lang.Ticket(c.Ticket)
			if len(unspoken) > 0 {
				v.log.Warn("ticket has characters the voice cannot say; left out", "ticket", c.Ticket,
					"characters", string(unspoken), "lang", p.Lang.Code)
			}
			keys = append(keys, k...)
		case "{window}":
			if c.Window < 1 || c.Window > 9999 {
				v.log.Warn("window number the voice cannot say", "window", c.Window)
				continue
			}
			keys = append(keys, p.Lang.Number(c.Window)...)
		default:
			keys = append(keys, part)
		}
	}
	var out [][]int16
	var missing []string
	for _, k := range keys {
		if s, ok := p.segment(k); ok {
			out = append(out, s)
			continue
		}
		if s, ok := v.say(p, k); ok {
			out = append(out, s)
			continue
		}
		missing = append(missing, k)
	}
	if len(missing) > 0 {
		v.log.Error("voice segments missing; the call is spoken without them", "pack", p.Dir,
			"segments", strings.Join(missing, ", "), "ticket", c.Ticket)
	}
	return out
}

// say synthesises a segment a pack lacks. What is said is kept for the
// next call; what fails is not tried again, so a broken synthesiser costs
// one attempt per segment, not one per call.
func (v *Voice) say(p *Pack, key string) ([]int16, bool) {
	text := p.text(key)
	if v.tts == nil || text == "" {
		return nil, false
	}
	p.mu.Lock()
	failed := p.ttsFailed[key]
	p.mu.Unlock()
	if failed {
		return nil, false
	}
	clip, err := v.tts.Say(p.Lang.Code, text)
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		v.log.Error("text-to-speech failed", "segment", key, "err", err)
		if p.ttsFailed == nil {
			p.ttsFailed = map[string]bool{}
		}
		p.ttsFailed[key] = true
		return nil, false
	}
	s := trim(clip.Resample(SampleRate).Samples)
	p.segments[key] = s
	return s, true
}
