// Package printer makes the paper ticket a visitor holds: its content
// (Ticket), its layout, and the printers that put it on paper. Sim renders
// the ticket to a PNG at the printer's dot width: the demo's printer and
// the technician's preview.
//
// A printer never decides whether a ticket exists: the ticket is issued
// before printing starts, and a print failure is reported, not hidden.
package printer

import (
	"time"

	"github.com/cherga/kiosk/link/proto"
)

// Ticket is what goes on paper, independent of any printer.
type Ticket struct {
	Centre   proto.Text
	Number   string
	Service  proto.Text
	IssuedAt time.Time
	Ahead    int
	WaitMin  int
}

// Dots across the printable width at 203 dpi, the resolution of nearly
// every kiosk thermal printer.
func widthDots(paperMM int) int {
	if paperMM == 58 {
		return 384
	}
	return 576
}
