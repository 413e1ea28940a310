package terminal

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"

	"github.com/cherga/kiosk/configs"
	"github.com/cherga/kiosk/display/announce"
	"github.com/cherga/kiosk/firmware-bridge/modbus"
	"github.com/cherga/kiosk/httpapi/auth"
	"github.com/cherga/kiosk/printer"
)

// The configuration meets the domain packages here, not in configs:
// configs is shared with queued, which must not link the terminal's
// drivers, and the drivers do not know the YAML.

// LoadConfig reads a kioskd configuration file with every rule kioskd
// applies: configs' own, then the printer's (profile, paper width, ticket
// blocks). Each problem names its file, line, column and key.
func LoadConfig(path string) (*configs.Terminal, error) {
	return configs.LoadTerminal(path, checkPrinter, checkBusLines, checkAdminHash)
}

// ParseConfig is LoadConfig for bytes already read; name is used in error
// messages.
func ParseConfig(name string, data []byte) (*configs.Terminal, error) {
	return configs.ParseTerminal(name, data, checkPrinter, checkBusLines, checkAdminHash)
}

// CheckConfig applies the rules LoadConfig adds to configs' own to a
// configuration made in code; New refuses one that breaks them.
func CheckConfig(c *configs.Terminal) error {
	var errs []error
	report := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	checkPrinter(c, report)
	checkBusLines(c, report)
	checkAdminHash(c, report)
	checkAdminListener(c, report)
	return errors.Join(errs...)
}

// checkAdminHash: admin.password_hash is an argon2id PHC string kioskd
// can check (configs knows only that one is needed).
func checkAdminHash(c *configs.Terminal, report func(key, format string, args ...any)) {
	if h := c.Admin.PasswordHash; h != "" {
		if _, err := auth.ParsePHC(h); err != nil {
			report("admin.password_hash", "%v; make one with kioskctl admin hash-password", strings.TrimPrefix(err.Error(), "auth: "))
		}
	}
}

// checkAdminListener is configs' rule for the admin listener, for a
// configuration made in code: off loopback, a password and TLS.
func checkAdminListener(c *configs.Terminal, report func(key, format string, args ...any)) {
	a := c.Admin
	if a.Listen == configs.AdminOff || a.Listen == "" || a.Loopback() {
		return
	}
	if a.PasswordHash == "" {
		report("admin.password_hash", "required when admin.listen (%s) is not a loopback address: make one with kioskctl admin hash-password", a.Listen)
	}
	if a.TLSCert == "" || a.TLSKey == "" {
		report("admin.tls_cert", "tls_cert and tls_key are required when admin.listen (%s) is not a loopback address", a.Listen)
	}
}

// checkBusLines is the bus's part: each line as modbus.ParseLine reads
// it (configs checks only its shape).
func checkBusLines(c *configs.Terminal, report func(key, format string, args ...any)) {
	for i, b := range c.Buses {
		if _, err := modbus.ParseLine(b.Line); err != nil {
			report(fmt.Sprintf("buses[%d].line", i), "%v", strings.TrimPrefix(err.Error(), "modbus: "))
		}
	}
}

// checkPrinter is the printer's part of checking a terminal's
// configuration.
func checkPrinter(c *configs.Terminal, report func(key, format string, args ...any)) {
	k := c.Kiosk
	if prof, err := printer.LookupProfile(k.Printer.Profile); err != nil {
		report("kiosk.printer.profile", "got %q, expected one of: %s", k.Printer.Profile, strings.Join(printer.ProfileIDs(), ", "))
	} else if _, err := prof.Width(k.Printer.PaperMM); err != nil {
		report("kiosk.printer.paper_mm", "got %d, expected %s (the widths profile %s takes)",
			k.Printer.PaperMM, strings.Join(prof.PaperWidths(), " or "), prof.ID)
	}
	for i, b := range k.Ticket.Blocks {
		if (printer.Template{Blocks: []string{b}}).Check() != nil {
			report(fmt.Sprintf("kiosk.ticket.blocks[%d]", i), "got %q, expected one of: %s", b, strings.Join(printer.BlockNames, ", "))
		}
	}
}

// VoiceSetup is where the hall's phrase packs are and how they are
// spoken: the configured directory, or data_dir/voice.
func VoiceSetup(c *configs.Terminal, log *slog.Logger) announce.Setup {
	v := c.Hall.Voice
	dir := v.PackDir
	if dir == "" {
		dir = filepath.Join(c.DataDir, "voice")
	}
	return announce.Setup{Languages: v.Languages, Dir: dir, TTS: v.TTSFallback, Log: log}
}

// AnnouncerConfig reads the hall's voice settings (checked when the
// configuration was loaded; an error here names the key anyway).
func AnnouncerConfig(v configs.Voice) (announce.Config, error) {
	cfg := announce.Config{MaxAge: v.MaxAge, Repeat: v.Repeat}
	period := func(key, from, to string) (announce.Period, error) {
		f, err := announce.ParseClock(from)
		if err != nil {
			return announce.Period{}, fmt.Errorf("%s.from: %w", key, err)
		}
		t, err := announce.ParseClock(to)
		if err != nil {
			return announce.Period{}, fmt.Errorf("%s.to: %w", key, err)
		}
		return announce.Period{From: f, To: t}, nil
	}
	for i, s := range v.Volume {
		p, err := period(fmt.Sprintf("hall.voice.volume[%d]", i), s.From, s.To)
		if err != nil {
			return cfg, err
		}
		cfg.Volume = append(cfg.Volume, announce.VolumeSlot{Period: p, Volume: s.Volume})
	}
	if v.Quiet.From != "" {
		p, err := period("hall.voice.quiet", v.Quiet.From, v.Quiet.To)
		if err != nil {
			return cfg, err
		}
		cfg.Quiet = &p
	}
	return cfg, nil
}
