package configs

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Bus is one RS-485 line of queue hardware (window displays, operator
// keypads, rating panels) spoken to as Modbus RTU, one master per port
// (firmware-bridge/PROTOCOL.md).
type Bus struct {
	Name string `yaml:"name"`
	// Port is the serial device: /dev/serial/by-id/… on a terminal, the
	// emulator's link (var/bus1) in the demo.
	Port string `yaml:"port"`
	// Line is the speed and character format, "19200 8E1" (the default);
	// formats 8E1, 8O1, 8N2, 8N1. Pseudo-terminals need 8N2.
	Line string `yaml:"line"`
	// Direction is the GPIO pin (periph name, like GPIO17) that drives a
	// transceiver's DE/RE; empty for adapters that switch by themselves.
	Direction          string `yaml:"direction"`
	DirectionActiveLow bool   `yaml:"direction_active_low"`
	// Timeout overrides the response timeout PROTOCOL.md section 11
	// computes; 0 keeps the formula.
	Timeout time.Duration `yaml:"timeout"`
	// Emulator is the control address of kioskctl bridge emulate playing
	// this bus (demo and tests only): the boards page shows its devices'
	// faces and presses their keys through it.
	Emulator string      `yaml:"emulator"`
	Devices  []BusDevice `yaml:"devices"`
}

// BusDevice is one device on a bus.
type BusDevice struct {
	// Address is the device's Modbus unit address, 1–247.
	Address int `yaml:"address"`
	// Type: window-display, keypad, rating (our CHG-WD1, CHG-KP1,
	// CHG-RP1), or display-profile (another maker's Modbus display,
	// driven through Profile).
	Type BusDeviceType `yaml:"type"`
	// Window is the service window the device belongs to, 1–999.
	Window int `yaml:"window"`
	// Name, for health and logs; default "<type>-<window>".
	Name string `yaml:"name"`
	// Brightness 0–15 (our devices); default 10.
	Brightness *int `yaml:"brightness"`
	// Idle is what a blank window display shows: blank, clock, window.
	Idle string `yaml:"idle"`
	// Profile describes a display-profile device's registers.
	Profile *DisplayProfile `yaml:"profile"`
}

// BusDeviceType is what a bus device is.
type BusDeviceType string

const (
	BusWindowDisplay  BusDeviceType = "window-display"
	BusKeypad         BusDeviceType = "keypad"
	BusRating         BusDeviceType = "rating"
	BusDisplayProfile BusDeviceType = "display-profile"
)

func (t *BusDeviceType) UnmarshalText(b []byte) error {
	s, err := oneOf(b, string(BusWindowDisplay), string(BusKeypad), string(BusRating), string(BusDisplayProfile))
	*t = BusDeviceType(s)
	return err
}

// DisplayProfile is how another maker's Modbus LED display takes text:
// holding registers from Register, Length of them, CharsPerRegister
// characters in each (2: high byte first; 1: low byte), in Encoding
// (ascii, cp1251, digits: only the digits of the ticket are sent).
// WindowRegister, when set, takes the window number as a binary value.
type DisplayProfile struct {
	Register         int    `yaml:"register"`
	Length           int    `yaml:"length"`
	CharsPerRegister int    `yaml:"chars_per_register"`
	Encoding         string `yaml:"encoding"`
	WindowRegister   *int   `yaml:"window_register"`
	// Function is 16 (write multiple, default) or 6 (one register at a
	// time, for displays that lack 16).
	Function int `yaml:"function"`
}

// DefaultBusLine is a bus's line when none is given: the Modbus default.
const DefaultBusLine = "19200 8E1"

func (b *Bus) setDefaults() { b.Line = DefaultBusLine }

func (d *BusDevice) setDefaults() {
	ten := 10
	d.Brightness, d.Idle = &ten, "window"
}

// BusDeviceName is a device's name: its own, or "<type>-<window>".
func (d *BusDevice) BusDeviceName() string {
	if d.Name != "" {
		return d.Name
	}
	return fmt.Sprintf("%s-%d", d.Type, d.Window)
}

// BusName is a bus's name: its own, or "bus<n>" for the n-th (from 1).
func (c *Terminal) BusName(i int) string {
	if c.Buses[i].Name != "" {
		return c.Buses[i].Name
	}
	return fmt.Sprintf("bus%d", i+1)
}

// BusWindows are the windows of every device on the terminal's buses,
// sorted, each once: the windows whose calls and states it takes.
func (c *Terminal) BusWindows() []int {
	seen := map[int]bool{}
	var out []int
	for _, b := range c.Buses {
		for _, d := range b.Devices {
			if d.Window >= 1 && d.Window <= 999 && !seen[d.Window] {
				seen[d.Window] = true
				out = append(out, d.Window)
			}
		}
	}
	slices.Sort(out)
	return out
}

var (
	busLineRe = regexp.MustCompile(`^\d+([ ,-]+8[EONeon][12])?$`)
	busNameRe = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)
)

// checkBuses checks the buses and their devices. The line's exact rules
// (baud rate limits) are modbus.ParseLine's, which terminal.CheckConfig
// applies too: configs imports no driver.
func (c *Terminal) checkBuses(d *decoder) {
	busNames, ports, devNames := map[string]string{}, map[string]string{}, map[string]string{}
	for i := range c.Buses {
		b := &c.Buses[i]
		p := fmt.Sprintf("buses[%d]", i)
		name := c.BusName(i)
		if !busNameRe.MatchString(name) {
			d.errorf(p+".name", "got %q, expected lowercase letters, digits and dashes, like bus1", name)
		} else if first, ok := busNames[name]; ok {
			d.errorf(p+".name", "bus name %q is already %s's", name, first)
		} else {
			busNames[name] = p
		}
		switch {
		case b.Port == "":
			d.errorf(p+".port", "required: the bus's serial port, like /dev/serial/by-id/usb-FTDI_…-if00-port0 or /dev/ttyUSB0")
		case strings.ContainsAny(b.Port, " \t\n") || strings.Contains(b.Port, ".."):
			d.errorf(p+".port", "got %q, expected a device path like /dev/ttyUSB0", b.Port)
		default:
			if first, ok := ports[b.Port]; ok {
				d.errorf(p+".port", "port %s is already %s's: one master per line", b.Port, first)
			}
			ports[b.Port] = p
		}
		if !busLineRe.MatchString(strings.TrimSpace(b.Line)) {
			d.errorf(p+".line", "got %q, expected a speed and format like \"19200 8E1\" (8E1, 8O1, 8N2 or 8N1)", b.Line)
		}
		if b.Timeout < 0 || b.Timeout > 5*time.Second {
			d.errorf(p+".timeout", "got %s, expected 0 (PROTOCOL.md's formula) up to 5s", b.Timeout)
		}
		if b.Emulator != "" && !isHostPort(b.Emulator) {
			d.errorf(p+".emulator", "got %q, expected host:port of kioskctl bridge emulate's control page", b.Emulator)
		}
		if len(b.Devices) == 0 {
			d.errorf(p+".devices", "required: at least one device, like {address: 1, type: window-display, window: 3}")
		}
		addrs := map[int]string{}
		for j := range b.Devices {
			c.checkBusDevice(d, fmt.Sprintf("%s.devices[%d]", p, j), &b.Devices[j], addrs, devNames)
		}
	}
	for i, k := range c.FirmwareKeys {
		if strings.TrimSpace(k) == "" {
			d.errorf(fmt.Sprintf("firmware_keys[%d]", i), "empty: the path of a public key file from kioskctl firmware keygen")
		}
	}
}

func (c *Terminal) checkBusDevice(d *decoder, p string, dev *BusDevice, addrs map[int]string, names map[string]string) {
	if dev.Type == "" {
		d.errorf(p+".type", "required: window-display, keypad, rating or display-profile")
	}
	if dev.Address < 1 || dev.Address > 247 {
		d.errorf(p+".address", "got %d, expected the device's Modbus address, 1 to 247", dev.Address)
	} else if first, ok := addrs[dev.Address]; ok {
		d.errorf(p+".address", "address %d is already %s's on this bus", dev.Address, first)
	} else {
		addrs[dev.Address] = p
	}
	if dev.Window < 1 || dev.Window > 999 {
		d.errorf(p+".window", "got %d, expected the number of the device's window, 1 to 999", dev.Window)
	}
	name := dev.BusDeviceName()
	if dev.Name == "" && dev.Type == "" {
		// no name to give it; the type is reported
	} else if !deviceIDRe.MatchString(name) {
		d.errorf(p+".name", "got %q, expected lowercase letters, digits and dashes", name)
	} else if first, ok := names[name]; ok {
		d.errorf(p+".name", "device name %q is already %s's: give the devices names", name, first)
	} else {
		names[name] = p
	}
	if dev.Brightness != nil && (*dev.Brightness < 0 || *dev.Brightness > 15) {
		d.errorf(p+".brightness", "got %d, expected 0 (dark) to 15 (full)", *dev.Brightness)
	}
	switch dev.Idle {
	case "blank", "clock", "window":
	default:
		d.errorf(p+".idle", "got %q, expected blank, clock or window", dev.Idle)
	}
	if dev.Type != BusWindowDisplay && d.present(p+".idle") {
		d.errorf(p+".idle", "only a window-display has an idle face")
	}
	if dev.Type != BusDisplayProfile {
		if dev.Profile != nil {
			d.errorf(p+".profile", "only a display-profile device takes a profile")
		}
		return
	}
	if dev.Profile == nil {
		d.errorf(p+".profile", "required for a display-profile device: register, length, chars_per_register, encoding")
		return
	}
	pr := dev.Profile
	if pr.CharsPerRegister == 0 {
		pr.CharsPerRegister = 2
	}
	if pr.Encoding == "" {
		pr.Encoding = "ascii"
	}
	if pr.Function == 0 {
		pr.Function = 16
	}
	pp := p + ".profile"
	if pr.Register < 0 || pr.Register > 0xFFFF {
		d.errorf(pp+".register", "got %d, expected a holding register address, 0 to 65535", pr.Register)
	}
	if pr.Length < 1 || pr.Length > 123 {
		d.errorf(pp+".length", "got %d, expected how many registers the text takes, 1 to 123", pr.Length)
	} else if pr.Register+pr.Length > 0x10000 {
		d.errorf(pp+".length", "registers %d+%d pass 65535", pr.Register, pr.Length)
	}
	if pr.CharsPerRegister != 1 && pr.CharsPerRegister != 2 {
		d.errorf(pp+".chars_per_register", "got %d, expected 2 (high byte first) or 1 (low byte)", pr.CharsPerRegister)
	}
	switch pr.Encoding {
	case "ascii", "cp1251", "digits":
	default:
		d.errorf(pp+".encoding", "got %q, expected ascii (transliterated), cp1251 or digits", pr.Encoding)
	}
	if pr.Function != 16 && pr.Function != 6 {
		d.errorf(pp+".function", "got %d, expected 16 (write multiple registers) or 6 (one at a time)", pr.Function)
	}
	if w := pr.WindowRegister; w != nil {
		if *w < 0 || *w > 0xFFFF {
			d.errorf(pp+".window_register", "got %d, expected a holding register address, 0 to 65535", *w)
		} else if *w >= pr.Register && *w < pr.Register+pr.Length {
			d.errorf(pp+".window_register", "register %d is inside the text (%d to %d)", *w, pr.Register, pr.Register+pr.Length-1)
		}
	}
}
