package escpos

import (
	"bytes"
	"image"
	"image/color"
	"reflect"
	"testing"
)

func TestWriterBytes(t *testing.T) {
	tests := []struct {
		name string
		w    func(w *Writer)
		want []byte
	}{
		{"init", func(w *Writer) { w.Init() }, []byte{0x1B, 0x40}},
		{"code page", func(w *Writer) { w.CodePage(44) }, []byte{0x1B, 0x74, 44}},
		{"centre", func(w *Writer) { w.Align(Center) }, []byte{0x1B, 0x61, 1}},
		{"bold", func(w *Writer) { w.Bold(true).Bold(false) }, []byte{0x1B, 0x45, 1, 0x1B, 0x45, 0}},
		{"font B", func(w *Writer) { w.FontB(true) }, []byte{0x1B, 0x4D, 1}},
		{"size 4x3", func(w *Writer) { w.Size(4, 3) }, []byte{0x1D, 0x21, 0x32}},
		{"size clamped", func(w *Writer) { w.Size(0, 9) }, []byte{0x1D, 0x21, 0x07}},
		{"feed", func(w *Writer) { w.Feed(3) }, []byte{0x1B, 0x64, 3}},
		{"partial cut after feed", func(w *Writer) { w.Cut(PartialCut, 24) }, []byte{0x1D, 0x56, 66, 24}},
		{"full cut", func(w *Writer) { w.Cut(FullCut, 0) }, []byte{0x1D, 0x56, 65, 0}},
		{"stored logo", func(w *Writer) { w.StoredLogo(1) }, []byte{0x1C, 0x70, 1, 0}},
		{"auto status", func(w *Writer) { w.AutoStatus(true) }, []byte{0x1D, 0x61, 0x0F}},
		{"QR", func(w *Writer) { w.QR([]byte("AB"), 6, QRLevelM) }, []byte{
			0x1D, 0x28, 0x6B, 4, 0, 0x31, 0x41, 0x32, 0, // model 2
			0x1D, 0x28, 0x6B, 3, 0, 0x31, 0x43, 6, // module 6
			0x1D, 0x28, 0x6B, 3, 0, 0x31, 0x45, 0x31, // level M
			0x1D, 0x28, 0x6B, 5, 0, 0x31, 0x50, 0x30, 'A', 'B', // store
			0x1D, 0x28, 0x6B, 3, 0, 0x31, 0x51, 0x30, // print
		}},
		{"user-defined characters", func(w *Writer) {
			w.DefineUserChars('0', []UserChar{{Width: 1, Data: []byte{0x80, 0, 1}}, {}}).UserChars(true).UserChars(false)
		}, []byte{0x1B, 0x26, 3, '0', '1', 1, 0x80, 0, 1, 0, 0x1B, 0x25, 1, 0x1B, 0x25, 0}},
		{"CODE128", func(w *Writer) { w.Code128("No.", 80, 2) }, []byte{
			0x1D, 0x68, 80, 0x1D, 0x77, 2, 0x1D, 0x48, 2, 0x1D, 0x6B, 73, 5, '{', 'B', 'N', 'o', '.'}},
	}
	for _, tt := range tests {
		w := &Writer{}
		tt.w(w)
		if !bytes.Equal(w.Bytes(), tt.want) || w.Err() != nil {
			t.Errorf("%s: % x (%v), want % x", tt.name, w.Bytes(), w.Err(), tt.want)
		}
	}
}

func TestRasterBits(t *testing.T) {
	img := image.NewGray(image.Rect(0, 0, 10, 2))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	img.SetGray(0, 0, color.Gray{0})
	img.SetGray(9, 1, color.Gray{0})
	w := &Writer{}
	w.Raster(img)
	want := []byte{0x1D, 0x76, 0x30, 0, 2, 0, 2, 0, 0x80, 0x00, 0x00, 0x40}
	if !bytes.Equal(w.Bytes(), want) {
		t.Errorf("% x, want % x", w.Bytes(), want)
	}
}

func TestWriterRefusesWhatNoPrinterTakes(t *testing.T) {
	for name, f := range map[string]func(*Writer){
		"empty QR":            func(w *Writer) { w.QR(nil, 3, QRLevelL) },
		"CODE128 with UTF-8":  func(w *Writer) { w.Code128("Ї", 50, 2) },
		"empty image":         func(w *Writer) { w.Raster(image.NewGray(image.Rect(0, 0, 0, 0))) },
		"unknown raster mode": func(w *Writer) { w.RasterScaled(image.NewGray(image.Rect(0, 0, 8, 1)), 4) },
		"no characters":       func(w *Writer) { w.DefineUserChars('A', nil) },
		"control code":        func(w *Writer) { w.DefineUserChars(0x1F, []UserChar{{}}) },
		"past 0x7E":           func(w *Writer) { w.DefineUserChars(0x7E, []UserChar{{}, {}}) },
		"13 dots wide":        func(w *Writer) { w.DefineUserChars('A', []UserChar{{Width: 13, Data: make([]byte, 39)}}) },
		"data short":          func(w *Writer) { w.DefineUserChars('A', []UserChar{{Width: 2, Data: make([]byte, 5)}}) },
	} {
		w := &Writer{}
		f(w)
		if w.Err() == nil || w.Len() != 0 {
			t.Errorf("%s: wrote % x, err %v", name, w.Bytes(), w.Err())
		}
	}
}

// What Writer writes, Parse reads back; fed a byte at a time, it reads the
// same.
func TestParseRoundTrip(t *testing.T) {
	w := &Writer{}
	w.Init().CodePage(17).Align(Center).Bold(true).Size(2, 2).Text([]byte("A1")).LF()
	w.FontB(true).Text([]byte{0x80, 0xAF}).LF().QR([]byte("https://x.example/t/1"), 5, QRLevelM)
	w.Code128("12", 60, 3).Raster(image.NewGray(image.Rect(0, 0, 16, 1)))
	w.RasterScaled(image.NewGray(image.Rect(0, 0, 8, 1)), RasterQuadruple).FeedDots(7)
	w.StoredLogo(2).Feed(1).Cut(PartialCut, 3)
	glyph := UserChar{Width: 2, Data: []byte{0xFF, 0, 0x01, 0x80, 0x80, 0x80}}
	w.DefineUserChars('/', []UserChar{glyph, {}}).UserChars(true).Text([]byte("/")).LF().UserChars(false)
	w.put(ESC, '?', '/')
	w.put(DLE, EOT, 4)
	want := []Op{
		{Kind: OpInit}, {Kind: OpCodePage, N: 17}, {Kind: OpAlign, N: 1}, {Kind: OpBold, N: 1},
		{Kind: OpSize, W: 2, H: 2}, {Kind: OpText, Data: []byte("A1")}, {Kind: OpLF},
		{Kind: OpFont, N: 1}, {Kind: OpText, Data: []byte{0x80, 0xAF}}, {Kind: OpLF},
		{Kind: OpQR, N: 5, Level: QRLevelM, Data: []byte("https://x.example/t/1")},
		{Kind: OpBarcode, N: 73, H: 60, W: 3, Data: []byte("{B12")},
		{Kind: OpRaster, W: 2, H: 1, Data: []byte{0xFF, 0xFF}},
		{Kind: OpRaster, N: int(RasterQuadruple), W: 1, H: 1, Data: []byte{0xFF}}, {Kind: OpFeedDots, N: 7},
		{Kind: OpStoredLogo, N: 2}, {Kind: OpFeed, N: 1}, {Kind: OpCut, N: 1, Feed: 3},
		{Kind: OpDefineChars, N: '/', Chars: []UserChar{glyph, {}}}, {Kind: OpUserChars, N: 1},
		{Kind: OpText, Data: []byte("/")}, {Kind: OpLF}, {Kind: OpUserChars, N: 0}, {Kind: OpCancelChar, N: '/'},
		{Kind: OpStatusQuery, N: 4},
	}
	got, err := Parse(w.Bytes())
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("Parse: %v\n got %+v\nwant %+v", err, got, want)
	}
	p := NewParser()
	var trickled []Op
	for _, b := range w.Bytes() {
		ops, err := p.Write([]byte{b})
		if err != nil {
			t.Fatal(err)
		}
		trickled = append(trickled, ops...)
	}
	// Text arrives a byte at a time, so text ops come in pieces.
	if joinText(trickled) != joinText(want) || countKinds(trickled) != countKinds(want) {
		t.Errorf("byte-at-a-time parse differs:\n%+v", trickled)
	}
}

func joinText(ops []Op) string {
	var b []byte
	for _, o := range ops {
		if o.Kind == OpText {
			b = append(b, o.Data...)
		}
	}
	return string(b)
}

func countKinds(ops []Op) int {
	n := 0
	for _, o := range ops {
		if o.Kind != OpText {
			n++
		}
	}
	return n
}

// ESC & with a parameter out of range is cancelled, and what follows is
// read as ordinary data, as Epson's printers do; a character's dots are
// where the manuals put them.
func TestParseUserChars(t *testing.T) {
	for name, b := range map[string][]byte{
		"y = 2":         {ESC, '&', 2, 'A', 'A', 'o', 'k'},
		"codes reverse": {ESC, '&', 3, 'B', 'A', 'o', 'k'},
		"code 0x7F":     {ESC, '&', 3, 'A', 0x7F, 'o', 'k'},
		"13 dots wide":  {ESC, '&', 3, 'A', 'A', 13, 'o', 'k'},
	} {
		ops, err := Parse(b)
		if err == nil || joinText(ops) != "ok" {
			t.Errorf("%s: %+v, %v", name, ops, err)
		}
	}
	c := UserChar{Width: 2, Data: []byte{0x80, 0, 0x01, 0, 0x10, 0}}
	for _, d := range []struct {
		x, y int
		ink  bool
	}{{0, 0, true}, {0, 1, false}, {0, 23, true}, {1, 11, true}, {1, 12, false}, {2, 0, false}, {0, 24, false}, {-1, 0, false}} {
		if c.Dot(d.x, d.y) != d.ink {
			t.Errorf("dot %d,%d: %v", d.x, d.y, !d.ink)
		}
	}
}

func TestParseGarbage(t *testing.T) {
	ops, err := Parse([]byte{0x1B, 0xFF, 'o', 'k', 0x07, 0x1D, 0x76, 0x30, 0, 0xFF, 0xFF, 0xFF, 0x0F})
	if err == nil {
		t.Fatal("garbage parsed without complaint")
	}
	if joinText(ops) != "ok" {
		t.Errorf("text lost among garbage: %+v", ops)
	}
}

// Status bytes as the Epson manuals give them.
func TestRealtimeStatus(t *testing.T) {
	tests := []struct {
		n    int
		b    byte
		want Status
	}{
		{QueryPrinter, 0x12, Status{}},
		{QueryPrinter, 0x1A, Status{Offline: true}},
		{QueryOffline, 0x16, Status{CoverOpen: true}},
		{QueryOffline, 0x32, Status{PaperOut: true}},
		{QueryOffline, 0x1A, Status{FeedButton: true}},
		{QueryError, 0x1A, Status{CutterError: true}},
		{QueryError, 0x32, Status{Unrecoverable: true}},
		{QueryError, 0x52, Status{Overheat: true}},
		{QueryPaper, 0x12, Status{}},
		{QueryPaper, 0x1E, Status{PaperNearEnd: true}},
		{QueryPaper, 0x72, Status{PaperOut: true}},
		{QueryPaper, 0x7E, Status{PaperNearEnd: true, PaperOut: true}},
	}
	for _, tt := range tests {
		var s Status
		if err := ApplyRealtime(&s, tt.n, tt.b); err != nil || s != tt.want {
			t.Errorf("DLE EOT %d answered %#02x: %+v %v, want %+v", tt.n, tt.b, s, err, tt.want)
		}
	}
	var s Status
	if err := ApplyRealtime(&s, QueryPaper, 0xFF); err == nil {
		t.Error("0xFF taken as a status byte")
	}
}

func TestASB(t *testing.T) {
	var s Status
	ApplyASB(&s, [4]byte{0x38, 0x08, 0x0F, 0})
	want := Status{Offline: true, CoverOpen: true, CutterError: true, PaperNearEnd: true, PaperOut: true}
	if s != want {
		t.Errorf("got %+v, want %+v", s, want)
	}
	if !(Status{PaperNearEnd: true}).CanPrint() || want.CanPrint() {
		t.Error("CanPrint")
	}
}

// Answers come in order; automatic status blocks may come in between; the
// rest is counted and dropped.
func TestStatusReaderStream(t *testing.T) {
	var r StatusReader
	r.Asked(QueryPrinter)
	r.Asked(QueryPaper)
	events := r.Read([]byte{0xFF, 0x12, 0x10, 0x00, 0x0C, 0x00, 0x72, 0x12})
	if len(events) != 3 {
		t.Fatalf("events %+v", events)
	}
	if events[0].Query != QueryPrinter || events[1].Query != 0 || events[1].ASB != [4]byte{0x10, 0, 0x0C, 0} ||
		events[2].Query != QueryPaper || events[2].Byte != 0x72 {
		t.Errorf("events %+v", events)
	}
	if r.Garbage != 2 || r.Pending() != 0 {
		t.Errorf("garbage %d pending %d", r.Garbage, r.Pending())
	}
}

func FuzzParse(f *testing.F) {
	w := &Writer{}
	w.Init().CodePage(46).Align(Center).Size(3, 3).Text([]byte("А012")).LF().QR([]byte("x"), 4, QRLevelL).Cut(PartialCut, 2)
	f.Add(w.Bytes())
	f.Add([]byte{0x1D, 0x76, 0x30, 0, 0xFF, 0xFF, 0xFF, 0xFF})
	f.Add([]byte{0x1D, 0x28, 0x6B, 0xFF, 0xFF, 0x31, 0x50})
	f.Add([]byte{0x1D, 0x6B, 0x04, 'A', 'B'})
	f.Add([]byte{0x1D, 0x76, 0x30, 0x33, 1, 0, 1, 0, 0xAA, 0x1B, 'J', 9})             // quadruple raster, feed dots
	f.Add([]byte{0x1B, '&', 3, '0', '1', 1, 0xFF, 0xFF, 0xFF, 12, 0x1B, '%', 1, '0'}) // the second character cut short
	f.Fuzz(func(t *testing.T, b []byte) {
		p := NewParser()
		half := len(b) / 2
		ops1, _ := p.Write(b[:half])
		ops2, _ := p.Write(b[half:])
		for _, op := range append(ops1, ops2...) {
			if op.Kind == OpRaster && (len(op.Data) != op.W*op.H || op.N < 0 || op.N > 3) {
				t.Fatalf("raster %dx%d mode %d with %d bytes", op.W, op.H, op.N, len(op.Data))
			}
			if op.Kind == OpDefineChars {
				if op.N < UserCharFirst || op.N+len(op.Chars)-1 > UserCharLast {
					t.Fatalf("user-defined characters %#x+%d", op.N, len(op.Chars))
				}
				for _, c := range op.Chars {
					if c.Width > UserCharMaxWidth || len(c.Data) != 3*c.Width {
						t.Fatalf("user-defined character %d wide with %d bytes", c.Width, len(c.Data))
					}
				}
			}
		}
		if len(p.buf) > MaxJob+len(b) {
			t.Fatalf("parser holds %d bytes", len(p.buf))
		}
	})
}

func FuzzStatusReader(f *testing.F) {
	f.Add([]byte{0x12, 0x10, 0, 0x0C, 0, 0x72})
	f.Add([]byte{0xFF, 0x10, 0x10, 0x12})
	f.Fuzz(func(t *testing.T, b []byte) {
		var r StatusReader
		r.Asked(QueryPrinter)
		r.Asked(QueryOffline)
		r.Asked(QueryError)
		r.Asked(QueryPaper)
		var s Status
		for _, ev := range r.Read(b) {
			if ev.Query == 0 {
				ApplyASB(&s, ev.ASB)
			} else if err := ApplyRealtime(&s, ev.Query, ev.Byte); err != nil {
				t.Fatalf("reader passed on %#02x: %v", ev.Byte, err)
			}
		}
		if r.Pending() < 0 || r.Pending() > 4 {
			t.Fatalf("pending %d", r.Pending())
		}
	})
}
