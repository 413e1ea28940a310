package terminal

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/cherga/kiosk/configs"
	"github.com/cherga/kiosk/devices"
	"github.com/cherga/kiosk/httpapi"
	"github.com/cherga/kiosk/link/proto"
)

// gpioPart is the terminal's GPIO: the pins' driver (periph's host
// drivers, or simulated pins at /api/v1/sim/gpio), the pins other parts
// take from it while the terminal is built (the kiosk's button, paper
// sensor and status lights), and the display-power relay, which switches
// the hall's TVs and LED boards on in office hours whatever the
// terminal's roles. It is built before the parts that take pins.
type gpioPart struct {
	t       *Terminal
	pins    devices.Pins // nil: the driver could not start (openErr)
	openErr error
	sim     *devices.SimPins // the pins, when simulated
	power   *devices.Power   // nil: no display-power relay
	// missing are the pins asked for and not found, as "key pin"; only
	// written while the terminal is built.
	missing []string
}

// usesGPIO: the configuration names a pin.
func usesGPIO(c *configs.Terminal) bool {
	k := c.Kiosk
	if c.Has(configs.RoleKiosk) && (k.Button.Pin != "" || k.FaultPin() != "" || k.Lights.Ready != "" ||
		k.Lights.Attention != "" || k.PaperSensor.Pin != "") {
		return true
	}
	for _, b := range c.Buses {
		if b.Direction != "" {
			return true
		}
	}
	return c.GPIO.DisplayPower.Pin != ""
}

func newGPIOPart(b *build) (part, error) {
	c := b.cfg
	if !usesGPIO(c) {
		return nil, nil
	}
	p := &gpioPart{t: b.Terminal}
	b.gpio = p
	switch c.GPIO.Driver {
	case configs.GPIOHost:
		host, err := devices.OpenHostPins(b.clock)
		if err != nil {
			p.openErr = err
			b.log.Error("gpio unavailable: buttons, sensors, lights and relays disabled", "err", err)
			return p, nil
		}
		p.pins = host
	default:
		p.sim = devices.NewSimPins(b.clock)
		p.pins = p.sim
	}
	if dp := c.GPIO.DisplayPower; dp.Pin != "" {
		days := make([]string, len(dp.Days))
		for i, d := range dp.Days {
			days[i] = string(d)
		}
		hours, err := devices.ParseHours(dp.On, dp.Off, days)
		if err != nil { // checked when the config was read
			return nil, fmt.Errorf("gpio.display_power: %w", err)
		}
		if pin := p.pin(dp.Pin, "gpio.display_power.pin"); pin != nil {
			loc := time.Local
			if snap := b.link.Snapshot(); snap != nil {
				loc = officeLocation(snap.Office, loc)
			}
			p.power = devices.NewPower(devices.PowerConfig{Name: "display-power", Driver: string(c.GPIO.Driver), Pin: pin,
				ActiveLow: dp.ActiveLow, Hours: hours, Location: loc, Clock: b.clock, Log: b.log.With("device", "display-power")})
		}
	}
	return p, nil
}

// officeLocation is the office's time zone, else def.
func officeLocation(o proto.Office, def *time.Location) *time.Location {
	if o.Timezone == "" {
		return def
	}
	loc, err := time.LoadLocation(o.Timezone)
	if err != nil {
		return def
	}
	return loc
}

// pin finds the pin named by the configuration key key (kiosk.button.pin);
// nil for none: no name, no GPIO, or no such pin, which the gpio device
// then shows as a fault. Only while the terminal is built.
func (p *gpioPart) pin(name, key string) gpio.PinIO {
	if p == nil || name == "" || p.pins == nil {
		return nil
	}
	pin, err := p.pins.Pin(name)
	if err != nil {
		p.missing = append(p.missing, key+" "+name)
		p.t.log.Error("gpio pin not found; what it drives is left out", "key", key, "pin", name, "err", err)
		return nil
	}
	return pin
}

// notWorking records that a pin found could not be used (a sensor whose
// edges cannot be watched); the gpio device shows it as a fault.
func (p *gpioPart) notWorking(key, name string, err error) {
	p.missing = append(p.missing, fmt.Sprintf("%s %s (%v)", key, name, err))
	p.t.log.Error("gpio pin unusable; what it drives is left out", "key", key, "pin", name, "err", err)
}

func (*gpioPart) Name() string { return "gpio" }
func (*gpioPart) Close() error { return nil }

func (p *gpioPart) Devices() []func() devices.Status {
	out := []func() devices.Status{p.status}
	if p.power != nil {
		out = append(out, p.power.Status)
	}
	return out
}

// status is the pins' driver, at fault when a pin the configuration names
// is not there.
func (p *gpioPart) status() devices.Status {
	if p.openErr != nil {
		return devices.Status{Name: "gpio", Kind: "gpio", Driver: string(p.t.cfg.GPIO.Driver), State: devices.Fault,
			Detail: p.openErr.Error(), Since: p.t.started}
	}
	st := p.pins.Status()
	if len(p.missing) > 0 {
		st.State = devices.Fault
		st.Detail = "pins not found or not usable: " + strings.Join(p.missing, ", ") + "; " + st.Detail
	}
	return st
}

func (p *gpioPart) Register(mux httpapi.Routes) {
	if p.sim != nil {
		mux.Handle("/api/v1/sim/gpio/{pin}", guardSim(p.sim))
		mux.Handle("GET /api/v1/sim/gpio", guardSim(p.sim))
	}
	if p.power != nil {
		mux.HandleFunc("GET /api/v1/display-power", func(w http.ResponseWriter, r *http.Request) {
			_ = httpapi.WriteJSON(w, http.StatusOK, p.power.State())
		})
	}
}

// Run keeps the display power on its schedule until the terminal stops.
func (p *gpioPart) Run(ctx context.Context) error {
	if p.power != nil {
		p.power.Run(ctx)
	}
	return nil
}

// Welcome takes the office's time zone, the one the display power's hours
// are in.
func (p *gpioPart) Welcome(w *proto.Welcome) {
	if p.power != nil && w.Office.Timezone != "" {
		p.power.SetLocation(officeLocation(w.Office, time.Local))
	}
}
