package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/cherga/kiosk/configs"
	"github.com/cherga/kiosk/devices"
	"github.com/cherga/kiosk/link/proto"
)

// scannedCode is one code the watch read, and what kioskd makes of it.
// The code is shown to the technician at the scanner, never logged: a
// booking code is a visitor's credential.
type scannedCode struct {
	At      time.Time `json:"at"`
	Length  int       `json:"length"`
	Kind    string    `json:"kind"` // booking, tracking, unknown
	Meaning string    `json:"meaning"`
	Code    string    `json:"code"`
}

// classifyScan says what kioskd does with a scanned code, by the kiosk's
// own test (proto.ParseBookingCode, as kiosk.scanned uses it).
func classifyScan(code string) (kind, meaning string) {
	if digits, err := proto.ParseBookingCode(code); err == nil {
		meaning = "booking code: kioskd checks it in and prints its ticket"
		if b, err := proto.DecodeBookingCode(digits); err == nil {
			meaning += fmt.Sprintf(" (service %d, %02d:%02d)", b.Service, b.Slot/60, b.Slot%60)
		} else {
			meaning += " (no such service or time in it: the server will refuse it)"
		}
		return "booking", meaning
	}
	if l := strings.ToLower(code); strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://") {
		return "tracking", "a link (a ticket's tracking page?), not a booking: kioskd says so on the screen"
	}
	return "unknown", "not a booking code: kioskd says so on the screen"
}

// scannerWatch opens the scanner as kioskd does and prints every code it
// reads until ctx ends (Ctrl-C).
func scannerWatch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("scanner watch", "scanner watch [-config FILE | -port P [-driver serial|evdev] [-baud N]] [-json]", stderr)
	configPath := fs.String("config", "", "kioskd's configuration `file`: the scanner's driver, port and speed (default "+defaultConfig+" when -port is not given)")
	port := fs.String("port", "", "the scanner: /dev/ttyACM0 (serial) or /dev/input/by-id/…-event-kbd (a keyboard-emulating scanner)")
	driver := fs.String("driver", "", "serial or evdev; default the configuration's, else evdev for /dev/input/ paths and serial for others")
	baud := fs.Int("baud", 0, "serial line speed; default the configuration's, else 9600")
	asJSON := fs.Bool("json", false, "one JSON object a line per code")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usageError(fs, "unexpected %q", fs.Arg(0))
	}
	cfg, err := deviceConfig(*configPath, *port == "")
	if err != nil {
		return err
	}
	sc := configs.Scanner{Baud: 9600}
	if cfg != nil {
		sc = cfg.Kiosk.Scanner
		if *port == "" && sc.Driver != configs.ScannerSerial && sc.Driver != configs.ScannerEvdev {
			return fmt.Errorf("kiosk.scanner.driver is %q: no scanner to watch; give -port", sc.Driver)
		}
	}
	if *port != "" {
		sc.Port = *port
		if *driver == "" && cfg == nil || *driver == "" && sc.Driver != configs.ScannerSerial && sc.Driver != configs.ScannerEvdev {
			sc.Driver = configs.ScannerSerial
			if strings.HasPrefix(sc.Port, "/dev/input/") {
				sc.Driver = configs.ScannerEvdev
			}
		}
	}
	switch *driver {
	case "":
	case "serial", "evdev":
		sc.Driver = configs.ScannerDriver(*driver)
	default:
		return usageError(fs, "-driver: got %q, expected serial or evdev", *driver)
	}
	if *baud != 0 {
		sc.Baud = *baud
	}
	if err := checkDevice(sc.Port, "kiosk.scanner.port"); err != nil {
		return err
	}
	// Warnings only: a rejected scan is logged without its code.
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	dc := devices.SerialScannerConfig{Name: "scanner", Port: sc.Port, Baud: sc.Baud, Symbologies: sc.Symbologies, Log: log}
	var s *devices.StreamScanner
	if sc.Driver == configs.ScannerEvdev {
		s = devices.OpenEvdevScanner(dc)
	} else {
		s = devices.OpenSerialScanner(dc)
	}
	defer s.Close()
	if !*asJSON {
		fmt.Fprintf(stdout, "watching the %s scanner on %s; Ctrl-C ends\n", sc.Driver, sc.Port)
	}
	enc := json.NewEncoder(stdout)
	lastState := ""
	for {
		changes := s.Changes()
		if st := s.Status(); !*asJSON && string(st.State)+st.Detail != lastState {
			lastState = string(st.State) + st.Detail
			fmt.Fprintf(stdout, "scanner %s: %s\n", st.State, st.Detail)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-changes:
		case scan := <-s.Scans():
			kind, meaning := classifyScan(scan.Code)
			c := scannedCode{At: scan.At, Length: len(scan.Code), Kind: kind, Meaning: meaning, Code: scan.Code}
			if *asJSON {
				if err := enc.Encode(c); err != nil {
					return err
				}
				continue
			}
			fmt.Fprintf(stdout, "%s  %3d bytes  %-8s %s\n    %s\n", c.At.Format("15:04:05.000"), c.Length, c.Kind, c.Code, c.Meaning)
		}
	}
}
