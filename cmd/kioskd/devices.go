package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/cherga/kiosk/configs"
	"github.com/cherga/kiosk/devices"
	"github.com/cherga/kiosk/display/announce"
	"github.com/cherga/kiosk/link/proto"
	"github.com/cherga/kiosk/printer"
	"github.com/cherga/kiosk/printer/simprinter"
)

// missing stands in for a device this build has no driver for, or that
// failed to open: kioskd still runs, and /healthz says what is wrong.
type missing struct {
	st devices.Status
}

func newMissing(name, kind, driver string, err error) *missing {
	return &missing{st: devices.Status{Name: name, Kind: kind, Driver: driver, State: devices.Fault,
		Detail: err.Error(), Since: time.Now()}}
}

func (m *missing) Status() devices.Status { return m.st }
func (m *missing) err() error             { return errors.New(m.st.Detail) }

func (m *missing) Print(context.Context, *printer.Ticket) error { return m.err() }
func (m *missing) Play(context.Context, *announce.Clip) error   { return m.err() }
func (m *missing) Scans() <-chan devices.Scan                   { return nil }

var errLaterRelease = errors.New("this kioskd build has no driver for it yet; see the hardware table in README.md")

// The device constructors below map configuration to drivers.

type kioskPrinter interface {
	Print(context.Context, *printer.Ticket) error
	Status() devices.Status
}

// openPrinter starts the ESC/POS driver on the configured port; the sim
// driver is the same driver talking to a simulated printer in-process.
func openPrinter(c *configs.Terminal, log *slog.Logger) (kioskPrinter, *printer.ESCPOS, *simprinter.Device) {
	p := c.Kiosk.Printer
	prof, err := printer.LookupProfile(p.Profile)
	if err != nil { // checked when the config was read
		return newMissing("printer", "printer", string(p.Driver), err), nil, nil
	}
	cfg := printer.Config{
		Driver: string(p.Driver), Profile: prof, PaperMM: p.PaperMM, Pace: p.Pace, RollMM: int(p.RollM * 1000),
		Template:  printer.Template{Blocks: c.Kiosk.Ticket.Blocks, Logo: c.Kiosk.Ticket.Logo, Footer: proto.Text(c.Kiosk.Ticket.Footer)},
		StateFile: filepath.Join(c.DataDir, "printer.json"), Log: log.With("device", "printer"),
	}
	var sim *simprinter.Device
	switch {
	case p.Driver == configs.PrinterSim:
		sim, err = simprinter.New(prof, p.PaperMM, filepath.Join(c.DataDir, "tickets"))
		if err != nil {
			return newMissing("printer", "printer", string(p.Driver), err), nil, nil
		}
		cfg.Port = printer.PipePort{Name: "simulated printer", Serve: func(conn io.ReadWriteCloser) { _ = sim.Serve(conn) }}
	case strings.HasPrefix(p.Port, "/dev/usb/lp") || strings.HasPrefix(p.Port, "/dev/lp"):
		cfg.Port = printer.DevicePort{Path: p.Port}
	case strings.HasPrefix(p.Port, "/dev/"):
		cfg.Port = printer.SerialPort{Path: p.Port, Baud: p.Baud}
	default:
		cfg.Port = printer.NetPort{Addr: p.Port}
	}
	drv := printer.Open(cfg)
	return drv, drv, sim
}

type kioskScanner interface {
	Scans() <-chan devices.Scan
	Status() devices.Status
}

func openScanner(c *configs.Terminal, log *slog.Logger) (kioskScanner, *devices.SimScanner) {
	switch d := c.Kiosk.Scanner.Driver; d {
	case configs.ScannerNone:
		return nil, nil
	case configs.ScannerSim:
		s := devices.NewSimScanner()
		return s, s
	case configs.ScannerSerial:
		sc := c.Kiosk.Scanner
		return devices.OpenSerialScanner(devices.SerialScannerConfig{Name: "scanner", Port: sc.Port, Baud: sc.Baud,
			Symbologies: sc.Symbologies, Log: log}), nil
	case configs.ScannerEvdev:
		sc := c.Kiosk.Scanner
		return devices.OpenEvdevScanner(devices.SerialScannerConfig{Name: "scanner", Port: sc.Port,
			Symbologies: sc.Symbologies, Log: log}), nil
	default:
		return newMissing("scanner", "scanner", string(d), errLaterRelease), nil
	}
}

func openAudio(c *configs.Terminal) announce.Output {
	switch d := c.Hall.Audio.Driver; d {
	case configs.AudioWAV:
		out, err := announce.NewWAVDir(filepath.Join(c.DataDir, "announcements"))
		if err != nil {
			return newMissing("audio", "audio", string(d), err)
		}
		return out
	default:
		out, err := announce.FindAplay(c.Hall.Audio.Device)
		if err != nil {
			return newMissing("audio", "audio", string(d), err)
		}
		return out
	}
}

func openPins(c *configs.Terminal) (devices.Pins, *devices.SimPins, error) {
	switch c.GPIO.Driver {
	case configs.GPIOHost:
		p, err := devices.OpenHostPins()
		return p, nil, err
	default:
		s := devices.NewSimPins()
		return s, s, nil
	}
}
