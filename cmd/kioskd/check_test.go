package main

import (
	"os"
	"strings"
	"testing"

	"github.com/cherga/kiosk/terminal"
)

// rpiConfig is configs/rpi-kiosk.yaml with its printer and scanner at the
// given paths.
func rpiConfig(t *testing.T, printerPort, scannerPort string) string {
	t.Helper()
	b, err := os.ReadFile("../../configs/rpi-kiosk.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(b), "port: /dev/usb/lp0", "port: "+printerPort, 1)
	s = strings.Replace(s, "port: /dev/serial/by-id/usb-Honeywell_Imaging_Metrology_1900-if00", "port: "+scannerPort, 1)
	return s
}

// A printer at a device path that is not there is a problem -check
// reports, with exit 1, not "ok"; devices that are there are ok.
func TestCheckMissingDevice(t *testing.T) {
	const missing = "/dev/usb/cherga-test-no-such-lp0"
	cfg, err := terminal.ParseConfig("rpi.yaml", []byte(rpiConfig(t, missing, "/dev/null")))
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if code := checkReport(&out, "rpi.yaml", cfg); code != 1 {
		t.Errorf("exit %d, want 1\n%s", code, out.String())
	}
	if s := out.String(); !strings.Contains(s, "kiosk.printer.port: printer "+missing+" is not there") ||
		strings.Contains(s, ": ok") || strings.Contains(s, "kiosk.scanner.port") {
		t.Errorf("report:\n%s", s)
	}

	cfg, err = terminal.ParseConfig("rpi.yaml", []byte(rpiConfig(t, "/dev/null", "/dev/null")))
	if err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if code := checkReport(&out, "rpi.yaml", cfg); code != 0 || !strings.Contains(out.String(), "rpi.yaml: ok (device") {
		t.Errorf("devices present: exit %d\n%s", code, out.String())
	}

	// A network printer and a simulated one are not looked at.
	cfg, err = terminal.ParseConfig("rpi.yaml", []byte(rpiConfig(t, "192.168.10.40:9100", "/dev/null")))
	if err != nil {
		t.Fatal(err)
	}
	if p := deviceProblems(cfg); len(p) != 0 {
		t.Errorf("network printer: %q", p)
	}
}
