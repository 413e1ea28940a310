package alpha

import (
	"fmt"
	"strings"
	"unicode"

	"golang.org/x/text/encoding/charmap"
)

// Charset is what the sign's font can draw.
type Charset string

const (
	// Latin: the sign draws ASCII only (every genuine Alpha sign);
	// Ukrainian is transliterated.
	Latin Charset = "latin"
	// CP1251: a sign whose font holds Cyrillic at the Windows-1251 code
	// points (some clones). It needs a line with 8 data bits.
	CP1251 Charset = "cp1251"
)

// ParseCharset checks a charset's name.
func ParseCharset(s string) (Charset, error) {
	switch c := Charset(s); c {
	case Latin, CP1251:
		return c, nil
	}
	return "", fmt.Errorf("alpha: unknown charset %q, expected latin or cp1251", s)
}

// Encode turns lines into the bytes of a TEXT file: perPage lines to a
// page (joined by the sign's new-line code), pages joined by new-page, at
// most MaxText bytes. Every byte below 20H (which would break the frame)
// is dropped and '~' (a half space on the sign) becomes '-'; a character
// the charset lacks becomes '?'.
func Encode(lines []string, cs Charset, perPage int) []byte {
	if perPage < 1 {
		perPage = 1
	}
	var out []byte
	for i, l := range lines {
		if i > 0 {
			if i%perPage == 0 {
				out = append(out, NewPage)
			} else {
				out = append(out, NewLine)
			}
		}
		out = append(out, encodeLine(l, cs)...)
	}
	if len(out) > MaxText {
		out = out[:MaxText]
	}
	return out
}

// substitutes are typographic characters with a plain stand-in.
var substitutes = map[rune]string{
	'→': ">", '←': "<", '—': "-", '–': "-", '‑': "-", '«': "\"", '»': "\"",
	'“': "\"", '”': "\"", '„': "\"", '№': "N", '\u00a0': " ", '~': "-",
	'’': "'", 'ʼ': "'", // apostrophes (transliteration drops them first)
}

func encodeLine(s string, cs Charset) []byte {
	if cs == Latin {
		s = Transliterate(s)
	}
	var out []byte
	for _, r := range s {
		if sub, ok := substitutes[r]; ok {
			out = append(out, sub...)
			continue
		}
		switch {
		case r < 0x20 || r == 0x7f:
			// control characters would break the frame
		case r < 0x7e:
			out = append(out, byte(r))
		case cs == CP1251:
			if b, ok := charmap.Windows1251.EncodeRune(r); ok && b >= 0xa0 {
				out = append(out, b)
			} else {
				out = append(out, '?')
			}
		default:
			out = append(out, '?')
		}
	}
	return out
}

// Decode is Encode's reverse as far as it goes: the text of a TEXT file
// as lines (pages and lines alike), for the simulated sign.
func Decode(text []byte, cs Charset) []string {
	var lines []string
	var cur strings.Builder
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case c == NewLine || c == NewPage:
			lines = append(lines, cur.String())
			cur.Reset()
		case c < 0x20:
			// a control code; those that take an argument skip it
			switch c {
			case 0x05, 0x06, 0x07, 0x08, 0x0B, 0x10, 0x14, 0x1A, 0x1C, 0x1E, 0x1F:
				i++
			case 0x1D:
				i += 2
			}
		case c < 0x80:
			cur.WriteByte(c)
		case cs == CP1251:
			cur.WriteRune(charmap.Windows1251.DecodeByte(c))
		default:
			cur.WriteRune('?')
		}
	}
	if cur.Len() > 0 || len(lines) > 0 {
		lines = append(lines, cur.String())
	}
	return lines
}

// translit is the national transliteration of Ukrainian (Resolution
// No. 55, 2010), lower case; the letters whose spelling depends on their
// place in the word are in wordStart.
var translit = map[rune]string{
	'а': "a", 'б': "b", 'в': "v", 'г': "h", 'ґ': "g", 'д': "d", 'е': "e",
	'є': "ie", 'ж': "zh", 'з': "z", 'и': "y", 'і': "i", 'ї': "i", 'й': "i",
	'к': "k", 'л': "l", 'м': "m", 'н': "n", 'о': "o", 'п': "p", 'р': "r",
	'с': "s", 'т': "t", 'у': "u", 'ф': "f", 'х': "kh", 'ц': "ts", 'ч': "ch",
	'ш': "sh", 'щ': "shch", 'ь': "", 'ю': "iu", 'я': "ia",
	'\'': "", '’': "", 'ʼ': "",
}

var wordStart = map[rune]string{'є': "ye", 'ї': "yi", 'й': "y", 'ю': "yu", 'я': "ya"}

// Transliterate writes Ukrainian in Latin letters by the national
// transliteration (Київ → Kyiv, Згурівка → Zghurivka); other characters
// pass through. A capital stays a capital: the whole spelling of a letter
// in an all-capitals word (ЩАСТЯ → SHCHASTIA), only its first letter
// otherwise (Щастя → Shchastia).
func Transliterate(s string) string {
	rs := []rune(s)
	var b strings.Builder
	for i, r := range rs {
		lower := unicode.ToLower(r)
		spell, ok := translit[lower]
		if !ok {
			b.WriteRune(r)
			continue
		}
		if (i == 0 || !inWord(rs[i-1])) && wordStart[lower] != "" {
			spell = wordStart[lower]
		}
		if lower == 'г' && i > 0 && unicode.ToLower(rs[i-1]) == 'з' {
			spell = "gh" // зг is zgh, never read as ж
		}
		if r != lower && spell != "" {
			if allCaps(rs, i) {
				spell = strings.ToUpper(spell)
			} else {
				spell = strings.ToUpper(spell[:1]) + spell[1:]
			}
		}
		b.WriteString(spell)
	}
	return b.String()
}

// inWord: a letter or an apostrophe (which sits inside a word: п'ять).
func inWord(r rune) bool {
	return unicode.IsLetter(r) || r == '\'' || r == '’' || r == 'ʼ'
}

// allCaps reports whether the capital at i is part of a word in capitals:
// the next letter is a capital too, or it is the last letter and the one
// before is a capital.
func allCaps(rs []rune, i int) bool {
	if i+1 < len(rs) && unicode.IsLetter(rs[i+1]) {
		return unicode.IsUpper(rs[i+1])
	}
	return i > 0 && unicode.IsUpper(rs[i-1])
}
