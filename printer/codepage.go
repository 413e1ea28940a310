package printer

import (
	"sort"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// CodePage is one of a printer's character tables: 256 bytes, each a
// character. Printers number their tables differently (ESC t n); the
// profiles say which number means which table.
type CodePage struct {
	Name string
	dec  [256]rune
	enc  map[rune]byte
}

func newCodePage(name string, decode func(b byte) rune) *CodePage {
	cp := &CodePage{Name: name, enc: map[rune]byte{}}
	for i := 0; i < 256; i++ {
		r := decode(byte(i))
		cp.dec[i] = r
		if r != utf8.RuneError && i >= 0x20 && i != 0x7F {
			if _, dup := cp.enc[r]; !dup {
				cp.enc[r] = byte(i)
			}
		}
	}
	return cp
}

// Encode converts s to the page's bytes. ok is false if some character is
// not on the page; nothing is ever substituted.
func (cp *CodePage) Encode(s string) (b []byte, ok bool) {
	b = make([]byte, 0, len(s))
	for _, r := range s {
		c, found := cp.enc[r]
		if !found {
			return nil, false
		}
		b = append(b, c)
	}
	return b, true
}

// Has reports whether every character of s is on the page.
func (cp *CodePage) Has(s string) bool {
	for _, r := range s {
		if _, ok := cp.enc[r]; !ok {
			return false
		}
	}
	return true
}

// Decode converts the page's bytes back to text, as a printer would
// print them.
func (cp *CodePage) Decode(b []byte) string {
	out := make([]rune, len(b))
	for i, c := range b {
		out[i] = cp.dec[c]
	}
	return string(out)
}

// cp1125 is the Ukrainian DOS page (RST 2018-91): CP866 but for
// 0xF2-0xF9, which hold Ґ ґ Є є І і Ї ї. golang.org/x/text has no table
// for it; the mapping was checked against CPython's cp1125 codec and glibc
// iconv.
var cp1125Top = [16]rune{
	'Ё', 'ё', 'Ґ', 'ґ', 'Є', 'є', 'І', 'і', 'Ї', 'ї', '·', '√', '№', '¤', '■', '\u00A0',
}

// The pages the profiles refer to, by name.
var codePages = func() map[string]*CodePage {
	ascii := func(b byte) rune {
		if b < 0x80 {
			return rune(b)
		}
		return utf8.RuneError
	}
	pages := map[string]*CodePage{
		"ascii":     newCodePage("ascii", ascii),
		"cp437":     newCodePage("cp437", charmap.CodePage437.DecodeByte),
		"cp866":     newCodePage("cp866", charmap.CodePage866.DecodeByte),
		"cp855":     newCodePage("cp855", charmap.CodePage855.DecodeByte),
		"wpc1251":   newCodePage("wpc1251", charmap.Windows1251.DecodeByte),
		"iso8859-5": newCodePage("iso8859-5", charmap.ISO8859_5.DecodeByte),
		"cp1125": newCodePage("cp1125", func(b byte) rune {
			if b >= 0xF0 {
				return cp1125Top[b-0xF0]
			}
			return charmap.CodePage866.DecodeByte(b)
		}),
	}
	return pages
}()

// CodePageNames lists the pages this package knows.
func CodePageNames() []string {
	names := make([]string, 0, len(codePages))
	for n := range codePages {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// LookupCodePage returns a page by name.
func LookupCodePage(name string) (*CodePage, bool) {
	cp, ok := codePages[name]
	return cp, ok
}
