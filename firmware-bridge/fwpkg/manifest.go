package fwpkg

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// DeviceType is a bus device model, as its input register 0x0020 reads
// (PROTOCOL.md 4.1).
type DeviceType uint16

const (
	WindowDisplay DeviceType = 1 // CHG-WD1
	Keypad        DeviceType = 2 // CHG-KP1
	Rating        DeviceType = 3 // CHG-RP1
)

var typeNames = map[DeviceType]string{
	WindowDisplay: "window-display",
	Keypad:        "keypad",
	Rating:        "rating",
}

// String is the name the terminal configuration uses (window-display,
// keypad, rating), or "type N" for a type we do not know.
func (t DeviceType) String() string {
	if n, ok := typeNames[t]; ok {
		return n
	}
	return fmt.Sprintf("type %d", uint16(t))
}

// ParseDeviceType reads window-display, keypad, rating, or the number.
func ParseDeviceType(s string) (DeviceType, error) {
	for t, n := range typeNames {
		if s == n {
			return t, nil
		}
	}
	if n, err := strconv.ParseUint(s, 10, 16); err == nil && n > 0 {
		return DeviceType(n), nil
	}
	return 0, fmt.Errorf("fwpkg: device type %q: want window-display, keypad or rating", s)
}

// Version is a firmware version, major.minor.patch, each 0–65535 (one
// register each, I 0x0023–0x0025).
type Version struct {
	Major, Minor, Patch uint16
}

func (v Version) String() string { return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch) }

// Compare returns -1, 0 or +1 as v is older than, equal to or newer than w.
func (v Version) Compare(w Version) int {
	for _, d := range [3]int{int(v.Major) - int(w.Major), int(v.Minor) - int(w.Minor), int(v.Patch) - int(w.Patch)} {
		switch {
		case d < 0:
			return -1
		case d > 0:
			return 1
		}
	}
	return 0
}

// ParseVersion reads "1.2.0" (a leading "v" is allowed).
func ParseVersion(s string) (Version, error) {
	f := strings.Split(strings.TrimPrefix(s, "v"), ".")
	if len(f) != 3 {
		return Version{}, fmt.Errorf("fwpkg: version %q: want major.minor.patch, like 1.2.0", s)
	}
	var n [3]uint16
	for i, x := range f {
		u, err := strconv.ParseUint(x, 10, 16)
		if err != nil || (len(x) > 1 && x[0] == '0') {
			return Version{}, fmt.Errorf("fwpkg: version %q: %q is not a number 0–65535", s, x)
		}
		n[i] = uint16(u)
	}
	return Version{n[0], n[1], n[2]}, nil
}

// Manifest is what a package says of itself.
type Manifest struct {
	Type     DeviceType
	Hardware uint16 // hardware revision, I 0x0022
	Version  Version
	// Created is when the package was signed; Expires the end of the time
	// it may be installed. Whole seconds (the format keeps Unix seconds).
	Created, Expires time.Time
}

// Slots: the index of Package.Images, and what I 0x0082 reads.
const (
	SlotA = 0
	SlotB = 1
)

// SlotBytes is what one slot of the ATmega328P devices holds
// (PROTOCOL.md 10.1): 112 pages of 128 bytes.
const SlotBytes = 14336

// SlotName is "A" or "B".
func SlotName(slot int) string {
	switch slot {
	case SlotA:
		return "A"
	case SlotB:
		return "B"
	}
	return fmt.Sprintf("#%d", slot)
}

// Image is one link of the firmware.
type Image struct {
	Data   []byte
	SHA256 [32]byte
}

// Package is a parsed package. Open returns one only when every check
// passed; Parse returns one unverified.
type Package struct {
	Manifest
	// KeyID names the signing key: the first 8 bytes of the SHA-256 of its
	// public key.
	KeyID KeyID
	// Images are the two links, by slot: Images[SlotA] runs at 0x0000,
	// Images[SlotB] at 0x3800.
	Images [2]Image
	// Signature is the ed25519 signature over signed, the file up to it.
	Signature [64]byte
	signed    []byte
}

// Image returns the link for the given slot: what goes to a device whose
// inactive slot that is.
func (p *Package) Image(slot int) []byte {
	if slot != SlotA && slot != SlotB {
		return nil
	}
	return p.Images[slot].Data
}

func (p *Package) String() string {
	return fmt.Sprintf("%s hw %d firmware %s", p.Type, p.Hardware, p.Version)
}
