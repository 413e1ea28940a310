package escpos

import "fmt"

// Status is what a printer says about itself. The zero value is a
// printer with nothing to report (online, paper in, cover closed).
type Status struct {
	Offline       bool // not printing: cover open, paper out, error, or feeding
	CoverOpen     bool
	PaperNearEnd  bool
	PaperOut      bool
	CutterError   bool
	Unrecoverable bool // needs a power cycle (head, memory)
	Overheat      bool // recovers by itself when the head has cooled
	FeedButton    bool // paper being fed with the button
}

// CanPrint reports whether a ticket would come out now.
func (s Status) CanPrint() bool {
	return !(s.Offline || s.CoverOpen || s.PaperOut || s.CutterError || s.Unrecoverable || s.Overheat)
}

// Fault is the most important thing wrong, "" if the printer can print
// (paper near end is a warning, not a fault).
func (s Status) Fault() string {
	switch {
	case s.CoverOpen:
		return "cover_open"
	case s.PaperOut:
		return "paper_out"
	case s.CutterError:
		return "cutter_error"
	case s.Unrecoverable:
		return "unrecoverable_error"
	case s.Overheat:
		return "overheat"
	case s.Offline:
		return "offline"
	}
	return ""
}

// Real-time status queries, DLE EOT n.
const (
	QueryPrinter = 1 // online/offline, drawer
	QueryOffline = 2 // why offline: cover, feed button, paper end, error
	QueryError   = 3 // which error: cutter, unrecoverable, auto-recoverable
	QueryPaper   = 4 // roll paper sensors: near end, end
)

// Query is the DLE EOT n request for one status byte.
func Query(n int) []byte { return []byte{DLE, EOT, byte(n)} }

// A real-time status byte has bit 1 and bit 4 set and bits 0 and 7 clear
// (Epson ESC/POS reference, DLE EOT). The first byte of an automatic
// status has bit 4 set and bits 0, 1 and 7 clear; its other three bytes
// have bits 4 and 7 clear.
func isRealtime(b byte) bool { return b&0x93 == 0x12 }
func isASBFirst(b byte) bool { return b&0x93 == 0x10 }
func isASBNext(b byte) bool  { return b&0x90 == 0x00 }

// ApplyRealtime folds the answer to DLE EOT n into s.
func ApplyRealtime(s *Status, n int, b byte) error {
	if !isRealtime(b) {
		return fmt.Errorf("escpos: %#02x is not a real-time status byte", b)
	}
	switch n {
	case QueryPrinter:
		s.Offline = b&0x08 != 0
	case QueryOffline:
		s.CoverOpen = b&0x04 != 0
		s.FeedButton = b&0x08 != 0
		s.PaperOut = s.PaperOut || b&0x20 != 0
		if b&0x40 == 0 { // no error: the error details no longer hold
			s.CutterError, s.Unrecoverable, s.Overheat = false, false, false
		}
	case QueryError:
		s.CutterError = b&0x08 != 0
		s.Unrecoverable = b&0x20 != 0
		s.Overheat = b&0x40 != 0
	case QueryPaper:
		s.PaperNearEnd = b&0x0C != 0
		s.PaperOut = b&0x60 != 0
	default:
		return fmt.Errorf("escpos: no status query %d", n)
	}
	return nil
}

// ApplyASB folds the four bytes of an automatic status back into s.
func ApplyASB(s *Status, b [4]byte) {
	s.Offline = b[0]&0x08 != 0
	s.CoverOpen = b[0]&0x20 != 0
	s.FeedButton = b[0]&0x40 != 0
	s.CutterError = b[1]&0x08 != 0
	s.Unrecoverable = b[1]&0x20 != 0
	s.Overheat = b[1]&0x40 != 0
	s.PaperNearEnd = b[2]&0x03 != 0
	s.PaperOut = b[2]&0x0C != 0
}

// StatusReader makes sense of the bytes a printer sends back: answers to
// the queries it was asked, in order, and automatic status blocks that
// may arrive at any time in between. Bytes that fit neither are counted
// and dropped.
type StatusReader struct {
	pending []int // queries sent and not answered yet, oldest first
	asb     []byte
	// Garbage counts bytes that were neither an answer nor a status block.
	Garbage int
}

// Asked records that DLE EOT n was sent.
func (r *StatusReader) Asked(n int) { r.pending = append(r.pending, n) }

// Pending is how many queries await an answer.
func (r *StatusReader) Pending() int { return len(r.pending) }

// Forget drops the queries still waiting (they timed out).
func (r *StatusReader) Forget() { r.pending = nil }

// Event is what one status byte meant.
type Event struct {
	Query int  // the query answered; 0 for an automatic status block
	Byte  byte // the answer, for a query
	ASB   [4]byte
}

// Read takes bytes from the printer and returns what they meant.
func (r *StatusReader) Read(b []byte) []Event {
	var out []Event
	for _, c := range b {
		switch {
		case len(r.asb) > 0:
			if !isASBNext(c) {
				r.Garbage += len(r.asb)
				r.asb = nil
				out = append(out, r.first(c)...)
				continue
			}
			r.asb = append(r.asb, c)
			if len(r.asb) == 4 {
				out = append(out, Event{ASB: [4]byte(r.asb)})
				r.asb = nil
			}
		default:
			out = append(out, r.first(c)...)
		}
	}
	return out
}

func (r *StatusReader) first(c byte) []Event {
	switch {
	case isRealtime(c) && len(r.pending) > 0:
		q := r.pending[0]
		r.pending = r.pending[1:]
		return []Event{{Query: q, Byte: c}}
	case isASBFirst(c):
		r.asb = []byte{c}
	default:
		r.Garbage++
	}
	return nil
}
