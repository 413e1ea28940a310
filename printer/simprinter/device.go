// Package simprinter is a simulated ESC/POS thermal printer: it reads the
// bytes a driver sends, prints each ticket (everything up to a cut) to a
// PNG file, answers real-time status queries and the identity questions
// (GS I) and sends automatic status like a real printer, and can run out of paper, open its cover, answer
// garbage or nothing, or be unplugged. It is the demo's printer, the
// technician's preview, and the peer of the driver's tests.
//
// A device runs for days in the demo, so it never keeps a ticket's
// picture: each goes to its PNG file at the cut and is dropped. What it
// remembers of its tickets is a count and the last few tickets' records.
package simprinter

import (
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"
	"unicode"

	"github.com/cherga/kiosk/httpapi"
	"github.com/cherga/kiosk/printer"
	"github.com/cherga/kiosk/printer/escpos"
)

// Condition is a simulated printer state, set by hand.
type Condition string

const (
	Ready      Condition = "ok"
	NearEnd    Condition = "paper_near_end" // prints, and says the roll is low
	PaperOut   Condition = "paper_out"
	CoverOpen  Condition = "cover_open"
	CutterJam  Condition = "cutter_error"
	Silent     Condition = "silent"  // takes data, never answers (a dead status line)
	Garbage    Condition = "garbage" // answers nonsense
	PoweredOff Condition = "off"     // neither prints nor answers
)

// ParseCondition accepts the names above.
func ParseCondition(s string) (Condition, error) {
	switch c := Condition(s); c {
	case Ready, NearEnd, PaperOut, CoverOpen, CutterJam, Silent, Garbage, PoweredOff:
		return c, nil
	}
	return "", fmt.Errorf("simprinter: unknown condition %q (expected ok, paper_near_end, paper_out, cover_open, cutter_error, silent, garbage or off)", s)
}

// Device is one simulated printer.
type Device struct {
	prof    *printer.Profile
	paperMM int
	dir     string // where tickets go; "" writes no files

	// Observe, if set before Serve, sees every command the device reads;
	// it must not block. Tests use it to act in the middle of a job.
	Observe func(escpos.Op)

	mu      sync.Mutex
	cond    Condition
	conn    io.ReadWriteCloser
	asb     bool
	paper   *Paper
	count   int       // tickets printed since New
	last    []Printed // the last KeptTickets of them, oldest first
	bad     int
	printed chan Printed
	// identity is what GS I is answered with (SetIdentity).
	identity Identity
}

// KeptTickets is how many of the last tickets a device remembers.
const KeptTickets = 16

// Printed is one ticket the device printed: its record, not its picture,
// which is in the file at Path.
type Printed struct {
	Path     string // the PNG, if the device writes files
	Text     string // the text lines; none on a ticket printed as images
	Headline string // the tallest text: a ticket's number; "" on a ticket of images
}

func fileSafe(s string) string {
	out := []rune{}
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		return "ticket"
	}
	return string(out)
}

// New makes a device for prof on paper paperMM wide, writing tickets as
// PNG files into dir ("" for none).
func New(prof *printer.Profile, paperMM int, dir string) (*Device, error) {
	paper, err := NewPaper(prof, paperMM)
	if err != nil {
		return nil, err
	}
	if dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("simprinter: %w", err)
		}
	}
	return &Device{prof: prof, paperMM: paperMM, dir: dir, cond: Ready, paper: paper, printed: make(chan Printed, 64),
		identity: DefaultIdentity(prof)}, nil
}

// Printed delivers each ticket as it is cut; while nobody reads, the
// channel holds the first 64 and later ones are not delivered.
func (d *Device) Printed() <-chan Printed { return d.printed }

// Tickets lists the last tickets printed, at most KeptTickets, oldest
// first; Count says how many were printed in all.
func (d *Device) Tickets() []Printed {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]Printed(nil), d.last...)
}

// Count is the number of tickets printed since New.
func (d *Device) Count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.count
}

// Bad counts commands the device could not make sense of.
func (d *Device) Bad() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.bad
}

// SetCondition changes the printer's state, and tells a driver that asked
// for automatic status.
func (d *Device) SetCondition(c Condition) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.cond = c
	if d.asb && d.conn != nil {
		d.sendLocked(d.asbBytes())
	}
}

// Condition is the printer's state.
func (d *Device) Condition() Condition {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cond
}

// Unplug drops the connection in use, as pulling the cable would.
func (d *Device) Unplug() {
	d.mu.Lock()
	conn := d.conn
	d.mu.Unlock()
	if conn != nil {
		conn.Close()
	}
}

// Serve runs the printer on conn until conn fails or is closed. A second
// Serve replaces the first connection, as a re-plugged cable does.
func (d *Device) Serve(conn io.ReadWriteCloser) error {
	d.mu.Lock()
	if d.conn != nil {
		d.conn.Close()
	}
	d.conn = conn
	d.mu.Unlock()
	defer func() {
		d.mu.Lock()
		if d.conn == conn {
			d.conn = nil
		}
		d.mu.Unlock()
	}()
	parser := escpos.NewParser()
	buf := make([]byte, 4096)
	for {
		n, err := conn.Read(buf)
		if n > 0 {
			ops, perr := parser.Write(buf[:n])
			d.mu.Lock()
			if perr != nil {
				d.bad++
			}
			for _, op := range ops {
				d.apply(op)
				if d.Observe != nil {
					d.Observe(op)
				}
			}
			d.mu.Unlock()
		}
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, os.ErrClosed) {
				return nil
			}
			return err
		}
	}
}

// apply acts on one command; d.mu is held.
func (d *Device) apply(op escpos.Op) {
	switch d.cond {
	case PoweredOff:
		return
	case PaperOut, CoverOpen, CutterJam:
		// Offline: a real printer keeps the data until it recovers; the
		// driver clears that buffer before it prints again, so the
		// simulation drops it. Status queries are still answered.
		if op.Kind != escpos.OpStatusQuery && op.Kind != escpos.OpAutoStatus && op.Kind != escpos.OpInit && op.Kind != escpos.OpPrinterID {
			return
		}
	}
	switch op.Kind {
	case escpos.OpStatusQuery:
		d.answer(op.N)
	case escpos.OpPrinterID:
		d.identify(op.N)
	case escpos.OpAutoStatus:
		d.asb = op.N != 0
		if d.asb {
			d.sendLocked(d.asbBytes())
		}
	case escpos.OpCut:
		d.cut()
	case escpos.OpUnknown:
		d.bad++
	default:
		d.paper.Apply(op)
	}
}

func (d *Device) answer(n int) {
	switch d.cond {
	case Silent, PoweredOff:
		return
	case Garbage:
		d.sendLocked([]byte{0xFF, 0x00, byte(n * 37)})
		return
	}
	b := byte(0x12)
	out, cover, near := d.cond == PaperOut, d.cond == CoverOpen, d.cond == NearEnd
	switch n {
	case escpos.QueryPrinter:
		if out || cover || d.cond == CutterJam {
			b |= 0x08
		}
	case escpos.QueryOffline:
		if cover {
			b |= 0x04
		}
		if out {
			b |= 0x20
		}
		if d.cond == CutterJam {
			b |= 0x40
		}
	case escpos.QueryError:
		if d.cond == CutterJam {
			b |= 0x08
		}
	case escpos.QueryPaper:
		if near {
			b |= 0x0C
		}
		if out {
			b |= 0x6C
		}
	default:
		return // not a query a printer answers
	}
	d.sendLocked([]byte{b})
}

func (d *Device) asbBytes() []byte {
	b := []byte{0x10, 0, 0, 0}
	switch d.cond {
	case PaperOut:
		b[0] |= 0x08
		b[2] |= 0x0F
	case CoverOpen:
		b[0] |= 0x28
	case CutterJam:
		b[0] |= 0x08
		b[1] |= 0x08
	case NearEnd:
		b[2] |= 0x03
	case Silent, PoweredOff:
		return nil
	case Garbage:
		return []byte{0xEE, 0xEE}
	}
	return b
}

// sendLocked writes to the driver, ignoring a connection that is gone;
// d.mu is held.
func (d *Device) sendLocked(b []byte) {
	if d.conn != nil && len(b) > 0 {
		_, _ = d.conn.Write(b)
	}
}

func (d *Device) cut() {
	if d.paper.Empty() {
		return
	}
	p := Printed{Text: d.paper.Text(), Headline: d.paper.Headline()}
	if d.dir == "" {
		d.paper.reuse()
	} else {
		// Named by time and the ticket's tallest text, its number, so a
		// technician finds a ticket; letters, digits and dashes only.
		name := fmt.Sprintf("%s-%s.png", time.Now().Format("20060102T150405.000"), fileSafe(p.Headline))
		p.Path = filepath.Join(d.dir, name)
		// The paper's dots are written out and used again: a day of
		// tickets is not a day of half-megabyte pictures to collect.
		if err := WritePNG(p.Path, d.paper.picture()); err != nil {
			p.Path = ""
		}
		d.paper.reuse()
	}
	d.count++
	if len(d.last) == KeptTickets {
		copy(d.last, d.last[1:])
		d.last = d.last[:KeptTickets-1]
	}
	d.last = append(d.last, p)
	select {
	case d.printed <- p:
	default:
	}
}

// WritePNG writes img to path; whole files only: a reader never sees half
// a ticket.
func WritePNG(path string, img image.Image) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	enc := png.Encoder{CompressionLevel: png.BestSpeed, BufferPool: &pngBuffers}
	if err := enc.Encode(f, img); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}

// pngBuffers keeps the encoder's buffers from one ticket to the next.
var pngBuffers pngPool

type pngPool struct{ p sync.Pool }

func (p *pngPool) Get() *png.EncoderBuffer {
	b, _ := p.p.Get().(*png.EncoderBuffer)
	return b
}

func (p *pngPool) Put(b *png.EncoderBuffer) { p.p.Put(b) }

// Render prints a whole job to images, one per cut (and one for what
// follows the last cut, if anything): the technician's preview of exact
// bytes.
func Render(prof *printer.Profile, paperMM int, job []byte) ([]*image.Gray, error) {
	paper, err := NewPaper(prof, paperMM)
	if err != nil {
		return nil, err
	}
	ops, perr := escpos.Parse(job)
	var out []*image.Gray
	for _, op := range ops {
		if op.Kind == escpos.OpCut {
			out = append(out, paper.Cut())
			continue
		}
		paper.Apply(op)
	}
	if !paper.Empty() {
		out = append(out, paper.Cut())
	}
	return out, perr
}

// ServeHTTP sets a condition on POST {"fault":"paper_out"} ("ok" clears
// it) and reports the condition on GET: the demo's way to show what a
// kiosk does when its printer fails.
func (d *Device) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
	case http.MethodPost:
		var req struct {
			Fault string `json:"fault"`
		}
		if err := httpapi.Decode(w, r, 1024, &req); err != nil {
			httpapi.Fail(w, err)
			return
		}
		c, err := ParseCondition(req.Fault)
		if err != nil {
			httpapi.WriteError(w, http.StatusBadRequest, httpapi.CodeBadField, fmt.Sprintf(
				`field "fault": got %q, expected ok, paper_near_end, paper_out, cover_open, cutter_error, silent, garbage or off`, req.Fault))
			return
		}
		d.SetCondition(c)
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		httpapi.WriteError(w, http.StatusMethodNotAllowed, httpapi.CodeMethodNotAllowed,
			fmt.Sprintf("method %s is not allowed for %s; allowed: GET, HEAD, POST", r.Method, r.URL.Path))
		return
	}
	_ = httpapi.WriteJSON(w, http.StatusOK, map[string]any{"condition": d.Condition(), "tickets": d.Count(), "bad_commands": d.Bad()})
}
