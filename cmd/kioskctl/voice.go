package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cherga/kiosk/display/announce"
	"github.com/cherga/kiosk/link/proto"
	"github.com/cherga/kiosk/terminal"
)

// voiceBuild makes a phrase pack with espeak-ng.
func voiceBuild(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("voice build", "voice build -lang uk|en -out DIR [-force]", stderr)
	lang := fs.String("lang", "uk", "language: uk or en")
	out := fs.String("out", "", "pack `directory`, like /var/lib/kioskd/voice/uk")
	force := fs.Bool("force", false, "replace files already there (a centre's own recordings too)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() != 0 {
		return usageError(fs, "-out is required and no arguments are taken")
	}
	sp, ok := announce.FindEspeak()
	if !ok {
		return fmt.Errorf("espeak-ng is not installed (apt-get install espeak-ng)")
	}
	if _, ok := announce.Languages[*lang]; !ok {
		return fmt.Errorf("no language %q: uk or en", *lang)
	}
	before := wavHashes(*out)
	start := time.Now()
	if err := announce.BuildPack(*lang, *out, sp, *force); err != nil {
		return err
	}
	took := time.Since(start).Round(time.Millisecond)
	p, err := announce.LoadPack(*out)
	if err != nil {
		return err
	}
	// What the build did, file by file: a centre sees its recordings kept
	// and the files made again (a corrected stress).
	kept, remade := 0, 0
	for name, sum := range wavHashes(*out) {
		switch was, ok := before[name]; {
		case ok && was == sum:
			kept++
		case ok:
			remade++
		}
	}
	fmt.Fprintf(stdout, "%s pack in %s: %d segments, built in %s", *lang, *out, len(p.Manifest.Texts), took)
	if kept > 0 {
		fmt.Fprintf(stdout, ", %d files unchanged", kept)
	}
	if remade > 0 {
		fmt.Fprintf(stdout, ", %d made again", remade)
	}
	fmt.Fprintln(stdout)
	for _, problem := range p.Problems() {
		fmt.Fprintln(stdout, "  unusable:", problem)
	}
	for _, l := range p.UnevenLevels() {
		fmt.Fprintln(stdout, "  level:", l)
	}
	return nil
}

// announceCall writes the exact audio kioskd plays for one call.
func announceCall(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("announce", "announce -config FILE -ticket А123 -window 5 [-at HH:MM] -out call.wav", stderr)
	configPath := fs.String("config", "/etc/kioskd/kioskd.yaml", "kioskd configuration `file` (voice settings and packs)")
	ticket := fs.String("ticket", "А001", "ticket `number`")
	window := fs.Int("window", 1, "window `number`")
	at := fs.String("at", "", "time of day `HH:MM` for the volume schedule and quiet hours; default now")
	out := fs.String("out", "call.wav", "output WAV `file`")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usageError(fs, "unexpected %q", fs.Arg(0))
	}
	cfg, err := terminal.LoadConfig(*configPath)
	if err != nil {
		return err
	}
	now := time.Now()
	if *at != "" {
		d, err := announce.ParseClock(*at)
		if err != nil {
			return err
		}
		y, m, day := now.Date()
		now = time.Date(y, m, day, 0, 0, 0, 0, time.Local).Add(d)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	voice := announce.OpenVoice(terminal.VoiceSetup(cfg, log))
	if cfg.Hall.Voice.Build {
		// As kioskd does at its start.
		if err := voice.Build(ctx); err != nil {
			log.Warn("phrase packs not built", "err", err)
		}
	}
	acfg, err := terminal.AnnouncerConfig(cfg.Hall.Voice)
	if err != nil {
		return err
	}
	a := announce.NewAnnouncer(acfg, voice, nil, log, announce.Callbacks{})
	call := proto.Call{ID: "preview", Ticket: *ticket, Window: *window, At: now}
	clip, quiet := a.Render(call, now)
	if err := announce.WriteWAVFile(*out, clip); err != nil {
		return err
	}
	note := ""
	if quiet {
		note = " (quiet hours: the chime only)"
	}
	fmt.Fprintf(stdout, "wrote %s: %.2f s at %d Hz%s\n", *out, clip.Seconds(), clip.Rate, note)
	if st := voice.Status(); st.Detail != "" {
		fmt.Fprintf(stdout, "voice: %s: %s\n", st.State, strings.TrimSpace(st.Detail))
	}
	return nil
}

// wavHashes are the SHA-256 of the WAV files in dir, by name.
func wavHashes(dir string) map[string][32]byte {
	out := map[string][32]byte{}
	names, _ := filepath.Glob(filepath.Join(dir, "*.wav"))
	for _, name := range names {
		if b, err := os.ReadFile(name); err == nil {
			out[filepath.Base(name)] = sha256.Sum256(b)
		}
	}
	return out
}
