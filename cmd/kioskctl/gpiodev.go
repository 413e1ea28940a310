package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"

	"github.com/cherga/kiosk/configs"
	"github.com/cherga/kiosk/devices"
	"github.com/cherga/kiosk/i18n"
	"github.com/cherga/kiosk/terminal"
)

// openGPIO opens the machine's pins. Tests put simulated pins here.
var openGPIO = func() (devices.Pins, error) {
	pins, err := devices.OpenHostPins()
	if err != nil {
		return nil, errors.New(i18n.Both("ctl.gpio.none", "err", err))
	}
	if len(gpioreg.All()) == 0 {
		return nil, errors.New(i18n.Both("ctl.gpio.none", "err", "periph.io found no pins"))
	}
	return pins, nil
}

// pinUse is one pin the configuration names and what kioskd does with it.
type pinUse struct {
	Pin       string `json:"pin"`
	Key       string `json:"key"` // the configuration key naming it
	Role      string `json:"role"`
	Output    bool   `json:"output"`
	ActiveLow bool   `json:"active_low"`
	Level     string `json:"level,omitempty"`
	Meaning   string `json:"meaning,omitempty"`
	Error     string `json:"error,omitempty"`
	pull      gpio.Pull
}

// pinUses lists the pins of c, in the order of configs' own check.
func pinUses(c *configs.Terminal) []pinUse {
	k := c.Kiosk
	var out []pinUse
	add := func(u pinUse) {
		if u.Pin != "" {
			out = append(out, u)
		}
	}
	add(pinUse{Pin: k.Button.Pin, Key: "kiosk.button.pin", Role: "button", ActiveLow: true, pull: gpio.PullUp})
	lights := k.Lights.ActiveLow
	add(pinUse{Pin: k.Lights.Ready, Key: "kiosk.lights.ready", Role: "ready light", Output: true, ActiveLow: lights})
	add(pinUse{Pin: k.Lights.Attention, Key: "kiosk.lights.attention", Role: "attention light", Output: true, ActiveLow: lights})
	faultKey := "kiosk.lights.fault"
	if k.Lights.Fault == "" {
		faultKey = "kiosk.fault_light"
	}
	add(pinUse{Pin: k.FaultPin(), Key: faultKey, Role: "fault light", Output: true, ActiveLow: lights})
	sensorPull := gpio.PullDown
	if k.PaperSensor.ActiveLow {
		sensorPull = gpio.PullUp
	}
	add(pinUse{Pin: k.PaperSensor.Pin, Key: "kiosk.paper_sensor.pin", Role: "paper sensor", ActiveLow: k.PaperSensor.ActiveLow, pull: sensorPull})
	dp := c.GPIO.DisplayPower
	add(pinUse{Pin: dp.Pin, Key: "gpio.display_power.pin", Role: "display-power relay", Output: true, ActiveLow: dp.ActiveLow})
	for i, b := range c.Buses {
		add(pinUse{Pin: b.Direction, Key: fmt.Sprintf("buses[%d].direction", i), Role: "RS-485 DE of " + c.BusName(i), Output: true, ActiveLow: b.DirectionActiveLow})
	}
	return out
}

// meaning says what level l of the pin means for its role.
func (u pinUse) meaning(l gpio.Level) string {
	active := l == gpio.High != u.ActiveLow
	switch {
	case u.Role == "button":
		return map[bool]string{true: "pressed", false: "released"}[active]
	case u.Role == "paper sensor":
		return map[bool]string{true: "paper low", false: "paper in"}[active]
	case strings.HasSuffix(u.Role, "light"):
		return map[bool]string{true: "lit", false: "dark"}[active]
	case u.Role == "display-power relay":
		return map[bool]string{true: "displays on", false: "displays off"}[active]
	case strings.HasPrefix(u.Role, "RS-485"):
		return map[bool]string{true: "transmitting", false: "receiving"}[active]
	}
	return ""
}

func levelName(l gpio.Level) string {
	if l == gpio.High {
		return "high"
	}
	return "low"
}

// gpioCmd lists the configured pins, sets an output or watches an input.
func gpioCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("gpio", "gpio [-config FILE] [-json] [list | set PIN high|low [-hold] | watch PIN]", stderr)
	configPath := fs.String("config", defaultConfig, "kioskd's configuration `file`: which pins it uses, and for what")
	asJSON := fs.Bool("json", false, "list: print JSON; watch: one JSON object a line per edge")
	hold := fs.Bool("hold", false, "set: keep the level until Ctrl-C (some GPIO drivers let the line go when kioskctl exits)")
	// Flags may come anywhere: gpio set GPIO17 high -hold.
	var rest []string
	for {
		if err := parseFlags(fs, args); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		rest, args = append(rest, fs.Arg(0)), fs.Args()[1:]
	}
	if len(rest) == 0 {
		rest = []string{"list"}
	}
	switch {
	case rest[0] == "list" && len(rest) == 1:
	case rest[0] == "set" && len(rest) == 3 && (rest[2] == "high" || rest[2] == "low"):
	case rest[0] == "watch" && len(rest) == 2:
	default:
		return usageError(fs, "expected list, set PIN high|low or watch PIN; got %q", strings.Join(rest, " "))
	}
	cfg, err := terminal.LoadConfig(*configPath)
	if err != nil {
		return err
	}
	uses := pinUses(cfg)
	pins, err := openGPIO()
	if err != nil {
		return err
	}
	switch rest[0] {
	case "set":
		return gpioSet(ctx, pins, uses, rest[1], rest[2] == "high", *hold, stdout)
	case "watch":
		return gpioWatch(ctx, pins, uses, rest[1], *asJSON, stdout)
	}
	return gpioList(pins, uses, *asJSON, stdout)
}

func gpioList(pins devices.Pins, uses []pinUse, asJSON bool, stdout io.Writer) error {
	var missing []string
	for i := range uses {
		u := &uses[i]
		p, err := pins.Pin(u.Pin)
		if err != nil {
			u.Error = err.Error()
			missing = append(missing, fmt.Sprintf("%s names %s, which this machine does not have: fix the configuration", u.Key, u.Pin))
			continue
		}
		l := p.Read()
		u.Level, u.Meaning = levelName(l), u.meaning(l)
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(uses); err != nil {
			return err
		}
	} else {
		if len(uses) == 0 {
			fmt.Fprintln(stdout, "the configuration uses no GPIO pins")
		}
		for _, u := range uses {
			dir := "input"
			if u.Output {
				dir = "output"
			}
			if u.ActiveLow {
				dir += ", active low"
			}
			state := u.Level + " (" + u.Meaning + ")"
			if u.Error != "" {
				state = "NOT FOUND"
			}
			fmt.Fprintf(stdout, "%-10s %-22s %-20s %-28s %s\n", u.Pin, u.Role, dir, u.Key, state)
		}
	}
	if len(missing) > 0 {
		return errors.New(strings.Join(missing, "; "))
	}
	return nil
}

// findUse is the configured use of the pin named name; an unknown pin is
// a use of its own, without a role.
func findUse(uses []pinUse, name string) pinUse {
	for _, u := range uses {
		if strings.EqualFold(u.Pin, name) {
			return u
		}
	}
	return pinUse{Pin: name, Role: "not in the configuration", pull: gpio.PullNoChange}
}

func gpioSet(ctx context.Context, pins devices.Pins, uses []pinUse, name string, high, hold bool, stdout io.Writer) error {
	u := findUse(uses, name)
	if !u.Output && u.Key != "" {
		return fmt.Errorf("%s is the %s (%s), an input: watch it with kioskctl gpio watch %s", u.Pin, u.Role, u.Key, u.Pin)
	}
	p, err := pins.Pin(u.Pin)
	if err != nil {
		return err
	}
	level := gpio.Level(high)
	if err := p.Out(level); err != nil {
		return fmt.Errorf("gpio: %s: %w", u.Pin, err)
	}
	msg := i18n.Both("ctl.gpio.set", "pin", u.Pin, "role", u.Role, "level", levelName(level))
	if m := u.meaning(level); m != "" {
		msg += ": " + m
	}
	fmt.Fprintln(stdout, msg)
	if hold {
		fmt.Fprintln(stdout, "holding it; Ctrl-C ends")
		<-ctx.Done()
	}
	return nil
}

// edgeWait bounds one wait for an edge, so a Halt a driver forgot (one
// just before the wait) still lets the watch end; as the kiosk's button.
const edgeWait = 500 * time.Millisecond

// pinEdge is one edge the watch saw.
type pinEdge struct {
	At      time.Time `json:"at"`
	Pin     string    `json:"pin"`
	Level   string    `json:"level"`
	Meaning string    `json:"meaning,omitempty"`
}

func gpioWatch(ctx context.Context, pins devices.Pins, uses []pinUse, name string, asJSON bool, stdout io.Writer) error {
	u := findUse(uses, name)
	if u.Output {
		return fmt.Errorf("%s is the %s (%s), an output: set it with kioskctl gpio set %s high|low", u.Pin, u.Role, u.Key, u.Pin)
	}
	p, err := pins.Pin(u.Pin)
	if err != nil {
		return err
	}
	if err := p.In(u.pull, gpio.BothEdges); err != nil {
		return fmt.Errorf("gpio: %s: cannot watch its edges: %w", u.Pin, err)
	}
	stop := context.AfterFunc(ctx, func() { _ = p.Halt() })
	defer stop()
	l := p.Read()
	if !asJSON {
		fmt.Fprintf(stdout, "watching %s (%s): %s (%s); Ctrl-C ends\n", u.Pin, u.Role, levelName(l), u.meaning(l))
	}
	enc := json.NewEncoder(stdout)
	for ctx.Err() == nil {
		if !p.WaitForEdge(edgeWait) {
			continue
		}
		l := p.Read()
		e := pinEdge{At: time.Now(), Pin: u.Pin, Level: levelName(l), Meaning: u.meaning(l)}
		if asJSON {
			if err := enc.Encode(e); err != nil {
				return err
			}
			continue
		}
		fmt.Fprintf(stdout, "%s  %s %-4s %s\n", e.At.Format("15:04:05.000"), e.Pin, e.Level, e.Meaning)
	}
	return nil
}
