package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/cherga/kiosk/configs"
)

// deviceProblems lists, one line each, the devices the configuration names
// at a path under /dev that is not there or cannot be looked at: a printer
// at a missing /dev/usb/lp0 is not "ok". Network printers (host:port),
// simulated devices and relative paths (the bus emulator's link, made when
// the demo runs) are not looked at. kioskctl doctor looks further (access,
// other processes holding a port, the server, the clock).
func deviceProblems(cfg *configs.Terminal) []string {
	var out []string
	for _, d := range cfg.DevicePorts() {
		if !d.IsDevicePath() {
			continue
		}
		_, err := os.Stat(d.Port)
		switch {
		case err == nil:
		case errors.Is(err, fs.ErrNotExist):
			out = append(out, fmt.Sprintf("%s: %s %s is not there (not plugged in, or another name: see kioskctl ports)", d.Key, d.What, d.Port))
		case errors.Is(err, fs.ErrPermission):
			out = append(out, fmt.Sprintf("%s: %s %s cannot be looked at: permission denied", d.Key, d.What, d.Port))
		default:
			out = append(out, fmt.Sprintf("%s: %s %s: %v", d.Key, d.What, d.Port, err))
		}
	}
	return out
}
