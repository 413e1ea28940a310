package emulator

// The code page CHG-1 and UTF-8 text registers (PROTOCOL.md 6.3), decoded
// as the firmware's text.c does: to CHG-1 codes, what the code page lacks
// and every invalid UTF-8 sequence one box.

const chBox = 0x7F // the firmware's box character

func chg1OK(b byte) bool {
	if b >= 0x20 && b <= 0x7E || b >= 0xC0 {
		return true
	}
	switch b {
	case 0xA5, 0xB4, 0xAA, 0xBA, 0xB2, 0xB3, 0xAF, 0xBF, 0xB9:
		return true
	}
	return false
}

var chg1Specials = map[byte]rune{
	0xA5: 'Ґ', 0xB4: 'ґ', 0xAA: 'Є', 0xBA: 'є', 0xB2: 'І', 0xB3: 'і', 0xAF: 'Ї', 0xBF: 'ї', 0xB9: '№',
}

func fromUnicode(u rune) byte {
	if u >= 0x20 && u <= 0x7E {
		return byte(u)
	}
	if u >= 0x0410 && u <= 0x044F {
		return byte(u - 0x0410 + 0xC0)
	}
	for b, r := range chg1Specials {
		if r == u {
			return b
		}
	}
	return chBox
}

// chg1Rune is what a CHG-1 code looks like; the box is U+25A1.
func chg1Rune(c byte) rune {
	switch {
	case c >= 0x20 && c <= 0x7E:
		return rune(c)
	case c >= 0xC0:
		return rune(c-0xC0) + 0x0410
	}
	if r, ok := chg1Specials[c]; ok {
		return r
	}
	return '□'
}

// decodeText turns raw register bytes (ending at the first 0x00) into at
// most max CHG-1 codes; enc 1 is CHG-1, 0 UTF-8.
func decodeText(raw []byte, enc uint16, max int) []byte {
	var out []byte
	for i := 0; i < len(raw) && raw[i] != 0 && len(out) < max; {
		b := raw[i]
		i++
		if enc == 1 {
			if chg1OK(b) {
				out = append(out, b)
			} else {
				out = append(out, chBox)
			}
			continue
		}
		if b < 0x80 {
			out = append(out, fromUnicode(rune(b)))
			continue
		}
		var more int
		var u rune
		switch {
		case b&0xE0 == 0xC0:
			more, u = 1, rune(b&0x1F)
		case b&0xF0 == 0xE0:
			more, u = 2, rune(b&0x0F)
		case b&0xF8 == 0xF0:
			more, u = 3, 0 // beyond U+FFFF: a box
		default:
			out = append(out, chBox)
			continue
		}
		ok := true
		for ; more > 0; more-- {
			if i >= len(raw) || raw[i]&0xC0 != 0x80 {
				ok = false
				break
			}
			u = u<<6 | rune(raw[i]&0x3F)
			i++
		}
		if ok {
			out = append(out, fromUnicode(u))
		} else {
			out = append(out, chBox)
		}
	}
	return out
}

func codesString(c []byte) string {
	r := make([]rune, len(c))
	for i, b := range c {
		r[i] = chg1Rune(b)
	}
	return string(r)
}

// lcdString is what the keypad's HD44780 shows for CHG-1 codes: its A00
// ROM has ASCII and a few Cyrillic look-alikes; the other characters are
// drawn in its 8 custom characters, and beyond 8 distinct ones a block
// (as the firmware's keypad.c composes a line).
func lcdLines(lines [2][]byte) [2]string {
	var out [2]string
	var custom []byte
	for l, codes := range lines {
		r := make([]rune, 0, 20)
		for i := range 20 {
			c := byte(' ')
			if i < len(codes) {
				c = codes[i]
			}
			if romChar(c) {
				r = append(r, chg1Rune(c))
				continue
			}
			found := false
			for _, x := range custom {
				found = found || x == c
			}
			if !found && len(custom) < 8 {
				custom = append(custom, c)
				found = true
			}
			if found {
				r = append(r, chg1Rune(c))
			} else {
				r = append(r, '█')
			}
		}
		out[l] = string(r)
	}
	return out
}

// romChar: the HD44780 A00 ROM has this character (ASCII but backslash
// and the last two, and Cyrillic letters that look like Latin ones).
func romChar(c byte) bool {
	if c >= 0x20 && c <= 0x7D && c != 0x5C {
		return true
	}
	switch c {
	case 0xC0, 0xC2, 0xC5, 0xCA, 0xCC, 0xCD, 0xCE, 0xD0, 0xD1, 0xD2, 0xD5, 0xB2,
		0xE0, 0xE5, 0xEE, 0xF0, 0xF1, 0xF3, 0xF5, 0xB3:
		return true
	}
	return false
}
