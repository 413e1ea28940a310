// Package proto is the language terminals and the queue server speak over
// the link websocket: the message envelope, the queue's data (services,
// tickets, calls) and the rules for decoding bytes from the other side.
//
// Decode never trusts its input: a message that is malformed, oversized or
// of an unknown type is an error, never a panic. docs/protocol.md is the
// human-readable form of this file.
package proto

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Subprotocol is the WebSocket subprotocol of this protocol version. A peer
// that does not offer it is refused at the handshake.
const Subprotocol = "cherga.v1"

// MaxMessageBytes bounds one message on the wire. A welcome with a catalogue
// of 400 services in two languages is about 80 KB.
const MaxMessageBytes = 1 << 20

// Message types. docs/protocol.md has an example of each.
const (
	// Terminal → server.
	TypeHello   = "hello"   // first message of a connection
	TypeReserve = "reserve" // request: a ticket number for a kiosk, now
	TypeCheckin = "checkin" // request: a visitor with a booking arrived
	// TypeOutbox says how the terminal's outbox stands (Outbox): sent
	// only while it holds events the server has not acknowledged for a
	// while or by the hundred, and once more when that is over; never
	// per event, at most once a ping period. Not an event, not answered.
	TypeOutbox = "outbox"

	// Terminal → server events: durable in the terminal's outbox, numbered
	// by Seq, resent until acknowledged.
	TypeTicketIssued  = "ticket_issued"  // a kiosk handed out a ticket
	TypeDeviceStatus  = "device_status"  // the terminal's devices changed
	TypeCallShown     = "call_shown"     // a display showed a call
	TypeCallAnnounced = "call_announced" // a hall announced a call
	TypeKeypad        = "keypad"         // an operator pressed a window keypad key
	TypeRating        = "rating"         // a visitor rated the service
	// TypeTicketWithdrawn: a kiosk takes back a ticket it committed but
	// never handed out (it stopped before the ticket was printed); the
	// server takes it out of the queue.
	TypeTicketWithdrawn = "ticket_withdrawn"

	// Server → terminal.
	TypeWelcome  = "welcome"  // answer to hello: the full snapshot
	TypeAck      = "ack"      // every event up to Seq is committed
	TypeRejected = "rejected" // event Seq is committed as refused, never applied; an ack follows
	TypeReserved = "reserved" // answer to reserve
	TypeLease    = "lease"    // number blocks for offline tickets
	TypeQueues   = "queues"   // queue lengths changed
	// TypeWindow is the state of a window, to the terminals showing that
	// window (Hello.Window), in the welcome and after each change: the
	// latest replaces the one before, so it is not numbered or resent.
	TypeWindow = "window"

	// Server → terminal pushes: numbered by Push, kept and resent to a
	// terminal that missed them; a terminal acts on each ID once.
	TypeCall        = "call"
	TypeRecall      = "recall"
	TypeCancel      = "cancel"
	TypeHallMessage = "hall_message"
	TypeUpdate      = "update"

	// Either way: the answer to a request that failed.
	TypeError = "error"
)

// Message is the envelope of every message. Exactly the payload field the
// Type needs is set. ID names a request or a push; Re names the request a
// reply answers; Seq numbers a terminal's events (in an ack, the last one
// committed; in a rejected, the one refused); Push numbers the server's
// pushes.
type Message struct {
	Type string `json:"type"`
	ID   string `json:"id,omitempty"`
	Re   string `json:"re,omitempty"`
	Seq  uint64 `json:"seq,omitempty"`
	Push uint64 `json:"push,omitempty"`

	Hello       *Hello        `json:"hello,omitempty"`
	Welcome     *Welcome      `json:"welcome,omitempty"`
	Reserve     *Reserve      `json:"reserve,omitempty"`
	Ticket      *Ticket       `json:"ticket,omitempty"`
	Call        *Call         `json:"call,omitempty"`
	Cancel      *Cancel       `json:"cancel,omitempty"`
	Queues      []QueueLen    `json:"queues,omitempty"`
	Leases      []Lease       `json:"leases,omitempty"`
	HallMessage *HallMessage  `json:"hall_message,omitempty"`
	Update      *Update       `json:"update,omitempty"`
	Status      *DeviceStatus `json:"status,omitempty"`
	Seen        *CallSeen     `json:"seen,omitempty"`
	Keypad      *Keypad       `json:"keypad,omitempty"`
	Rating      *Rating       `json:"rating,omitempty"`
	Checkin     *Checkin      `json:"checkin,omitempty"`
	Window      *WindowState  `json:"window,omitempty"`
	Booking     *Booking      `json:"booking,omitempty"`
	Withdrawal  *Withdrawal   `json:"withdrawal,omitempty"`
	Outbox      *OutboxState  `json:"outbox,omitempty"`
	Error       *Error        `json:"error,omitempty"`
}

// IsEvent reports whether m is a terminal event (sequenced and acked).
func (m *Message) IsEvent() bool {
	switch m.Type {
	case TypeTicketIssued, TypeDeviceStatus, TypeCallShown, TypeCallAnnounced, TypeKeypad, TypeRating, TypeTicketWithdrawn:
		return true
	}
	return false
}

// IsPush reports whether m is a server push (numbered, resent, deduplicated).
func (m *Message) IsPush() bool {
	switch m.Type {
	case TypeCall, TypeRecall, TypeCancel, TypeHallMessage, TypeUpdate:
		return true
	}
	return false
}

// Hello introduces a terminal.
type Hello struct {
	Device string   `json:"device"`
	Roles  []string `json:"roles"`
	// Window is the window a terminal with the window role shows: the
	// server then sends it only that window's calls. 0: every call.
	Window int `json:"window,omitempty"`
	// Windows are more windows whose calls and states the terminal takes
	// (the bus devices it drives: a display, keypad and rating panel per
	// window); with Window 0 and no Windows, it takes every call.
	Windows []int  `json:"windows,omitempty"`
	Version string `json:"version"`
	// Time is the terminal's clock when it sent hello; the server measures
	// the terminal's clock offset from it.
	Time time.Time `json:"time"`
	// Epoch names the terminal's outbox. A new epoch (a wiped data
	// directory) restarts the event sequence at 1.
	Epoch string `json:"epoch"`
	// LastAck is the highest event seq the terminal saw acknowledged.
	LastAck uint64 `json:"last_ack"`
	// LastPush is the highest push the terminal has acted on; the server
	// resends the ones after it.
	LastPush uint64 `json:"last_push"`
	// Outbox is the terminal's outbox as it connects: what it buffered
	// while the link was down.
	Outbox *OutboxState `json:"outbox,omitempty"`
}

// OutboxState is a terminal's outbox: the events it holds that the
// server has not acknowledged, the time of the oldest of them (the
// terminal's clock) and the highest seq among them. The server takes the
// backlog as delivered once it has committed LastSeq.
type OutboxState struct {
	Events   int       `json:"events"`
	OldestAt time.Time `json:"oldest_at,omitzero"`
	LastSeq  uint64    `json:"last_seq,omitempty"`
}

// Welcome is the server's snapshot for a terminal that just connected:
// everything it needs to show without waiting for the next change.
type Welcome struct {
	Office        Office       `json:"office"`
	Catalogue     Catalogue    `json:"catalogue"`
	ConfigVersion string       `json:"config_version"`
	Queues        []QueueLen   `json:"queues"`
	RecentCalls   []Call       `json:"recent_calls"`
	HallMessage   *HallMessage `json:"hall_message,omitempty"`
	ServerTime    time.Time    `json:"server_time"`
	// Resume is the last event seq of this terminal the server committed;
	// the terminal resends the events after it.
	Resume uint64 `json:"resume"`
	// Slot is this terminal's number in the office, for ever: part of
	// its offline ticket numbers (OfflineNumber).
	Slot int `json:"slot"`
	// Leases are number blocks of older servers; a kiosk ignores them.
	Leases []Lease `json:"leases,omitempty"`
	// Series (kiosks only): where the server's record of this kiosk's
	// offline numbers stands today, for the prefixes it has any of.
	Series []Series `json:"series,omitempty"`
	// LastPush is the highest push number so far. A terminal that never
	// acted on a push starts counting from it.
	LastPush uint64 `json:"last_push"`
	// Bookings, to kiosks when the office takes bookings.
	Bookings *BookingRules `json:"bookings,omitempty"`
	// Window is the state of the window named in Hello.Window.
	Window *WindowState `json:"window,omitempty"`
}

// Reserve asks the server for a ticket number.
type Reserve struct {
	Service string `json:"service"`
}

// Error codes.
const (
	CodeBadRequest     = "bad_request"
	CodeUnknownService = "unknown_service"
	CodeUnsupported    = "unsupported"
	CodeInternal       = "internal"

	// In a rejected: the server cannot apply the event (it names a service
	// that is gone, its values are impossible) and never will, so it
	// committed it as refused rather than block the outbox behind it.
	CodeBadEvent = "bad_event"

	// Answers to checkin; the reply carries the booking when there is one.
	CodeBookingUnknown  = "booking_unknown"   // no such booking (or a mistyped code)
	CodeBookingUsed     = "booking_used"      // already checked in
	CodeBookingEarly    = "booking_early"     // check-in has not opened yet
	CodeBookingLate     = "booking_late"      // check-in has closed
	CodeBookingOtherDay = "booking_other_day" // booked for another day
	CodeBookingCanceled = "booking_cancelled"
)

type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Decode errors.
var (
	ErrTooLarge    = errors.New("proto: message too large")
	ErrMalformed   = errors.New("proto: malformed message")
	ErrUnknownType = errors.New("proto: unknown message type")
)

// Decode parses one message from the wire and checks that it is complete.
// For a well-formed message of a type this version does not know, it returns
// the envelope (Type and ID set) with an error wrapping ErrUnknownType, so
// the receiver can answer it.
func Decode(b []byte) (*Message, error) {
	if len(b) > MaxMessageBytes {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(b), MaxMessageBytes)
	}
	// Unknown fields are ignored, not refused: a newer peer may add fields
	// within the same protocol version. A new meaning needs a new version.
	// json.Unmarshal refuses trailing data after the message itself.
	var m Message
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if err := m.validate(); err != nil {
		if errors.Is(err, ErrUnknownType) {
			return &Message{Type: m.Type, ID: m.ID}, err
		}
		return nil, err
	}
	return &m, nil
}

// Encode is the inverse of Decode.
func Encode(m *Message) ([]byte, error) {
	if err := m.validate(); err != nil {
		return nil, err
	}
	return json.Marshal(m)
}

func (m *Message) validate() error {
	missing := func(field string) error {
		return fmt.Errorf("%w: %s message without %s", ErrMalformed, m.Type, field)
	}
	switch m.Type {
	case TypeHello:
		if m.Hello == nil || m.Hello.Device == "" {
			return missing("hello.device")
		}
	case TypeWelcome:
		if m.Welcome == nil {
			return missing("welcome")
		}
	case TypeReserve:
		if m.Reserve == nil || m.ID == "" {
			return missing("reserve and id")
		}
	case TypeCheckin:
		if m.Checkin == nil || m.ID == "" {
			return missing("checkin and id")
		}
	case TypeReserved:
		if m.Ticket == nil || m.Ticket.Number == "" || m.Re == "" {
			return missing("ticket.number and re")
		}
	case TypeOutbox:
		if m.Outbox == nil || m.Outbox.Events < 0 {
			return missing("outbox with events 0 or more")
		}
	case TypeTicketIssued:
		if m.Ticket == nil || m.Ticket.Number == "" || m.Ticket.Service == "" || m.Seq == 0 {
			return missing("ticket.number, ticket.service and seq")
		}
	case TypeTicketWithdrawn:
		if m.Ticket == nil || m.Ticket.Number == "" || m.Ticket.Service == "" || m.Withdrawal == nil ||
			m.Withdrawal.Reason == "" || m.Seq == 0 {
			return missing("ticket.number, ticket.service, withdrawal.reason and seq")
		}
	case TypeDeviceStatus:
		if m.Status == nil || m.Seq == 0 {
			return missing("status and seq")
		}
	case TypeCallShown, TypeCallAnnounced:
		if m.Seen == nil || m.Seen.Call == "" || m.Seq == 0 {
			return missing("seen.call and seq")
		}
	case TypeKeypad:
		if m.Keypad == nil || m.Keypad.Window <= 0 || m.Keypad.Key == "" || m.Seq == 0 {
			return missing("keypad.window, keypad.key and seq")
		}
	case TypeRating:
		if m.Rating == nil || m.Rating.Score < 1 || m.Rating.Score > 5 || m.Seq == 0 {
			return missing("rating.score 1 to 5 and seq")
		}
	case TypeAck:
		if m.Seq == 0 {
			return missing("seq")
		}
	case TypeRejected:
		if m.Seq == 0 || m.Error == nil || m.Error.Code == "" {
			return missing("seq and error.code")
		}
	case TypeWindow:
		if m.Window == nil || m.Window.Window <= 0 || m.Window.State == "" {
			return missing("window.window and window.state")
		}
	case TypeLease:
		// An empty list is a valid "no blocks".
	case TypeQueues:
		// An empty list is a valid "nobody waits".
	case TypeCall, TypeRecall:
		if m.Call == nil || m.Call.ID == "" || m.Call.Ticket == "" || m.Call.Window <= 0 || m.ID == "" {
			return missing("id, call.id, call.ticket and call.window")
		}
	case TypeCancel:
		if m.Cancel == nil || m.Cancel.Call == "" || m.ID == "" {
			return missing("id and cancel.call")
		}
	case TypeHallMessage:
		if m.HallMessage == nil || m.ID == "" {
			return missing("id and hall_message")
		}
	case TypeUpdate:
		if m.Update == nil || m.ID == "" {
			return missing("id and update")
		}
	case TypeError:
		if m.Error == nil {
			return missing("error")
		}
	default:
		return fmt.Errorf("%w: %q", ErrUnknownType, m.Type)
	}
	return nil
}
