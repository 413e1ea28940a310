package announce

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/cherga/kiosk/devices"
	"github.com/cherga/kiosk/link/proto"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestWAVHeader(t *testing.T) {
	c := &Clip{Rate: 22050, Samples: []int16{0, 1000, -1000, 0}}
	var b bytes.Buffer
	if err := c.WriteWAV(&b); err != nil {
		t.Fatal(err)
	}
	h := b.Bytes()
	if len(h) != 44+8 || string(h[0:4]) != "RIFF" || string(h[8:12]) != "WAVE" || string(h[36:40]) != "data" {
		t.Fatalf("header % x", h[:44])
	}
	le := binary.LittleEndian
	if le.Uint32(h[4:]) != 36+8 || le.Uint16(h[20:]) != 1 || le.Uint16(h[22:]) != 1 ||
		le.Uint32(h[24:]) != 22050 || le.Uint16(h[34:]) != 16 || le.Uint32(h[40:]) != 8 {
		t.Errorf("header fields % x", h[:44])
	}
	back, err := ReadWAV(&b)
	if err != nil || back.Rate != 22050 || len(back.Samples) != 4 || back.Samples[1] != 1000 || back.Samples[2] != -1000 {
		t.Errorf("read back %+v, %v", back, err)
	}
}

// encodeWAV writes samples (-1..1) as PCM of any width and channel count,
// the way other tools write the recordings a centre brings.
func encodeWAV(samples []float64, rate, channels, bits int) []byte {
	width := bits / 8
	var data []byte
	for _, v := range samples {
		for range channels {
			switch bits {
			case 8:
				data = append(data, byte(int(v*127)+128))
			case 16:
				data = binary.LittleEndian.AppendUint16(data, uint16(int16(v*32767)))
			case 24:
				x := int32(v * 8388607)
				data = append(data, byte(x), byte(x>>8), byte(x>>16))
			case 32:
				data = binary.LittleEndian.AppendUint32(data, uint32(int32(v*math.MaxInt32)))
			}
		}
	}
	le := binary.LittleEndian
	b := []byte("RIFF\x00\x00\x00\x00WAVEfmt ")
	b = le.AppendUint32(b, 16)
	b = le.AppendUint16(b, 1)
	b = le.AppendUint16(b, uint16(channels))
	b = le.AppendUint32(b, uint32(rate))
	b = le.AppendUint32(b, uint32(rate*channels*width))
	b = le.AppendUint16(b, uint16(channels*width))
	b = le.AppendUint16(b, uint16(bits))
	b = append(b, "LIST\x04\x00\x00\x00INFO"...) // a chunk readers must skip
	b = append(b, "data"...)
	b = le.AppendUint32(b, uint32(len(data)))
	b = append(b, data...)
	le.PutUint32(b[4:], uint32(len(b)-8))
	return b
}

// word is a stand-in recording: quiet, a tone, quiet, as a microphone
// gives it.
func word(rate int, lead, ms, tail time.Duration, hz float64) []float64 {
	n := func(d time.Duration) int { return int(d.Seconds() * float64(rate)) }
	out := make([]float64, n(lead)+n(ms)+n(tail))
	ramp := float64(n(5 * time.Millisecond))
	for i := range n(ms) {
		env := min(1, float64(i)/ramp, float64(n(ms)-i)/ramp) // as a voice starts and stops
		out[n(lead)+i] = 0.5 * env * math.Sin(2*math.Pi*hz*float64(i)/float64(rate))
	}
	return out
}

// formats the test pack's files come in, one after another.
var formats = []struct{ rate, channels, bits int }{
	{22050, 1, 16}, {44100, 2, 16}, {16000, 1, 8}, {48000, 2, 24}, {8000, 1, 32},
}

// writePack makes a uk pack of tones: every segment 200 ms of tone between
// 120 ms and 300 ms of quiet, in assorted WAV formats.
func writePack(t testing.TB, dir string, pauses Pauses) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	i := 0
	for k := range Languages["uk"].Texts {
		f := formats[i%len(formats)]
		i++
		w := word(f.rate, 120*time.Millisecond, 200*time.Millisecond, 300*time.Millisecond, 300+float64(i))
		if err := os.WriteFile(filepath.Join(dir, k+".wav"), encodeWAV(w, f.rate, f.channels, f.bits), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	m, _ := json.Marshal(Manifest{Lang: "uk", Name: "tones", Pauses: pauses})
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), m, 0o644); err != nil {
		t.Fatal(err)
	}
}

var callA123 = proto.Call{ID: "c1", Ticket: "А123", Window: 5, At: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)}

// silences are the runs of quiet in s, in samples.
func silences(s []int16) []int {
	var out []int
	run := 0
	for _, v := range s {
		if v > silence || v < -silence {
			if run > 0 {
				out = append(out, run)
			}
			run = 0
			continue
		}
		run++
	}
	return append(out, run)
}

func samples(d time.Duration) int { return int(d.Seconds() * SampleRate) }

// pausesIn are the runs of quiet in s that a listener hears as pauses
// (a millisecond or more), not a wave's zero crossings, in samples.
func pausesIn(s []int16) []int {
	var out []int
	for _, r := range silences(s) {
		if r >= samples(time.Millisecond) {
			out = append(out, r)
		}
	}
	return out
}

// quietEnds counts the samples at the start and the end of s that count
// as quiet.
func quietEnds(s []int16) (lead, tail int) {
	for lead < len(s) && s[lead] <= silence && s[lead] >= -silence {
		lead++
	}
	for tail < len(s)-lead && s[len(s)-1-tail] <= silence && s[len(s)-1-tail] >= -silence {
		tail++
	}
	return lead, tail
}

// testPauses are all different, so a pause taken for another shows.
var testPauses = Pauses{Word: 70, Letter: 150, AfterPhrase: 260, AfterNumber: 520, AfterChime: 330, BetweenLanguages: 800}

func TestComposeFromPack(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "uk")
	writePack(t, dir, testPauses)
	p, err := LoadPack(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Problems()) != 0 {
		t.Fatalf("problems: %v", p.Problems())
	}
	if p.Manifest.Pauses != testPauses {
		t.Fatalf("pauses %+v", p.Manifest.Pauses)
	}
	v := NewVoice([]*Pack{p}, nil, quiet)
	clip := v.Compose(callA123, false)

	// Each word trimmed to its sound and the margins, whatever format
	// its file came in.
	keys := []string{"visitor", "letter-a", "n100", "n20", "n3", "to-window", "n5"}
	// "Відвідувач номер · А · сто · двадцять · три, · підійдіть до вікна
	// номер · п'ять", after the chime.
	pauses := []int{testPauses.AfterChime, testPauses.AfterPhrase, testPauses.Letter, testPauses.Word,
		testPauses.Word, testPauses.AfterNumber, testPauses.AfterPhrase}
	chime := len(Chime(SampleRate).Samples)
	want := chime
	for i, k := range keys {
		s, _ := p.segment(k)
		want += pauseSamples(pauses[i]) + len(s)
		if d := len(s) - samples(200*time.Millisecond+2*margin); d < -samples(2*time.Millisecond) || d > samples(time.Millisecond) {
			t.Errorf("%s trimmed to %d samples, want %d", k, len(s), samples(200*time.Millisecond+2*margin))
		}
	}
	if len(clip.Samples) != want {
		t.Errorf("%d samples, want %d", len(clip.Samples), want)
	}
	if clip.Rate != SampleRate {
		t.Errorf("rate %d", clip.Rate)
	}
	// In the WAV, each pause is the quiet between two words: the pause's
	// samples and the quiet ends the words were trimmed to, exactly.
	runs := pausesIn(clip.Samples[chime:])
	prevTail := 0
	for i, k := range keys {
		s, _ := p.segment(k)
		lead, tail := quietEnds(s)
		if i > 0 {
			if w := pauseSamples(pauses[i]) + prevTail + lead; runs[i] != w {
				t.Errorf("before %s: %d quiet samples, want %d (%d ms and the words' quiet ends)", k, runs[i], w, pauses[i])
			}
		} else if w := pauseSamples(pauses[0]) + lead; runs[0] != w {
			t.Errorf("after the chime: %d quiet samples, want %d", runs[0], w)
		}
		prevTail = tail
	}
	if len(runs) != len(keys)+1 { // the last: the quiet end of the call
		t.Errorf("%d runs of quiet, want %d", len(runs), len(keys)+1)
	}
	// No clicks: the tones are 0.5 of full scale, so a smooth signal never
	// moves more than a fraction of that from one sample to the next.
	for i := chime + 1; i < len(clip.Samples); i++ {
		if d := int(clip.Samples[i]) - int(clip.Samples[i-1]); d > 5000 || d < -5000 {
			t.Fatalf("a jump of %d at sample %d: a click", d, i)
		}
	}
	// The WAV is what aplay and the WAV sink get: mono, 16 bit, 22 050 Hz.
	var b bytes.Buffer
	if err := clip.WriteWAV(&b); err != nil {
		t.Fatal(err)
	}
	if h := b.Bytes(); binary.LittleEndian.Uint16(h[22:]) != 1 || binary.LittleEndian.Uint16(h[34:]) != 16 ||
		binary.LittleEndian.Uint32(h[24:]) != SampleRate {
		t.Errorf("header % x", h[:44])
	}
	// Quiet hours: the chime alone.
	if c := v.Compose(callA123, true); len(c.Samples) != chime {
		t.Errorf("chime only: %d samples, want %d", len(c.Samples), chime)
	}

	// Two languages: the second starts after its pack's pause between
	// languages, well over the 600 ms that make the change heard.
	two := NewVoice([]*Pack{p, p}, nil, quiet).Compose(callA123, false)
	if len(two.Samples) != 2*len(clip.Samples)-chime-pauseSamples(testPauses.AfterChime)+pauseSamples(testPauses.BetweenLanguages) {
		t.Errorf("two languages: %d samples, one %d", len(two.Samples), len(clip.Samples))
	}
	first, _ := p.segment("visitor")
	last, _ := p.segment("n5")
	lead, _ := quietEnds(first)
	_, tail := quietEnds(last)
	between := pausesIn(two.Samples[chime:])[len(keys)]
	if w := pauseSamples(testPauses.BetweenLanguages) + tail + lead; between != w || between < samples(600*time.Millisecond) {
		t.Errorf("between the languages: %d quiet samples, want %d (≥ %d)", between, w, samples(600*time.Millisecond))
	}
}

// The pauses a manifest leaves out are the defaults; a pause out of
// range is an error naming it.
func TestManifestPauses(t *testing.T) {
	m, err := parseManifest([]byte(`{"lang":"uk","gap_ms":60,"pauses":{"after_number_ms":700}}`))
	want := DefaultPauses
	want.AfterNumber = 700
	if err != nil || m.Pauses != want {
		t.Errorf("%+v, %v", m.Pauses, err)
	}
	if m, err := parseManifest([]byte(`{"lang":"uk"}`)); err != nil || m.Pauses != DefaultPauses {
		t.Errorf("%+v, %v", m.Pauses, err)
	}
	if _, err := parseManifest([]byte(`{"lang":"uk","pauses":{"word_ms":-1}}`)); err == nil || !strings.Contains(err.Error(), "word_ms") {
		t.Errorf("a negative pause: %v", err)
	}
	if DefaultPauses.BetweenLanguages < 600 || DefaultPauses.AfterNumber <= DefaultPauses.AfterPhrase ||
		DefaultPauses.AfterPhrase <= DefaultPauses.Word {
		t.Errorf("defaults %+v: want a clear pause between languages, a longer one after a number than after номер, longer than between words", DefaultPauses)
	}
}

// A segment the builder made from an input it would no longer give is
// made again; a centre's recording put over a built file is kept.
func TestBuildPackRebuildsOutdated(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "uk")
	sp := &tones{}
	if err := BuildPack("uk", dir, sp, false); err != nil {
		t.Fatal(err)
	}
	if m := MissingFiles("uk", dir); len(m) != 0 {
		t.Fatalf("missing %v", m)
	}
	if o := OutdatedFiles("uk", dir); len(o) != 0 {
		t.Fatalf("outdated right after the build: %v", o)
	}
	path := filepath.Join(dir, "manifest.json")
	b, _ := os.ReadFile(path)
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if got := m.Built["n90"].From; got != "[[devjan'osto]]" {
		t.Errorf("n90 built from %q", got)
	}
	// As an older builder left it: дев'яносто from its text, and a
	// centre's recording of "visitor" over the built file.
	m.Built["n90"] = Built{From: "дев'яносто", SHA256: m.Built["n90"].SHA256}
	b, _ = json.Marshal(m)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	own := encodeWAV(word(48000, 0, 500*time.Millisecond, 0, 220), 48000, 1, 16)
	if err := os.WriteFile(filepath.Join(dir, "visitor.wav"), own, 0o644); err != nil {
		t.Fatal(err)
	}
	if o := OutdatedFiles("uk", dir); len(o) != 1 || o[0] != "n90.wav" {
		t.Fatalf("outdated %v, want n90.wav", o)
	}
	v := OpenVoice(Setup{Languages: []string{"uk"}, Dir: filepath.Dir(dir), Log: quiet})
	if got := v.NeedsBuild(); len(got) != 1 {
		t.Fatalf("needs build %v", got)
	}
	sp.said = nil
	if err := BuildPack("uk", dir, sp, false); err != nil {
		t.Fatal(err)
	}
	if strings.Join(sp.said, ",") != "дев'яносто" {
		t.Errorf("said again %q, want дев'яносто alone", sp.said)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "visitor.wav")); !bytes.Equal(got, own) {
		t.Error("the centre's recording was overwritten")
	}
	b, _ = os.ReadFile(path)
	m = Manifest{}
	json.Unmarshal(b, &m)
	if _, ok := m.Built["visitor"]; ok || m.Built["n90"].From != "[[devjan'osto]]" || m.Pauses != DefaultPauses {
		t.Errorf("manifest after the rebuild: visitor %+v, n90 %+v, pauses %+v", m.Built["visitor"], m.Built["n90"], m.Pauses)
	}
	if got := v.NeedsBuild(); len(got) != 0 || len(OutdatedFiles("uk", dir)) != 0 {
		t.Errorf("still needs build: %v", got)
	}
}

// logBuffer collects log lines for a test to read.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// tones is a simulated speaker: every text becomes a short tone.
type tones struct {
	mu   sync.Mutex
	said []string
}

func (s *tones) Say(lang, text string) (*Clip, error) {
	s.mu.Lock()
	s.said = append(s.said, text)
	s.mu.Unlock()
	if text == "fail" {
		return nil, errors.New("cannot say that")
	}
	w := word(SampleRate, 50*time.Millisecond, 150*time.Millisecond, 50*time.Millisecond, 500)
	c := &Clip{Rate: SampleRate}
	for _, v := range w {
		c.Samples = append(c.Samples, int16(v*32767))
	}
	return c, nil
}

// A missing file, a broken one, a ticket with a character no pack says, a
// window the voice cannot say: the call is spoken as far as it can be,
// each gap logged, and nothing stops.
func TestComposeBestEffort(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "uk")
	writePack(t, dir, DefaultPauses)
	if err := os.Remove(filepath.Join(dir, "n20.wav")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "n3.wav"), []byte("RIFF\x10\x00\x00\x00WAVEjunk"), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := LoadPack(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(p.Problems(), "\n"); !strings.Contains(got, "n20: ") || !strings.Contains(got, "n3: announce: not a readable WAV") {
		t.Errorf("problems: %s", got)
	}
	var logs logBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	v := NewVoice([]*Pack{p}, nil, log)
	full := v.Compose(proto.Call{Ticket: "А111", Window: 5}, false) // no missing segment
	part := v.Compose(proto.Call{Ticket: "А123", Window: 5}, false) // двадцять and три missing
	if len(part.Samples) >= len(full.Samples) {
		t.Errorf("with two segments missing: %d samples, complete call %d", len(part.Samples), len(full.Samples))
	}
	if !strings.Contains(logs.String(), "segments=\"n20, n3\"") {
		t.Errorf("log: %s", logs.String())
	}
	odd := v.Compose(proto.Call{Ticket: "Q#7", Window: 0}, false)
	if len(odd.Samples) <= len(Chime(SampleRate).Samples) || !strings.Contains(logs.String(), "characters=Q#") ||
		!strings.Contains(logs.String(), "window number the voice cannot say") {
		t.Errorf("%d samples; log: %s", len(odd.Samples), logs.String())
	}

	// With text-to-speech, the missing words are said and kept.
	sp := &tones{}
	v = NewVoice([]*Pack{p}, sp, log)
	withTTS := v.Compose(proto.Call{Ticket: "А123", Window: 5}, false)
	if len(withTTS.Samples) <= len(part.Samples) || strings.Join(sp.said, ",") != "двадцять,три" {
		t.Errorf("said %q, %d samples", sp.said, len(withTTS.Samples))
	}
	v.Compose(proto.Call{Ticket: "А123", Window: 5}, false)
	if len(sp.said) != 2 {
		t.Errorf("said again: %q", sp.said)
	}
}

// A centre without any pack still hears the chime for every call.
func TestNoPackChimes(t *testing.T) {
	v := OpenVoice(Setup{Languages: []string{"uk"}, Dir: t.TempDir(), Log: quiet})
	if c := v.Compose(callA123, false); len(c.Samples) != len(Chime(SampleRate).Samples) {
		t.Errorf("%d samples", len(c.Samples))
	}
	if st := v.Status(); st.State != devices.Fault || !strings.Contains(st.Detail, "kioskctl voice build") {
		t.Errorf("status %+v", st)
	}
	if got := v.NeedsBuild(); len(got) != 1 || got[0] != "uk" {
		t.Errorf("needs build %v", got)
	}
}

// The chime starts and ends silent (no click) and never clips.
func TestChimeIsClean(t *testing.T) {
	c := Chime(SampleRate)
	if s := c.Seconds(); s < 1 || s > 2 {
		t.Errorf("chime lasts %.2f s", s)
	}
	peak := 0
	for _, v := range c.Samples {
		peak = max(peak, abs(int(v)))
	}
	if peak < 10000 || peak > 32000 {
		t.Errorf("peak %d", peak)
	}
	if a, z := abs(int(c.Samples[0])), abs(int(c.Samples[len(c.Samples)-1])); a > 100 || z > 1500 {
		t.Errorf("edges %d and %d: would click", a, z)
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func TestClipNameIsSafe(t *testing.T) {
	at := time.Date(2026, 11, 23, 10, 15, 0, 0, time.UTC)
	if got := ClipName(proto.Call{Ticket: "А012", Window: 3, At: at}); got != "20261123T101500-А012-w3" {
		t.Errorf("got %q", got)
	}
	got := ClipName(proto.Call{Ticket: "../../etc/passwd", Window: 1, At: at, Recall: true})
	if strings.ContainsAny(got, "/.") || !strings.HasSuffix(got, "-again") {
		t.Errorf("unsafe name %q", got)
	}
}

// playlog is an Output that records what it plays and lets the test decide
// when each clip finishes.
type playlog struct {
	mu      sync.Mutex
	playing int
	overlap bool
	started chan *Clip
	release chan struct{}
}

func newPlaylog() *playlog {
	return &playlog{started: make(chan *Clip), release: make(chan struct{})}
}

func (p *playlog) Play(ctx context.Context, c *Clip) error {
	p.mu.Lock()
	p.playing++
	if p.playing > 1 {
		p.overlap = true
	}
	p.mu.Unlock()
	p.started <- c
	<-p.release
	p.mu.Lock()
	p.playing--
	p.mu.Unlock()
	return nil
}

func (p *playlog) Status() devices.Status { return devices.Status{} }

type done struct {
	call proto.Call
	err  error
}

// announcer runs an announcer on a fake clock at 10:00 UTC.
func announcer(t *testing.T, cfg Config, voice *Voice) (*Announcer, *playlog, chan done, *clockwork.FakeClock) {
	t.Helper()
	clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC))
	cfg.Clock, cfg.Location = clock, time.UTC
	out := newPlaylog()
	dones := make(chan done, 32)
	a := NewAnnouncer(cfg, voice, out, quiet, Callbacks{Done: func(c proto.Call, err error) { dones <- done{c, err} }})
	ctx, cancel := context.WithCancel(context.Background())
	finished := make(chan struct{})
	go func() { a.Run(ctx); close(finished) }()
	t.Cleanup(func() { cancel(); <-finished })
	return a, out, dones, clock
}

func callAt(id string, at time.Time) proto.Call {
	return proto.Call{ID: id, Ticket: "А" + id, Window: 1, At: at}
}

// Calls play one at a time, in order, each to its end; the same call
// pushed twice is spoken once.
func TestAnnouncerOrderAndDedupe(t *testing.T) {
	a, out, dones, clock := announcer(t, Config{}, nil)
	for _, id := range []string{"1", "2", "1", "3", "2"} {
		a.Announce(callAt(id, clock.Now()))
	}
	for _, want := range []string{"1", "2", "3"} {
		c := <-out.started
		if !strings.Contains(c.Name, "А"+want) {
			t.Fatalf("playing %s, want call %s", c.Name, want)
		}
		out.release <- struct{}{}
		if d := <-dones; d.call.ID != want || d.err != nil {
			t.Fatalf("done %+v, want call %s", d, want)
		}
	}
	if out.overlap {
		t.Error("two announcements played at once")
	}
	select {
	case c := <-out.started:
		t.Fatalf("played %s again", c.Name)
	default:
	}
}

// A call that waited too long is shown, not spoken: people would go to
// the window after the next visitor was called there.
func TestAnnouncerDropsStaleCalls(t *testing.T) {
	a, out, dones, clock := announcer(t, Config{MaxAge: time.Minute}, nil)
	a.Announce(callAt("1", clock.Now()))
	a.Announce(callAt("2", clock.Now()))
	<-out.started
	clock.Advance(90 * time.Second) // the first call plays a long time
	a.Announce(callAt("3", clock.Now()))
	a.Announce(callAt("4", clock.Now().Add(-2*time.Minute))) // old when it came
	out.release <- struct{}{}
	if d := <-dones; d.call.ID != "1" || d.err != nil {
		t.Fatalf("%+v", d)
	}
	if d := <-dones; d.call.ID != "2" || !errors.Is(d.err, ErrStale) {
		t.Fatalf("call 2: %+v, want stale", d)
	}
	if c := <-out.started; !strings.Contains(c.Name, "А3") {
		t.Fatalf("played %s, want the fresh call 3", c.Name)
	}
	out.release <- struct{}{}
	if d := <-dones; d.call.ID != "3" || d.err != nil {
		t.Fatalf("%+v", d)
	}
	if d := <-dones; d.call.ID != "4" || !errors.Is(d.err, ErrStale) {
		t.Fatalf("call 4: %+v, want stale", d)
	}
}

// Quiet hours give the chime alone; the volume follows the schedule; a
// repeated call is spoken twice with a pause.
func TestAnnouncerSchedule(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "uk")
	writePack(t, dir, DefaultPauses)
	p, err := LoadPack(dir)
	if err != nil {
		t.Fatal(err)
	}
	voice := NewVoice([]*Pack{p}, nil, quiet)
	h := func(s string) time.Duration { d, _ := ParseClock(s); return d }
	cfg := Config{
		Quiet:  &Period{From: h("21:00"), To: h("07:00")},
		Volume: []VolumeSlot{{Period{From: h("09:30"), To: h("10:30")}, 0.25}},
	}
	a, out, dones, clock := announcer(t, cfg, voice)
	// Every call here is for ticket А1, each with its own id.
	play := func(id string) *Clip {
		a.Announce(proto.Call{ID: id, Ticket: "А1", Window: 1, At: clock.Now()})
		c := <-out.started
		out.release <- struct{}{}
		<-dones
		return c
	}
	chime := len(Chime(SampleRate).Samples)
	loud, _ := a.Render(callAt("1", clock.Now()), clock.Now().Add(-time.Hour)) // 09:00, full volume
	soft := play("1")                                                          // 10:00, a quarter
	if len(soft.Samples) != len(loud.Samples) || peak(soft)*4 > peak(loud)+4 {
		t.Errorf("10:00: peak %d, at 09:00 %d", peak(soft), peak(loud))
	}
	clock.Advance(12 * time.Hour) // 22:00
	if c := play("2"); len(c.Samples) != chime {
		t.Errorf("quiet hours: %d samples, want the chime's %d", len(c.Samples), chime)
	}
	clock.Advance(10 * time.Hour) // 08:00 next day
	if c := play("3"); len(c.Samples) != len(loud.Samples) || peak(c) != peak(loud) {
		t.Errorf("08:00: %d samples, peak %d", len(c.Samples), peak(c))
	}

	twice := NewAnnouncer(Config{Repeat: 2, Location: time.UTC}, voice, nil, quiet, Callbacks{})
	c, _ := twice.Render(callA123, callA123.At.Add(-2*time.Hour))
	one, _ := a.Render(callA123, callA123.At.Add(-2*time.Hour))
	if len(c.Samples) != 2*len(one.Samples)+SampleRate {
		t.Errorf("repeated: %d samples, one %d", len(c.Samples), len(one.Samples))
	}
}

func peak(c *Clip) int {
	p := 0
	for _, v := range c.Samples {
		p = max(p, abs(int(v)))
	}
	return p
}

// A full queue drops the newest call, counts it, and never blocks.
func TestAnnouncerQueueFull(t *testing.T) {
	dones := make(chan done, 1)
	a := NewAnnouncer(Config{}, nil, newPlaylog(), quiet, Callbacks{Done: func(c proto.Call, err error) { dones <- done{c, err} }})
	for i := range QueueLen {
		if !a.Announce(proto.Call{ID: string(rune('a' + i))}) {
			t.Fatalf("call %d refused below the limit", i)
		}
	}
	if a.Announce(proto.Call{ID: "over"}) || a.Dropped() != 1 {
		t.Errorf("over the limit: dropped %d", a.Dropped())
	}
	if d := <-dones; d.call.ID != "over" || !errors.Is(d.err, ErrQueueFull) {
		t.Errorf("%+v", d)
	}
}

func TestParseClock(t *testing.T) {
	if d, err := ParseClock("08:30"); err != nil || d != 8*time.Hour+30*time.Minute {
		t.Errorf("%v %v", d, err)
	}
	for _, bad := range []string{"8", "25:00", "08:61", ""} {
		if _, err := ParseClock(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	p := Period{From: 22 * time.Hour, To: 7 * time.Hour}
	for hour, want := range map[int]bool{21: false, 22: true, 0: true, 6: true, 7: false, 12: false} {
		if got := p.Contains(time.Date(2026, 1, 1, hour, 0, 0, 0, time.UTC)); got != want {
			t.Errorf("%02d:00 in 22–07: %v", hour, got)
		}
	}
}

func TestWAVDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "announcements")
	out, err := NewWAVDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	c := Compose(proto.Call{Ticket: "А012", Window: 5, At: time.Date(2026, 11, 23, 10, 15, 0, 0, time.UTC)})
	if err := out.Play(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "20261123T101500-А012-w5.wav"))
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 44+2*len(c.Samples) || out.Status().State != devices.OK {
		t.Errorf("file %d bytes, status %+v", len(b), out.Status())
	}
}

// WAV files of every common PCM shape read as the same sound.
func TestReadWAVFormats(t *testing.T) {
	src := word(48000, 0, 100*time.Millisecond, 0, 440)
	for _, f := range formats {
		in := word(f.rate, 0, 100*time.Millisecond, 0, 440)
		c, err := ReadWAV(bytes.NewReader(encodeWAV(in, f.rate, f.channels, f.bits)))
		if err != nil {
			t.Fatalf("%+v: %v", f, err)
		}
		if c.Rate != f.rate || len(c.Samples) != len(in) {
			t.Fatalf("%+v: rate %d, %d samples", f, c.Rate, len(c.Samples))
		}
		if p := peak(c); p < 16000 || p > 16500 {
			t.Errorf("%+v: peak %d, want about 16384", f, p)
		}
		if r := c.Resample(48000); len(r.Samples) < len(src)-2 || len(r.Samples) > len(src)+2 {
			t.Errorf("%+v: resampled to %d samples, want %d", f, len(r.Samples), len(src))
		}
	}
	for name, b := range map[string][]byte{
		"empty":      nil,
		"not riff":   []byte("hello world, this is text"),
		"no data":    encodeWAV(nil, 8000, 1, 16)[:44],
		"float":      bytes.Replace(encodeWAV([]float64{0}, 8000, 1, 16), []byte{16, 0, 0, 0, 1, 0}, []byte{16, 0, 0, 0, 3, 0}, 1),
		"cut header": encodeWAV([]float64{0}, 8000, 1, 16)[:30],
	} {
		if _, err := ReadWAV(bytes.NewReader(b)); !errors.Is(err, ErrBadWAV) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func FuzzReadWAV(f *testing.F) {
	for _, fm := range formats {
		f.Add(encodeWAV(word(fm.rate, 0, 5*time.Millisecond, 0, 440), fm.rate, fm.channels, fm.bits))
	}
	f.Add([]byte("RIFF\xff\xff\xff\xffWAVEfmt \x10\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ReadWAV(bytes.NewReader(b))
		if err != nil {
			return
		}
		if c.Rate < 4000 || c.Rate > 192000 || len(c.Samples) > len(b) {
			t.Fatalf("rate %d, %d samples from %d bytes", c.Rate, len(c.Samples), len(b))
		}
		_ = c.Resample(SampleRate)
	})
}

// The ALSA output through the real aplay, on ALSA's null device (a CI
// machine has no sound card); a device that does not exist is a fault
// that names aplay's own complaint.
func TestAplay(t *testing.T) {
	out, err := FindAplay("null")
	if err != nil {
		t.Fatalf("%v (make test installs alsa-utils)", err)
	}
	if err := out.Play(context.Background(), Compose(callA123)); err != nil {
		t.Fatal(err)
	}
	if st := out.Status(); st.State != devices.OK || !strings.Contains(st.Detail, "1 announcements played on ALSA device null") {
		t.Errorf("status %+v", st)
	}
	bad, _ := FindAplay("no_such_device")
	if err := bad.Play(context.Background(), Compose(callA123)); err == nil {
		t.Fatal("played on a device that does not exist")
	}
	if st := bad.Status(); st.State != devices.Fault || !strings.Contains(st.Detail, "no_such_device") {
		t.Errorf("status %+v", st)
	}
}
