package configs

import "fmt"

// DevicePort is a device the configuration names by where it is plugged
// in: Port is a path under /dev, host:port for a network printer, or
// another path (the bus emulator's link in the demo).
type DevicePort struct {
	Key  string // the key that names it: kiosk.printer.port
	What string // what it is: printer, scanner, LED board, bus
	Port string
}

// DevicePorts lists the ports the terminal's drivers open, in the
// order of the configuration; simulated devices and roles the terminal
// does not play have none. kioskd -check and kioskctl doctor look at
// these.
func (c *Terminal) DevicePorts() []DevicePort {
	var out []DevicePort
	add := func(key, what, port string) {
		if port != "" {
			out = append(out, DevicePort{Key: key, What: what, Port: port})
		}
	}
	if c.Has(RoleKiosk) {
		k := c.Kiosk
		if k.Printer.Driver == PrinterESCPOS {
			add("kiosk.printer.port", "printer", k.Printer.Port)
		}
		if k.Scanner.Driver == ScannerSerial || k.Scanner.Driver == ScannerEvdev {
			add("kiosk.scanner.port", "scanner", k.Scanner.Port)
		}
	}
	if c.Has(RoleHall) {
		for i, b := range c.Hall.Boards {
			if b.Driver == BoardAlpha {
				add(fmt.Sprintf("hall.boards[%d].port", i), "LED board", b.Port)
			}
		}
	}
	if c.Has(RoleWindow) && c.Window.Board.Driver == BoardAlpha {
		add("window.board.port", "LED board", c.Window.Board.Port)
	}
	for i, b := range c.Buses {
		add(fmt.Sprintf("buses[%d].port", i), "bus", b.Port)
	}
	return out
}

// IsDevicePath reports whether a port is a path under /dev (not a
// network printer's host:port nor the demo's emulator link).
func (p DevicePort) IsDevicePath() bool { return isDevicePath(p.Port) }

// IsNetwork reports whether a port is host:port, a network printer.
func (p DevicePort) IsNetwork() bool { return !isDevicePath(p.Port) && isHostPort(p.Port) }
