package simprinter

import (
	"strings"

	"github.com/cherga/kiosk/printer"
	"github.com/cherga/kiosk/printer/escpos"
)

// Identity is what the simulated printer answers to GS I n, by n
// (escpos.IDModel, escpos.IDModelName...): one byte or a text. A question
// it has no answer for goes unanswered, as a cheap printer's does.
type Identity map[int][]byte

// DefaultIdentity is what a device for prof answers: the answers of an
// Epson-like printer whose name is the profile's (so kioskctl printer
// probe finds the profile again), its maker the name's first word.
func DefaultIdentity(prof *printer.Profile) Identity {
	name := asciiOnly(prof.Name)
	maker, _, _ := strings.Cut(name, " ")
	typ := byte(0)
	if prof.Cutter != "none" {
		typ |= escpos.IDTypeAutocutter
	}
	return Identity{
		escpos.IDModel: {0x20}, escpos.IDType: {typ}, escpos.IDROM: {0x01},
		escpos.IDFirmware: []byte("SIM-1.0"), escpos.IDMaker: []byte(maker),
		escpos.IDModelName: []byte(name), escpos.IDSerial: []byte("SIM" + strings.ToUpper(prof.ID)),
	}
}

func asciiOnly(s string) string {
	out := []byte{}
	for i := 0; i < len(s) && len(out) < escpos.MaxIDText; i++ {
		if s[i] >= 0x20 && s[i] <= 0x7E {
			out = append(out, s[i])
		}
	}
	return string(out)
}

// SetIdentity replaces the device's answers to GS I; nil answers none.
func (d *Device) SetIdentity(id Identity) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.identity = id
}

// identify answers GS I n; d.mu is held.
func (d *Device) identify(n int) {
	switch d.cond {
	case Silent, PoweredOff:
		return
	case Garbage:
		d.sendLocked([]byte{0xEE, byte(n)})
		return
	}
	// '1' to '3' ask the same as 1 to 3.
	if n >= '1' && n <= '3' {
		n -= '0'
	}
	if v, ok := d.identity[n]; ok {
		d.sendLocked(escpos.IDAnswer(n, v))
	}
}
