package printer_test

import (
	"image"
	"slices"
	"testing"
	"time"

	"github.com/cherga/kiosk/configs"
	"github.com/cherga/kiosk/i18n"
	"github.com/cherga/kiosk/link/proto"
	"github.com/cherga/kiosk/printer"
	"github.com/cherga/kiosk/printer/escpos"
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

// numberHeightMM prints the ticket by tpl on the simulated printer and
// measures its number's ink, top to bottom, in millimetres at the
// printer's resolution, and says how the number went: as user-defined
// characters (ESC &) or not (an image), and whether the ticket has lines
// of the printer's font above the number. The number is the tallest band
// of ink on a ticket without a QR code.
func numberHeightMM(t *testing.T, prof *printer.Profile, paperMM int, tk *printer.Ticket, tpl printer.Template) (mm float64, userChars, text bool) {
	t.Helper()
	job, err := printer.Encode(tk, tpl, prof, paperMM)
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
	ops, _ := escpos.Parse(job.Bytes)
	for _, op := range ops {
		userChars = userChars || op.Kind == escpos.OpDefineChars
		text = text || op.Kind == escpos.OpText && !userChars
	}
	return float64(tallest) / prof.DotsPerMM(), userChars, text
}

// The ticket number's ink, measured in the simulated printer's picture of
// the exact bytes at the printer's resolution, is at least NumberMM tall
// (15 mm on 80 mm paper, 12 mm on 58 mm) on every profile and paper width,
// with no exception: for the golden ticket's number, every group's first
// number of the shipped office, a four-digit number, numbers of only
// flat-topped glyphs (П777, the 14 mm of the printer's font at GS ! 8×8),
// a tail below the line (Щ, Д) and marks above (Ї, Й). Each goes twice:
// on the whole ticket, all images where a line is in no page of the
// printer, and on a short one (caption, number, time) that a PC866 printer
// prints as text, where the number is user-defined characters on a
// printer that takes them and an image on one that may not.
func TestTicketNumberHeight(t *testing.T) {
	office, err := configs.LoadOffice("../configs/office.yaml")
	if err != nil {
		t.Fatal(err)
	}
	numbers := []string{"П042", "Ж1234", "П777", "Т111", "Щ908", "Ї357", "Й246"}
	for _, g := range office.Groups {
		numbers = append(numbers, g.Prefix+"001")
	}
	var full []string
	for _, b := range printer.DefaultTemplate.Blocks {
		if b != printer.BlockQR {
			full = append(full, b)
		}
	}
	templates := map[string]printer.Template{
		"full":  {Blocks: full},
		"short": {Blocks: []string{printer.BlockCaption, printer.BlockNumber, printer.BlockWhen}},
	}
	for _, id := range printer.ProfileIDs() {
		prof, _ := printer.LookupProfile(id)
		for _, mm := range prof.PaperWidths() {
			paper := map[string]int{"58": 58, "80": 80}[mm]
			for name, tpl := range templates {
				lowest, at, golden := 1000.0, "", 0.0
				// The caption is the first line: in a page of the printer,
				// the ticket is text.
				_, _, wantText := prof.EncodeLine(i18n.Both("ticket.your_number"))
				wantText = wantText && name == "short"
				for _, n := range numbers {
					got, user, text := numberHeightMM(t, prof, paper, fullTicket(n), tpl)
					if n == "П042" {
						golden = got
					}
					if want := printer.NumberMM(paper); got < want {
						t.Errorf("%s %s mm, %s ticket: %s is %.1f mm tall, want %.1f", id, mm, name, n, got, want)
					}
					if text != wantText && name == "short" {
						t.Errorf("%s %s mm, %s ticket: text %v, want %v", id, mm, name, text, wantText)
					}
					if user != (prof.UserChars && text) {
						t.Errorf("%s %s mm, %s ticket: %s in user-defined characters %v (profile: %v, text: %v)", id, mm, name, n, user, prof.UserChars, text)
					}
					if got < lowest {
						lowest, at = got, n
					}
				}
				how := "a ticket of images"
				if _, user, text := numberHeightMM(t, prof, paper, fullTicket("П042"), tpl); user {
					how = "user-defined characters"
				} else if text {
					how = "an image among text"
				}
				t.Logf("%s %s mm, %s ticket: П042 %.1f mm (%s); lowest %.1f mm (%s)", id, mm, name, golden, how, lowest, at)
			}
		}
	}
}
