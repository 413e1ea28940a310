package emulator_test

import (
	"encoding/hex"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/cherga/kiosk/firmware-bridge/emulator"
	"github.com/cherga/kiosk/firmware-bridge/modbus"
)

func newDevice(t testing.TB, typ emulator.Type, addr byte, clock clockwork.Clock) *emulator.Device {
	t.Helper()
	d, err := emulator.NewDevice(emulator.Spec{Addr: addr, Type: typ}, emulator.Options{
		Clock: clock, Line: modbus.PTYLine, Firmware: emulator.Version{1, 2, 0},
	})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// call is what a modbus.Server does with one request PDU for d: the
// decoder's refusals, else d's answer. ok false: no answer.
func call(d *emulator.Device, unit byte, pdu []byte) (answer []byte, ok bool) {
	req, err := modbus.DecodeRequest(pdu)
	var resp modbus.Response
	if err != nil && unit == modbus.BroadcastUnit {
		return nil, false // a broadcast the decoder refuses is dropped, unanswered
	}
	if e, isExc := err.(*modbus.Exception); isExc {
		if e.Function >= 0x80 {
			return nil, false // not a request; the Bus drops the server's answer (see busPort.Write)
		}
		resp = modbus.ExceptionResponse(e.Function, e.Code)
	} else if err != nil {
		return nil, false
	} else if resp, ok = d.Handle(unit, req); !ok {
		return nil, false
	}
	out, err := resp.AppendPDU(nil)
	if err != nil {
		panic(err)
	}
	return out, true
}

func unhex(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

// TestExceptions: the functions of section 2 and the exceptions of
// section 3, exactly, for each device type.
func TestExceptions(t *testing.T) {
	clock := clockwork.NewFakeClockAt(epoch)
	devs := map[emulator.Type]*emulator.Device{
		emulator.WindowDisplay: newDevice(t, emulator.WindowDisplay, 1, clock),
		emulator.Keypad:        newDevice(t, emulator.Keypad, 1, clock),
		emulator.RatingPanel:   newDevice(t, emulator.RatingPanel, 1, clock),
	}
	clock.Advance(time.Second)
	all := []emulator.Type{emulator.WindowDisplay, emulator.Keypad, emulator.RatingPanel}
	cases := []struct {
		name  string
		types []emulator.Type
		pdu   string
		want  string // "" no answer
	}{
		{"unknown function", all, "01 00 00 00 01", "81 01"},
		{"report server id", all, "11", "91 01"},
		{"MEI other than 0x0E", all, "2B 0D 01 00", "AB 01"},
		{"read quantity 0", all, "03 00 00 00 00", "83 03"},
		{"read quantity 126", all, "04 00 00 00 7E", "84 03"},
		{"read past 0xFFFF", all, "03 FF FF 00 02", "83 02"},
		{"read across two blocks", all, "03 00 0A 00 04", "83 02"},
		{"read between blocks", all, "04 00 1B 00 01", "84 02"},
		{"identity block end", all, "04 00 2F 00 02", "84 02"},
		{"reserved registers read 0", all, "03 00 07 00 01", "03 02 00 00"},
		{"reserved input registers read 0", all, "04 00 2E 00 02", "04 04 00 00 00 00"},
		{"update command reads 0", all, "03 00 80 00 01", "03 02 00 00"},
		{"display block ends at 0x010D", []emulator.Type{emulator.WindowDisplay}, "03 01 0D 00 02", "83 02"},
		{"keypad block ends at 0x012D", []emulator.Type{emulator.Keypad}, "03 01 2D 00 02", "83 02"},
		{"rating block ends at 0x0102", []emulator.Type{emulator.RatingPanel}, "03 01 02 00 02", "83 02"},
		{"brightness 16", all, "06 00 02 00 10", "86 03"},
		{"EV_ACK 0", all, "06 00 01 00 00", "86 03"},
		{"UTC offset −841", all, "06 00 05 FC B7", "86 03"},
		{"IDENTIFY 256", all, "06 00 06 01 00", "86 03"},
		{"CFG_ADDRESS 0", all, "06 00 08 00 00", "86 03"},
		{"CFG_ADDRESS 248", all, "06 00 08 00 F8", "86 03"},
		{"CFG_BAUD 19201", all, "06 00 09 00 C1", "86 03"},
		{"CFG_FORMAT 4", all, "06 00 0A 00 04", "86 03"},
		{"CFG_APPLY other", all, "06 00 0B 12 34", "86 03"},
		{"UPD_COMMAND unknown", all, "06 00 80 00 09", "86 03"},
		{"COMMIT when idle", all, "06 00 80 00 03", "86 03"},
		{"reserved register takes writes", all, "06 00 07 12 34", "06 00 07 12 34"},
		{"write outside the map", all, "06 00 0C 00 01", "86 02"},
		{"0x10 byte count wrong", all, "10 00 00 00 02 03 00 01 00 02", "90 03"},
		{"0x10 quantity 124", all, "10 00 00 00 7C F8" + strings.Repeat(" 00", 248), "90 03"},
		{"0x10 across blocks", all, "10 00 0B 00 02 04 00 00 00 00", "90 02"},
		{"WINDOW 1000", []emulator.Type{emulator.WindowDisplay}, "06 01 09 03 E8", "86 03"},
		{"BLINK 61", []emulator.Type{emulator.WindowDisplay}, "06 01 0A 00 3D", "86 03"},
		{"CLEAR 2", []emulator.Type{emulator.WindowDisplay}, "06 01 0C 00 02", "86 03"},
		{"IDLE 3", []emulator.Type{emulator.WindowDisplay}, "06 01 0D 00 03", "86 03"},
		{"ENCODING 2", []emulator.Type{emulator.WindowDisplay, emulator.Keypad}, "06 01 00 00 02", "86 03"},
		{"LEDS 16", []emulator.Type{emulator.Keypad}, "06 01 29 00 10", "86 03"},
		{"BEEP 0", []emulator.Type{emulator.Keypad}, "06 01 2B 00 00", "86 03"},
		{"BEEP 2001", []emulator.Type{emulator.Keypad}, "06 01 2B 07 D1", "86 03"},
		{"HOST_TIMEOUT 256", []emulator.Type{emulator.Keypad}, "06 01 2C 01 00", "86 03"},
		{"PROMPT 601", []emulator.Type{emulator.RatingPanel}, "06 01 00 02 59", "86 03"},
		{"panel LEDS 0x40", []emulator.Type{emulator.RatingPanel}, "06 01 01 00 40", "86 03"},
		{"THANKS_MS 10001", []emulator.Type{emulator.RatingPanel}, "06 01 02 27 11", "86 03"},
		{"two file sub-requests", all, "14 0E 06 00 01 00 00 00 01 06 00 01 00 00 00 01", "94 03"},
		{"file 3", all, "14 07 06 00 03 00 00 00 01", "94 02"},
		{"manifest without one", all, "14 07 06 00 01 00 00 00 01", "94 02"},
		{"chunk not held", all, "14 07 06 00 02 00 00 00 42", "94 02"},
		{"reference type 7", all, "14 07 07 00 01 00 00 00 01", "94 02"},
		{"record 10000", all, "14 07 06 00 01 27 10 00 01", "94 02"},
		{"manifest record 1", all, "15 09 06 00 01 00 01 00 01 00 00", "95 02"},
		{"manifest of 1 register", all, "15 09 06 00 01 00 00 00 01 00 00", "95 03"},
		{"chunk of 1 register", all, "15 09 06 00 02 00 00 00 01 00 00", "95 03"},
		{"write file 4", all, "15 09 06 00 04 00 00 00 01 00 00", "95 02"},
		{"id code 5", all, "2B 0E 05 00", "AB 03"},
		{"id object 3 alone", all, "2B 0E 04 03", "AB 02"},
		{"id object 5 alone", []emulator.Type{emulator.Keypad}, "2B 0E 04 05", "2B 0E 04 82 00 00 01 05 14" + hex.EncodeToString([]byte("operator keypad 2x20"))},
		{"basic stream from an absent object starts at 0", []emulator.Type{emulator.RatingPanel}, "2B 0E 01 03",
			"2B 0E 01 82 00 00 03 00 06" + hex.EncodeToString([]byte("cherga")) + "01 07" + hex.EncodeToString([]byte("CHG-RP1")) + "02 05" + hex.EncodeToString([]byte("1.2.0"))},
		{"regular stream from object 2", []emulator.Type{emulator.WindowDisplay}, "2B 0E 02 02",
			"2B 0E 02 82 00 00 02 02 05" + hex.EncodeToString([]byte("1.2.0")) + "05 12" + hex.EncodeToString([]byte("window display 8x1"))},
		{"extended is answered as regular", []emulator.Type{emulator.WindowDisplay}, "2B 0E 03 05",
			"2B 0E 03 82 00 00 01 05 12" + hex.EncodeToString([]byte("window display 8x1"))},
	}
	for _, c := range cases {
		for _, typ := range c.types {
			got, ok := call(devs[typ], 1, unhex(c.pdu))
			want := strings.ToUpper(strings.ReplaceAll(c.want, " ", ""))
			if g := strings.ToUpper(hex.EncodeToString(got)); !ok || g != want {
				t.Errorf("%s, %s: %s → %s (answered %v), want %s", c.name, typ, c.pdu, g, ok, want)
			}
		}
	}
}

// TestBroadcastRule: a broadcast is acted on only for the B registers,
// whole or not at all, and never answered; reads are ignored.
func TestBroadcastRule(t *testing.T) {
	clock := clockwork.NewFakeClockAt(epoch)
	d := newDevice(t, emulator.WindowDisplay, 5, clock)
	clock.Advance(time.Second)
	for _, c := range []struct {
		pdu  string
		what string
	}{
		{"06 00 02 00 03", "brightness"},
		{"10 00 00 00 03 06 12 34 00 05 00 06", "SYNC with brightness: ignored whole"},
		{"06 00 00 12 34", "SYNC"},
		{"10 00 03 00 03 06 69 55 B9 00 00 78", "time"},
		{"03 00 00 00 01", "a read"},
		{"15 09 06 00 01 00 00 00 01 00 00", "a file write"},
		{"06 00 02 00 10", "brightness 16"},
	} {
		if got, ok := call(d, 0, unhex(c.pdu)); ok {
			t.Errorf("broadcast %s answered % X", c.what, got)
		}
	}
	got, _ := call(d, 5, unhex("03 00 00 00 06"))
	if want := unhex("03 0C 00 00 00 00 00 03 69 55 B9 00 00 78"); !slices.Equal(got, want) {
		t.Errorf("after the broadcasts H 0–5 = % X, want % X", got, want)
	}
	// A frame for another address: nothing.
	if got, ok := call(d, 6, unhex("03 00 00 00 01")); ok {
		t.Errorf("unit 6 answered by unit 5: % X", got)
	}
}
