package bus

import (
	"fmt"
	"time"
)

// The register map of PROTOCOL.md section 4 and the type blocks of
// sections 6–8, as PDU addresses.
const (
	// Common holding registers (4.2).
	regSync       = 0x0000
	regAck        = 0x0001
	regBrightness = 0x0002
	regTime       = 0x0003 // TIME_HI, TIME_LO, UTC_OFFSET: one 0x10 of 3

	// Poll and event block (4.3).
	inPoll      = 0x0000
	pollQty     = 6
	inEvents    = 0x0003
	eventRegs   = 3
	eventsAtMax = 8 // events the block holds

	// Identity and diagnostics (4.4): DEVICE_TYPE … SERIAL_LO.
	inIdentity  = 0x0020
	identityQty = 8

	// Window display (6.1).
	wdBlock    = 0x0100 // ENCODING, TEXT ×8, WINDOW, BLINK, CALL_ID
	wdBlockQty = 12
	wdClear    = 0x010C
	wdIdle     = 0x010D
	wdTextRegs = 8

	// Keypad (7.2).
	kpText        = 0x0100 // ENCODING, LINE1 ×20, LINE2 ×20
	kpTextQty     = 41
	kpLineRegs    = 20
	kpLineChars   = 20
	kpLEDs        = 0x0129 // LEDS, LEDS_BLINK
	kpBeep        = 0x012B
	kpHostTimeout = 0x012C

	// Rating panel (8.2).
	rpPrompt = 0x0100

	encodingCHG1 = 1
	mapVersion   = 1
)

// STATUS bits (4.3).
const (
	statusConfigFault = 1 << 0
	statusEEPROMFault = 1 << 1
	statusUpdating    = 1 << 2
	statusTrial       = 1 << 3
	statusWatchdog    = 1 << 4
	statusBrownOut    = 1 << 5
	statusOverflow    = 1 << 6
	statusHostTimeout = 1 << 7
)

// pollBlock is the answer to the poll (I 0x0000 ×6).
type pollBlock struct {
	Status  uint16
	Sync    uint16 // SYNC_MIRROR
	Pending uint16
	First   rawEvent
}

// rawEvent is one event as the device offers it (EVn_SEQ, _CODE, _AGE).
type rawEvent struct {
	Seq, Code, Age uint16
}

// ageUnknown marks an event from before the device's last power-on.
const ageUnknown = 0xFFFF

func parsePoll(v []uint16) (pollBlock, error) {
	if len(v) != pollQty {
		return pollBlock{}, fmt.Errorf("poll block of %d registers, want %d", len(v), pollQty)
	}
	p := pollBlock{Status: v[0], Sync: v[1], Pending: v[2], First: rawEvent{v[3], v[4], v[5]}}
	if p.Pending > 64 {
		return p, fmt.Errorf("EV_PENDING %d, at most 64", p.Pending)
	}
	return p, nil
}

// parseEvents reads the events of I 0x0003…, oldest first, up to the
// first empty one (seq 0).
func parseEvents(v []uint16) []rawEvent {
	var out []rawEvent
	for i := 0; i+eventRegs <= len(v); i += eventRegs {
		e := rawEvent{v[i], v[i+1], v[i+2]}
		if e.Seq == 0 {
			break
		}
		out = append(out, e)
	}
	return out
}

// age is how long ago the event happened, and whether that is known.
func (e rawEvent) age() (time.Duration, bool) {
	if e.Age == ageUnknown {
		return 0, false
	}
	return time.Duration(e.Age) * 100 * time.Millisecond, true
}

// after reports whether sequence number a comes after b in serial
// arithmetic (PROTOCOL.md 5.2).
func after(a, b uint16) bool {
	d := a - b
	return d >= 1 && d <= 32767
}

// Identity is what a device of ours says of itself in I 0x0020–0x0027.
type Identity struct {
	Type       uint16 `json:"type"` // 1 display, 2 keypad, 3 rating panel
	MapVersion uint16 `json:"map_version"`
	HWRev      uint16 `json:"hw_rev"`
	Firmware   string `json:"firmware"` // major.minor.patch
	Serial     uint32 `json:"serial"`   // the instance number
}

func parseIdentity(v []uint16) (Identity, error) {
	if len(v) != identityQty {
		return Identity{}, fmt.Errorf("identity block of %d registers, want %d", len(v), identityQty)
	}
	id := Identity{Type: v[0], MapVersion: v[1], HWRev: v[2],
		Firmware: fmt.Sprintf("%d.%d.%d", v[3], v[4], v[5]), Serial: uint32(v[6])<<16 | uint32(v[7])}
	if id.Serial == 0 || id.Serial == 0xFFFFFFFF {
		return id, fmt.Errorf("instance number %08X is not valid", id.Serial)
	}
	return id, nil
}

// timeRegs are H 0x0003–0x0005 for t in loc: Unix seconds, high word
// first, and the UTC offset in minutes.
func timeRegs(t time.Time, loc *time.Location) []uint16 {
	u := uint32(t.Unix())
	_, off := t.In(loc).Zone()
	return []uint16{uint16(u >> 16), uint16(u), uint16(int16(off / 60))}
}
