package printer

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/cherga/kiosk/i18n"
	"github.com/cherga/kiosk/link/proto"
	"github.com/cherga/kiosk/printer/escpos"
)

// Block names of a ticket template, in the order a template lists them.
const (
	BlockLogo    = "logo"    // the logo stored in the printer (Template.Logo)
	BlockCentre  = "centre"  // the centre's name, Ukrainian and English
	BlockRule    = "rule"    // a line across the paper
	BlockCaption = "caption" // "Ваш номер / Your number"
	BlockNumber  = "number"  // the ticket number, as large as the paper allows
	BlockService = "service" // the service's name, wrapped between words
	BlockWindow  = "window"  // the windows that serve it, if known
	BlockWait    = "wait"    // people ahead and the estimated wait
	BlockWhen    = "when"    // date and time of issue
	BlockOffline = "offline" // a mark on tickets numbered offline
	BlockQR      = "qr"      // the tracking page's address as a QR code
	BlockFooter  = "footer"  // the footer text
	BlockFeed    = "feed"    // an empty line
)

// BlockNames lists every block a template may use.
var BlockNames = []string{BlockLogo, BlockCentre, BlockRule, BlockCaption, BlockNumber, BlockService,
	BlockWindow, BlockWait, BlockWhen, BlockOffline, BlockQR, BlockFooter, BlockFeed}

// Template is the layout of a ticket: which blocks, in which order.
type Template struct {
	Blocks []string
	// Logo is the key of a logo stored in the printer (FS p), 0 for none.
	Logo int
	// Footer replaces the catalogue's footer when set.
	Footer proto.Text
}

// DefaultTemplate suits 58 and 80 mm paper alike: sizes follow the width.
var DefaultTemplate = Template{Blocks: []string{
	BlockCentre, BlockRule, BlockCaption, BlockNumber, BlockService, BlockWindow, BlockRule,
	BlockWait, BlockWhen, BlockOffline, BlockQR, BlockFooter,
}}

// Check reports a template naming a block this version does not know.
func (t Template) Check() error {
	for _, b := range t.Blocks {
		known := false
		for _, n := range BlockNames {
			known = known || b == n
		}
		if !known {
			return fmt.Errorf("printer: unknown ticket block %q (expected one of %s)", b, strings.Join(BlockNames, ", "))
		}
	}
	return nil
}

// line is one laid-out piece of the ticket, before it meets a printer's
// code pages.
type line struct {
	kind  string // "text", "rule", "feed", "qr", "logo", "codepage" (a code page's table, TestPage)
	text  string
	size  int // width and height multiplier
	bold  bool
	small bool // font B
	align escpos.Align
	wrap  bool
	n     int
	// indent is a list item's hanging indent: the lines it wraps onto
	// start this many columns in.
	indent int
}

// parts wraps l's text into lines of at most cols columns, between words,
// the lines after the first indented by l.indent.
func (l line) parts(cols int) []string {
	if l.indent <= 0 || l.indent > cols/3 {
		return wrapWords(l.text, cols)
	}
	ps := wrapWords(l.text, cols-l.indent)
	pad := strings.Repeat(" ", l.indent)
	for i := 1; i < len(ps); i++ {
		ps[i] = pad + ps[i]
	}
	return ps
}

// layout turns a ticket into lines, for paper of the given font-A columns.
func layout(t *Ticket, tpl Template) []line {
	var out []line
	text := func(s string, size int, bold, small, wrap bool) {
		if s != "" {
			out = append(out, line{kind: "text", text: s, size: size, bold: bold, small: small, align: escpos.Center, wrap: wrap})
		}
	}
	both := func(key string, args ...any) {
		text(i18n.T("uk", key, args...), 1, false, false, true)
		text(i18n.T("en", key, args...), 1, false, true, true)
	}
	if t.Copy {
		text(i18n.Both("ticket.copy"), 2, true, false, true)
	}
	for _, b := range tpl.Blocks {
		switch b {
		case BlockLogo:
			if tpl.Logo > 0 {
				out = append(out, line{kind: "logo", n: tpl.Logo, align: escpos.Center})
			}
		case BlockCentre:
			text(t.Centre.UK, 1, true, false, true)
			text(t.Centre.EN, 1, false, true, true)
		case BlockRule:
			out = append(out, line{kind: "rule"})
		case BlockCaption:
			text(i18n.Both("ticket.your_number"), 1, false, false, true)
		case BlockNumber:
			out = append(out, line{kind: "text", text: t.Number, size: 0, bold: true, align: escpos.Center})
		case BlockService:
			text(t.Service.UK, 1, true, false, true)
			text(t.Service.EN, 1, false, true, true)
		case BlockWindow:
			if len(t.Windows) > 0 {
				key := "ticket.window"
				if len(t.Windows) > 1 {
					key = "ticket.windows"
				}
				both(key, "n", windowRanges(t.Windows))
			}
		case BlockWait:
			both("ticket.ahead", "n", t.Ahead)
			if t.Ahead > 0 {
				both("ticket.wait", "n", t.WaitMin)
			}
		case BlockWhen:
			text(t.IssuedAt.Format("02.01.2006  15:04"), 1, false, false, false)
		case BlockOffline:
			if t.Offline {
				both("ticket.offline")
			}
		case BlockQR:
			if t.TrackURL != "" {
				out = append(out, line{kind: "qr", text: t.TrackURL, align: escpos.Center})
			}
		case BlockFooter:
			if tpl.Footer.UK != "" {
				text(tpl.Footer.UK, 1, false, true, true)
				text(tpl.Footer.EN, 1, false, true, true)
			} else {
				text(i18n.T("uk", "ticket.footer"), 1, false, true, true)
				text(i18n.T("en", "ticket.footer"), 1, false, true, true)
			}
		case BlockFeed:
			out = append(out, line{kind: "feed", n: 1})
		}
	}
	return out
}

// windowRanges writes window numbers compactly: 1–8, 10.
func windowRanges(ws []int) string {
	var parts []string
	for i := 0; i < len(ws); {
		j := i
		for j+1 < len(ws) && ws[j+1] == ws[j]+1 {
			j++
		}
		switch {
		case j == i:
			parts = append(parts, strconv.Itoa(ws[i]))
		case j == i+1:
			parts = append(parts, strconv.Itoa(ws[i]), strconv.Itoa(ws[j]))
		default:
			parts = append(parts, strconv.Itoa(ws[i])+"–"+strconv.Itoa(ws[j]))
		}
		i = j + 1
	}
	return strings.Join(parts, ", ")
}

// wrapWords breaks s into lines of at most cols characters, between words.
// A word longer than a whole line is the only thing ever broken.
func wrapWords(s string, cols int) []string {
	cols = max(cols, 1)
	var out []string
	var cur []rune
	for _, w := range strings.Fields(s) {
		rw := []rune(w)
		if len(cur) > 0 && len(cur)+1+len(rw) <= cols {
			cur = append(append(cur, ' '), rw...)
			continue
		}
		if len(cur) > 0 {
			out = append(out, string(cur))
		}
		for len(rw) > cols {
			out = append(out, string(rw[:cols]))
			rw = rw[cols:]
		}
		cur = append([]rune(nil), rw...)
	}
	if len(cur) > 0 {
		out = append(out, string(cur))
	}
	return out
}
