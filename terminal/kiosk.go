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
	"sync"

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
// printer, the scanner, the "take a ticket" button, the paper sensor and
// the status lights, and the simulated devices' routes.
type kioskPart struct {
	deviceSet
	t      *Terminal
	kiosk  *kiosk.Kiosk
	routes map[string]http.Handler // the simulated devices' and the printer's
	stdin  *devices.SimScanner     // a simulated scanner reading Env.Stdin
	sim    *simprinter.Device      // the simulated printer, if it is one
	prn    kioskPrinter
	sensor *devices.Sensor // the paper-low sensor; nil: none
	lights *devices.Lights // ready, attention, fault; nil: none fitted
	forms  *kiosk.Forms    // the sample forms kept for the page (forms.go)
	scans  *scanLog        // the scans on their way to the kiosk, for the admin page
}

func newKioskPart(b *build) (part, error) {
	if !b.cfg.Has(configs.RoleKiosk) {
		return nil, nil
	}
	k := b.cfg.Kiosk
	p := &kioskPart{t: b.Terminal, routes: map[string]http.Handler{}}
	prn, drv, sim := p.openPrinter()
	p.add(prn)
	p.prn, p.sim = prn, sim
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
		// The admin page's last scans watch what reaches the kiosk.
		b.scans = &scanLog{}
		scanner = b.scans.watch(scanner)
		p.scans = b.scans
	}
	if simScanner != nil {
		if k.Scanner.Source == "stdin" {
			p.stdin = simScanner
		} else {
			p.routes["POST /api/v1/sim/scan"] = simScanner
		}
	}
	kcfg := kiosk.Config{Tickets: meteredTickets{b.link, b.metrics, b.clock, b.scans}, Printer: prn, DiskFull: b.store.DiskFull, Scanner: scanner, ButtonService: k.Button.Service, Log: b.log, Clock: b.clock,
		Screen: kiosk.Screen{Idle: k.Screen.Idle, IdleWarning: k.Screen.IdleWarning, Ticket: k.Screen.Ticket, Popular: k.Screen.Popular}}
	if k.VoiceGuidance {
		if sp, ok := announce.FindEspeak(); ok {
			kcfg.Speech = sp
		} else {
			b.log.Warn("voice guidance not offered: espeak-ng is not installed (apt-get install espeak-ng)")
		}
	}
	kcfg.Button = b.gpio.pin(k.Button.Pin, "kiosk.button.pin")
	p.openSensor(b.gpio)
	p.openLights(b.gpio)
	if p.lights != nil {
		kcfg.PrinterChanged = p.lights.Refresh
	}
	forms, err := p.openForms()
	if err != nil {
		return nil, err
	}
	p.forms, kcfg.Forms = forms, forms
	p.kiosk = kiosk.New(kcfg)
	return p, nil
}

func (*kioskPart) Name() string { return "kiosk" }

func (p *kioskPart) Register(mux httpapi.Routes) {
	p.kiosk.Register(mux)
	for pattern, h := range p.routes {
		mux.Handle(pattern, p.kiosk.Guard(h)) // the kiosk page's, or kioskctl's on this machine
	}
}

// Listening allows the kiosk page's origin, known once the terminal
// listens.
func (p *kioskPart) Listening(addr net.Addr) error {
	return p.kiosk.AllowOrigin(kioskOrigin(p.t.cfg.Kiosk.Origin, addr))
}

// Run handles the scanner, the button, the paper sensor and the lights
// until the terminal stops, then disconnects the kiosk page.
func (p *kioskPart) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	if p.sensor != nil {
		wg.Go(func() { p.sensor.Run(ctx) })
	}
	if p.lights != nil {
		wg.Go(func() { p.lights.Run(ctx, p.showLights) })
	}
	wg.Go(func() { p.forms.Run(ctx) })
	wg.Go(func() { p.scans.forward(ctx) })
	if p.stdin != nil && p.t.stdin != nil {
		// Not waited for: a read from stdin cannot be interrupted.
		go func() {
			if err := p.stdin.ReadLines(ctx, p.t.stdin); err != nil {
				p.t.log.Error("scanner stdin", "err", err)
			}
		}()
	}
	p.kiosk.Run(ctx)
	wg.Wait()
	p.kiosk.Close()
	return nil
}

func (p *kioskPart) Link(up bool) {
	p.kiosk.LinkChanged(up)
	if p.lights != nil {
		p.lights.Refresh()
	}
}

// addHealth says how the kiosk numbers tickets: online, or offline from
// its own series.
func (p *kioskPart) addHealth(h *health) {
	n := p.t.link.Numbering()
	h.Numbering = &n
	f := p.forms.Status()
	h.Forms = &f
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

// openSensor watches the paper-low sensor, if there is one: while it is
// active the printer's state is paper_near_end.
func (p *kioskPart) openSensor(pins *gpioPart) {
	ps := p.t.cfg.Kiosk.PaperSensor
	pin := pins.pin(ps.Pin, "kiosk.paper_sensor.pin")
	if pin == nil {
		return
	}
	sensor, err := devices.NewSensor(devices.SensorConfig{Name: "paper sensor", Pin: pin, ActiveLow: ps.ActiveLow,
		Debounce: ps.Debounce, Changed: p.paperSensed, Clock: p.t.clock})
	if err != nil {
		pins.notWorking("kiosk.paper_sensor.pin", ps.Pin, err)
		return
	}
	p.sensor = sensor
	if low, _ := sensor.Active(); low {
		p.paperSensed(true)
	}
}

// paperSensor is a printer that takes what a paper sensor outside it says
// (printer.ESCPOS).
type paperSensor interface{ SetPaperLow(low bool) }

// paperSensed feeds the paper sensor's state to the printer's.
func (p *kioskPart) paperSensed(low bool) {
	if low {
		p.t.log.Warn("paper sensor: the paper is near its end", "pin", p.t.cfg.Kiosk.PaperSensor.Pin)
	} else {
		p.t.log.Info("paper sensor: paper loaded", "pin", p.t.cfg.Kiosk.PaperSensor.Pin)
	}
	if ps, ok := p.prn.(paperSensor); ok {
		ps.SetPaperLow(low)
	}
	if p.lights != nil {
		p.lights.Refresh()
	}
}

// The status lights, in the order showLights answers.
const (
	lightReady = iota
	lightAttention
	lightFault
)

// openLights finds the status lights that are fitted; the red one's pin
// is kiosk.lights.fault or, by its older name, kiosk.fault_light.
func (p *kioskPart) openLights(pins *gpioPart) {
	k := p.t.cfg.Kiosk
	faultKey := "kiosk.lights.fault"
	if k.Lights.Fault == "" {
		faultKey = "kiosk.fault_light"
	}
	lamps := []devices.Lamp{
		lightReady:     {Name: "ready", Pin: pins.pin(k.Lights.Ready, "kiosk.lights.ready"), ActiveLow: k.Lights.ActiveLow},
		lightAttention: {Name: "attention", Pin: pins.pin(k.Lights.Attention, "kiosk.lights.attention"), ActiveLow: k.Lights.ActiveLow},
		lightFault:     {Name: "fault", Pin: pins.pin(k.FaultPin(), faultKey), ActiveLow: k.Lights.ActiveLow},
	}
	for _, l := range lamps {
		if l.Pin != nil {
			p.lights = devices.NewLights(devices.LightsConfig{Name: "lights", Driver: string(p.t.cfg.GPIO.Driver),
				Lamps: lamps, Clock: p.t.clock, Log: p.t.log})
			p.add(p.lights)
			return
		}
	}
}

// showLights is what the status lights show, from the printer, the
// terminal's other devices and the link:
//
//   - ready (green): steady while tickets are issued and printed;
//     blinking while starting (the printer not yet known, or no catalogue
//     from the server yet); dark while the printer cannot print.
//   - attention (yellow): blinking while the server is away (the kiosk
//     numbers tickets itself); else steady while something needs a
//     technician soon: the printer in warning (paper near its end), another
//     device in warning or fault, the outbox's alarm.
//   - fault (red): steady while the printer cannot print (no paper, cover
//     open, offline), as fault_light always was.
func (p *kioskPart) showLights() []devices.Pattern {
	t := p.t
	show := make([]devices.Pattern, 3)
	prn := p.prn.Status()
	switch prn.State {
	case devices.Fault:
		show[lightFault] = devices.Steady
	case devices.Starting:
		show[lightReady] = devices.Blink
	default:
		show[lightReady] = devices.Steady
		if t.link.Snapshot() == nil {
			show[lightReady] = devices.Blink
		}
	}
	if prn.State == devices.Warning || t.store.Outbox().Alarm != "" {
		show[lightAttention] = devices.Steady
	}
	for _, d := range t.deviceStates() {
		if d.Kind != "printer" && (d.State == devices.Warning || d.State == devices.Fault) {
			show[lightAttention] = devices.Steady
		}
	}
	if t.link.Status().State != link.StateUp {
		show[lightAttention] = devices.Blink
	}
	return show
}
