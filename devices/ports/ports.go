// Package ports finds the serial and USB printer ports of the machine
// from sysfs, with what a technician needs to name one in kioskd.yaml: the
// driver, the USB vendor, product and serial number, the stable symlinks
// udev makes (/dev/serial/by-id, by-path, and the project's /dev/cherga
// names) and the group and mode of the /dev node. It also says who may
// open a node (accounts.go) and which processes hold one (holders.go).
//
// It only reads: it never opens a port, so looking does not disturb a
// printer or a bus that kioskd is driving. Every root (/sys, /dev, /proc,
// /etc) can be moved, so tests run against a tree built in a temporary
// directory.
package ports

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Roots are where the kernel's and the system's trees are; empty fields
// are the real machine's /sys, /dev, /proc and /etc.
type Roots struct {
	Sys, Dev, Proc, Etc string
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func (r Roots) sys() string  { return or(r.Sys, "/sys") }
func (r Roots) dev() string  { return or(r.Dev, "/dev") }
func (r Roots) proc() string { return or(r.Proc, "/proc") }
func (r Roots) etc() string  { return or(r.Etc, "/etc") }

// DevPath maps a path the system names under /dev (a symlink's absolute
// target, a configured port) into the Dev root.
func (r Roots) DevPath(p string) string {
	if rest, ok := strings.CutPrefix(p, "/dev/"); ok {
		return filepath.Join(r.dev(), rest)
	}
	return p
}

// Kinds of port.
const (
	Serial  = "serial"  // a tty: USB serial, CDC-ACM, a UART
	Printer = "printer" // a USB printer-class device (usblp)
)

// Port is one serial or USB printer port.
type Port struct {
	Kind   string `json:"kind"`
	Name   string `json:"name"`   // the kernel's name: ttyUSB0, lp0
	Path   string `json:"path"`   // the /dev node: /dev/ttyUSB0, /dev/usb/lp0
	Driver string `json:"driver"` // ftdi_sio, cdc_acm, usblp, serial8250
	USB    *USB   `json:"usb,omitempty"`
	// Links are the symlinks udev made to the node: /dev/serial/by-id/…,
	// /dev/serial/by-path/…, /dev/cherga/… (configs/udev/99-cherga.rules).
	Links []string `json:"links,omitempty"`
	// Node is the /dev node's owner, group and mode; nil when the node is
	// not there (no udev, or a container without it).
	Node *Node `json:"node,omitempty"`
}

// USB is the USB device a port belongs to.
type USB struct {
	VendorID     string `json:"vendor_id"`
	ProductID    string `json:"product_id"`
	Manufacturer string `json:"manufacturer,omitempty"`
	Product      string `json:"product,omitempty"`
	Serial       string `json:"serial,omitempty"`
	Interface    string `json:"interface,omitempty"` // bInterfaceNumber: 00
	BusPath      string `json:"bus_path,omitempty"`  // the kernel's USB port: 1-1.2
}

// linkDirs are where udev's stable names for ports are.
var linkDirs = []string{"serial/by-id", "serial/by-path", "cherga"}

// Scan lists the machine's serial ports that are real hardware and its
// USB printer ports, serial first, each kind by name. No ports is not an
// error; a tree that cannot be read is.
func Scan(r Roots) ([]Port, error) {
	acc, err := LoadAccounts(r)
	if err != nil {
		acc = &Accounts{} // group names unknown: gids still shown
	}
	links := scanLinks(r)
	var out []Port
	for _, c := range []struct{ class, kind, prefix string }{{"tty", Serial, ""}, {"usbmisc", Printer, "lp"}} {
		dir := filepath.Join(r.sys(), "class", c.class)
		ents, err := os.ReadDir(dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("ports: %w", err)
		}
		for _, e := range ents {
			if !strings.HasPrefix(e.Name(), c.prefix) {
				continue
			}
			p, ok := scanOne(r, filepath.Join(dir, e.Name()), c.kind)
			if !ok {
				continue
			}
			p.Links = links[p.Path]
			p.Node = StatNode(p.Path, acc)
			out = append(out, p)
		}
	}
	slices.SortStableFunc(out, func(a, b Port) int {
		if a.Kind != b.Kind {
			return strings.Compare(b.Kind, a.Kind) // serial before printer
		}
		return naturalCompare(a.Name, b.Name)
	})
	return out, nil
}

// scanOne reads one class entry; ok is false for a tty without hardware
// (virtual consoles, ptys, the 8250 driver's placeholder ttyS ports).
func scanOne(r Roots, classDir, kind string) (Port, bool) {
	name := filepath.Base(classDir)
	devLink := filepath.Join(classDir, "device")
	if _, err := os.Lstat(devLink); err != nil {
		return Port{}, false
	}
	if kind == Serial && strings.HasPrefix(name, "ttyS") {
		// The 8250 driver makes ttyS0…ttyS31 whether or not a UART is
		// there; type 0 is PORT_UNKNOWN: none.
		t, err := os.ReadFile(filepath.Join(classDir, "type"))
		if err != nil || strings.TrimSpace(string(t)) == "0" {
			return Port{}, false
		}
	}
	devname := name
	if b, err := os.ReadFile(filepath.Join(classDir, "uevent")); err == nil {
		if v := ParseUevent(b)["DEVNAME"]; v != "" && !strings.Contains(v, "..") {
			devname = v
		}
	}
	p := Port{Kind: kind, Name: name, Path: filepath.Join(r.dev(), devname)}
	dev, err := filepath.EvalSymlinks(devLink)
	if err != nil {
		return p, true
	}
	sysDevices := filepath.Join(r.sys(), "devices")
	if s, err := filepath.EvalSymlinks(sysDevices); err == nil {
		sysDevices = s
	}
	// Walk up from the port's device towards /sys/devices: the first
	// driver that is not the serial core's is the port's; the
	// USB interface and device are further up.
	for d := dev; strings.HasPrefix(d, sysDevices+string(filepath.Separator)); d = filepath.Dir(d) {
		if p.Driver == "" {
			if t, err := os.Readlink(filepath.Join(d, "driver")); err == nil {
				// The serial core's own devices (serial-base: ctrl, port)
				// sit between a UART and its real driver.
				if !strings.Contains(t, "/bus/serial-base/") {
					p.Driver = filepath.Base(t)
				}
			}
		}
		if p.USB == nil {
			if n := readAttr(d, "bInterfaceNumber"); n != "" {
				p.USB = &USB{Interface: n}
			}
		} else if v := readAttr(d, "idVendor"); v != "" {
			u := p.USB
			u.VendorID, u.ProductID = v, readAttr(d, "idProduct")
			u.Manufacturer, u.Product, u.Serial = readAttr(d, "manufacturer"), readAttr(d, "product"), readAttr(d, "serial")
			u.BusPath = filepath.Base(d)
			break
		}
	}
	if p.USB != nil && p.USB.VendorID == "" {
		p.USB = nil // an interface number without a USB device above it
	}
	return p, true
}

// readAttr reads one sysfs attribute, trimmed; "" when absent. Attributes
// are small: more than 4 KiB is not one.
func readAttr(dir, name string) string {
	f, err := os.Open(filepath.Join(dir, name))
	if err != nil {
		return ""
	}
	defer f.Close()
	b := make([]byte, 4096)
	n, _ := f.Read(b)
	return strings.TrimSpace(strings.ToValidUTF8(string(b[:n]), "?"))
}

// scanLinks maps each node's path to the symlinks udev made to it.
func scanLinks(r Roots) map[string][]string {
	out := map[string][]string{}
	for _, sub := range linkDirs {
		dir := filepath.Join(r.dev(), sub)
		ents, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range ents {
			link := filepath.Join(dir, e.Name())
			t, err := os.Readlink(link)
			if err != nil {
				continue
			}
			if filepath.IsAbs(t) {
				t = r.DevPath(t)
			} else {
				t = filepath.Join(dir, t)
			}
			out[filepath.Clean(t)] = append(out[filepath.Clean(t)], link)
		}
	}
	return out
}

// naturalCompare orders ttyUSB2 before ttyUSB10.
func naturalCompare(a, b string) int {
	ta, na := splitNumber(a)
	tb, nb := splitNumber(b)
	if ta != tb {
		return strings.Compare(ta, tb)
	}
	if len(na) != len(nb) {
		return len(na) - len(nb)
	}
	return strings.Compare(na, nb)
}

func splitNumber(s string) (string, string) {
	i := len(s)
	for i > 0 && s[i-1] >= '0' && s[i-1] <= '9' {
		i--
	}
	return s[:i], s[i:]
}
