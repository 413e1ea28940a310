package ports_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/creack/pty"

	"github.com/cherga/kiosk/devices/ports"
)

// tree builds files and symlinks under root: a value starting with "->"
// is a symlink's target, else the file's content.
func tree(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, v := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if target, ok := strings.CutPrefix(v, "->"); ok {
			if err := os.Symlink(target, p); err != nil {
				t.Fatal(err)
			}
		} else if err := os.WriteFile(p, []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// fakeMachine is a sysfs and devfs laid out as the kernel and udev make
// them: an FTDI RS-485 adapter (ttyUSB0), a CDC-ACM scanner (ttyACM0), a
// USB printer (lp0), a real UART (ttyS0), a placeholder ttyS1 and a
// virtual console.
func fakeMachine(t *testing.T) ports.Roots {
	root := t.TempDir()
	r := ports.Roots{Sys: filepath.Join(root, "sys"), Dev: filepath.Join(root, "dev"), Etc: filepath.Join(root, "etc")}
	const usb = "devices/pci0000:00/0000:00:14.0/usb1"
	tree(t, r.Sys, map[string]string{
		// FTDI: the usb-serial port device sits below the interface.
		usb + "/1-2/idVendor":                           "0403\n",
		usb + "/1-2/idProduct":                          "6001\n",
		usb + "/1-2/manufacturer":                       "FTDI\n",
		usb + "/1-2/product":                            "FT232R USB UART\n",
		usb + "/1-2/serial":                             "A10KXYZ\n",
		usb + "/1-2/1-2:1.0/bInterfaceNumber":           "00\n",
		usb + "/1-2/1-2:1.0/driver":                     "->../../../../../../bus/usb/drivers/ftdi_sio",
		usb + "/1-2/1-2:1.0/ttyUSB0/driver":             "->../../../../../../../bus/usb-serial/drivers/ftdi_sio",
		usb + "/1-2/1-2:1.0/ttyUSB0/tty/ttyUSB0/uevent": "MAJOR=188\nMINOR=0\nDEVNAME=ttyUSB0\n",
		usb + "/1-2/1-2:1.0/ttyUSB0/tty/ttyUSB0/device": "->../../../ttyUSB0",
		"class/tty/ttyUSB0":                             "->../../" + usb + "/1-2/1-2:1.0/ttyUSB0/tty/ttyUSB0",
		// CDC-ACM: the tty's device is the interface.
		usb + "/1-3/idVendor":                   "0c2e\n",
		usb + "/1-3/idProduct":                  "0b61\n",
		usb + "/1-3/manufacturer":               "Honeywell Imaging & Mobility\n",
		usb + "/1-3/product":                    "1900\n",
		usb + "/1-3/serial":                     "17300B4C2\n",
		usb + "/1-3/1-3:1.0/bInterfaceNumber":   "00\n",
		usb + "/1-3/1-3:1.0/driver":             "->../../../../../../bus/usb/drivers/cdc_acm",
		usb + "/1-3/1-3:1.0/tty/ttyACM0/uevent": "MAJOR=166\nMINOR=0\nDEVNAME=ttyACM0\n",
		usb + "/1-3/1-3:1.0/tty/ttyACM0/device": "->../../../1-3:1.0",
		"class/tty/ttyACM0":                     "->../../" + usb + "/1-3/1-3:1.0/tty/ttyACM0",
		// usblp: /dev/usb/lp0.
		usb + "/1-4/idVendor":                   "0dd4\n",
		usb + "/1-4/idProduct":                  "015d\n",
		usb + "/1-4/product":                    "VKP80III\n",
		usb + "/1-4/1-4:1.0/bInterfaceNumber":   "00\n",
		usb + "/1-4/1-4:1.0/driver":             "->../../../../../../bus/usb/drivers/usblp",
		usb + "/1-4/1-4:1.0/usbmisc/lp0/uevent": "MAJOR=180\nMINOR=0\nDEVNAME=usb/lp0\n",
		usb + "/1-4/1-4:1.0/usbmisc/lp0/device": "->../../../1-4:1.0",
		"class/usbmisc/lp0":                     "->../../" + usb + "/1-4/1-4:1.0/usbmisc/lp0",
		// A UART behind the serial core (serial-base ctrl and port).
		"devices/pnp0/00:00/driver":                             "->../../../bus/pnp/drivers/serial",
		"devices/pnp0/00:00/00:00:0/driver":                     "->../../../../bus/serial-base/drivers/ctrl",
		"devices/pnp0/00:00/00:00:0/00:00:0.0/driver":           "->../../../../../bus/serial-base/drivers/port",
		"devices/pnp0/00:00/00:00:0/00:00:0.0/tty/ttyS0/type":   "4\n",
		"devices/pnp0/00:00/00:00:0/00:00:0.0/tty/ttyS0/uevent": "MAJOR=4\nMINOR=64\nDEVNAME=ttyS0\n",
		"devices/pnp0/00:00/00:00:0/00:00:0.0/tty/ttyS0/device": "->../../../00:00:0.0",
		"class/tty/ttyS0": "->../../devices/pnp0/00:00/00:00:0/00:00:0.0/tty/ttyS0",
		// The 8250 driver's placeholder: type 0, no UART.
		"devices/platform/serial8250/serial8250:0/serial8250:0.1/tty/ttyS1/type":   "0\n",
		"devices/platform/serial8250/serial8250:0/serial8250:0.1/tty/ttyS1/device": "->../../../serial8250:0.1",
		"class/tty/ttyS1": "->../../devices/platform/serial8250/serial8250:0/serial8250:0.1/tty/ttyS1",
		// A virtual console: no device.
		"devices/virtual/tty/tty1/uevent": "MAJOR=4\nMINOR=1\nDEVNAME=tty1\n",
		"class/tty/tty1":                  "->../../devices/virtual/tty/tty1",
	})
	tree(t, r.Dev, map[string]string{
		"ttyUSB0": "", "ttyACM0": "", "usb/lp0": "", "ttyS0": "",
		"serial/by-id/usb-FTDI_FT232R_USB_UART_A10KXYZ-if00-port0":          "->../../ttyUSB0",
		"serial/by-path/pci-0000:00:14.0-usb-0:2:1.0-port0":                 "->../../ttyUSB0",
		"serial/by-id/usb-Honeywell_Imaging___Mobility_1900_17300B4C2-if00": "->../../ttyACM0",
		"cherga/rs485-0403-6001-A10KXYZ":                                    "->../ttyUSB0",
		"cherga/printer-0dd4-015d-path-pci-0000_00_14_0-usb-0_4_1_0":        "->../usb/lp0",
	})
	tree(t, r.Etc, map[string]string{
		"passwd": "root:x:0:0:root:/root:/bin/bash\n",
		"group":  "root:x:0:\n",
	})
	return r
}

func TestScanFakeMachine(t *testing.T) {
	r := fakeMachine(t)
	got, err := ports.Scan(r)
	if err != nil {
		t.Fatal(err)
	}
	type want struct{ name, path, driver, vid, pid, serial, links string }
	wants := []want{
		{"ttyACM0", "ttyACM0", "cdc_acm", "0c2e", "0b61", "17300B4C2", "serial/by-id/usb-Honeywell_Imaging___Mobility_1900_17300B4C2-if00"},
		{"ttyS0", "ttyS0", "serial", "", "", "", ""},
		{"ttyUSB0", "ttyUSB0", "ftdi_sio", "0403", "6001", "A10KXYZ",
			"serial/by-id/usb-FTDI_FT232R_USB_UART_A10KXYZ-if00-port0 serial/by-path/pci-0000:00:14.0-usb-0:2:1.0-port0 cherga/rs485-0403-6001-A10KXYZ"},
		{"lp0", "usb/lp0", "usblp", "0dd4", "015d", "", "cherga/printer-0dd4-015d-path-pci-0000_00_14_0-usb-0_4_1_0"},
	}
	if len(got) != len(wants) {
		t.Fatalf("got %d ports, want %d: %+v", len(got), len(wants), got)
	}
	for i, w := range wants {
		p := got[i]
		var links []string
		for _, l := range p.Links {
			links = append(links, strings.TrimPrefix(l, r.Dev+"/"))
		}
		vid, pid, serial := "", "", ""
		if p.USB != nil {
			vid, pid, serial = p.USB.VendorID, p.USB.ProductID, p.USB.Serial
		}
		if p.Name != w.name || p.Path != filepath.Join(r.Dev, w.path) || p.Driver != w.driver ||
			vid != w.vid || pid != w.pid || serial != w.serial || strings.Join(links, " ") != w.links {
			t.Errorf("port %d: got %+v usb %+v links %q, want %+v", i, p, p.USB, links, w)
		}
		if p.Node == nil || p.Node.Group != "root" {
			t.Errorf("%s: node %+v, want group root", p.Name, p.Node)
		}
	}
	if got[0].USB.Manufacturer != "Honeywell Imaging & Mobility" || got[0].USB.BusPath != "1-3" {
		t.Errorf("scanner's USB: %+v", got[0].USB)
	}
}

// The real machine: whatever it has, Scan does not fail, and each port it
// finds has a path under /dev.
func TestScanRealMachine(t *testing.T) {
	got, err := ports.Scan(ports.Roots{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range got {
		if !strings.HasPrefix(p.Path, "/dev/") || p.Kind == "" {
			t.Errorf("port %+v", p)
		}
	}
	t.Logf("%d ports on this machine", len(got))
}

// A pseudo-terminal that a child process holds open is found, with the
// child's PID and command, by the path it was asked by and by a symlink to it.
func TestHoldersFindsChild(t *testing.T) {
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	link := filepath.Join(t.TempDir(), "by-id-link")
	if err := os.Symlink(tty.Name(), link); err != nil {
		t.Fatal(err)
	}
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(sleep, "600")
	cmd.ExtraFiles = []*os.File{tty}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tty.Close() // only the child holds it now
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })

	held, _, err := ports.Holders(context.Background(), ports.Roots{}, []string{link})
	if err != nil {
		t.Fatal(err)
	}
	if len(held) != 1 || held[0].PID != cmd.Process.Pid || held[0].Command != "sleep" || held[0].Path != link {
		t.Fatalf("held %+v, want PID %d (sleep) on %s", held, cmd.Process.Pid, link)
	}

	free, _, err := ports.Holders(context.Background(), ports.Roots{}, []string{"/dev/null-cherga-nothing"})
	if err != nil || len(free) != 0 {
		t.Errorf("nobody holds a missing node: %+v %v", free, err)
	}
}

func TestParseAccounts(t *testing.T) {
	users, err := ports.ParsePasswd(strings.NewReader("root:x:0:0:root:/root:/bin/bash\n# comment\n+nis\nbad:x:zz:1\ncherga:x:998:998::/var/lib/kioskd:/usr/sbin/nologin\n"))
	if err != nil || len(users) != 2 || users[1] != (ports.User{Name: "cherga", UID: 998, GID: 998}) {
		t.Fatalf("users %+v %v", users, err)
	}
	groups, err := ports.ParseGroup(strings.NewReader("dialout:x:20:alice, cherga\r\nlp:x:7:\ncherga:x:998:\nbroken\n"))
	if err != nil || len(groups) != 3 || strings.Join(groups[0].Members, ",") != "alice,cherga" {
		t.Fatalf("groups %+v %v", groups, err)
	}
	acc := &ports.Accounts{Users: users, Groups: groups}
	gids := acc.GIDs(users[1], "lp")
	if len(gids) != 3 || gids[0] != 998 {
		t.Errorf("cherga's gids %v, want 998 20 7", gids)
	}
}

func FuzzParseUevent(f *testing.F) {
	f.Add([]byte("MAJOR=188\nMINOR=0\nDEVNAME=ttyUSB0\n"))
	f.Add([]byte("=\n==\nDEVNAME\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for k := range ports.ParseUevent(b) {
			if k == "" || strings.Contains(k, "\n") {
				t.Fatalf("key %q", k)
			}
		}
	})
}

func FuzzParseGroup(f *testing.F) {
	f.Add([]byte("dialout:x:20:alice,cherga\nlp:x:7:\n"))
	f.Add([]byte("a:b:4294967296:\n::1:\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		gs, err := ports.ParseGroup(bytes.NewReader(b))
		if err != nil {
			return
		}
		for _, g := range gs {
			if g.Name == "" || g.GID < 0 {
				t.Fatalf("group %+v", g)
			}
		}
	})
}

func FuzzParsePasswd(f *testing.F) {
	f.Add([]byte("cherga:x:998:998::/var/lib/kioskd:/usr/sbin/nologin\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		us, err := ports.ParsePasswd(bytes.NewReader(b))
		if err != nil {
			return
		}
		for _, u := range us {
			if u.Name == "" || u.UID < 0 || u.GID < 0 {
				t.Fatalf("user %+v", u)
			}
		}
	})
}
