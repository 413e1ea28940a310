package printer

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/cherga/kiosk/i18n"
	"github.com/cherga/kiosk/printer/escpos"
)

// ErrPaperOut is why a list of documents was not printed when the
// printer has no paper; it comes wrapped with ErrCannotPrint.
var ErrPaperOut = errors.New("printer: paper out")

// DocumentList is the short list of what to bring for one service, which
// a visitor prints at the information terminal before taking a ticket:
// in the one language the visitor reads the page in. It names no visitor.
type DocumentList struct {
	// Lang is "uk" or "en": the captions' language; the texts below are
	// already in it.
	Lang      string
	Centre    string
	Service   string
	Documents []string
	Term      string // empty: not printed
	Cost      string // empty: not printed
	PrintedAt time.Time
}

// documentLayout lays a list out like a ticket (the centre on top, the
// service in bold), the documents numbered and left-aligned, each with a
// hanging indent so a long one reads as one item.
func documentLayout(d *DocumentList) []line {
	lang := d.Lang
	if lang != "en" {
		lang = "uk"
	}
	var out []line
	add := func(s string, bold, small bool, align escpos.Align, indent int) {
		if s != "" {
			out = append(out, line{kind: "text", text: s, size: 1, bold: bold, small: small, align: align, wrap: true, indent: indent})
		}
	}
	add(d.Centre, true, false, escpos.Center, 0)
	out = append(out, line{kind: "rule"})
	add(i18n.T(lang, "documents.title"), false, false, escpos.Center, 0)
	add(d.Service, true, false, escpos.Center, 0)
	out = append(out, line{kind: "rule"})
	for i, doc := range d.Documents {
		n := strconv.Itoa(i+1) + ". "
		add(n+doc, false, false, escpos.Left, len([]rune(n)))
	}
	if d.Term != "" || d.Cost != "" {
		out = append(out, line{kind: "feed", n: 1})
	}
	if d.Term != "" {
		add(i18n.T(lang, "documents.term", "text", d.Term), false, false, escpos.Left, 2)
	}
	if d.Cost != "" {
		add(i18n.T(lang, "documents.cost", "text", d.Cost), false, false, escpos.Left, 2)
	}
	out = append(out, line{kind: "rule"})
	add(i18n.T(lang, "documents.printed", "when", d.PrintedAt.Format("02.01.2006 15:04")), false, true, escpos.Center, 0)
	return out
}

// EncodeDocuments writes d in prof's ESC/POS for paper paperMM wide, by
// the ticket's typeface rules (Encode): the printer's font where its code
// pages hold every line, else every line drawn in the package's typeface.
func EncodeDocuments(d *DocumentList, prof *Profile, paperMM int) (*Job, error) {
	width, err := prof.Width(paperMM)
	if err != nil {
		return nil, err
	}
	return encodeLines(documentLayout(d), prof, width, paperMM)
}

// PrintDocuments prints d and returns once the printer has it all, or why
// not: ErrCannotPrint (with ErrPaperOut when that is why) if nothing was
// sent. A list interrupted halfway is not printed again (unlike a
// ticket): the visitor sees it did not come out and may ask again.
func (p *ESCPOS) PrintDocuments(ctx context.Context, d *DocumentList) error {
	err := p.submit(ctx, &job{list: d, result: make(chan error, 1)})
	if errors.Is(err, ErrCannotPrint) {
		p.mu.Lock()
		out := p.es.PaperOut
		p.mu.Unlock()
		if out {
			return fmt.Errorf("%w: %w", ErrCannotPrint, ErrPaperOut)
		}
	}
	return err
}

// printList prints one list: status first, then the bytes, then status
// again, as for a ticket; its paper is counted against the roll.
func (s *session) printList(d *DocumentList) error {
	return s.printDoc("list of documents", func() (*Job, error) { return EncodeDocuments(d, s.p.cfg.Profile, s.p.cfg.PaperMM) })
}

// printDoc prints one document that is not a ticket (a list of
// documents, a test page), named what in errors.
func (s *session) printDoc(what string, encode func() (*Job, error)) error {
	p := s.p
	if p.watched() {
		if err := s.refresh(); err != nil {
			return err
		}
	}
	p.mu.Lock()
	es, answering, answered := p.es, p.answering, p.answered
	p.mu.Unlock()
	if !es.CanPrint() {
		return fmt.Errorf("%w: %s", ErrCannotPrint, es.Fault())
	}
	if !answering && answered {
		return fmt.Errorf("%w: printer stopped answering", ErrCannotPrint)
	}
	job, err := encode()
	if err != nil {
		return err
	}
	if err := s.write(job.Bytes); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrInterrupted, what, err)
	}
	if p.watched() {
		if err := s.refresh(); err != nil {
			return fmt.Errorf("%w: %s: %v", ErrInterrupted, what, err)
		}
	}
	p.mu.Lock()
	after := p.es
	p.usedMM += int(job.LengthMM + 0.5)
	p.mu.Unlock()
	p.saveState()
	p.changed()
	if after.PaperOut || after.CoverOpen || after.CutterError {
		return fmt.Errorf("%w: %s: %s", ErrInterrupted, what, after.Fault())
	}
	return nil
}

// watched reports whether the printer ever answered a status query on
// this connection: one that never did is not asked again for every job,
// since a one-way link would cost a second's wait each time.
func (p *ESCPOS) watched() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.answered
}
