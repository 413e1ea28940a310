package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/cherga/kiosk/configs"
)

// deviceProblems lists, one line each, the devices the configuration names
// at a path under /dev that is not there or cannot be looked at: a printer
// at a missing /dev/usb/lp0 is not "ok". Network printers (host:port),
// simulated devices and relative paths (the bus emulator's link, made when
// the demo runs) are not looked at.
func deviceProblems(cfg *configs.Terminal) []string {
	var out []string
	look := func(key, what, path string) {
		if !strings.HasPrefix(path, "/dev/") {
			return
		}
		_, err := os.Stat(path)
		switch {
		case err == nil:
		case errors.Is(err, fs.ErrNotExist):
			out = append(out, fmt.Sprintf("%s: %s %s is not there (not plugged in, or another name: see ls /dev/serial/by-id /dev/usb)", key, what, path))
		case errors.Is(err, fs.ErrPermission):
			out = append(out, fmt.Sprintf("%s: %s %s cannot be looked at: permission denied", key, what, path))
		default:
			out = append(out, fmt.Sprintf("%s: %s %s: %v", key, what, path, err))
		}
	}
	if cfg.Has(configs.RoleKiosk) {
		k := cfg.Kiosk
		if k.Printer.Driver == configs.PrinterESCPOS {
			look("kiosk.printer.port", "printer", k.Printer.Port)
		}
		if k.Scanner.Driver == configs.ScannerSerial || k.Scanner.Driver == configs.ScannerEvdev {
			look("kiosk.scanner.port", "scanner", k.Scanner.Port)
		}
	}
	if cfg.Has(configs.RoleHall) {
		for i, b := range cfg.Hall.Boards {
			if b.Driver == configs.BoardAlpha {
				look(fmt.Sprintf("hall.boards[%d].port", i), "LED board", b.Port)
			}
		}
	}
	for i, b := range cfg.Buses {
		look(fmt.Sprintf("buses[%d].port", i), "bus", b.Port)
	}
	return out
}
