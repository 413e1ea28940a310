package bus

import (
	"strings"
	"unicode"

	"golang.org/x/text/encoding/charmap"

	"github.com/cherga/kiosk/display/alpha"
)

// chg1 maps the letters of code page CHG-1 (PROTOCOL.md section 6.3)
// outside ASCII and the two Cyrillic alphabets: Ukrainian letters and №,
// at their Windows-1251 positions.
var chg1 = map[rune]byte{
	'Ґ': 0xA5, 'ґ': 0xB4, 'Є': 0xAA, 'є': 0xBA, 'І': 0xB2, 'і': 0xB3,
	'Ї': 0xAF, 'ї': 0xBF, '№': 0xB9,
}

// substitutes are typographic characters our faces lack, with a plain
// stand-in.
var substitutes = map[rune]byte{
	'’': '\'', 'ʼ': '\'', '‘': '\'', '«': '"', '»': '"', '“': '"', '”': '"', '„': '"',
	'—': '-', '–': '-', '‑': '-', '\u00a0': ' ', '…': '.', '→': '>', '←': '<',
}

// EncodeCHG1 encodes s in code page CHG-1, one byte a character, at most
// max bytes. A character CHG-1 lacks becomes '?' (the device would show a
// box); control characters are dropped.
func EncodeCHG1(s string, max int) []byte {
	out := make([]byte, 0, min(len(s), max))
	for _, r := range s {
		if len(out) >= max {
			break
		}
		switch {
		case r >= 0x20 && r <= 0x7E:
			out = append(out, byte(r))
		case r >= 'А' && r <= 'Я':
			out = append(out, byte(0xC0+r-'А'))
		case r >= 'а' && r <= 'я':
			out = append(out, byte(0xE0+r-'а'))
		case chg1[r] != 0:
			out = append(out, chg1[r])
		case substitutes[r] != 0:
			out = append(out, substitutes[r])
		case r < 0x20 || r == 0x7F || unicode.IsControl(r):
		default:
			out = append(out, '?')
		}
	}
	return out
}

// DecodeCHG1 is EncodeCHG1's reverse, up to the first 0x00; bytes CHG-1
// does not define read as '□'. Tests and the emulator read faces with it.
func DecodeCHG1(b []byte) string {
	var sb strings.Builder
	for _, c := range b {
		switch {
		case c == 0:
			return sb.String()
		case c >= 0x20 && c <= 0x7E:
			sb.WriteByte(c)
		case c >= 0xC0:
			sb.WriteRune(rune(c) - 0xC0 + 'А')
		default:
			r := '□'
			for k, v := range chg1 {
				if v == c {
					r = k
				}
			}
			sb.WriteRune(r)
		}
	}
	return sb.String()
}

// packText puts text bytes into n registers, two a register with the
// first byte in the high byte, zero padded (PROTOCOL.md 6.1).
func packText(b []byte, n int) []uint16 {
	v := make([]uint16, n)
	for i := 0; i < len(b) && i < 2*n; i++ {
		if i%2 == 0 {
			v[i/2] |= uint16(b[i]) << 8
		} else {
			v[i/2] |= uint16(b[i])
		}
	}
	return v
}

// unpackText is packText's reverse.
func unpackText(v []uint16) []byte {
	b := make([]byte, 0, 2*len(v))
	for _, x := range v {
		b = append(b, byte(x>>8), byte(x))
	}
	return b
}

// Encoding is how another maker's display takes characters.
type Encoding string

const (
	// ASCII: Ukrainian letters transliterated (А123 → A123), as the hall's
	// Latin LED boards show them.
	ASCII Encoding = "ascii"
	// CP1251: Windows-1251, for displays with a Cyrillic font.
	CP1251 Encoding = "cp1251"
	// Digits: only the digits of the text (А-123 → 123), for numeric
	// displays.
	Digits Encoding = "digits"
)

// encode gives the bytes of s in e, at most max.
func (e Encoding) encode(s string, max int) []byte {
	var out []byte
	add := func(c byte) bool {
		if len(out) >= max {
			return false
		}
		out = append(out, c)
		return true
	}
	switch e {
	case Digits:
		for _, r := range s {
			if r >= '0' && r <= '9' && !add(byte(r)) {
				break
			}
		}
	case CP1251:
		for _, r := range s {
			var c byte
			switch {
			case r >= 0x20 && r <= 0x7E:
				c = byte(r)
			case substitutes[r] != 0:
				c = substitutes[r]
			case unicode.IsControl(r):
				continue
			default:
				b, ok := charmap.Windows1251.EncodeRune(r)
				if !ok || b < 0xA0 {
					b = '?'
				}
				c = b
			}
			if !add(c) {
				break
			}
		}
	default:
		for _, r := range alpha.Transliterate(s) {
			c := byte('?')
			switch {
			case r >= 0x20 && r <= 0x7E:
				c = byte(r)
			case substitutes[r] != 0:
				c = substitutes[r]
			case unicode.IsControl(r):
				continue
			}
			if !add(c) {
				break
			}
		}
	}
	return out
}

// lcdROM reports whether the keypad's LCD (an HD44780 with the A00
// character ROM) has CHG-1 code c by itself: ASCII but backslash, '~'
// and DEL, and the Cyrillic letters that look like Latin ones. Every other
// character is drawn in one of its 8 custom characters, for both lines
// together; a ninth shows as a block (PROTOCOL.md 7.2).
func lcdROM(c byte) bool {
	if c >= 0x20 && c <= 0x7D && c != 0x5C {
		return true
	}
	switch c {
	case 0xC0, 0xC2, 0xC5, 0xCA, 0xCC, 0xCD, 0xCE, 0xD0, 0xD1, 0xD2, 0xD5, 0xB2, // А В Е К М Н О Р С Т Х І
		0xE0, 0xE5, 0xEE, 0xF0, 0xF1, 0xF3, 0xF5, 0xB3: // а е о р с у х і
		return true
	}
	return false
}

// lcdCustom is how many custom characters the LCD has.
const lcdCustom = 8

// customNeeded counts the distinct characters of lines outside the ROM.
func customNeeded(lines ...[]byte) int {
	seen := map[byte]bool{}
	for _, l := range lines {
		for _, c := range l {
			if !lcdROM(c) {
				seen[c] = true
			}
		}
	}
	return len(seen)
}

// FitLCD encodes two lines for the keypad's LCD so that it can show all
// of them: 20 characters a line in CHG-1, at most 8 distinct characters
// outside its ROM. Lines that need more are written in capitals (most
// Ukrainian capitals have a Latin look-alike in the ROM); if that is not
// enough, the characters beyond the eighth become the first Latin letter
// of their transliteration, so nothing shows as a block.
func FitLCD(line1, line2 string) ([]byte, []byte) {
	a, b := EncodeCHG1(line1, kpLineChars), EncodeCHG1(line2, kpLineChars)
	if customNeeded(a, b) <= lcdCustom {
		return a, b
	}
	a, b = EncodeCHG1(strings.ToUpper(line1), kpLineChars), EncodeCHG1(strings.ToUpper(line2), kpLineChars)
	used := map[byte]bool{}
	for _, l := range [][]byte{a, b} {
		for i, c := range l {
			if lcdROM(c) || used[c] {
				continue
			}
			if len(used) < lcdCustom {
				used[c] = true
				continue
			}
			l[i] = '?'
			if t := alpha.Transliterate(DecodeCHG1([]byte{c})); t != "" && t[0] >= 0x20 && t[0] <= 0x7D && t[0] != 0x5C {
				l[i] = t[0]
			}
		}
	}
	return a, b
}
