package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/cherga/kiosk/configs"
	"github.com/cherga/kiosk/i18n"
	"github.com/cherga/kiosk/terminal"
)

// The device commands (printer probe and test, scanner watch, speaker
// test, gpio) talk to the devices themselves, while kioskd is stopped;
// they read kioskd's configuration for the device settings, which their
// own flags override.

// defaultConfig is where kioskd's configuration is on a terminal.
const defaultConfig = "/etc/kioskd/kioskd.yaml"

// deviceConfig loads kioskd's configuration from path; with path empty,
// from defaultConfig when the flags alone are not enough (need) and it
// exists; else nil, and the flags must say it all.
func deviceConfig(path string, need bool) (*configs.Terminal, error) {
	if path == "" {
		if !need {
			return nil, nil
		}
		if _, err := os.Stat(defaultConfig); err != nil {
			return nil, fmt.Errorf("no -config and no %s: give -config FILE (kioskd's configuration) or the device's flags", defaultConfig)
		}
		path = defaultConfig
	}
	cfg, err := terminal.LoadConfig(path)
	if err != nil {
		return nil, err
	}
	return cfg, nil
}

// checkDevice says what to fix when the device at path cannot be used
// now: it is not there, or another process has it open (kioskd, which
// reads a printer or scanner all the time). Paths that are not files
// (host:port) are left to the open.
func checkDevice(path, key string) error {
	if !strings.HasPrefix(path, "/") {
		return nil
	}
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("%s: %w: check the cable, and %s or the command's -port", path, errors.Unwrap(err), key)
	}
	if holders := portHolders(path); len(holders) > 0 {
		return fmt.Errorf("%s (%s)", i18n.Both("ctl.port_busy", "port", path), strings.Join(holders, ", "))
	}
	return nil
}

// portHolders lists the other processes that have the device at path
// open, as "kioskd (pid 812)". Processes whose descriptors cannot be read
// (another user's, without root) are not seen: the open finds those
// (serial ports are opened exclusive, USB printers allow one reader).
func portHolders(path string) []string {
	target, err := filepath.EvalSymlinks(path)
	if err != nil {
		return nil
	}
	procs, _ := os.ReadDir("/proc")
	self := os.Getpid()
	var out []string
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil || pid == self {
			continue
		}
		fds, _ := os.ReadDir(filepath.Join("/proc", p.Name(), "fd"))
		for _, fd := range fds {
			if link, err := os.Readlink(filepath.Join("/proc", p.Name(), "fd", fd.Name())); err == nil && link == target {
				comm, _ := os.ReadFile(filepath.Join("/proc", p.Name(), "comm"))
				out = append(out, fmt.Sprintf("%s (pid %d)", strings.TrimSpace(string(comm)), pid))
				break
			}
		}
	}
	return out
}
