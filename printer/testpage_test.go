package printer_test

import (
	"strings"
	"testing"
	"time"

	"github.com/cherga/kiosk/printer"
	"github.com/cherga/kiosk/printer/escpos"
	"github.com/cherga/kiosk/printer/simprinter"
)

// The test page encodes for every profile and paper width, prints as one
// ticket, and its code page table is in the printer's own font: every
// letter of the profile's main page that the Ukrainian alphabet has is
// there as text, whatever else went as images.
func TestEncodeTestPage(t *testing.T) {
	tp := &printer.TestPage{Number: "А123", Version: "kioskctl test", At: time.Date(2026, 12, 2, 9, 30, 0, 0, time.UTC)}
	for _, id := range printer.ProfileIDs() {
		prof, _ := printer.LookupProfile(id)
		for _, w := range prof.PaperWidths() {
			mm := map[string]int{"58": 58, "80": 80}[w]
			job, err := printer.EncodeTestPage(tp, prof, mm)
			if err != nil {
				t.Fatalf("%s %d: %v", id, mm, err)
			}
			if _, err := escpos.Parse(job.Bytes); err != nil {
				t.Errorf("%s %d: %v", id, mm, err)
			}
			imgs, err := simprinter.Render(prof, mm, job.Bytes)
			if err != nil || len(imgs) != 1 {
				t.Errorf("%s %d: %d pictures, %v", id, mm, len(imgs), err)
			}
			paper, _ := simprinter.NewPaper(prof, mm)
			ops, _ := escpos.Parse(job.Bytes)
			for _, op := range ops {
				paper.Apply(op)
			}
			text := paper.Text()
			page := prof.TablePage()
			cp, _ := printer.LookupCodePage(page)
			for _, r := range printer.UkrainianUpper + printer.UkrainianLower {
				if cp.Has(string(r)) && !strings.ContainsRune(text, r) {
					t.Errorf("%s %d: %c is on %s but not in the text", id, mm, r, page)
				}
			}
			if !strings.Contains(text, page+" = ESC t ") {
				t.Errorf("%s %d: no table heading in\n%s", id, mm, text)
			}
		}
	}
}

// A printer's own name finds its profile; the generic ones match nothing.
func TestMatchProfiles(t *testing.T) {
	for name, want := range map[string]string{
		"EPSON TM-T20II": "epson-tm-t20", "CUSTOM VKP80III": "custom-vkp80", "Xprinter XP-80C": "xprinter-80",
		"POS58 Printer": "xprinter-58", "CITIZEN CT-S310II": "citizen-ct-s", "SNBC BTP-R580II": "snbc-btp",
	} {
		if got := printer.MatchProfiles(name); len(got) != 1 || got[0].ID != want {
			t.Errorf("%s: %v, want %s", name, got, want)
		}
	}
	if got := printer.MatchProfiles("Generic ESC/POS printer"); len(got) != 0 {
		t.Errorf("generic: %v", got)
	}
}

func TestPortAt(t *testing.T) {
	for path, want := range map[string]printer.Port{
		"/dev/usb/lp0":  printer.DevicePort{Path: "/dev/usb/lp0"},
		"/dev/ttyUSB0":  printer.SerialPort{Path: "/dev/ttyUSB0", Baud: 9600},
		"10.0.0.5:9100": printer.NetPort{Addr: "10.0.0.5:9100"},
	} {
		if got := printer.PortAt(path, 9600); got != want {
			t.Errorf("%s: %#v", path, got)
		}
	}
}
