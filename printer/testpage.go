package printer

import (
	"context"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/cherga/kiosk/i18n"
	"github.com/cherga/kiosk/printer/escpos"
)

// The Ukrainian alphabet, as the test page prints it.
const (
	UkrainianUpper = "АБВГҐДЕЄЖЗИІЇЙКЛМНОПРСТУФХЦЧШЩЬЮЯ"
	UkrainianLower = "абвгґдеєжзиіїйклмнопрстуфхцчшщьюя"
)

// TestPage is the technician's test ticket (kioskctl printer test): a
// ticket number the way tickets print it, the Ukrainian alphabet with the
// apostrophe and the numero sign, digits and punctuation, all by the
// ticket's typeface rules (Encode); then the table of the profile's main
// code page, rows 0x80 to 0xFF, always in the printer's own font, so a
// wrong ESC t number in the profile shows as wrong letters; then what was
// tested and when.
type TestPage struct {
	Number  string // a ticket number, like А123
	Version string // of the program that prints it
	At      time.Time
}

// TablePage is the code page whose table the test page prints for prof:
// the first page it prefers that has an ESC t number; "" for none.
func (p *Profile) TablePage() string {
	for _, name := range p.Prefer {
		if _, ok := p.CodePages[name]; ok && name != "ascii" {
			return name
		}
	}
	return ""
}

func testPageLayout(tp *TestPage, prof *Profile, paperMM int) []line {
	var out []line
	text := func(s string, bold, small bool, align escpos.Align) {
		out = append(out, line{kind: "text", text: s, size: 1, bold: bold, small: small, align: align, wrap: true})
	}
	text(i18n.Both("printer.test.title"), true, false, escpos.Center)
	out = append(out, line{kind: "text", text: tp.Number, size: 0, bold: true, align: escpos.Center})
	out = append(out, line{kind: "rule"})
	text(UkrainianUpper, false, false, escpos.Left)
	text(UkrainianLower, false, false, escpos.Left)
	text("’ № «» – —", false, false, escpos.Left)
	text("0123456789", false, false, escpos.Left)
	text(`. , : ; ! ? - ( ) [ ] " ' / \ + * = % # @ & _`, false, false, escpos.Left)
	if page := prof.TablePage(); page != "" {
		out = append(out, line{kind: "rule"}, line{kind: "codepage", text: page})
	}
	out = append(out, line{kind: "rule"})
	text(fmt.Sprintf("%s (%s), %d mm", prof.ID, prof.Name, paperMM), false, true, escpos.Left)
	text(fmt.Sprintf("%s, %s", tp.Version, tp.At.Format("02.01.2006 15:04")), false, true, escpos.Left)
	return out
}

// EncodeTestPage writes tp in prof's ESC/POS for paper paperMM wide, cut
// at the end.
func EncodeTestPage(tp *TestPage, prof *Profile, paperMM int) (*Job, error) {
	width, err := prof.Width(paperMM)
	if err != nil {
		return nil, err
	}
	return encodeLines(testPageLayout(tp, prof, paperMM), prof, width, paperMM)
}

// codePageTable prints the upper half of a code page in the printer's
// font, selected by its ESC t number: a heading, a row of column digits,
// and rows 8x to Fx.
func (e *encoder) codePageTable(name string) {
	n, ok := e.prof.CodePages[name]
	cp := codePages[name]
	if !ok || cp == nil {
		return
	}
	e.style(escpos.Left, false, false, 1, 1)
	e.w.CodePage(byte(n))
	e.page = n
	spaced := Columns(e.width) >= 3+32
	row := func(label string, cells func(i int) []byte) {
		b := []byte(label)
		for i := range 16 {
			if spaced {
				b = append(b, ' ')
			}
			b = append(b, cells(i)...)
		}
		e.w.Text(b).LF()
		e.height += lineDots
	}
	e.w.Text([]byte(fmt.Sprintf("%s = ESC t %d", name, n))).LF()
	e.height += lineDots
	row("  ", func(i int) []byte { return []byte{"0123456789ABCDEF"[i]} })
	for hi := 0x8; hi <= 0xF; hi++ {
		row(fmt.Sprintf("%X_", hi), func(i int) []byte {
			c := byte(hi<<4 | i)
			if cp.dec[c] == utf8.RuneError {
				return []byte{'?'} // not on the page: nothing to see
			}
			return []byte{c}
		})
	}
}

// PrintTestPage prints tp and returns once the printer has it all, or
// why not, as PrintDocuments does.
func (p *ESCPOS) PrintTestPage(ctx context.Context, tp *TestPage) error {
	return p.submit(ctx, &job{page: tp, result: make(chan error, 1)})
}
