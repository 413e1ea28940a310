package simprinter

import (
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/cherga/kiosk/link/proto"
	"github.com/cherga/kiosk/printer"
)

const url = "https://queue.office.example/t/2026-11-23/%D0%9F042"

func ticket() *printer.Ticket {
	return &printer.Ticket{
		Centre:   proto.Text{UK: "Центр надання соціальних послуг «Прозорий офіс»", EN: "Transparent Office social services centre"},
		Number:   "П042",
		Service:  proto.Text{UK: "Пенсія у зв'язку з втратою годувальника", EN: "Survivor's pension"},
		IssuedAt: time.Date(2026, 11, 23, 10, 15, 0, 0, time.UTC),
		Ahead:    4, WaitMin: 8, Windows: []int{9, 10}, TrackURL: url,
	}
}

func decodeQR(t *testing.T, img image.Image) string {
	t.Helper()
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]interface{}{gozxing.DecodeHintType_TRY_HARDER: true})
	if err != nil {
		t.Fatalf("no QR code found: %v", err)
	}
	return res.GetText()
}

// The ticket as printed carries a QR code a phone reads back as the
// tracking address, whether the printer drew it or got it as an image.
func TestQRRoundTrip(t *testing.T) {
	for _, id := range []string{"epson-tm-t20", "citizen-ct-s", "xprinter-58"} {
		prof, _ := printer.LookupProfile(id)
		mm := map[string]int{"58": 58, "80": 80}[prof.PaperWidths()[0]]
		job, err := printer.Encode(ticket(), printer.DefaultTemplate, prof, mm)
		if err != nil {
			t.Fatal(err)
		}
		imgs, err := Render(prof, mm, job.Bytes)
		if err != nil || len(imgs) != 1 {
			t.Fatalf("%s: %d tickets, %v", id, len(imgs), err)
		}
		w, _ := prof.Width(mm)
		if imgs[0].Bounds().Dx() != w {
			t.Errorf("%s: %d dots wide, want %d", id, imgs[0].Bounds().Dx(), w)
		}
		if got := decodeQR(t, imgs[0]); got != url {
			t.Errorf("%s: QR says %q", id, got)
		}
	}
}

// The device prints what it gets, answers status, and names each ticket
// file after the ticket's number.
func TestDeviceFiles(t *testing.T) {
	prof, _ := printer.LookupProfile("epson-tm-t20")
	dir := t.TempDir()
	d, err := New(prof, 80, dir)
	if err != nil {
		t.Fatal(err)
	}
	job, _ := printer.Encode(ticket(), printer.DefaultTemplate, prof, 80)
	ops := 0
	d.mu.Lock()
	for _, b := range [][]byte{job.Bytes} {
		parsed, err := parseAll(b)
		if err != nil {
			t.Fatal(err)
		}
		for _, op := range parsed {
			d.apply(op)
			ops++
		}
	}
	d.mu.Unlock()
	p := <-d.Printed()
	if p.Headline != "П042" || !strings.HasSuffix(p.Path, "-П042.png") {
		t.Fatalf("printed %+v", p)
	}
	for _, want := range []string{"Пенсія у зв'язку з втратою", "Вікна 9, 10", "Перед вами: 4", "23.11.2026"} {
		if !strings.Contains(p.Text, want) {
			t.Errorf("%q not on the ticket:\n%s", want, p.Text)
		}
	}
	if fi, err := os.Stat(p.Path); err != nil || fi.Size() < 1000 {
		t.Errorf("png %v %v", fi, err)
	}
	if files, _ := filepath.Glob(filepath.Join(dir, "*.tmp")); len(files) != 0 {
		t.Errorf("half-written files %v", files)
	}
}

// A ticket's file is its picture, dot for dot, and its QR code reads;
// the second ticket's too, on the paper the first one left (longer, so
// any of its dots left over would show).
func TestPNGIsThePicture(t *testing.T) {
	prof, _ := printer.LookupProfile("epson-tm-t20")
	d, err := New(prof, 80, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	long := ticket()
	long.Offline = true
	short := ticket()
	short.Number, short.Windows = "П043", nil
	for _, tk := range []*printer.Ticket{long, short} {
		job, err := printer.Encode(tk, printer.DefaultTemplate, prof, 80)
		if err != nil {
			t.Fatal(err)
		}
		imgs, err := Render(prof, 80, job.Bytes)
		if err != nil || len(imgs) != 1 {
			t.Fatalf("%d tickets, %v", len(imgs), err)
		}
		ops, err := parseAll(job.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		d.mu.Lock()
		for _, op := range ops {
			d.apply(op)
		}
		d.mu.Unlock()
		var p Printed
		select {
		case p = <-d.Printed():
		default:
			t.Fatalf("%s: not printed", tk.Number)
		}
		f, err := os.Open(p.Path)
		if err != nil {
			t.Fatal(err)
		}
		got, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		want := imgs[0]
		if got.Bounds() != want.Bounds() {
			t.Fatalf("%s: file is %v, picture %v", tk.Number, got.Bounds(), want.Bounds())
		}
		for y := want.Rect.Min.Y; y < want.Rect.Max.Y; y++ {
			for x := want.Rect.Min.X; x < want.Rect.Max.X; x++ {
				if g := color.GrayModel.Convert(got.At(x, y)).(color.Gray); g != want.GrayAt(x, y) {
					t.Fatalf("%s: dot %d,%d is %v in the file, %v in the picture", tk.Number, x, y, g, want.GrayAt(x, y))
				}
			}
		}
		if s := decodeQR(t, got); s != url {
			t.Errorf("%s: QR in the file says %q", tk.Number, s)
		}
	}
}
