// Package devices holds what every device of a terminal shares: the status
// it reports to /healthz, and the input devices that are not specific to
// one role (barcode/QR scanners, GPIO pins), each with a simulated twin.
//
// The interfaces a role needs from its devices live next to that role
// (kiosk.Printer, display.Board, announce.Output); this package never
// decides what a device is used for.
package devices

import "time"

// State is a device's health in one word.
type State string

const (
	OK      State = "ok"      // working
	Warning State = "warning" // working, but needs a technician soon (paper near end)
	Fault   State = "fault"   // cannot do its job now
)

// Status is what a device tells /healthz, the log and the server.
type Status struct {
	Name   string    `json:"name"`
	Kind   string    `json:"kind"`   // printer, scanner, audio, board, gpio
	Driver string    `json:"driver"` // sim, escpos, serial, ...
	State  State     `json:"state"`
	Detail string    `json:"detail,omitempty"`
	Since  time.Time `json:"since"`
}
