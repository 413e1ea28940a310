package printer

import "testing"

// The Ukrainian letters' bytes, from the CP1125 and CP866 tables (checked
// against CPython's codecs).
func TestUkrainianLettersInPages(t *testing.T) {
	tests := []struct {
		page string
		text string
		want []byte
	}{
		{"cp1125", "ҐґЄєІіЇї", []byte{0xF2, 0xF3, 0xF4, 0xF5, 0xF6, 0xF7, 0xF8, 0xF9}},
		{"cp866", "ЄєЇї", []byte{0xF2, 0xF3, 0xF4, 0xF5}},
		{"wpc1251", "ҐґЄєІіЇї", []byte{0xA5, 0xB4, 0xAA, 0xBA, 0xB2, 0xB3, 0xAF, 0xBF}},
		{"cp1125", "Аяр№", []byte{0x80, 0xEF, 0xE0, 0xFC}},
	}
	for _, tt := range tests {
		cp, _ := LookupCodePage(tt.page)
		b, ok := cp.Encode(tt.text)
		if !ok || string(b) != string(tt.want) || cp.Decode(b) != tt.text {
			t.Errorf("%s %q: % x %v, want % x", tt.page, tt.text, b, ok, tt.want)
		}
	}
	cp866, _ := LookupCodePage("cp866")
	for _, r := range "ІіҐґ" {
		if cp866.Has(string(r)) {
			t.Errorf("CP866 claims to have %c", r)
		}
	}
	cp1125, _ := LookupCodePage("cp1125")
	for b := 0x20; b < 0x100; b++ {
		if b == 0x7F {
			continue
		}
		r := cp1125.Decode([]byte{byte(b)})
		if e, ok := cp1125.Encode(r); !ok || e[0] != byte(b) {
			t.Errorf("cp1125 %#02x: %q does not come back (% x)", b, r, e)
		}
	}
}
