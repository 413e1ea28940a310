package proto

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestBookingCode(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	b := BookingCode{Service: 42, Slot: 10*60 + 15, Place: 3}
	code := b.Format(key, "office-1", "2026-11-23")
	if len(code) != 14 || code[4] != '-' || code[9] != '-' || !strings.HasPrefix(code, "0421-2303") {
		t.Fatalf("code %q", code)
	}
	for _, in := range []string{code, strings.ReplaceAll(code, "-", ""), " " + strings.ReplaceAll(code, "-", " ") + "\n", "https://book.example/b/" + code, "BK:" + code} {
		digits, err := ParseBookingCode(in)
		if err != nil {
			t.Fatalf("ParseBookingCode(%q): %v", in, err)
		}
		got, err := VerifyBookingCode(key, "office-1", "2026-11-23", digits)
		if err != nil || got != b {
			t.Fatalf("verify %q: %+v %v", in, got, err)
		}
	}
	digits, _ := ParseBookingCode(code)
	kyiv, _ := time.LoadLocation("Europe/Kyiv")
	if st, _ := b.SlotTime("2026-11-23", kyiv); st.Format("2006-01-02 15:04") != "2026-11-23 10:15" {
		t.Errorf("slot time %v", st)
	}
	// Another day, another office, another key, a typo: none verifies.
	for name, err := range map[string]error{
		"day":    second(VerifyBookingCode(key, "office-1", "2026-11-24", digits)),
		"office": second(VerifyBookingCode(key, "office-2", "2026-11-23", digits)),
		"key":    second(VerifyBookingCode([]byte("another key of some length......"), "office-1", "2026-11-23", digits)),
		"typo":   second(VerifyBookingCode(key, "office-1", "2026-11-23", digits[:11]+string('0'+(digits[11]-'0'+1)%10))),
	} {
		if !errors.Is(err, ErrBookingMAC) {
			t.Errorf("%s: %v", name, err)
		}
	}
	for _, bad := range []string{"", "1234", "1234-5678-901x", "000123456789", "001999000000", strings.Repeat("1", 5000)} {
		d, err := ParseBookingCode(bad)
		if err == nil {
			_, err = DecodeBookingCode(d)
		}
		if !errors.Is(err, ErrNotBookingCode) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func second(_ BookingCode, err error) error { return err }

func FuzzParseBookingCode(f *testing.F) {
	f.Add("0421-2303-1234")
	f.Add("https://x/b/0421 2303 1234")
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseBookingCode(s)
		if err != nil {
			return
		}
		if len(d) != BookingCodeDigits || strings.Trim(d, "0123456789") != "" {
			t.Fatalf("%q → %q", s, d)
		}
		_, _ = VerifyBookingCode([]byte("k"), "o", "2026-11-23", d)
	})
}
