package printer

import (
	"context"
	"errors"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/image/font/gofont/goregular"

	"github.com/cherga/kiosk/link/proto"
)

func testTicket() *Ticket {
	return &Ticket{
		Centre:   proto.Text{UK: "Центр надання соціальних послуг «Прозорий офіс»", EN: "Transparent Office social services centre"},
		Number:   "Ґ042",
		Service:  proto.Text{UK: "Пенсія у зв'язку з втратою годувальника", EN: "Survivor's pension"},
		IssuedAt: time.Date(2026, 11, 23, 10, 15, 0, 0, time.UTC),
		Ahead:    4,
		WaitMin:  20,
	}
}

func TestRenderWidths(t *testing.T) {
	for _, tc := range []struct{ mm, dots int }{{80, 576}, {58, 384}} {
		img := Render(testTicket(), tc.mm)
		if img.Bounds().Dx() != tc.dots {
			t.Errorf("%d mm: width %d, want %d dots", tc.mm, img.Bounds().Dx(), tc.dots)
		}
		if h := img.Bounds().Dy(); h < 300 || h > 2000 {
			t.Errorf("%d mm: height %d is not a ticket", tc.mm, h)
		}
		if ink := inked(img, img.Bounds()); ink < 0.03 || ink > 0.4 {
			t.Errorf("%d mm: %.2f of the ticket is black", tc.mm, ink)
		}
	}
}

// inked is the share of black pixels in r.
func inked(img *image.Gray, r image.Rectangle) float64 {
	black := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if img.GrayAt(x, y).Y < 128 {
				black++
			}
		}
	}
	return float64(black) / float64(r.Dx()*r.Dy())
}

func TestWrapKeepsWordsWhole(t *testing.T) {
	f := face(mustParse(goregular.TTF), 26)
	text := "Компенсації та допомоги постраждалим від аварії на Чорнобильській АЕС"
	lines := wrap(f, text, 300)
	if len(lines) < 2 {
		t.Fatalf("not wrapped: %q", lines)
	}
	if strings.Join(lines, " ") != text {
		t.Errorf("words changed: %q", lines)
	}
	// A word wider than the paper is the only thing ever split.
	long := wrap(f, strings.Repeat("Ї", 80), 300)
	if len(long) < 2 || strings.Join(long, "") != strings.Repeat("Ї", 80) {
		t.Errorf("long word: %q", long)
	}
	if got := wrap(f, "Ї", 1); len(got) != 1 {
		t.Errorf("a letter wider than the paper: %q", got)
	}
}

func TestSimPrintsPNG(t *testing.T) {
	dir := t.TempDir()
	p, err := NewSim(dir, 80)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Print(context.Background(), testTicket()); err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(dir, "20261123T101500-Ґ042.png")
	if p.LastPrinted() != want {
		t.Fatalf("printed to %q, want %q", p.LastPrinted(), want)
	}
	f, err := os.Open(want)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil || img.Bounds().Dx() != 576 {
		t.Fatalf("png: %v %v", img.Bounds(), err)
	}
}

func TestSimFaults(t *testing.T) {
	p, err := NewSim(t.TempDir(), 58)
	if err != nil {
		t.Fatal(err)
	}
	p.SetFault(PaperNearEnd)
	if st := p.Status(); st.State != "warning" {
		t.Errorf("near end: %+v", st)
	}
	if err := p.Print(context.Background(), testTicket()); err != nil {
		t.Errorf("near end must still print: %v", err)
	}
	p.SetFault(PaperOut)
	<-p.Changes()
	if err := p.Print(context.Background(), testTicket()); !errors.Is(err, ErrCannotPrint) {
		t.Errorf("paper out printed: %v", err)
	}
	if st := p.Status(); st.State != "fault" || st.Detail != "paper_out" {
		t.Errorf("paper out: %+v", st)
	}
	if _, err := ParseFault("on_fire"); err == nil {
		t.Error("unknown fault accepted")
	}
}

// BenchmarkRender is the simulated printer's cost per ticket.
func BenchmarkRender(b *testing.B) {
	t := testTicket()
	for b.Loop() {
		Render(t, 80)
	}
}
