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

// ticketBudget is the most a ticket may take on the wire to a printer
// with Ukrainian code pages and its own QR encoder, in seconds at 9600
// baud (8N1, 960 bytes a second), the slowest serial setting receipt
// printers ship with: 0.8 s, 768 bytes. The printer prints each line as
// it arrives, and the test ticket's 140 mm take it 0.7 to 0.9 s at 150 to
// 200 mm/s (TM-T20: 150, TM-T20II: 200), so the line is not what the
// visitor waits for. The number's user-defined characters take 131 to 166
// bytes of it (0.14 to 0.17 s); the ticket without them was 570 bytes.
const ticketBudget = 0.8

// wireSeconds is how long b takes at 9600 baud, ten bits a byte.
func wireSeconds(b []byte) float64 { return float64(len(b)) * 10 / 9600 }

// A ticket on a printer with Ukrainian code pages and its own QR encoder
// goes within ticketBudget with no images, its number in user-defined
// characters at least NumberMM tall: for the golden ticket and for the
// numbers that take the most characters to define (a letter and four
// different digits far apart, with blank codes between them).
func TestTicketIsSmall(t *testing.T) {
	for _, id := range []string{"epson-tm-t20", "epson-tm-t88", "xprinter-80"} {
		prof, _ := LookupProfile(id)
		for _, mm := range prof.PaperWidths() {
			paper := map[string]int{"58": 58, "80": 80}[mm]
			for _, number := range []string{"П042", "Ж1359", "Щ0918"} {
				tk := testTicket()
				tk.Number = number
				job, err := Encode(tk, DefaultTemplate, prof, paper)
				if err != nil {
					t.Fatal(err)
				}
				if s := wireSeconds(job.Bytes); s > ticketBudget || job.RasterBytes != 0 {
					t.Errorf("%s %s mm, %s: %d bytes (%.2f s at 9600 baud, want ≤ %.2f), %d of them images",
						id, mm, number, len(job.Bytes), s, ticketBudget, job.RasterBytes)
				}
				defs := 0
				ops, _ := escpos.Parse(job.Bytes)
				for _, op := range ops {
					if op.Kind == escpos.OpDefineChars {
						w := &escpos.Writer{}
						defs += w.DefineUserChars(byte(op.N), op.Chars).Len()
					}
				}
				if defs == 0 {
					t.Errorf("%s %s mm, %s: no user-defined characters", id, mm, number)
				}
				t.Logf("%s %s mm, %s: %d bytes, %.2f s at 9600 baud; %d of them the number's characters", id, mm, number, len(job.Bytes), wireSeconds(job.Bytes), defs)
			}
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

// A number's digits keep their codes, so its bytes are still its digits;
// its letter takes '/' and below; codes between that the number does not
// use are defined blank. A number with more distinct letters than codes
// below '0' goes as an image instead, still NumberMM tall.
func TestNumberChars(t *testing.T) {
	first, chars, codes, ok := numberChars("П042")
	if !ok || first != '/' || string(codes) != "/042" || len(chars) != 6 {
		t.Fatalf("П042: first %q, codes %q, %d characters, %v", first, codes, len(chars), ok)
	}
	for i, want := range []rune{'П', '0', 0, '2', 0, '4'} {
		if want == 0 {
			if chars[i].Width != 0 {
				t.Errorf("code %q: %d dots wide, want blank", rune(first)+rune(i), chars[i].Width)
			}
		} else if !bytes.Equal(chars[i].Data, NumberGlyph(want).Data) {
			t.Errorf("code %q is not %c", rune(first)+rune(i), want)
		}
	}
	if _, _, codes, ok := numberChars("ЖЖ-1"); !ok || string(codes) != "//.1" {
		t.Errorf("ЖЖ-1: %q", codes)
	}
	long := "АБВГҐДЕЄЖЗИІЇЙКЛ1"
	if _, _, _, ok := numberChars(long); ok {
		t.Errorf("%s: 16 letters given codes", long)
	}
	prof, _ := LookupProfile("epson-tm-t20")
	tk := testTicket()
	tk.Number = long[:len(long)-1] // the 16 letters alone
	job, err := Encode(tk, Template{Blocks: []string{BlockNumber}}, prof, 80)
	if err != nil || job.RasterBytes == 0 {
		t.Errorf("16 letters: %v, %d bytes of images", err, job.RasterBytes)
	}
}

// Every Ukrainian capital and digit has a glyph of its own, no wider than
// the cell's ink columns: capitals and digits stand on the baseline,
// cellCapRows tall; tails (Д Ц Щ) go below it, marks (Й Ї Ґ) above the
// capitals, and neither makes the letter shorter than the rest but for
// Ї, drawn smaller whole to keep its dots apart.
func TestNumberGlyphs(t *testing.T) {
	seen := map[string]rune{}
	for _, r := range "АБВГҐДЕЄЖЗИІЇЙКЛМНОПРСТУФХЦЧШЩЬЮЯ0123456789" {
		g := NumberGlyph(r)
		if other, dup := seen[string(g.Data)]; dup {
			t.Errorf("%c is drawn as %c", r, other)
		}
		seen[string(g.Data)] = r
		if g.Width < 1 || g.Width > cellInkCols {
			t.Errorf("%c: %d columns", r, g.Width)
		}
		top, bottom := cellHeight, -1
		for y := 0; y < cellHeight; y++ {
			for x := 0; x < g.Width; x++ {
				if g.Dot(x, y) {
					top, bottom = min(top, y), max(bottom, y)
				}
			}
		}
		wantTop, wantBottom := cellBaseline-cellCapRows, cellBaseline-1
		switch r {
		case 'Д', 'Ц', 'Щ':
			wantBottom = cellHeight - 1
		case 'Й', 'Ґ', 'Ї':
			wantTop = 0
		}
		if strings.ContainsRune("ЙҐ", r) && bottom-top+1 < cellCapRows+1 || r == 'Ї' && bottom-top+1 < cellCapRows {
			t.Errorf("%c: %d rows of ink", r, bottom-top+1)
		}
		// '0' and round letters overshoot the capitals by a row.
		if top > wantTop || top < wantTop-1 || bottom != wantBottom && bottom != wantBottom+1 {
			t.Errorf("%c: ink from row %d to %d, want %d to %d", r, top, bottom, wantTop, wantBottom)
		}
	}
}
