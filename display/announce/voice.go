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
			if p.Manifest.legacy() {
				v.log.Warn("phrase pack built by an older version, with espeak-ng's own stress: a build (hall.voice.build, or kioskctl voice build) makes its files again, keeping recordings put into it",
					"pack", dir)
			}
			for _, why := range p.Problems() {
				v.log.Warn("voice segment unusable; the calls are spoken without it", "pack", dir, "segment", why)
			}
			for _, l := range p.UnevenLevels() {
				v.log.Warn("voice segment louder or quieter than the rest of its pack (docs/voice.md)", "pack", dir, "segment", l)
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
	return &Pack{Dir: dir, Manifest: Manifest{Lang: l.Code, Pauses: DefaultPauses}, Lang: l,
		segments: map[string][]int16{}, broken: map[string]string{}}
}

// NeedsBuild lists the languages whose pack lacks files the builder
// makes, or has files it made from what it would now say otherwise.
func (v *Voice) NeedsBuild() []string {
	var out []string
	for _, lang := range v.setup.Languages {
		dir := filepath.Join(v.setup.Dir, lang)
		if len(MissingFiles(lang, dir)) > 0 || len(OutdatedFiles(lang, dir)) > 0 || legacyPack(dir) {
			out = append(out, lang)
		}
	}
	return out
}

// Build makes the missing and outdated files of every pack with
// espeak-ng, keeping a centre's own recordings, and loads the packs anew. It takes a second or two per language.
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
	chime := defaultChime()
	for _, p := range packs {
		if s, ok := p.segment("chime"); ok {
			chime = s
			break
		}
	}
	all := []said{{samples: chime}}
	if !chimeOnly {
		for _, p := range packs {
			speech := v.speak(p, c)
			if len(speech) == 0 {
				continue
			}
			speech[0].pause = p.Manifest.Pauses.AfterChime
			if len(all) > 1 {
				speech[0].pause = p.Manifest.Pauses.BetweenLanguages
			}
			all = append(all, speech...)
		}
	}
	n := 0
	for _, w := range all {
		n += pauseSamples(w.pause) + len(w.samples)
	}
	out := &Clip{Name: ClipName(c), Rate: SampleRate, Samples: make([]int16, n)}
	at := 0
	for _, w := range all {
		at += pauseSamples(w.pause) // quiet: the buffer starts zeroed
		at += copy(out.Samples[at:], w.samples)
	}
	return out
}

// pauseSamples is how many samples a pause of ms milliseconds lasts.
func pauseSamples(ms int) int { return ms * SampleRate / 1000 }

// defaultChime is the chime of a voice whose packs have none, made once.
var defaultChime = sync.OnceValue(func() []int16 { return Chime(SampleRate).Samples })

// said is one segment of a call and the pause before it, in ms.
type said struct {
	samples []int16
	pause   int
}

// part is a segment key of a call and what kind of word it is, which
// decides the pauses around it.
type part struct {
	key  string
	kind partKind
	// first: the first segment of a part of the call's sequence (a
	// phrase, the ticket, the window), which the part before it is
	// paused from.
	first bool
}

type partKind int

const (
	phraseWord partKind = iota // a fixed phrase: "Відвідувач номер"
	numberWord                 // a word of a number: "двадцять"
	letterWord                 // a ticket's letter: "а"
)

// between is the pause between two segments of a call.
func (p Pauses) between(prev, next part) int {
	switch {
	case next.first && prev.kind == phraseWord:
		return p.AfterPhrase
	case next.first:
		return p.AfterNumber
	case prev.kind == letterWord || next.kind == letterWord:
		return p.Letter
	default:
		return p.Word
	}
}

// speak gives the segments of a call in one pack's language, each with
// the pause before it.
func (v *Voice) speak(p *Pack, c proto.Call) []said {
	seq := p.Manifest.Sequence
	if len(seq) == 0 {
		seq = p.Lang.Sequence
	}
	var parts []part
	for _, s := range seq {
		var keys []string
		kind := numberWord
		switch s {
		case "{ticket}":
			k, unspoken := p.Lang.Ticket(c.Ticket)
			if len(unspoken) > 0 {
				v.log.Warn("ticket has characters the voice cannot say; left out", "ticket", c.Ticket,
					"characters", string(unspoken), "lang", p.Lang.Code)
			}
			keys = k
		case "{window}":
			if c.Window < 1 || c.Window > 9999 {
				v.log.Warn("window number the voice cannot say", "window", c.Window)
				continue
			}
			keys = p.Lang.Number(c.Window)
		default:
			keys, kind = []string{s}, phraseWord
		}
		for i, k := range keys {
			pt := part{key: k, kind: kind, first: i == 0}
			if kind == numberWord && strings.HasPrefix(k, "letter-") {
				pt.kind = letterWord
			}
			parts = append(parts, pt)
		}
	}
	var out []said
	var missing []string
	pending := 0 // the pause before a segment left out, kept for the next
	for i, pt := range parts {
		pause := pending
		if i > 0 {
			pause = max(pause, p.Manifest.Pauses.between(parts[i-1], pt))
		}
		s, ok := p.segment(pt.key)
		if !ok {
			s, ok = v.say(p, pt.key)
		}
		if !ok {
			missing = append(missing, pt.key)
			pending = pause
			continue
		}
		out = append(out, said{samples: s, pause: pause})
		pending = 0
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
