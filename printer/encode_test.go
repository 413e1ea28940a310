package printer

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/boombuler/barcode/qr"

	"github.com/cherga/kiosk/link/proto"
	"github.com/cherga/kiosk/printer/escpos"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func testTicket() *Ticket {
	kyiv, _ := time.LoadLocation("Europe/Kyiv")
	return &Ticket{
		Centre:   proto.Text{UK: "Центр надання соціальних послуг «Прозорий офіс»", EN: "Transparent Office social services centre"},
		Number:   "П042",
		Service:  proto.Text{UK: "Пенсія у зв'язку з втратою годувальника", EN: "Survivor's pension"},
		IssuedAt: time.Date(2026, 11, 23, 10, 15, 0, 0, kyiv),
		Ahead:    4,
		WaitMin:  8,
		Windows:  []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10},
		TrackURL: "https://queue.office.example/t/2026-11-23/%D0%9F042",
	}
}

// The exact bytes of the test ticket for every profile and paper width.
// Run with -update after an intended change, and look at the diff.
func TestGolden(t *testing.T) {
	for _, id := range ProfileIDs() {
		prof, _ := LookupProfile(id)
		for _, mm := range prof.PaperWidths() {
			paper := map[string]int{"58": 58, "80": 80}[mm]
			job, err := Encode(testTicket(), DefaultTemplate, prof, paper)
			if err != nil {
				t.Fatalf("%s: %v", id, err)
			}
			path := filepath.Join("testdata", id+"-"+mm+".bin")
			if *update {
				if err := os.WriteFile(path, job.Bytes, 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./printer -update)", err)
			}
			if !bytes.Equal(job.Bytes, want) {
				t.Errorf("%s: %d bytes differ from %s (%d bytes)", id, len(job.Bytes), path, len(want))
			}
		}
	}
}

// A ticket on a printer with Ukrainian code pages and its own QR encoder
// fits in 600 bytes (under 0.65 s on the wire at 9600 baud), its number
// at the printer's largest character size included, with no images.
func TestTicketIsSmall(t *testing.T) {
	for _, id := range []string{"epson-tm-t20", "epson-tm-t88", "xprinter-80"} {
		prof, _ := LookupProfile(id)
		for _, mm := range prof.PaperWidths() {
			paper := map[string]int{"58": 58, "80": 80}[mm]
			job, err := Encode(testTicket(), DefaultTemplate, prof, paper)
			if err != nil {
				t.Fatal(err)
			}
			if len(job.Bytes) > 600 || job.RasterBytes != 0 {
				t.Errorf("%s %s mm: %d bytes, %d of them images", id, mm, len(job.Bytes), job.RasterBytes)
			}
			t.Logf("%s %s mm: %d bytes", id, mm, len(job.Bytes))
		}
	}
}

// A ticket with a line no code page of the printer holds is images from
// top to bottom, every line drawn in the package's one typeface: no line
// in the printer's font between them. A ticket every line of which the
// printer holds has no image but a QR code the printer cannot draw.
func TestTicketImageFallbackOneTypeface(t *testing.T) {
	fallback := map[string]bool{"generic": true, "generic-oneway": true, "citizen-ct-s": true,
		"custom-vkp80": true, "custom-tg2480": true, "snbc-btp": true}
	for _, id := range ProfileIDs() {
		prof, _ := LookupProfile(id)
		for _, mm := range prof.PaperWidths() {
			paper := map[string]int{"58": 58, "80": 80}[mm]
			width, _ := prof.Width(paper)
			job, err := Encode(testTicket(), DefaultTemplate, prof, paper)
			if err != nil {
				t.Fatal(err)
			}
			ops, err := escpos.Parse(job.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			var texts []string
			var rasters []escpos.Op
			for _, op := range ops {
				switch op.Kind {
				case escpos.OpText:
					texts = append(texts, string(op.Data))
				case escpos.OpRaster:
					rasters = append(rasters, op)
				}
			}
			if !fallback[id] {
				if len(rasters) > 1 || len(rasters) == 1 && prof.QR {
					t.Errorf("%s %s mm: %d images on a ticket the printer's pages hold", id, mm, len(rasters))
				}
				continue
			}
			if len(texts) > 0 {
				t.Errorf("%s %s mm: lines in the printer's font on a ticket of images: %q", id, mm, texts)
			}
			// What each line should be: drawn by renderText, the number by
			// renderNumber, the rules by renderRule, in the layout's order.
			w := &escpos.Writer{}
			for _, l := range layout(testTicket(), DefaultTemplate) {
				switch {
				case l.kind == "text" && l.size == 0:
					w.RasterScaled(renderNumber(l.text, width, int(NumberMM(paper)*prof.DotsPerMM())+numberMarginDots), escpos.RasterQuadruple)
				case l.kind == "text":
					cols := Columns(width)
					if l.small {
						cols = ColumnsB(width)
					}
					for _, part := range wrapWords(l.text, cols/l.size) {
						w.Raster(renderText(part, width, l.bold, l.small, l.size))
					}
				case l.kind == "rule":
					w.RasterScaled(renderRule(width/2), escpos.RasterQuadruple)
				case l.kind == "qr" && !prof.QR:
					modules, _ := qrModules(l.text)
					w.RasterScaled(qrImage(l.text, max(1, min(8, max(2, width/2/(modules+8)))/2), width/2), escpos.RasterQuadruple)
				}
			}
			want, _ := escpos.Parse(w.Bytes())
			if len(want) != len(rasters) {
				t.Errorf("%s %s mm: %d images, want %d (one per line)", id, mm, len(rasters), len(want))
				continue
			}
			for i := range want {
				if !reflect.DeepEqual(want[i], rasters[i]) {
					t.Errorf("%s %s mm: image %d is not its line drawn in the ticket's typeface", id, mm, i)
				}
			}
		}
	}
}

func TestLongWordsAndTemplates(t *testing.T) {
	prof, _ := LookupProfile("xprinter-58")
	tk := testTicket()
	tk.Service.UK = strings.Repeat("Довгослово", 10)
	tk.Copy, tk.Offline = true, true
	job, err := Encode(tk, Template{Blocks: []string{BlockService, BlockOffline, BlockNumber, BlockFeed, BlockLogo}, Logo: 2}, prof, 58)
	if err != nil {
		t.Fatal(err)
	}
	ops, _ := escpos.Parse(job.Bytes)
	var lines []string
	logo := false
	for _, op := range ops {
		if op.Kind == escpos.OpText {
			lines = append(lines, codePages["wpc1251"].Decode(op.Data))
		}
		logo = logo || op.Kind == escpos.OpStoredLogo
	}
	for _, l := range lines {
		if len([]rune(l)) > 32 {
			t.Errorf("line wider than 58 mm paper: %q", l)
		}
	}
	joined := strings.Join(lines, "\n")
	for _, want := range []string{"КОПІЯ / COPY", "Видано без зв'язку з сервером", "Issued while offline"} {
		if !strings.Contains(joined, want) {
			t.Errorf("%q missing:\n%s", want, joined)
		}
	}
	if !logo {
		t.Error("no stored logo")
	}
	if _, err := Encode(tk, Template{Blocks: []string{"barcode"}}, prof, 58); err == nil {
		t.Error("unknown block accepted")
	}
	if _, err := Encode(tk, DefaultTemplate, prof, 80); err == nil {
		t.Error("80 mm accepted by a 58 mm printer")
	}
}

func TestWrapWords(t *testing.T) {
	for _, tt := range []struct {
		in   string
		cols int
		want string
	}{
		{"Пенсія у зв'язку з втратою годувальника", 16, "Пенсія у зв'язку|з втратою|годувальника"},
		{"Абвгдґежзиіїйклмн", 5, "Абвгд|ґежзи|іїйкл|мн"},
		{"", 10, ""},
		{"a b", 1, "a|b"},
	} {
		if got := strings.Join(wrapWords(tt.in, tt.cols), "|"); got != tt.want {
			t.Errorf("wrap(%q, %d) = %q, want %q", tt.in, tt.cols, got, tt.want)
		}
	}
}

func TestWindowRanges(t *testing.T) {
	if got := windowRanges([]int{1, 2, 3, 4, 5, 6, 7, 8, 10}); got != "1–8, 10" {
		t.Errorf("got %q", got)
	}
	if got := windowRanges([]int{9, 10}); got != "9, 10" {
		t.Errorf("got %q", got)
	}
}

// BenchmarkEncode is the cost of one 80 mm ticket, and its size on a
// printer with Ukrainian pages and its own QR encoder and, beside it, on
// one that takes the whole ticket and its QR code as images.
func BenchmarkEncode(b *testing.B) {
	for _, tc := range []struct{ name, profile string }{{"native-QR", "epson-tm-t20"}, {"images", "generic"}} {
		b.Run(tc.name, func(b *testing.B) {
			prof, _ := LookupProfile(tc.profile)
			var job *Job
			for b.Loop() {
				var err error
				if job, err = Encode(testTicket(), DefaultTemplate, prof, 80); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(job.Bytes)), "bytes/ticket")
			b.ReportMetric(float64(len(job.Bytes))*10/9600, "s@9600baud")
		})
	}
}

// The capacity table gives the same size as encoding the code does.
func TestQRModulesTable(t *testing.T) {
	for n := 1; n <= 666; n += 7 {
		data := strings.Repeat("h", n) // lower case: byte mode, as URLs are
		code, err := qr.Encode(data, qr.M, qr.Auto)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := qrModules(data); got != code.Bounds().Dx() {
			t.Errorf("%d bytes: table says %d modules, the encoder %d", n, got, code.Bounds().Dx())
		}
	}
}
