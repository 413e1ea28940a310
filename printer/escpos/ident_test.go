package escpos_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/cherga/kiosk/printer/escpos"
)

func TestParseID(t *testing.T) {
	for _, tc := range []struct {
		n     int
		in    string
		value string
		used  int
		bad   bool
	}{
		{escpos.IDModel, "\x20", "\x20", 1, false},
		{escpos.IDType, "\x02rest", "\x02", 1, false},
		{escpos.IDType, "\x92", "", 1, true},
		{escpos.IDModelName, "_TM-T20II\x00", "TM-T20II", 10, false},
		{escpos.IDModelName, "_TM-T2", "", 0, false}, // the rest is on its way
		{escpos.IDMaker, "_EPSON\x00_more", "EPSON", 7, false},
		{escpos.IDMaker, "\x12_EPSON\x00", "", 1, true}, // a status byte first
		{escpos.IDFirmware, "_1.0\x01", "", 4, true},
		{escpos.IDFirmware, "_", "", 0, false},
		{escpos.IDSerial, "", "", 0, false},
	} {
		v, used, err := escpos.ParseID(tc.n, []byte(tc.in))
		if string(v) != tc.value || used != tc.used || (err != nil) != tc.bad {
			t.Errorf("ParseID(%d, %q) = %q, %d, %v; want %q, %d, bad %v", tc.n, tc.in, v, used, err, tc.value, tc.used, tc.bad)
		}
		if err != nil && !errors.Is(err, escpos.ErrBadID) {
			t.Errorf("%q: %v is not ErrBadID", tc.in, err)
		}
	}
	long := append([]byte{'_'}, bytes.Repeat([]byte{'x'}, escpos.MaxIDText+1)...)
	if _, used, err := escpos.ParseID(escpos.IDModelName, long); err == nil || used == 0 {
		t.Errorf("an endless name: used %d, %v", used, err)
	}
}

// Every answer IDAnswer makes reads back as itself.
func TestIDAnswerRoundTrip(t *testing.T) {
	for _, n := range []int{escpos.IDModel, escpos.IDType, escpos.IDROM, escpos.IDFirmware, escpos.IDMaker, escpos.IDModelName, escpos.IDSerial} {
		in := []byte("VKP80III")
		if !escpos.IDIsText(n) {
			in = []byte{0x02}
		}
		v, used, err := escpos.ParseID(n, escpos.IDAnswer(n, in))
		if err != nil || !bytes.Equal(v, in) || used != len(escpos.IDAnswer(n, in)) {
			t.Errorf("GS I %d: %q, %d, %v", n, v, used, err)
		}
	}
}

// The parser reads GS I n as the question it is.
func TestParseIDQuery(t *testing.T) {
	ops, err := escpos.Parse(append(escpos.IDQuery(escpos.IDModelName), escpos.Query(1)...))
	if err != nil || len(ops) != 2 || ops[0].Kind != escpos.OpPrinterID || ops[0].N != escpos.IDModelName || ops[1].Kind != escpos.OpStatusQuery {
		t.Fatalf("%+v %v", ops, err)
	}
}

// FuzzParseID: whatever a printer (or the line noise) sends, ParseID never
// panics, never uses more than it was given, and a text value is
// printable.
func FuzzParseID(f *testing.F) {
	for _, seed := range []string{"_TM-T20II\x00", "\x02", "_", "", "\x12\x12", "_a\x01", "_\x00"} {
		f.Add(escpos.IDModelName, []byte(seed))
		f.Add(escpos.IDType, []byte(seed))
	}
	f.Fuzz(func(t *testing.T, n int, b []byte) {
		v, used, err := escpos.ParseID(n, b)
		if used < 0 || used > len(b) {
			t.Fatalf("used %d of %d", used, len(b))
		}
		if err == nil && used == 0 && v != nil {
			t.Fatalf("a value from nothing used")
		}
		if err == nil && escpos.IDIsText(n) {
			for _, c := range v {
				if c < 0x20 || c > 0x7E {
					t.Fatalf("unprintable %#x in %q", c, v)
				}
			}
			if len(v) > escpos.MaxIDText {
				t.Fatalf("value of %d bytes", len(v))
			}
		}
	})
}
