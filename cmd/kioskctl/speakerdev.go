package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/cherga/kiosk/configs"
	"github.com/cherga/kiosk/devices"
	"github.com/cherga/kiosk/display/announce"
	"github.com/cherga/kiosk/i18n"
	"github.com/cherga/kiosk/link/proto"
	"github.com/cherga/kiosk/terminal"
)

// speakerTest plays a test call through the hall's configured audio
// output, made the way kioskd makes it: the configured voice packs, the
// volume of the time of day, the repeats.
func speakerTest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("speaker test", "speaker test [-config FILE] [-lang uk|en] [-ticket А123] [-window 5]", stderr)
	configPath := fs.String("config", defaultConfig, "kioskd's configuration `file`: the hall's audio output and voice")
	lang := fs.String("lang", "", "speak only this language (uk or en); default the configured ones")
	ticket := fs.String("ticket", "А123", "ticket `number` to call")
	window := fs.Int("window", 5, "window `number` to call to")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usageError(fs, "unexpected %q", fs.Arg(0))
	}
	if _, ok := announce.Languages[*lang]; *lang != "" && !ok {
		return usageError(fs, "-lang: got %q, expected uk or en", *lang)
	}
	cfg, err := terminal.LoadConfig(*configPath)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	setup := terminal.VoiceSetup(cfg, log)
	if *lang != "" {
		setup.Languages = []string{*lang}
	}
	voice := announce.OpenVoice(setup)
	if cfg.Hall.Voice.Build && len(voice.NeedsBuild()) > 0 {
		fmt.Fprintf(stdout, "building the phrase packs %s with espeak-ng, as kioskd does at its start…\n", strings.Join(voice.NeedsBuild(), ", "))
		if err := voice.Build(ctx); err != nil {
			log.Warn("phrase packs not built", "err", err)
		}
	}
	vst := voice.Status()
	fmt.Fprintf(stdout, "voice: %s: %s\n", vst.State, strings.TrimSpace(vst.Detail))
	acfg, err := terminal.AnnouncerConfig(cfg.Hall.Voice)
	if err != nil {
		return err
	}
	out, what, err := openSpeaker(cfg)
	if err != nil {
		return err
	}
	a := announce.NewAnnouncer(acfg, voice, out, log, announce.Callbacks{})
	now := time.Now()
	call := proto.Call{ID: "speaker-test", Ticket: *ticket, Window: *window, At: now}
	clip, quiet := a.Render(call, now)
	if quiet {
		// A test wants the speaker heard: the whole call, not the chime alone.
		fmt.Fprintln(stdout, "quiet hours now (hall.voice.quiet): kioskd would play the chime only; the test plays the call")
		clip = voice.Compose(call, false)
	}
	start := time.Now()
	if err := out.Play(ctx, clip); err != nil {
		return fmt.Errorf("%s: %w: check hall.audio (kioskctl speaker test plays as kioskd does)", what, err)
	}
	took := time.Since(start)
	fmt.Fprintln(stdout, i18n.Both("ctl.speaker.done", "output", what, "seconds", fmt.Sprintf("%.1f", clip.Seconds())))
	fmt.Fprintf(stdout, "call %s to window %d, %.2f s at %d Hz, played in %s\n", *ticket, *window, clip.Seconds(), clip.Rate, took.Round(time.Millisecond))
	if w, ok := out.(*announce.WAVDir); ok {
		fmt.Fprintf(stdout, "wrote %s\n", w.Last())
	}
	if vst.State == devices.Fault {
		return errors.New("voice: " + vst.Detail)
	}
	return nil
}

// openSpeaker opens the hall's audio output as kioskd does, and says
// which it is.
func openSpeaker(cfg *configs.Terminal) (announce.Output, string, error) {
	switch d := cfg.Hall.Audio.Driver; d {
	case configs.AudioAplay:
		out, err := announce.FindAplay(cfg.Hall.Audio.Device)
		dev := cfg.Hall.Audio.Device
		if dev == "" {
			dev = "default"
		}
		return out, "aplay, ALSA device " + dev, err
	default:
		dir := filepath.Join(cfg.DataDir, "announcements")
		out, err := announce.NewWAVDir(dir)
		return out, "wav files in " + dir + " (hall.audio.driver is wav: nothing is heard)", err
	}
}
