package terminal

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"periph.io/x/conn/v3/gpio"

	"github.com/cherga/kiosk/devices"
	"github.com/cherga/kiosk/printer/simprinter"
	"github.com/cherga/kiosk/queue/queuetest"
)

// kioskGPIO is a demo terminal's kiosk part and simulated pins, with what
// the tests below do to them.
type kioskGPIO struct {
	t     *testing.T
	r     *rig
	clock *clockwork.FakeClock
	k     *kioskPart
	pins  *devices.SimPins
	ctx   context.Context // bounded by guard
}

// startKioskGPIO runs demo.yaml's terminal as a kiosk alone (the demo's
// hall has no voice packs in tests, a fault that lights the yellow
// light) on a fake clock at at, against a real queued.
func startKioskGPIO(t *testing.T, at time.Time) *kioskGPIO {
	clock := clockwork.NewFakeClockAt(at)
	office := queuetest.Start(t, clock)
	dir := t.TempDir()
	demo, err := os.ReadFile("../configs/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	yaml := string(demo)
	for _, r := range [][2]string{
		{"data_dir: var/demo-01", "data_dir: " + dir},
		{"url: ws://127.0.0.1:8090/api/v1/link", "url: " + office.LinkURL()},
		{"roles: [kiosk, hall, window]", "roles: [kiosk]"},
	} {
		if !strings.Contains(yaml, r[0]) {
			t.Fatalf("demo.yaml has no %q", r[0])
		}
		yaml = strings.Replace(yaml, r[0], r[1], 1)
	}
	cfg, err := ParseConfig("demo.yaml", []byte(withoutBuses(yaml)))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	adminLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	log := newTestLog(t)
	term, err := New(cfg, Env{Log: log.Logger, Version: "test", Clock: clock, Listener: ln, AdminListener: adminLn})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stopRun := context.WithCancel(context.Background())
	r := &rig{term: term, office: office, addr: ln.Addr().String(), dir: dir, cancel: stopRun, done: make(chan error, 1), log: log}
	go func() { r.done <- term.Run(runCtx) }()
	t.Cleanup(func() { _ = r.stop() })
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	t.Cleanup(cancel)
	if err := term.link.WaitUp(ctx); err != nil {
		t.Fatalf("link not up: %v", err)
	}
	return &kioskGPIO{t: t, r: r, clock: clock, k: partOf[*kioskPart](t, r.term), pins: partOf[*gpioPart](t, r.term).sim, ctx: ctx}
}

// lights waits until the status lights show want ("ready steady,
// attention off, fault off").
func (g *kioskGPIO) lights(want string) {
	g.t.Helper()
	for {
		_, changed := g.k.lights.Shown()
		if got := g.k.lights.Status().Detail; got == want {
			return
		}
		select {
		case <-changed:
		case <-g.ctx.Done():
			g.t.Fatalf("lights show %q, want %q", g.k.lights.Status().Detail, want)
		}
	}
}

func (g *kioskGPIO) level(pin string, l gpio.Level) {
	g.t.Helper()
	if err := g.pins.WaitLevel(g.ctx, pin, l); err != nil {
		g.t.Fatal(err)
	}
}

func (g *kioskGPIO) idle(pin string) {
	g.t.Helper()
	if err := g.pins.WaitIdle(g.ctx, pin); err != nil {
		g.t.Fatal(err)
	}
}

// setPaperSensor holds the simulated paper sensor (demo.yaml: PAPER_LOW,
// active low) as an HTTP client would, and lets its debounce pass on the
// clock; when it returns the printer has been told.
func (g *kioskGPIO) setPaperSensor(level string) {
	g.t.Helper()
	req, err := http.NewRequest("POST", "http://"+g.r.addr+"/api/v1/sim/gpio/PAPER_LOW", strings.NewReader(`{"level":"`+level+`"}`))
	if err != nil {
		g.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	send(g.t, req, http.StatusAccepted, nil)
	g.idle("PAPER_LOW") // the sensor took the edge
	g.clock.Advance(g.r.term.cfg.Kiosk.PaperSensor.Debounce)
	g.idle("PAPER_LOW") // and looked at the level once the debounce was over
}

// waitReported waits until queued has a device report in which the
// device named name is as ok says.
func (g *kioskGPIO) waitReported(name string, ok func(state, detail string) bool) {
	g.t.Helper()
	g.r.waitServer(g.t, "device report of "+name, func() bool {
		d, found := g.r.office.Queue.Device(g.r.term.cfg.DeviceID)
		if !found || d.Status == nil {
			return false
		}
		for _, s := range d.Status.Devices {
			if s.Name == name {
				return ok(s.State, s.Detail)
			}
		}
		return false
	})
}

// getHealth is GET /healthz.
func (g *kioskGPIO) getHealth() health {
	g.t.Helper()
	req, _ := http.NewRequest("GET", "http://"+g.r.addr+"/healthz", nil)
	var h health
	send(g.t, req, http.StatusOK, &h)
	return h
}

func deviceNamed(h health, name string) devices.Status {
	for _, d := range h.Devices {
		if d.Name == name {
			return d
		}
	}
	return devices.Status{}
}

// The paper sensor says paper near end as a printer would: the printer's
// state in /healthz and in the device report queued keeps, the yellow
// light steady, the page still printing; and a new roll clears it.
func TestKioskPaperSensor(t *testing.T) {
	g := startKioskGPIO(t, time.Now())
	g.lights("ready steady, attention off, fault off")
	g.level("READY_LED", gpio.High)
	g.level("ATTENTION_LED", gpio.Low)
	g.level("FAULT_LED", gpio.Low)

	// queued hears the printer ready (its first report was made while the
	// printer was being asked how it is).
	g.clock.Advance(deviceReportEvery)
	g.waitReported("printer", func(state, detail string) bool { return state == "ok" })

	g.setPaperSensor("low")
	if st := g.k.prn.Status(); st.State != devices.Warning || !strings.HasPrefix(st.Detail, "paper_near_end") {
		t.Fatalf("printer %+v", st)
	}
	g.lights("ready steady, attention steady, fault off")
	g.level("ATTENTION_LED", gpio.High)
	h := g.getHealth()
	if p := deviceNamed(h, "printer"); h.Status != "ok" || p.State != devices.Warning || p.Detail != "paper_near_end (the kiosk's paper sensor)" {
		t.Errorf("healthz %s, printer %+v", h.Status, p)
	}
	if l := deviceNamed(h, "lights"); l.Detail != "ready steady, attention steady, fault off" {
		t.Errorf("lights in healthz %+v", l)
	}
	// The page prints as before: near end is not out.
	req, _ := http.NewRequest("GET", "http://"+g.r.addr+"/api/v1/services", nil)
	var page struct {
		CanPrint bool `json:"can_print"`
	}
	send(t, req, http.StatusOK, &page)
	if !page.CanPrint {
		t.Error("the page says the kiosk cannot print")
	}
	// The next device report carries it to queued.
	g.clock.Advance(deviceReportEvery)
	g.waitReported("printer", func(state, detail string) bool {
		return state == "warning" && strings.HasPrefix(detail, "paper_near_end")
	})

	g.setPaperSensor("high")
	if st := g.k.prn.Status(); st.State != devices.OK {
		t.Fatalf("printer after a new roll %+v", st)
	}
	g.lights("ready steady, attention off, fault off")
	g.level("ATTENTION_LED", gpio.Low)
}

// A pulse of the paper sensor shorter than its debounce changes nothing.
func TestKioskPaperSensorBounce(t *testing.T) {
	g := startKioskGPIO(t, time.Now())
	g.pins.Set("PAPER_LOW", gpio.Low)
	g.idle("PAPER_LOW")
	g.clock.Advance(g.r.term.cfg.Kiosk.PaperSensor.Debounce / 2)
	g.pins.Set("PAPER_LOW", gpio.High)
	g.idle("PAPER_LOW")
	g.clock.Advance(g.r.term.cfg.Kiosk.PaperSensor.Debounce)
	g.idle("PAPER_LOW")
	if st := g.k.prn.Status(); st.State != devices.OK {
		t.Fatalf("printer after a bounce %+v", st)
	}
}

// The red light is the printer that cannot print (fault_light as it
// always was), the green one dark meanwhile; the yellow one blinks while
// the server is away, on the terminal's clock.
func TestKioskLights(t *testing.T) {
	g := startKioskGPIO(t, time.Now())
	g.lights("ready steady, attention off, fault off")

	g.k.sim.SetCondition(simprinter.PaperOut)
	g.lights("ready off, attention off, fault steady")
	g.level("FAULT_LED", gpio.High)
	g.level("READY_LED", gpio.Low)
	g.k.sim.SetCondition(simprinter.Ready)
	g.lights("ready steady, attention off, fault off")
	g.level("FAULT_LED", gpio.Low)
	g.level("READY_LED", gpio.High)

	g.r.office.Stop()
	g.lights("ready steady, attention blink, fault off")
	g.level("ATTENTION_LED", gpio.High) // lit at once
	for range 2 {
		g.clock.Advance(devices.BlinkEvery)
		g.level("ATTENTION_LED", gpio.Low)
		g.clock.Advance(devices.BlinkEvery)
		g.level("ATTENTION_LED", gpio.High)
	}
	if lv := g.pins.Levels(); lv["READY_LED"] != "High" || lv["FAULT_LED"] != "Low" {
		t.Errorf("steady lights moved with the blink: %v", lv)
	}
	// Stopped, the kiosk's lights are dark.
	if err := g.r.stop(); err != nil {
		t.Fatal(err)
	}
	for _, pin := range []string{"READY_LED", "ATTENTION_LED", "FAULT_LED"} {
		g.level(pin, gpio.Low)
	}
}

// The display power relay is on in office hours in the office's time zone,
// which the terminal learns from queued: 07:50 in Kyiv is 05:50 in UTC,
// before the hours there. Its state is in /healthz and at
// /api/v1/display-power.
func TestGPIODisplayPower(t *testing.T) {
	kyiv, err := time.LoadLocation("Europe/Kyiv")
	if err != nil {
		t.Fatal(err)
	}
	g := startKioskGPIO(t, time.Date(2026, 11, 23, 7, 50, 0, 0, kyiv)) // a Monday
	g.level("DISPLAY_POWER", gpio.High)
	req, _ := http.NewRequest("GET", "http://"+g.r.addr+"/api/v1/display-power", nil)
	var st devices.PowerState
	send(t, req, http.StatusOK, &st)
	if !st.On || !strings.HasPrefix(st.Pin, "DISPLAY_POWER") || st.Timezone != "Europe/Kyiv" ||
		!st.Next.Equal(time.Date(2026, 11, 23, 20, 15, 0, 0, kyiv)) {
		b, _ := json.Marshal(st)
		t.Errorf("display power %s", b)
	}
	if d := deviceNamed(g.getHealth(), "display-power"); d.State != devices.OK || !strings.HasPrefix(d.Detail, "on until Mon 20:15") {
		t.Errorf("healthz display-power %+v", d)
	}
	if lv := g.pins.Levels(); lv["DISPLAY_POWER"] != "High" {
		t.Errorf("sim gpio levels %v", lv)
	}
}
