package emulator

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Type is a device type, as I 0x0020 reads it.
type Type uint16

// The device types of PROTOCOL.md section 4.1.
const (
	WindowDisplay Type = 1 // CHG-WD1
	Keypad        Type = 2 // CHG-KP1
	RatingPanel   Type = 3 // CHG-RP1
)

// String is the name ParseType reads: window-display, keypad, rating.
func (t Type) String() string {
	switch t {
	case WindowDisplay:
		return "window-display"
	case Keypad:
		return "keypad"
	case RatingPanel:
		return "rating"
	}
	return fmt.Sprintf("type-%d", uint16(t))
}

// Product is identification object 1.
func (t Type) Product() string {
	switch t {
	case WindowDisplay:
		return "CHG-WD1"
	case Keypad:
		return "CHG-KP1"
	case RatingPanel:
		return "CHG-RP1"
	}
	return ""
}

// Model is identification object 5.
func (t Type) Model() string {
	switch t {
	case WindowDisplay:
		return "window display 8x1"
	case Keypad:
		return "operator keypad 2x20"
	case RatingPanel:
		return "rating panel 5"
	}
	return ""
}

func (t Type) valid() bool { return t >= WindowDisplay && t <= RatingPanel }

// hasEvents: keypads and rating panels keep the event ring.
func (t Type) hasEvents() bool { return t == Keypad || t == RatingPanel }

// ParseType reads a device type: window-display (display, wd, CHG-WD1),
// keypad (kp, CHG-KP1), rating (rating-panel, rp, CHG-RP1), or 1–3.
func ParseType(s string) (Type, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "window-display", "display", "wd", "chg-wd1", "1":
		return WindowDisplay, nil
	case "keypad", "kp", "chg-kp1", "2":
		return Keypad, nil
	case "rating", "rating-panel", "rp", "chg-rp1", "3":
		return RatingPanel, nil
	}
	return 0, fmt.Errorf("emulator: device type %q: want window-display, keypad or rating", s)
}

// Spec is one device to play: its type and the bus address it has when
// first made (a device that has a state file keeps the address stored
// there, as the firmware does after a CFG save).
type Spec struct {
	Addr byte
	Type Type
}

func (s Spec) String() string { return fmt.Sprintf("%d:%s", s.Addr, s.Type) }

// ParseSpecs reads "1:window-display,2:keypad,3:rating".
func ParseSpecs(s string) ([]Spec, error) {
	var out []Spec
	seen := map[byte]bool{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		a, t, ok := strings.Cut(part, ":")
		if !ok {
			return nil, fmt.Errorf("emulator: device %q: want ADDRESS:TYPE, like 2:keypad", part)
		}
		n, err := strconv.Atoi(strings.TrimSpace(a))
		if err != nil || n < 1 || n > 247 {
			return nil, fmt.Errorf("emulator: device %q: address must be 1–247", part)
		}
		typ, err := ParseType(t)
		if err != nil {
			return nil, err
		}
		if seen[byte(n)] {
			return nil, fmt.Errorf("emulator: address %d given twice", n)
		}
		seen[byte(n)] = true
		out = append(out, Spec{Addr: byte(n), Type: typ})
	}
	if len(out) == 0 {
		return nil, errors.New("emulator: no devices given")
	}
	return out, nil
}

// Version is a firmware version, major.minor.patch.
type Version [3]uint16

func (v Version) String() string { return fmt.Sprintf("%d.%d.%d", v[0], v[1], v[2]) }

// ParseVersion reads "1.2.0".
func ParseVersion(s string) (Version, error) {
	var v Version
	f := strings.Split(strings.TrimSpace(s), ".")
	if len(f) != 3 {
		return v, fmt.Errorf("emulator: version %q: want MAJOR.MINOR.PATCH", s)
	}
	for i, x := range f {
		n, err := strconv.ParseUint(x, 10, 16)
		if err != nil {
			return v, fmt.Errorf("emulator: version %q: %q is not 0–65535", s, x)
		}
		v[i] = uint16(n)
	}
	return v, nil
}

// Keypad keys (PROTOCOL.md 7.1): the event code's low byte.
const (
	KeyNext     = 1
	KeyRecall   = 2
	KeyCame     = 3
	KeyFinish   = 4
	KeyNoShow   = 5
	KeyTransfer = 6
	KeyPause    = 7
)

var keyNames = []string{"", "next", "recall", "came", "finish", "no-show", "transfer", "pause"}

// KeyName is a keypad key's name (next, recall, …) or, for other codes,
// the number.
func KeyName(t Type, key int) string {
	if t == Keypad && key >= 1 && key < len(keyNames) {
		return keyNames[key]
	}
	return strconv.Itoa(key)
}

// ParseKey reads a key for a device type: for a keypad next, recall,
// came, finish, no-show, transfer, pause or 1–7; for a rating panel 1–5.
// A window display has no keys.
func ParseKey(t Type, s string) (int, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if t == Keypad {
		for i, n := range keyNames {
			if n != "" && (s == n || (n == "no-show" && s == "noshow") || (n == "pause" && s == "resume")) {
				return i, nil
			}
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("emulator: key %q: %w", s, errBadKey(t))
	}
	return n, checkKey(t, n)
}

func errBadKey(t Type) error { return fmt.Errorf("%w: %s", ErrBadKey, KeyHelp(t)) }

// KeyHelp says which keys a device type has.
func KeyHelp(t Type) string {
	switch t {
	case Keypad:
		return "a keypad has next, recall, came, finish, no-show, transfer, pause (1–7)"
	case RatingPanel:
		return "a rating panel has buttons 1–5"
	}
	return fmt.Sprintf("a %s has no keys", t)
}

func checkKey(t Type, key int) error {
	switch {
	case t == Keypad && key >= 1 && key <= 7, t == RatingPanel && key >= 1 && key <= 5:
		return nil
	}
	return fmt.Errorf("emulator: key %d: %w", key, errBadKey(t))
}

// Errors.
var (
	ErrBadKey   = errors.New("emulator: no such key")
	ErrOff      = errors.New("emulator: the device is off")
	ErrNoDevice = errors.New("emulator: no device at that address")
)
