package simprinter

import (
	"testing"

	"github.com/cherga/kiosk/printer"
	"github.com/cherga/kiosk/printer/escpos"
)

// A user-defined character prints its own dots, each a block of GS ! w × h
// printer dots, in font A's 12 × 24 cell; it prints only while ESC % 1 is
// in force, is forgotten at ESC @ and deleted by ESC ?; a code with no
// character defined prints the page's letter. Font B has its own
// characters, in a 9 × 17 cell.
func TestUserDefinedCharacters(t *testing.T) {
	prof, _ := printer.LookupProfile("epson-tm-t20")
	// A bar in column 0 from row 0 to 23, and one dot at column 11, row 3.
	bar := escpos.UserChar{Width: 12, Data: make([]byte, 36)}
	bar.Data[0], bar.Data[1], bar.Data[2] = 0xFF, 0xFF, 0xFF
	bar.Data[33] = 0x10
	job := func(f func(w *escpos.Writer)) *Paper {
		w := &escpos.Writer{}
		w.Init()
		f(w)
		if w.Err() != nil {
			t.Fatal(w.Err())
		}
		p, _ := NewPaper(prof, 80)
		ops, err := escpos.Parse(w.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		for _, op := range ops {
			p.Apply(op)
		}
		p.flush()
		return p
	}
	ink := func(p *Paper) (n int) {
		for _, v := range p.dots {
			if v == 0 {
				n++
			}
		}
		return n
	}

	p := job(func(w *escpos.Writer) {
		w.DefineUserChars('!', []escpos.UserChar{bar}).UserChars(true).Size(2, 3).Text([]byte("!")).LF()
	})
	img := p.rowsImage(0)
	// Line of 3 × 24 + 6 dots, the character's 36 × 72 at its bottom less 3.
	top := img.Rect.Dy() - 3 - 72
	for y := 0; y < 72; y++ {
		for x := 0; x < 2; x++ {
			if img.Pix[(top+y)*img.Stride+x] != 0 {
				t.Fatalf("bar missing at %d,%d", x, top+y)
			}
		}
	}
	if img.Pix[(top+9)*img.Stride+22] != 0 || img.Pix[(top+9)*img.Stride+23] != 0 || img.Pix[(top+8)*img.Stride+22] == 0 {
		t.Error("the dot at column 11, row 3 is not a 2 × 3 block at 22, 9")
	}
	if got := ink(p); got != 2*72+2*3 {
		t.Errorf("%d dots of ink, want %d", got, 2*72+2*3)
	}

	if p := job(func(w *escpos.Writer) { w.DefineUserChars('!', []escpos.UserChar{bar}).Text([]byte("!")).LF() }); p.Text() != "!" {
		t.Errorf("without ESC %% 1: %q", p.Text())
	}
	noBar := func(name string, f func(w *escpos.Writer)) {
		p := job(f)
		img := p.rowsImage(0)
		for y := 0; y < img.Rect.Dy(); y++ {
			if img.Pix[y*img.Stride] == 0 {
				t.Errorf("%s: the user-defined character printed", name)
				return
			}
		}
	}
	noBar("ESC % 0", func(w *escpos.Writer) {
		w.DefineUserChars('!', []escpos.UserChar{bar}).UserChars(true).UserChars(false).Text([]byte("!")).LF()
	})
	noBar("ESC @", func(w *escpos.Writer) {
		w.DefineUserChars('!', []escpos.UserChar{bar}).Init().UserChars(true).Text([]byte("!")).LF()
	})
	noBar("ESC ?", func(w *escpos.Writer) {
		w.DefineUserChars('!', []escpos.UserChar{bar}).Text([]byte{escpos.ESC, '?', '!'}).UserChars(true).Text([]byte("!")).LF()
	})
	noBar("font B", func(w *escpos.Writer) {
		w.DefineUserChars('!', []escpos.UserChar{bar}).UserChars(true).FontB(true).Text([]byte("!")).LF()
	})
	// Defined in font B, the character keeps 17 of its 24 rows.
	p = job(func(w *escpos.Writer) {
		w.FontB(true).DefineUserChars('!', []escpos.UserChar{{Width: 1, Data: []byte{0xFF, 0xFF, 0xFF}}}).UserChars(true).Text([]byte("!")).LF()
	})
	if got := ink(p); got != 17 {
		t.Errorf("font B: %d dots of ink, want 17", got)
	}
	// Wider than font B's 9 dots: the command is cancelled.
	noBar("12 dots in font B", func(w *escpos.Writer) {
		w.FontB(true).DefineUserChars('!', []escpos.UserChar{bar}).UserChars(true).Text([]byte("!")).LF()
	})
}

// The printer package's number glyphs read back as the letters and digits
// they draw, so the simulated printer's headline is the ticket number; an
// unknown character reads as U+FFFD, and a code left undefined as the
// page's letter.
func TestUserCharsReadBack(t *testing.T) {
	prof, _ := printer.LookupProfile("xprinter-80")
	for _, n := range []string{"П042", "Ж1234", "Ї357", "Щ908", "А001", "Ґ999"} {
		tk := ticket()
		tk.Number = n
		job, err := printer.Encode(tk, printer.DefaultTemplate, prof, 80)
		if err != nil {
			t.Fatal(err)
		}
		p, _ := NewPaper(prof, 80)
		ops, _ := escpos.Parse(job.Bytes)
		defined := false
		for _, op := range ops {
			defined = defined || op.Kind == escpos.OpDefineChars
			p.Apply(op)
		}
		p.flush()
		if !defined || p.Headline() != n {
			t.Errorf("%s read back as %q (user-defined characters: %v)", n, p.Headline(), defined)
		}
	}
	odd := escpos.UserChar{Width: 1, Data: []byte{0xAA, 0x55, 0xAA}}
	if got := readUserChars("AB", []byte("AB"), map[byte]escpos.UserChar{'A': odd}); got != "\uFFFDB" {
		t.Errorf("read %q", got)
	}
}
