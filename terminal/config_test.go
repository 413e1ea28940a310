package terminal

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cherga/kiosk/configs"
	"github.com/cherga/kiosk/printer"
)

const minimal = `device_id: kiosk-01
data_dir: /var/lib/kioskd
roles: [kiosk]
server:
  url: ws://127.0.0.1:8090/api/v1/link
`

// The printer's rules, which configs leaves to this package (queued must
// not link the printer), are reported like configs' own: file, line,
// column, key and what was expected.
func TestPrinterConfigErrors(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string // each error, as "line:col: key: substring"
	}{
		{"bad paper", minimal + "kiosk:\n  printer: {paper_mm: 57}\n",
			[]string{`7:23: kiosk.printer.paper_mm: got 57, expected 58 or 80 (the widths profile generic takes)`}},
		{"unknown profile", minimal + "kiosk:\n  printer: {profile: epson-tm-t1000}\n",
			[]string{`7:22: kiosk.printer.profile: got "epson-tm-t1000", expected one of: citizen-ct-s, custom-tg2480`}},
		{"unknown ticket block", minimal + "kiosk:\n  ticket: {blocks: [number, barcode]}\n",
			[]string{`7:29: kiosk.ticket.blocks[1]: got "barcode", expected one of: logo, centre`}},
		{"with configs' own", minimal + "log: {format: xml}\nkiosk:\n  printer: {profile: nope}\n",
			[]string{`6:15: log.format: got "xml"`, `8:22: kiosk.printer.profile: got "nope"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConfig("t.yaml", []byte(tt.yaml))
			var errs configs.Errors
			if !errors.As(err, &errs) {
				t.Fatalf("got %v, want configs.Errors", err)
			}
			if len(errs) != len(tt.want) {
				t.Fatalf("got %d errors, want %d:\n%v", len(errs), len(tt.want), err)
			}
			for i, w := range tt.want {
				if got := errs[i].Error(); !strings.HasPrefix(got, "t.yaml:") || !strings.Contains(got, w) {
					t.Errorf("error %d = %q, want it to contain %q", i, got, w)
				}
			}
		})
	}
}

// A configuration made in code gets the same rules from New.
func TestNewRefusesWhatThePrinterCannotTake(t *testing.T) {
	cfg, err := ParseConfig("min.yaml", []byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	cfg.DataDir = t.TempDir()
	cfg.Kiosk.Printer.Profile = "epson-tm-t1000"
	if _, err := New(cfg, Env{}); err == nil || !strings.Contains(err.Error(), `kiosk.printer.profile: got "epson-tm-t1000"`) {
		t.Errorf("New: %v", err)
	}
}

// configs keeps its own copy of the default ticket layout.
func TestDefaultTicketBlocksArePrinters(t *testing.T) {
	if got := configs.DefaultTerminal().Kiosk.Ticket.Blocks; !slices.Equal(got, printer.DefaultTemplate.Blocks) {
		t.Errorf("configs default blocks %v, printer's %v", got, printer.DefaultTemplate.Blocks)
	}
}

func TestShippedConfigsAreValid(t *testing.T) {
	files, err := filepath.Glob("../configs/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if b := filepath.Base(f); b == "office.yaml" || b == "city.yaml" { // queued's and cityd's, checked in configs
			continue
		}
		if _, err := LoadConfig(f); err != nil {
			t.Error(err)
		}
	}
}
