package modbus

import (
	"fmt"

	"go.bug.st/serial"
)

// SerialMode is the go.bug.st/serial mode of the line.
func (l Line) SerialMode() *serial.Mode {
	l = l.normal()
	m := &serial.Mode{BaudRate: l.Baud, DataBits: 8, StopBits: serial.OneStopBit}
	if l.StopBits == 2 {
		m.StopBits = serial.TwoStopBits
	}
	switch l.Parity {
	case ParityEven:
		m.Parity = serial.EvenParity
	case ParityOdd:
		m.Parity = serial.OddParity
	default:
		m.Parity = serial.NoParity
	}
	return m
}

// OpenSerial opens a serial device (/dev/ttyUSB0, /dev/ttyAMA0, a
// pseudo-terminal) with the line settings. The port it returns is a
// [Port]; Close it when done.
func OpenSerial(path string, line Line) (serial.Port, error) {
	if err := line.Validate(); err != nil {
		return nil, err
	}
	p, err := serial.Open(path, line.SerialMode())
	if err != nil {
		hint := ""
		if line.normal().Parity != ParityNone {
			hint = " (a pseudo-terminal may refuse parity: use 8N2)"
		}
		return nil, fmt.Errorf("modbus: open %s at %s: %w%s", path, line, err, hint)
	}
	return p, nil
}
