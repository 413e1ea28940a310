package fwpkg

import "fmt"

// DeviceInfo is what a device says of itself, for Check: I 0x0020
// (type), 0x0022 (hardware), 0x0023–0x0025 (version), 0x0082 (active
// slot), 0x0083 × 0x0084 (slot size).
type DeviceInfo struct {
	Unit       byte // bus address, for the messages; 0: unknown
	Type       DeviceType
	Hardware   uint16
	Version    Version
	ActiveSlot int
	// SlotBytes is the capacity of a slot; 0 means SlotBytes (14,336).
	SlotBytes int
}

func (d DeviceInfo) name() string {
	if d.Unit == 0 {
		return "the device"
	}
	return fmt.Sprintf("device %d", d.Unit)
}

// InactiveSlot is the slot an update goes to: the one not running.
func (d DeviceInfo) InactiveSlot() int { return 1 - d.ActiveSlot }

// Check says whether the package may be installed on the device, before
// any byte is sent: the same model (ErrWrongModel), the same hardware
// revision (ErrWrongHardware), a newer version unless force
// (ErrNotNewer), and an image for the inactive slot that fits it
// (ErrTooBig). force overrides only the version.
func (p *Package) Check(dev DeviceInfo, force bool) error {
	who := dev.name()
	if p.Type != dev.Type {
		return refuse(ErrWrongModel, "package is for %s, %s is %s", describe(p.Type), who, article(dev.Type))
	}
	if p.Hardware != dev.Hardware {
		return refuse(ErrWrongHardware, "package is for hardware revision %d, %s is revision %d",
			p.Hardware, who, dev.Hardware)
	}
	if dev.ActiveSlot != SlotA && dev.ActiveSlot != SlotB {
		return refuse(ErrBadSlot, "%s reports active slot %d, want 0 (A) or 1 (B)", who, dev.ActiveSlot)
	}
	if !force && p.Version.Compare(dev.Version) <= 0 {
		rel := "older than"
		if p.Version == dev.Version {
			rel = "the same as"
		}
		return refuse(ErrNotNewer, "package version %s is %s the %s %s runs (force installs it anyway)",
			p.Version, rel, dev.Version, who)
	}
	capacity := dev.SlotBytes
	if capacity == 0 {
		capacity = SlotBytes
	}
	slot := dev.InactiveSlot()
	if n := len(p.Images[slot].Data); n > capacity {
		return refuse(ErrTooBig, "image %s is %d bytes, slot %s of %s holds %d",
			SlotName(slot), n, SlotName(slot), who, capacity)
	}
	return nil
}

// describe is "keypad (type 2)", or "unknown type 9".
func describe(t DeviceType) string {
	if _, ok := typeNames[t]; !ok {
		return fmt.Sprintf("unknown type %d", uint16(t))
	}
	return fmt.Sprintf("%s (type %d)", t, uint16(t))
}

// article is "a keypad (type 2)", or "of unknown type 9".
func article(t DeviceType) string {
	if _, ok := typeNames[t]; !ok {
		return "of " + describe(t)
	}
	return "a " + describe(t)
}
