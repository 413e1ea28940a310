// Package printer makes the paper ticket a visitor holds: its content
// (Ticket), its layout (Template), its bytes for a printer model (Encode,
// with the model's Profile), and the ESC/POS printer that prints it over
// serial, USB or the network, watching its paper and cover. The same
// printer prints, on a visitor's request, the list of documents a service
// needs (DocumentList, documents.go), by the ticket's typeface rules.
//
// A printer never decides whether a ticket exists: the ticket is issued
// before printing starts, and a print failure is reported, never hidden.
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
	// Windows serve the ticket's service, if known.
	Windows []int
	// TrackURL is the ticket's tracking page, printed as a QR code.
	TrackURL string
	// Offline marks a ticket numbered while the server was unreachable.
	Offline bool
	// Copy marks a ticket printed again after a fault interrupted it.
	Copy bool
}
