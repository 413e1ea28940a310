package configs

import (
	"cmp"
	"fmt"
	"strings"
	"time"
)

// Lights are the kiosk's status lights on GPIO outputs: ready (green),
// attention (yellow) and fault (red); empty: not fitted.
type Lights struct {
	Ready     string `yaml:"ready"`
	Attention string `yaml:"attention"`
	Fault     string `yaml:"fault"`
	// ActiveLow: a light is lit by a low level (a relay board, an LED
	// wired from the supply to the pin).
	ActiveLow bool `yaml:"active_low"`
}

// FaultPin is the red light's pin: lights.fault, or fault_light, its
// older name.
func (k *KioskRole) FaultPin() string { return cmp.Or(k.Lights.Fault, k.FaultLight) }

// PaperSensor is a paper near-end switch at the printer's roll, on a GPIO
// input, for printers that cannot tell it themselves.
type PaperSensor struct {
	Pin string `yaml:"pin"`
	// ActiveLow: the pin reads low while the paper is low (a switch to
	// ground, with the pin's pull-up); false: high (pull-down).
	ActiveLow bool `yaml:"active_low"`
	// Debounce: how long a new level must hold before it counts.
	Debounce time.Duration `yaml:"debounce"`
}

// DisplayPower is a relay on a GPIO output that switches the hall's TVs
// and LED boards on at On and off at Off (times of day in the office's
// time zone) on Days.
type DisplayPower struct {
	Pin       string    `yaml:"pin"`
	On        string    `yaml:"on"`
	Off       string    `yaml:"off"`
	Days      []Weekday `yaml:"days"`
	ActiveLow bool      `yaml:"active_low"`
}

// DayNames are the names Days takes, Monday first.
var DayNames = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}

// Weekday is a day of the week by its first three letters: mon … sun.
type Weekday string

func (w *Weekday) UnmarshalText(b []byte) error {
	s, err := oneOf([]byte(strings.ToLower(string(b))), DayNames...)
	*w = Weekday(s)
	return err
}

// checkGPIO checks every pin the terminal uses: its name, that no two
// uses share it, and each use's own settings.
func (c *Terminal) checkGPIO(d *decoder) {
	k := &c.Kiosk
	if (k.Button.Pin == "") != (k.Button.Service == "") {
		d.errorf("kiosk.button", "set both pin and service, or neither")
	}
	if k.FaultLight != "" && k.Lights.Fault != "" {
		d.errorf("kiosk.lights.fault", "kiosk.fault_light is the older name of this light: set one of them")
	}
	if s := k.PaperSensor.Debounce; s < 10*time.Millisecond || s > time.Minute {
		d.errorf("kiosk.paper_sensor.debounce", "got %s, expected 10ms to 1m", s)
	}
	p := c.GPIO.DisplayPower
	checkClock(d, "gpio.display_power.on", p.On)
	checkClock(d, "gpio.display_power.off", p.Off)
	if p.On == p.Off {
		d.errorf("gpio.display_power.off", "got %q, the same as on: the relay would never switch", p.Off)
	}
	if p.Pin != "" && len(p.Days) == 0 {
		d.errorf("gpio.display_power.days", "required with a pin: the days the displays are on, like [mon, tue, wed, thu, fri]")
	}
	seenDay := map[Weekday]bool{}
	for i, day := range p.Days {
		if seenDay[day] {
			d.errorf(fmt.Sprintf("gpio.display_power.days[%d]", i), "day %s is listed twice", day)
		}
		seenDay[day] = true
	}
	uses := [][2]string{
		{"kiosk.button.pin", k.Button.Pin},
		{"kiosk.fault_light", k.FaultLight},
		{"kiosk.lights.ready", k.Lights.Ready},
		{"kiosk.lights.attention", k.Lights.Attention},
		{"kiosk.lights.fault", k.Lights.Fault},
		{"kiosk.paper_sensor.pin", k.PaperSensor.Pin},
		{"gpio.display_power.pin", p.Pin},
	}
	for i, b := range c.Buses {
		uses = append(uses, [2]string{fmt.Sprintf("buses[%d].direction", i), b.Direction})
	}
	owner := map[string]string{}
	for _, u := range uses {
		path, pin := u[0], u[1]
		if pin == "" {
			continue
		}
		checkPin(d, path, pin)
		if first, ok := owner[pin]; ok {
			d.errorf(path, "pin %s is already %s", pin, first)
			continue
		}
		owner[pin] = path
	}
}
