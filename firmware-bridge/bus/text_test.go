package bus

import (
	"bytes"
	"testing"

	"github.com/cherga/kiosk/firmware-bridge/modbus"
)

func TestEncodeCHG1(t *testing.T) {
	for _, tc := range []struct {
		in   string
		max  int
		want []byte
	}{
		{"А123", 8, []byte{0xC0, '1', '2', '3'}},
		{"Б-12", 8, []byte{0xC1, '-', '1', '2'}},
		{"ҐґЄєІіЇї№", 20, []byte{0xA5, 0xB4, 0xAA, 0xBA, 0xB2, 0xB3, 0xAF, 0xBF, 0xB9}},
		{"яЯ", 8, []byte{0xFF, 0xDF}},
		{"зв’язку", 20, []byte{0xE7, 0xE2, '\'', 0xFF, 0xE7, 0xEA, 0xF3}},
		{"Ω\t€x", 8, []byte{'?', '?', 'x'}},
		{"1234567890", 8, []byte("12345678")},
	} {
		got := EncodeCHG1(tc.in, tc.max)
		if !bytes.Equal(got, tc.want) {
			t.Errorf("%q: % X, want % X", tc.in, got, tc.want)
		}
		if d := DecodeCHG1(tc.want); tc.in != "Ω\t€x" && tc.in != "зв’язку" && tc.in != "1234567890" && d != tc.in {
			t.Errorf("decode % X: %q", tc.want, d)
		}
	}
}

// The call block of PROTOCOL.md's worked frame 10-req: А123, window 3,
// blink 5 s, call id 0x0102.
func TestCallBlockWorkedFrame(t *testing.T) {
	d := &Display{unit: unit{cfg: DeviceConfig{Window: 3}}}
	block := d.callBlock("А123", 5e9, 0x0102)
	pdu, err := modbus.WriteRegisters(wdBlock, block...).AppendPDU(nil)
	if err != nil {
		t.Fatal(err)
	}
	frame := modbus.AppendADU(nil, 1, pdu)
	want := []byte{0x01, 0x10, 0x01, 0x00, 0x00, 0x0C, 0x18, 0x00, 0x01, 0xC0, 0x31, 0x32, 0x33, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0x00, 0x03, 0x00, 0x05, 0x01, 0x02, 0x95, 0x3A}
	if !bytes.Equal(frame, want) {
		t.Errorf("call block frame\n% X\nwant\n% X", frame, want)
	}
}

// The keypad's LCD draws at most 8 characters outside its ROM: lines that
// need more are put in capitals, and what still does not fit is
// transliterated rather than shown as a block.
func TestFitLCD(t *testing.T) {
	a, b := FitLCD("А123 НА ПРИЙОМІ", "ЧЕКАЮТЬ: 7")
	if DecodeCHG1(a) != "А123 НА ПРИЙОМІ" || DecodeCHG1(b) != "ЧЕКАЮТЬ: 7" {
		t.Errorf("text that fits was changed: %q %q", DecodeCHG1(a), DecodeCHG1(b))
	}
	a, b = FitLCD("Вікно 3 закрите", "Увійдіть у систему")
	if DecodeCHG1(a) != "ВІКНО 3 ЗАКРИТЕ" || DecodeCHG1(b) != "УВІЙДІТЬ У СИСТЕМУ" {
		t.Errorf("capitals: %q %q", DecodeCHG1(a), DecodeCHG1(b))
	}
	a, b = FitLCD("А123 обслуговується", "Чекають: 7")
	if n := customNeeded(a, b); n > lcdCustom {
		t.Errorf("%q / %q need %d custom characters", DecodeCHG1(a), DecodeCHG1(b), n)
	}
	if DecodeCHG1(a) != "А123 ОБСЛУГОВУЄТЬСЯ" || DecodeCHG1(b) != "ЧЕКАYТЬ: 7" {
		t.Errorf("transliterated: %q %q", DecodeCHG1(a), DecodeCHG1(b))
	}
}
