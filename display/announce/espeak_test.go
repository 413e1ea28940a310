package announce

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cherga/kiosk/link/proto"
)

// espeak finds espeak-ng, which make test installs.
func espeak(t testing.TB) Espeak {
	t.Helper()
	sp, ok := FindEspeak()
	if !ok {
		t.Fatal("espeak-ng not found: make test installs it (apt-get install espeak-ng)")
	}
	return sp
}

// A fresh install speaks at once: the builder makes a whole pack with
// espeak-ng, keeps a centre's own recording, and the call it composes
// lasts as long as a spoken call does.
func TestBuildPackWithEspeak(t *testing.T) {
	sp := espeak(t)
	dir := filepath.Join(t.TempDir(), "uk")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	own := encodeWAV(word(44100, 100*time.Millisecond, 900*time.Millisecond, 100*time.Millisecond, 220), 44100, 2, 16)
	if err := os.WriteFile(filepath.Join(dir, "visitor.wav"), own, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := BuildPack("uk", dir, sp, false); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "visitor.wav")); !bytes.Equal(got, own) {
		t.Error("the centre's own recording was overwritten")
	}
	if m := MissingFiles("uk", dir); len(m) != 0 {
		t.Fatalf("missing after build: %v", m)
	}
	p, err := LoadPack(dir)
	if err != nil || len(p.Problems()) != 0 {
		t.Fatalf("%v %v", err, p.Problems())
	}
	for k := range p.Lang.Texts {
		s, ok := p.segment(k)
		if secs := float64(len(s)) / SampleRate; !ok || secs < 0.1 || secs > 3 {
			t.Errorf("segment %s: %.2f s", k, secs)
		}
	}
	clip := NewVoice([]*Pack{p}, nil, quiet).Compose(proto.Call{Ticket: "Ї919", Window: 12}, false)
	if s := clip.Seconds(); s < 3.5 || s > 9 {
		t.Errorf("the call lasts %.1f s", s)
	}

	// The voice builds what is missing, as kioskd does at its start.
	v := OpenVoice(Setup{Languages: []string{"uk", "en"}, Dir: filepath.Dir(dir), Log: quiet})
	if got := v.NeedsBuild(); len(got) != 1 || got[0] != "en" {
		t.Fatalf("needs build: %v", got)
	}
	if err := v.Build(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := v.Status(); st.State != "ok" || len(v.NeedsBuild()) != 0 {
		t.Errorf("after build: %+v", st)
	}
	en, _ := LoadPack(filepath.Join(filepath.Dir(dir), "en"))
	for k := range en.Lang.Texts {
		s, ok := en.segment(k)
		if secs := float64(len(s)) / SampleRate; !ok || secs < 0.1 || secs > 3 {
			t.Errorf("en segment %s: %.2f s", k, secs)
		}
	}
	both := v.Compose(proto.Call{Ticket: "Ї919", Window: 12}, false)
	if both.Seconds() < clip.Seconds()+2 {
		t.Errorf("uk and en: %.1f s, uk alone %.1f s", both.Seconds(), clip.Seconds())
	}
	// Every built file was made from what the phoneme table checks.
	for _, pk := range []*Pack{p, en} {
		for k, b := range pk.Manifest.Built {
			if want := EspeakInput(pk.Lang.Code, pk.Lang.Texts[k]); b.From != want {
				t.Errorf("%s %s built from %q, want %q", pk.Lang.Code, k, b.From, want)
			}
		}
		// The stand-in recording is a tone at half of full scale, far
		// louder than espeak-ng's speech: the only segment out of level.
		l := pk.UnevenLevels()
		if pk == p && (len(l) != 1 || !strings.HasPrefix(l[0], "visitor.wav: ")) || pk == en && len(l) != 0 {
			t.Errorf("%s: uneven levels %v", pk.Lang.Code, l)
		}
	}
	if _, ok := p.Manifest.Built["visitor"]; ok {
		t.Error("the centre's recording is listed as built")
	}
	checkCallPauses(t, []*Pack{p, en}, callA123)
}

// checkCallPauses finds each pause in a call spoken from real speech: the
// quiet around the joins of the segments is at least the pause the pack
// sets, so "номер · а" is never heard as "номера".
func checkCallPauses(t *testing.T, packs []*Pack, c proto.Call) {
	t.Helper()
	v := NewVoice(packs, nil, quiet)
	clip := v.Compose(c, false)
	at := len(Chime(SampleRate).Samples)
	for i, p := range packs {
		for j, w := range v.speak(p, c) {
			want := w.pause
			switch {
			case j == 0 && i == 0:
				want = p.Manifest.Pauses.AfterChime
			case j == 0:
				want = p.Manifest.Pauses.BetweenLanguages
			}
			from, to := at, at+pauseSamples(want)
			for from > 0 && abs(int(clip.Samples[from-1])) <= silence {
				from--
			}
			for to < len(clip.Samples) && abs(int(clip.Samples[to])) <= silence {
				to++
			}
			if got := to - from; got < pauseSamples(want) {
				t.Errorf("%s, segment %d: %d ms of quiet, want ≥ %d", p.Lang.Code, j, got*1000/SampleRate, want)
			}
			at += pauseSamples(want) + len(w.samples)
		}
	}
	if at != len(clip.Samples) {
		t.Errorf("the call is %d samples, its segments and pauses %d", len(clip.Samples), at)
	}
	if p := packs[0].Manifest.Pauses; p != DefaultPauses {
		t.Errorf("built pack's pauses %+v", p)
	}
}

func TestEspeakSay(t *testing.T) {
	sp := espeak(t)
	c, err := sp.Say("uk", "підійдіть до вікна номер")
	if err != nil || c.Seconds() < 0.5 {
		t.Fatalf("%v", err)
	}
	if _, err := sp.Say("de", "hallo"); err == nil {
		t.Error("a language without a voice was said")
	}
}

// A pack an older kioskd built (no "built" in its manifest, gap_ms, and
// дев'яносто said from its text, stressed дев'я́носто) is set right by the
// next build, as kioskd runs it at its start: the builder's files that
// would now be said otherwise are made again, a centre's recording is
// kept.
func TestBuildPackUpgradesLegacy(t *testing.T) {
	sp := espeak(t)
	dir := filepath.Join(t.TempDir(), "uk")
	if err := BuildPack("uk", dir, sp, false); err != nil {
		t.Fatal(err)
	}
	old, err := sp.sayInput("uk", "дев'яносто")
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteWAVFile(filepath.Join(dir, "n90.wav"), old); err != nil {
		t.Fatal(err)
	}
	own := encodeWAV(word(48000, 50*time.Millisecond, 700*time.Millisecond, 50*time.Millisecond, 220), 48000, 1, 16)
	if err := os.WriteFile(filepath.Join(dir, "visitor.wav"), own, 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "manifest.json")
	b, _ := os.ReadFile(path)
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	delete(raw, "built")
	delete(raw, "pauses")
	raw["gap_ms"] = 60
	b, _ = json.Marshal(raw)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	before, _ := fileSHA256(filepath.Join(dir, "letter-b.wav"))

	var logs logBuffer
	v := OpenVoice(Setup{Languages: []string{"uk"}, Dir: filepath.Dir(dir), Log: slog.New(slog.NewTextHandler(&logs, nil))})
	if got := v.NeedsBuild(); len(got) != 1 || !strings.Contains(logs.String(), "built by an older version") {
		t.Fatalf("needs build %v; log %s", got, logs.String())
	}
	if err := v.Build(context.Background()); err != nil {
		t.Fatal(err)
	}
	p, err := LoadPack(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Manifest.Built["n90"].From; got != "[[devjan'osto]]" {
		t.Errorf("n90 built from %q", got)
	}
	if bytes.Equal(mustRead(t, filepath.Join(dir, "n90.wav")), wavBytes(t, old)) {
		t.Error("n90.wav is still the old дев'я́носто")
	}
	if got := mustRead(t, filepath.Join(dir, "visitor.wav")); !bytes.Equal(got, own) {
		t.Error("the centre's recording was replaced")
	}
	if _, ok := p.Manifest.Built["visitor"]; ok {
		t.Error("the centre's recording is listed as built")
	}
	if after, _ := fileSHA256(filepath.Join(dir, "letter-b.wav")); after != before || p.Manifest.Built["letter-b"].From != "бе" {
		t.Errorf("бе, which espeak-ng says right, was made again or not adopted: %+v", p.Manifest.Built["letter-b"])
	}
	if p.Manifest.Pauses != DefaultPauses || len(v.NeedsBuild()) != 0 {
		t.Errorf("pauses %+v, needs build %v", p.Manifest.Pauses, v.NeedsBuild())
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func wavBytes(t *testing.T, c *Clip) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := c.WriteWAV(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
