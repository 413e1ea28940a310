package proto

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Office is the office's identity, as terminals need it.
type Office struct {
	ID       string `json:"id"`
	Name     Text   `json:"name"`
	Timezone string `json:"timezone,omitempty"` // IANA name; a ticket's day follows it
	// TrackingURL is the address of a ticket's tracking page, with
	// {office}, {date} and {number} to fill in; printed as a QR code.
	TrackingURL string `json:"tracking_url,omitempty"`
}

// Text is a visitor-facing text in Ukrainian and English.
type Text struct {
	UK string `json:"uk"`
	EN string `json:"en"`
}

// In returns the text in lang ("uk" or "en"), falling back to Ukrainian
// when the translation is missing.
func (t Text) In(lang string) string {
	if lang == "en" && t.EN != "" {
		return t.EN
	}
	return t.UK
}

// Catalogue is the office's services as terminals show them: groups
// (the kiosk's home tiles) with their subgroups, services, and the
// documents and sample forms services refer to by id. Every level fits
// one kiosk page (HomeItems, PageItems); queued checks that.
type Catalogue struct {
	Groups   []Group   `json:"groups"`
	Services []Service `json:"services"`
	// Documents and Forms are what services' Info.Documents and
	// Info.Forms name: each written once.
	Documents []Document `json:"documents,omitempty"`
	Forms     []Form     `json:"forms,omitempty"`
}

type Group struct {
	ID     string `json:"id"`
	Name   Text   `json:"name"`
	Prefix string `json:"prefix"`
	// Windows serve this group, for the ticket.
	Windows []int `json:"windows,omitempty"`
	// Subgroups are the group's life situations, in page order.
	Subgroups []Subgroup `json:"subgroups,omitempty"`
}

// Subgroup is a life situation within a group: a page of services.
type Subgroup struct {
	ID   string `json:"id"`
	Name Text   `json:"name"`
}

type Service struct {
	ID    string `json:"id"`
	Group string `json:"group"`
	// Subgroup is one of the group's subgroups; empty (or unknown): the
	// service is listed on the group's own page.
	Subgroup string `json:"subgroup,omitempty"`
	Name     Text   `json:"name"`
	// Code is the service's number in booking codes.
	Code int `json:"code,omitempty"`
	// Keywords are more words search finds the service by.
	Keywords Words `json:"keywords,omitzero"`
	// Info is what the information terminal shows before the ticket; nil
	// when the office says nothing more, and in the brief catalogue sent
	// to terminals that are not kiosks.
	Info *ServiceInfo `json:"info,omitempty"`
}

// Words are search words in Ukrainian and English.
type Words struct {
	UK []string `json:"uk,omitempty"`
	EN []string `json:"en,omitempty"`
}

// ServiceInfo is what a visitor should know before taking a ticket. Each
// part may be missing.
type ServiceInfo struct {
	// Description: what the service is and who may apply.
	Description Text `json:"description,omitzero"`
	// Documents to bring, ids of Catalogue.Documents, in order.
	Documents []string `json:"documents,omitempty"`
	// Term: how long it takes ("до 10 робочих днів").
	Term Text `json:"term,omitzero"`
	// Cost: usually "безоплатно".
	Cost Text `json:"cost,omitzero"`
	// Forms: sample forms, ids of Catalogue.Forms.
	Forms []string `json:"forms,omitempty"`
}

// Document is one paper a visitor brings.
type Document struct {
	ID   string `json:"id"`
	Name Text   `json:"name"`
}

// Form is a sample form: File is a PNG, JPEG or PDF file name (no
// directory), the same on the server and on the terminals that show it.
// queued serves the file at GET /api/v1/forms/{id}; SHA256 and Size are
// of that file as queued loaded it, so a kiosk verifies what it downloads
// and keeps it by hash (docs/catalogue.md, "Sample forms").
type Form struct {
	ID   string `json:"id"`
	File string `json:"file"`
	Name Text   `json:"name"`
	// SHA256 is the file's SHA-256, lowercase hex; empty when queued
	// could not read the file (then it serves none).
	SHA256 string `json:"sha256,omitempty"`
	// Size is the file's length in bytes, at most MaxFormBytes.
	Size int64 `json:"size,omitempty"`
}

// MaxFormBytes bounds a sample form's file: queued refuses a larger one
// in its configuration, and a kiosk never downloads more.
const MaxFormBytes = 2 << 20

// FormType is the Content-Type of a form's file, by its name's ending;
// empty for a kind terminals do not show.
func FormType(file string) string {
	i := strings.LastIndexByte(file, '.')
	if i < 0 {
		return ""
	}
	switch strings.ToLower(file[i:]) {
	case ".png":
		return "image/png"
	case ".jpg", ".jpeg":
		return "image/jpeg"
	case ".pdf":
		return "application/pdf"
	}
	return ""
}

// ServiceByCode returns the service with a booking code number.
func (c *Catalogue) ServiceByCode(code int) (Service, bool) {
	for _, s := range c.Services {
		if s.Code == code {
			return s, true
		}
	}
	return Service{}, false
}

// Service returns the service with id, if the catalogue has it.
func (c *Catalogue) Service(id string) (Service, bool) {
	for _, s := range c.Services {
		if s.ID == id {
			return s, true
		}
	}
	return Service{}, false
}

// Group returns the group with id, if the catalogue has it.
func (c *Catalogue) Group(id string) (Group, bool) {
	for _, g := range c.Groups {
		if g.ID == id {
			return g, true
		}
	}
	return Group{}, false
}

// Ticket states.
const (
	StateReserved  = "reserved" // number given to a kiosk, not yet handed out
	StateWaiting   = "waiting"
	StateCalled    = "called"    // a window called it; the visitor is on the way
	StateServing   = "serving"   // the visitor came: service started
	StateDone      = "done"      // served
	StateNoShow    = "no_show"   // called and never came
	StateCancelled = "cancelled" // withdrawn: nobody holds it
)

// Ticket is one visitor's place in the queue.
type Ticket struct {
	Number   string    `json:"number"`
	Service  string    `json:"service"`
	Group    string    `json:"group,omitempty"`
	IssuedAt time.Time `json:"issued_at"`
	Ahead    int       `json:"ahead"`
	WaitMin  int       `json:"wait_min"`
	State    string    `json:"state,omitempty"`
	// Offline is set on tickets a kiosk numbered itself while the server
	// was unreachable.
	Offline bool `json:"offline,omitempty"`
	// TerminalAt is the kiosk's own clock at issue, for offline tickets;
	// IssuedAt is then corrected by the clock offset measured at hello.
	TerminalAt *time.Time `json:"terminal_at,omitempty"`
	Window     int        `json:"window,omitempty"`
	CalledAt   *time.Time `json:"called_at,omitempty"`
	// CameAt is when service started (the operator's "came"), FinishedAt
	// when the ticket left the window; Recalls counts the calls after the
	// first at the current window.
	CameAt     *time.Time `json:"came_at,omitempty"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	Recalls    int        `json:"recalls,omitempty"`
	// Operator is the account that called it (empty: a window nobody
	// signed in to).
	Operator string `json:"operator,omitempty"`
	// ForWindow: the ticket was transferred to this window only.
	ForWindow int    `json:"for_window,omitempty"`
	Device    string `json:"device,omitempty"`
	// Booking is the code (12 digits) of the booking this ticket checked
	// in; Priority puts it before walk-ins (0 for them).
	Booking  string `json:"booking,omitempty"`
	Priority int    `json:"priority,omitempty"`
}

// Call asks the visitor holding Ticket to come to Window.
type Call struct {
	ID      string    `json:"id"`
	Ticket  string    `json:"ticket"`
	Service string    `json:"service"`
	Window  int       `json:"window"`
	At      time.Time `json:"at"`
	Recall  bool      `json:"recall,omitempty"`
}

// Cancel withdraws a call from the displays.
type Cancel struct {
	Call   string `json:"call"`
	Ticket string `json:"ticket"`
	Window int    `json:"window,omitempty"` // where it was called
}

// QueueLen is how many visitors of a group wait, and the estimated wait of
// the next one to take a ticket.
type QueueLen struct {
	Group   string `json:"group"`
	Waiting int    `json:"waiting"`
	WaitMin int    `json:"wait_min"`
	// MinPerVisitor is how much each visitor ahead adds to the wait, so a
	// kiosk can estimate offline.
	MinPerVisitor float64 `json:"min_per_visitor"`
	// WindowsOpen is how many open windows call this group now (a window
	// shared with other groups counts once here).
	WindowsOpen int `json:"windows_open"`
}

// Lease is a block of ticket numbers a kiosk may give out by itself while
// the server is unreachable: From..To of Prefix on Day (office time).
//
// Deprecated: servers no longer lease blocks (offline tickets take the
// kiosk's own series, see Series); a kiosk ignores the leases an older
// server still sends.
type Lease struct {
	Day    string `json:"day"`
	Prefix string `json:"prefix"`
	From   int    `json:"from"`
	To     int    `json:"to"`
	// Next is the first number of the block the server has not seen used;
	// a kiosk whose own record is older (restored) starts there.
	Next int `json:"next,omitempty"`
}

// Series is where the server's record of a kiosk's offline series stands
// for one prefix on Day (office time): Last is the highest counter of the
// kiosk's numbers it holds (OfflineNumber). A kiosk whose own counter is
// lower (its file restored from an older copy, or replaced) continues
// after Last, so it never gives a number twice.
type Series struct {
	Day    string `json:"day"`
	Prefix string `json:"prefix"`
	Last   int    `json:"last"`
}

// OfflineNumber is the n-th ticket of prefix a kiosk numbers by itself:
// the prefix, the kiosk's slot, a dash and three digits ("П3-007"). The
// slot is the kiosk's alone in the office, so no other kiosk and no
// online number (prefix and digits only) can ever have it, and the dash
// marks it plainly as not a place in the day's count.
func OfflineNumber(prefix string, slot, n int) string {
	return fmt.Sprintf("%s%d-%03d", prefix, slot, n)
}

// ParseOfflineNumber splits an offline number of prefix into the kiosk's
// slot and its counter; ok is false for anything else (an online number).
func ParseOfflineNumber(number, prefix string) (slot, n int, ok bool) {
	rest, found := strings.CutPrefix(number, prefix)
	if !found {
		return 0, 0, false
	}
	s, c, found := strings.Cut(rest, "-")
	if !found || !allDigits(s) || !allDigits(c) || len(s) > 4 || len(c) > 6 {
		return 0, 0, false
	}
	slot, _ = strconv.Atoi(s)
	n, _ = strconv.Atoi(c)
	return slot, n, slot > 0 && n > 0
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// Withdrawal is why a kiosk takes back a ticket it committed
// (ticket_issued) but never handed out.
type Withdrawal struct {
	// Reason is WithdrawNotHandedOut.
	Reason string `json:"reason"`
	// Printing: the kiosk had started sending the ticket to its printer
	// when it stopped, so the paper may have come out after all.
	Printing bool `json:"printing,omitempty"`
	// At is the kiosk's clock when it settled the ticket.
	At time.Time `json:"at"`
}

// Withdrawal reasons.
const (
	// WithdrawNotHandedOut: kioskd stopped (a crash, kill -9, a power cut)
	// after the ticket was committed and before it was printed or shown;
	// at its next start nobody can hold it.
	WithdrawNotHandedOut = "not_handed_out"
)

// HallMessage is the running line of the hall displays.
type HallMessage struct {
	Text  Text       `json:"text"`
	Until *time.Time `json:"until,omitempty"`
}

// Update is a new catalogue or office configuration.
type Update struct {
	Version   string    `json:"version"`
	Office    Office    `json:"office"`
	Catalogue Catalogue `json:"catalogue"`
}

// DeviceState is one device's status, as a terminal reports it.
type DeviceState struct {
	Name   string    `json:"name"`
	Kind   string    `json:"kind"`
	Driver string    `json:"driver"`
	State  string    `json:"state"`
	Detail string    `json:"detail,omitempty"`
	Since  time.Time `json:"since"`
	// LastError is the device's latest failure, kept after it recovered.
	LastError string `json:"last_error,omitempty"`
}

// DeviceStatus is a terminal's devices at a moment.
type DeviceStatus struct {
	At      time.Time     `json:"at"`
	Devices []DeviceState `json:"devices"`
}

// CallSeen says a terminal showed or announced a call.
type CallSeen struct {
	Call string    `json:"call"`
	At   time.Time `json:"at"`
}

// Keypad is a key an operator pressed on a window's keypad.
type Keypad struct {
	Window int    `json:"window"`
	Key    string `json:"key"` // next | recall | came | finish | no_show | pause | resume | transfer
	// To is the window a transfer goes to; 0: back to the service's line.
	To int       `json:"to,omitempty"`
	At time.Time `json:"at"`
}

// Keypad keys. Pause on a paused window resumes it, so a keypad's one
// pause key toggles; transfer sends the ticket being served back to the
// front of its service's line (or to Keypad.To, a window, when given).
const (
	KeyNext     = "next"
	KeyRecall   = "recall"
	KeyCame     = "came"
	KeyFinish   = "finish"
	KeyNoShow   = "no_show"
	KeyPause    = "pause"
	KeyResume   = "resume"
	KeyTransfer = "transfer"
)

// WindowState is a window as its keypad and board show it: who is at it,
// and what the last key pressed there did.
type WindowState struct {
	Window int `json:"window"`
	// State: closed (nobody signed in), idle, calling, serving, paused.
	State string `json:"state"`
	// Ticket and Service: the ticket called or served now.
	Ticket  string `json:"ticket,omitempty"`
	Service string `json:"service,omitempty"`
	// Reason is the pause reason's code (office.yaml pause_reasons).
	Reason string `json:"reason,omitempty"`
	// Waiting is how many visitors this window may call next.
	Waiting int       `json:"waiting"`
	Since   time.Time `json:"since"`
	// Finished is the ticket finished last at this window and when: a
	// rating panel invites a mark for it.
	Finished   string    `json:"finished,omitempty"`
	FinishedAt time.Time `json:"finished_at,omitempty"`
	// Key is the last keypad key acted on, Refused why it did nothing
	// (a code: nobody_waiting, not_signed_in, paused, nothing_to_do,
	// too_old), empty when it did what it says.
	Key     string `json:"key,omitempty"`
	Refused string `json:"refused,omitempty"`
}

// Window states.
const (
	WindowClosed  = "closed"
	WindowIdle    = "idle"
	WindowCalling = "calling"
	WindowServing = "serving"
	WindowPaused  = "paused"
)

// Rating is a visitor's mark for the service at a window, 1 (bad) to 5.
type Rating struct {
	Ticket string    `json:"ticket"`
	Window int       `json:"window"`
	Score  int       `json:"score"`
	At     time.Time `json:"at"`
}

// Checkin is a visitor with a booking arriving at a kiosk.
type Checkin struct {
	Code string    `json:"code"`
	At   time.Time `json:"at"`
}

// Booking is a visit booked ahead, as a kiosk is told of it.
type Booking struct {
	Code    string `json:"code"` // 1234-5678-9012
	Service string `json:"service"`
	Date    string `json:"date"` // YYYY-MM-DD, office time
	Slot    string `json:"slot"` // HH:MM
	State   string `json:"state"`
	// Opens and Closes bound the check-in.
	Opens  time.Time `json:"opens"`
	Closes time.Time `json:"closes"`
	Ticket string    `json:"ticket,omitempty"` // once checked in
}

// Booking states.
const (
	BookingBooked    = "booked"
	BookingCheckedIn = "checked_in"
	BookingCancelled = "cancelled"
)

// BookingRules let a kiosk check booking codes by itself (sent to kiosks
// in welcome).
type BookingRules struct {
	Key         []byte `json:"key"` // the office's signing key
	SlotMinutes int    `json:"slot_minutes"`
	EarlyMin    int    `json:"early_min"`
	LateMin     int    `json:"late_min"`
	Priority    int    `json:"priority"`
}
