package modbus

import (
	"fmt"

	"periph.io/x/conn/v3/gpio"
)

// Direction switches an RS-485 transceiver between driving the bus and
// listening. The RTU layer calls Transmit before the first byte of a
// frame and Receive once the port has drained, so the last stop bit is on
// the wire before the driver lets go.
type Direction interface {
	Transmit() error
	Receive() error
}

// AutoDirection is for transceivers that switch by themselves (most USB
// RS-485 adapters): it does nothing.
type AutoDirection struct{}

func (AutoDirection) Transmit() error { return nil }
func (AutoDirection) Receive() error  { return nil }

// PinDirection drives DE and /RE (tied together, as on a MAX485 module)
// from one GPIO output: high while transmitting, low while listening, or
// the reverse with ActiveLow.
type PinDirection struct {
	Pin       gpio.PinOut
	ActiveLow bool
}

func (d PinDirection) level(tx bool) gpio.Level {
	return gpio.Level(tx != d.ActiveLow)
}

func (d PinDirection) Transmit() error {
	if err := d.Pin.Out(d.level(true)); err != nil {
		return fmt.Errorf("modbus: direction pin %s: %w", d.Pin, err)
	}
	return nil
}

func (d PinDirection) Receive() error {
	if err := d.Pin.Out(d.level(false)); err != nil {
		return fmt.Errorf("modbus: direction pin %s: %w", d.Pin, err)
	}
	return nil
}
