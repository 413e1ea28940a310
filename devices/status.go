// Package devices holds what every device of a terminal shares: the status
// it reports to /healthz, and the devices that are not specific to one
// role: barcode/QR scanners and GPIO (pins, a debounced two-state sensor,
// blinking status lights, a relay on a weekly schedule), each with a
// simulated twin. Everything timed here (debounces, blinks, schedules)
// runs on an injected clock.
//
// The interfaces a role needs from its devices live next to that role
// (kiosk.Printer, display.Board, announce.Output); this package never
// decides what a device is used for. Devices that come and go (unplugged,
// switched off) are kept open by the one loop of devices/supervise.
package devices

import (
	"time"

	"github.com/cherga/kiosk/devices/supervise"
)

// State is a device's health in one word.
type State = supervise.State

const (
	Starting = supervise.Starting // not yet known to work: opening, or asking the device how it is
	OK       = supervise.OK       // working
	Warning  = supervise.Warning  // working, but needs a technician soon (paper near end)
	Fault    = supervise.Fault    // cannot do its job now
)

// Status is what a device tells /healthz, the log and the server.
type Status struct {
	Name   string    `json:"name"`
	Kind   string    `json:"kind"`   // printer, scanner, audio, board, gpio
	Driver string    `json:"driver"` // sim, escpos, serial, ...
	State  State     `json:"state"`
	Detail string    `json:"detail,omitempty"`
	Since  time.Time `json:"since"`
	// LastError and Reopens are a supervised device's: its latest failure
	// (kept after it recovered) and how often it was opened again.
	LastError string `json:"last_error,omitempty"`
	Reopens   int    `json:"reopens,omitempty"`
	// What a device on a bus (firmware-bridge/bus) tells of itself and
	// of its line: where it is (bus:address), when it last answered, how
	// many requests failed, its product code, firmware and serial number.
	Address  string    `json:"address,omitempty"`
	LastSeen time.Time `json:"last_seen,omitzero"`
	Errors   uint64    `json:"errors,omitempty"`
	Model    string    `json:"model,omitempty"`
	Firmware string    `json:"firmware,omitempty"`
	Serial   string    `json:"serial,omitempty"`
}

// Supervised is the status of a device kept open by a supervise.Loop.
func Supervised(name, kind, driver string, s supervise.Status) Status {
	return Status{Name: name, Kind: kind, Driver: driver, State: s.State, Detail: s.Detail, Since: s.Since,
		LastError: s.LastError, Reopens: s.Reopens}
}
