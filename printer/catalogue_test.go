package printer_test

import (
	"testing"
	"time"

	"github.com/cherga/kiosk/configs"
	"github.com/cherga/kiosk/link/proto"
	"github.com/cherga/kiosk/printer"
)

func sampleTicket() *printer.Ticket {
	return &printer.Ticket{
		Centre: proto.Text{UK: "Прозорий офіс", EN: "Transparent Office"}, Number: "Ґ001",
		Service: proto.Text{UK: "Пільги", EN: "Benefits"}, IssuedAt: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC),
		TrackURL: "https://q.example/t/1",
	}
}

const alphabet = "АБВГҐДЕЄЖЗИІЇЙКЛМНОПРСТУФХЦЧШЩЬЮЯабвгґдеєжзиіїйклмнопрстуфхцчшщьюя'"

// Every Ukrainian letter, and every text of the shipped catalogue, comes
// out right on every profile: in a code page that holds it exactly, or as
// an image. No letter is ever swapped for a look-alike.
func TestEveryTextOnEveryProfile(t *testing.T) {
	office, err := configs.LoadOffice("../configs/office.yaml")
	if err != nil {
		t.Fatal(err)
	}
	texts := []string{office.Name.UK, office.Name.EN}
	for _, r := range alphabet {
		texts = append(texts, string(r))
	}
	for _, g := range office.Groups {
		texts = append(texts, g.Name.UK, g.Name.EN, g.Prefix)
	}
	for _, s := range office.Services {
		texts = append(texts, s.Name.UK, s.Name.EN)
	}
	for _, id := range printer.ProfileIDs() {
		prof, _ := printer.LookupProfile(id)
		native := 0
		for _, s := range texts {
			page, b, ok := prof.EncodeLine(s)
			if !ok {
				continue // an image of the text: exact by construction
			}
			native++
			cp, _ := printer.LookupCodePage(page)
			if got := cp.Decode(b); got != s {
				t.Errorf("%s: %q prints as %q", id, s, got)
			}
		}
		// The whole ticket encodes on every width the model takes.
		for _, mm := range prof.PaperWidths() {
			paper := map[string]int{"58": 58, "80": 80}[mm]
			if _, err := printer.Encode(sampleTicket(), printer.DefaultTemplate, prof, paper); err != nil {
				t.Errorf("%s %s mm: %v", id, mm, err)
			}
		}
		t.Logf("%s: %d of %d texts in the printer's own font", id, native, len(texts))
	}
}
