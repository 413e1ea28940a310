package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cherga/kiosk/display/announce"
	"github.com/cherga/kiosk/link/proto"
)

// kioskctl announce with the demo's configuration, as the README shows it:
// it builds both packs with espeak-ng, and the call it writes is spoken
// from segments made from the inputs the phoneme table checks
// (display/announce/testdata/phonemes-*.txt), joined with the packs'
// pauses.
func TestVoiceAnnounceDemo(t *testing.T) {
	if _, ok := announce.FindEspeak(); !ok {
		t.Fatal("espeak-ng not found: make test installs it (apt-get install espeak-ng)")
	}
	dir := t.TempDir()
	b, err := os.ReadFile(filepath.Join("..", "..", "configs", "demo.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// The demo's directories are relative to where it runs; here, the
	// test's own.
	demo := string(b)
	for from, to := range map[string]string{
		"data_dir: var/demo-01": "data_dir: " + filepath.Join(dir, "data"),
		"pack_dir: var/voice":   "pack_dir: " + filepath.Join(dir, "voice"),
	} {
		if !strings.Contains(demo, from) {
			t.Fatalf("configs/demo.yaml has no %q", from)
		}
		demo = strings.Replace(demo, from, to, 1)
	}
	config := filepath.Join(dir, "demo.yaml")
	if err := os.WriteFile(config, []byte(demo), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "call.wav")
	var stdout, stderr bytes.Buffer
	args := []string{"announce", "-config", config, "-ticket", "А123", "-window", "5", "-at", "10:00", "-out", out}
	if err := run(context.Background(), args, &stdout, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	if !strings.Contains(stdout.String(), "voice: ok: speaking uk") {
		t.Errorf("stdout: %s", stdout.String())
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	wav, err := announce.ReadWAV(f)
	if err != nil {
		t.Fatal(err)
	}

	var packs []*announce.Pack
	for _, lang := range []string{"uk", "en"} {
		p, err := announce.LoadPack(filepath.Join(dir, "voice", lang))
		if err != nil {
			t.Fatal(err)
		}
		if p.Manifest.Pauses != announce.DefaultPauses {
			t.Errorf("%s pauses %+v", lang, p.Manifest.Pauses)
		}
		// The call's words: Відвідувач номер, а, сто, двадцять, три,
		// підійдіть до вікна номер, п'ять (and the English ones).
		keys, _ := p.Lang.Ticket("А123")
		keys = append(append([]string{"visitor"}, keys...), "to-window")
		keys = append(keys, p.Lang.Number(5)...)
		for _, k := range keys {
			text := p.Lang.Texts[k]
			if got, want := p.Manifest.Built[k].From, announce.EspeakInput(lang, text); got != want {
				t.Errorf("%s %s (%s) built from %q, want %q", lang, k, text, got, want)
			}
		}
		packs = append(packs, p)
	}
	if got := packs[0].Manifest.Built["n100"].From; got != "сто" {
		t.Errorf("сто built from %q", got) // espeak-ng stresses it right
	}
	if got := packs[0].Manifest.Built["visitor"].From; got != "[[vidv'iduvatS n'omer]]" {
		t.Errorf("відві́дувач built from %q", got)
	}
	want := announce.NewVoice(packs, nil, nil).Compose(proto.Call{Ticket: "А123", Window: 5, At: time.Now()}, false)
	if wav.Rate != announce.SampleRate || len(wav.Samples) != len(want.Samples) {
		t.Fatalf("call.wav: %d samples at %d Hz, the composed call %d", len(wav.Samples), wav.Rate, len(want.Samples))
	}
	if !slices.Equal(wav.Samples, want.Samples) {
		t.Error("call.wav is not the composed call")
	}
}
