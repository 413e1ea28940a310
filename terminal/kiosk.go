package terminal

import (
	"context"
	"github.com/cherga/kiosk/httpapi"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/cherga/kiosk/configs"
	"github.com/cherga/kiosk/devices"
	"github.com/cherga/kiosk/display/announce"
	"github.com/cherga/kiosk/kiosk"
	"github.com/cherga/kiosk/link"
	"github.com/cherga/kiosk/link/proto"
	"github.com/cherga/kiosk/printer"
	"github.com/cherga/kiosk/printer/simprinter"
)

// kioskPart is the kiosk role: the touch page and ticket API, the ticket
// printer, the scanner, the "take a ticket" button and the fault light,
// and the simulated devices' routes.
type kioskPart struct {
	deviceSet
	t      *Terminal
	kiosk  *kiosk.Kiosk
	routes map[string]http.Handler // the simulated devices' and the printer's
	stdin  *devices.SimScanner     // a simulated scanner reading Env.Stdin
	sim    *simprinter.Device      // the simulated printer, if it is one
	halt   chan struct{}           // closed when the terminal stops: ends a wait for the button
}

func newKioskPart(b *build) (part, error) {
	if !b.cfg.Has(configs.RoleKiosk) {
		return nil, nil
	}
	k := b.cfg.Kiosk
	p := &kioskPart{t: b.Terminal, routes: map[string]http.Handler{}, halt: make(chan struct{})}
	prn, drv, sim := p.openPrinter()
	p.add(prn)
	p.sim = sim
	if sim != nil {
		p.routes["/api/v1/sim/printer"] = sim
	}
	if drv != nil {
		p.routes["POST /api/v1/printer/new-roll"] = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			drv.NewRoll()
			w.WriteHeader(http.StatusNoContent)
		})
	}
	scanner, simScanner := p.openScanner()
	if scanner != nil {
		p.add(scanner)
	}
	if simScanner != nil {
		if k.Scanner.Source == "stdin" {
			p.stdin = simScanner
		} else {
			p.routes["POST /api/v1/sim/scan"] = simScanner
		}
	}
	kcfg := kiosk.Config{Tickets: b.link, Printer: prn, Scanner: scanner, ButtonService: k.Button.Service, Log: b.log,
		Screen: kiosk.Screen{Idle: k.Screen.Idle, IdleWarning: k.Screen.IdleWarning, Ticket: k.Screen.Ticket, Popular: k.Screen.Popular}}
	if k.VoiceGuidance {
		if sp, ok := announce.FindEspeak(); ok {
			kcfg.Speech = sp
		} else {
			b.log.Warn("voice guidance not offered: espeak-ng is not installed (apt-get install espeak-ng)")
		}
	}
	if k.Button.Pin != "" || k.FaultLight != "" {
		kcfg.Button, kcfg.FaultLight = p.openPins(k.Button.Pin, k.FaultLight)
	}
	p.kiosk = kiosk.New(kcfg)
	return p, nil
}

func (*kioskPart) Name() string { return "kiosk" }

func (p *kioskPart) Register(mux httpapi.Routes) {
	p.kiosk.Register(mux)
	for pattern, h := range p.routes {
		mux.Handle(pattern, h)
	}
}

// Listening allows the kiosk page's origin, known once the terminal
// listens.
func (p *kioskPart) Listening(addr net.Addr) error {
	return p.kiosk.AllowOrigin(kioskOrigin(p.t.cfg.Kiosk.Origin, addr))
}

// Run handles the scanner and the button until the terminal stops, then
// disconnects the kiosk page.
func (p *kioskPart) Run(ctx context.Context) error {
	stopHalt := context.AfterFunc(ctx, func() { close(p.halt) })
	defer stopHalt()
	if p.stdin != nil && p.t.stdin != nil {
		// Not waited for: a read from stdin cannot be interrupted.
		go func() {
			if err := p.stdin.ReadLines(ctx, p.t.stdin); err != nil {
				p.t.log.Error("scanner stdin", "err", err)
			}
		}()
	}
	p.kiosk.Run(ctx)
	p.kiosk.Close()
	return nil
}

func (p *kioskPart) Link(up bool) { p.kiosk.LinkChanged(up) }

// addHealth says how the kiosk numbers tickets, and when its leased
// numbers ran out.
func (p *kioskPart) addHealth(h *health) {
	n := p.t.link.Numbering()
	h.Numbering = &n
	if n.Mode == link.ModeFallback {
		h.Alarms = append(h.Alarms, "numbering: leased numbers used up, offline tickets use the fallback series")
	}
}

// kioskOrigin is the touch page's origin: the configured one, else this
// kioskd's address, with loopback for an unspecified host (Chromium on
// the kiosk opens http://127.0.0.1:port/kiosk/).
func kioskOrigin(configured string, addr net.Addr) string {
	if configured != "" {
		return configured
	}
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return "http://" + addr.String()
	}
	ip := tcp.IP
	if ip.IsUnspecified() {
		ip = net.IPv4(127, 0, 0, 1)
	}
	return "http://" + net.JoinHostPort(ip.String(), strconv.Itoa(tcp.Port))
}

type kioskPrinter interface {
	Print(context.Context, *printer.Ticket) error
	Status() devices.Status
}

// openPrinter starts the ESC/POS driver on the configured port; the sim
// driver is the same driver talking to a simulated printer in-process.
func (p *kioskPart) openPrinter() (kioskPrinter, *printer.ESCPOS, *simprinter.Device) {
	c, now := p.t.cfg, p.t.clock.Now()
	pc := c.Kiosk.Printer
	prof, err := printer.LookupProfile(pc.Profile)
	if err != nil { // checked when the config was read
		return newMissing("printer", "printer", string(pc.Driver), err, now), nil, nil
	}
	cfg := printer.Config{
		Driver: string(pc.Driver), Profile: prof, PaperMM: pc.PaperMM, Pace: pc.Pace, RollMM: int(pc.RollM * 1000),
		Template:  printer.Template{Blocks: c.Kiosk.Ticket.Blocks, Logo: c.Kiosk.Ticket.Logo, Footer: proto.Text(c.Kiosk.Ticket.Footer)},
		StateFile: filepath.Join(c.DataDir, "printer.json"), Log: p.t.log.With("device", "printer"), Clock: p.t.clock,
	}
	var sim *simprinter.Device
	switch {
	case pc.Driver == configs.PrinterSim:
		sim, err = simprinter.New(prof, pc.PaperMM, filepath.Join(c.DataDir, "tickets"))
		if err != nil {
			return newMissing("printer", "printer", string(pc.Driver), err, now), nil, nil
		}
		cfg.Port = printer.PipePort{Name: "simulated printer", Serve: func(conn io.ReadWriteCloser) { _ = sim.Serve(conn) }}
	case strings.HasPrefix(pc.Port, "/dev/usb/lp") || strings.HasPrefix(pc.Port, "/dev/lp"):
		cfg.Port = printer.DevicePort{Path: pc.Port}
	case strings.HasPrefix(pc.Port, "/dev/"):
		cfg.Port = printer.SerialPort{Path: pc.Port, Baud: pc.Baud}
	default:
		cfg.Port = printer.NetPort{Addr: pc.Port}
	}
	drv := printer.Open(cfg)
	return drv, drv, sim
}

type kioskScanner interface {
	Scans() <-chan devices.Scan
	Status() devices.Status
}

func (p *kioskPart) openScanner() (kioskScanner, *devices.SimScanner) {
	sc := p.t.cfg.Kiosk.Scanner
	switch sc.Driver {
	case configs.ScannerNone:
		return nil, nil
	case configs.ScannerSim:
		s := devices.NewSimScanner(p.t.clock)
		return s, s
	case configs.ScannerSerial:
		return devices.OpenSerialScanner(devices.SerialScannerConfig{Name: "scanner", Port: sc.Port, Baud: sc.Baud,
			Symbologies: sc.Symbologies, Log: p.t.log, Clock: p.t.clock}), nil
	case configs.ScannerEvdev:
		return devices.OpenEvdevScanner(devices.SerialScannerConfig{Name: "scanner", Port: sc.Port,
			Symbologies: sc.Symbologies, Log: p.t.log, Clock: p.t.clock}), nil
	default:
		return newMissing("scanner", "scanner", string(sc.Driver), errLaterRelease, p.t.clock.Now()), nil
	}
}

// openPins finds the kiosk's button and fault light. A missing pin leaves
// that part out and shows as a gpio fault.
func (p *kioskPart) openPins(button, light string) (gpio.PinIn, gpio.PinOut) {
	var pins devices.Pins
	switch p.t.cfg.GPIO.Driver {
	case configs.GPIOHost:
		host, err := devices.OpenHostPins(p.t.clock)
		if err != nil {
			p.add(newMissing("gpio", "gpio", string(p.t.cfg.GPIO.Driver), err, p.t.clock.Now()))
			p.t.log.Error("gpio unavailable: button and fault light disabled", "err", err)
			return nil, nil
		}
		pins = host
	default:
		sim := devices.NewSimPins(p.t.clock)
		p.routes["/api/v1/sim/gpio/{pin}"] = sim
		p.routes["GET /api/v1/sim/gpio"] = sim
		pins = sim
	}
	p.add(pins)
	var in gpio.PinIn
	var out gpio.PinOut
	if button != "" {
		if pin, err := pins.Pin(button); err != nil {
			p.t.log.Error("button disabled", "err", err)
		} else {
			in = haltingButton{PinIn: pin, halt: p.halt}
		}
	}
	if light != "" {
		if pin, err := pins.Pin(light); err != nil {
			p.t.log.Error("fault light disabled", "err", err)
		} else {
			out = pin
		}
	}
	return in, out
}

// haltingButton ends a wait for the button as soon as the terminal stops.
// The kiosk waits for the button's edge 500 ms at a time and looks at its
// context in between, which held every stop of kioskd for up to half a
// second.
type haltingButton struct {
	gpio.PinIn
	halt <-chan struct{}
}

func (b haltingButton) WaitForEdge(timeout time.Duration) bool {
	select {
	case <-b.halt:
		return false
	default:
	}
	edge := make(chan bool, 1)
	go func() { edge <- b.PinIn.WaitForEdge(timeout) }()
	select {
	case e := <-edge:
		return e
	case <-b.halt:
		// A real pin's wait ends now; a simulated pin's at its timeout,
		// in the goroutine above, after the terminal stopped.
		_ = b.PinIn.Halt()
		return false
	}
}
