package printer_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cherga/kiosk/printer"
	"github.com/cherga/kiosk/printer/escpos"
	"github.com/cherga/kiosk/printer/simprinter"
)

// documentList is a long list, as the shipped catalogue's longest has.
func documentList(lang string) *printer.DocumentList {
	d := &printer.DocumentList{Lang: lang, PrintedAt: time.Date(2026, 11, 23, 10, 15, 0, 0, time.UTC)}
	if lang == "en" {
		d.Centre, d.Service, d.Term, d.Cost = "Transparent Office social services centre", "Housing subsidy application",
			"up to 10 working days", "free of charge"
		d.Documents = []string{"Application (the administrator gives you the form; fill it in at the centre)",
			"Passport of a citizen of Ukraine (ID card or passport booklet)", "Residential lease agreement (for tenants)"}
		return d
	}
	d.Centre, d.Service, d.Term, d.Cost = "Центр надання соціальних послуг «Прозорий офіс»", "Призначення житлової субсидії",
		"до 10 робочих днів", "безоплатно"
	d.Documents = []string{"Заява (бланк видає адміністратор; заповнюється в центрі)",
		"Паспорт громадянина України (ID-картка або паспорт-книжечка)",
		"Реєстраційний номер облікової картки платника податків (РНОКПП)",
		"Договір найму (оренди) житла (для тих, хто орендує)",
		"Реквізити власного банківського рахунку (IBAN) для виплати"}
	return d
}

// A list of documents follows the ticket's typeface rules on every
// printer: all in the printer's font where its code pages hold every line,
// else every line drawn in the package's typeface, never the two mixed;
// its items are numbered, and an item wrapped onto more lines is indented
// under its first.
func TestDocumentListTypeface(t *testing.T) {
	fallback := map[string]bool{"generic": true, "generic-oneway": true, "citizen-ct-s": true,
		"custom-vkp80": true, "custom-tg2480": true, "snbc-btp": true}
	for _, id := range printer.ProfileIDs() {
		prof, _ := printer.LookupProfile(id)
		for _, mm := range prof.PaperWidths() {
			paper := map[string]int{"58": 58, "80": 80}[mm]
			width, _ := prof.Width(paper)
			job, err := printer.EncodeDocuments(documentList("uk"), prof, paper)
			if err != nil {
				t.Fatal(err)
			}
			ops, err := escpos.Parse(job.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			var texts []string
			rasters := 0
			for _, op := range ops {
				switch op.Kind {
				case escpos.OpText:
					texts = append(texts, string(op.Data))
				case escpos.OpRaster:
					rasters++
				}
			}
			if fallback[id] {
				if len(texts) > 0 || rasters == 0 {
					t.Errorf("%s %s mm: %d lines in the printer's font, %d images; want images only", id, mm, len(texts), rasters)
				}
				continue
			}
			if rasters > 0 || job.RasterBytes > 0 {
				t.Errorf("%s %s mm: %d images in a list the printer's pages hold", id, mm, rasters)
			}
			// Text is in the printer's code page; item lines are ASCII
			// digits or spaces where the layout put them.
			items, hanging := 0, 0
			for _, s := range texts {
				if len(s) > printer.Columns(width) {
					t.Errorf("%s %s mm: line of %d bytes on %d columns: %q", id, mm, len(s), printer.Columns(width), s)
				}
				if len(s) > 3 && s[0] >= '1' && s[0] <= '9' && s[1] == '.' && s[2] == ' ' {
					items++
				}
				if strings.HasPrefix(s, "   ") {
					hanging++
				}
			}
			if items != 5 || hanging == 0 {
				t.Errorf("%s %s mm: %d numbered items (want 5), %d indented continuation lines", id, mm, items, hanging)
			}
		}
	}
}

// The simulated printer prints the list: its picture is written where
// the technician looks (var/artefacts/printer), in both languages, on a
// printer that holds Cyrillic and on one that draws it.
func TestDocumentListPicture(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "var", "artefacts", "printer")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		profile string
		paper   int
		lang    string
	}{{"epson-tm-t20", 80, "uk"}, {"epson-tm-t20", 80, "en"}, {"custom-vkp80", 80, "uk"}, {"xprinter-58", 58, "uk"}} {
		prof, _ := printer.LookupProfile(c.profile)
		job, err := printer.EncodeDocuments(documentList(c.lang), prof, c.paper)
		if err != nil {
			t.Fatal(err)
		}
		pics, err := simprinter.Render(prof, c.paper, job.Bytes)
		if err != nil || len(pics) != 1 {
			t.Fatalf("%s: %d pictures, %v; want one, cut once", c.profile, len(pics), err)
		}
		b := pics[0].Bounds()
		if mm := float64(b.Dy()) / prof.DotsPerMM(); mm < 40 || mm > 250 {
			t.Errorf("%s %s: the list is %.0f mm long", c.profile, c.lang, mm)
		}
		path := filepath.Join(dir, "documents-"+c.profile+"-"+c.lang+".png")
		if err := simprinter.WritePNG(path, pics[0]); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s %d mm %s: %d bytes, %.0f mm of paper: %s", c.profile, c.paper, c.lang, len(job.Bytes), job.LengthMM, path)
	}
}
