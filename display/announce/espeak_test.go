package announce

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
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
