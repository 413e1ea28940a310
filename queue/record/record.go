// Package record is the queue's record: every change in a visitor's
// ticket and in a window's state is one Event in an append-only log kept
// by queued. Today's queues and every statistic can be rebuilt from it.
//
// An Event is shaped to be one row of an SQL table (a whole city's events
// in one database): flat, stable field names, no personal data. A ticket
// number, a service and a window are not personal; a booking code is a
// visitor's credential and never appears here; operators are named by
// their account name only.
package record

import "time"

// Event types. A ticket's life: issued → called (recalled…) → came →
// finished, or → no_show, or → transferred (waiting again, for another
// service or window) …; cancelled withdraws a ticket nobody holds. A
// window's: signed_in, paused, resumed, signed_out.
const (
	Issued      = "issued"      // the ticket joined the queue (handed out by a kiosk, or by the API)
	Called      = "called"      // a window called it
	Recalled    = "recalled"    // the window called it again
	Came        = "came"        // the visitor reached the window: service starts
	Finished    = "finished"    // service ended
	NoShow      = "no_show"     // the visitor did not come to the call
	Transferred = "transferred" // sent on to ToService and/or ToWindow, waiting again, issue time kept
	Cancelled   = "cancelled"   // withdrawn (never handed out, or cancelled by staff)
	Rated       = "rated"       // the visitor rated the service that just finished
	Prioritized = "prioritized" // staff changed the ticket's priority

	SignedIn  = "signed_in"  // an operator signed in to Window
	SignedOut = "signed_out" // the operator left Window; it is closed
	Paused    = "paused"     // Window paused with Reason; it is closed meanwhile
	Resumed   = "resumed"    // Window open again
)

// ReasonNotHandedOut is the Reason of a Cancelled ticket its kiosk never
// handed out (kioskd stopped before printing it): nobody held it, so
// nobody waited.
const ReasonNotHandedOut = "not_handed_out"

// Event is one change. Seq numbers events office-wide from 1 without gaps;
// (Office, Seq) is unique in a city's database.
type Event struct {
	Seq uint64 `json:"seq"`
	// At is when it happened, on the office's clock (a terminal's time is
	// corrected by its measured offset). For Issued it is the issue time,
	// which for a ticket issued offline is earlier than its arrival here.
	At time.Time `json:"at"`
	// Day is the office-local date of the ticket's day (YYYY-MM-DD); with
	// Ticket it names one ticket. Window events carry the day they happened.
	Day  string `json:"day"`
	Type string `json:"type"`

	Ticket  string `json:"ticket,omitempty"`  // the number as printed, like А017
	Service string `json:"service,omitempty"` // the ticket's service at the event (before a transfer)
	Group   string `json:"group,omitempty"`   // the service's group
	// Window is where it happened: the calling, serving, transferring or
	// rated window, or the window signed in to or paused.
	Window   int    `json:"window,omitempty"`
	Operator string `json:"operator,omitempty"` // account name of the operator at Window, if signed in
	Terminal string `json:"terminal,omitempty"` // device id that reported it, "api" or "operator"

	ToService string `json:"to_service,omitempty"` // Transferred: the new service ("" = same)
	ToGroup   string `json:"to_group,omitempty"`   // Transferred: the new service's group ("" = same)
	ToWindow  int    `json:"to_window,omitempty"`  // Transferred: only this window may call it (0 = any that serves it)

	Reason   string `json:"reason,omitempty"`   // Paused: the reason's id; Cancelled: why (ReasonNotHandedOut)
	Score    int    `json:"score,omitempty"`    // Rated: 1 (bad) to 5
	Priority int    `json:"priority,omitempty"` // Issued, Prioritized: 0 for walk-ins, higher is called first
	Booked   bool   `json:"booked,omitempty"`   // Issued: checked in with a booking
	Offline  bool   `json:"offline,omitempty"`  // Issued: numbered by a kiosk while queued was away
}
