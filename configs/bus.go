package configs

import "time"

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
