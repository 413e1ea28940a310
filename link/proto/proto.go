// Package proto is the language terminals and the queue server speak over
// the link websocket: the message envelope, the queue's data (services,
// tickets, calls) and the rules for decoding bytes from the other side.
//
// Decode never trusts its input: a message that is malformed, oversized or
// of an unknown type is an error, never a panic. docs/protocol.md is the
// human-readable form of this file.
package proto

import (
	"bytes"
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

// Message types.
const (
	TypeHello      = "hello"       // terminal → server, first message
	TypeWelcome    = "welcome"     // server → terminal, answer to hello
	TypeTakeTicket = "take_ticket" // terminal → server, request
	TypeTicket     = "ticket"      // server → terminal, answer to take_ticket
	TypeCall       = "call"        // server → terminal, push
	TypeQueues     = "queues"      // server → terminal, push
	TypeError      = "error"       // either way, answer to a request that failed
)

// Message is the envelope of every message. Exactly the payload field named
// by Type is set. ID names a request or a push; Re names the request a reply
// answers.
type Message struct {
	Type string `json:"type"`
	ID   string `json:"id,omitempty"`
	Re   string `json:"re,omitempty"`

	Hello      *Hello      `json:"hello,omitempty"`
	Welcome    *Welcome    `json:"welcome,omitempty"`
	TakeTicket *TakeTicket `json:"take_ticket,omitempty"`
	Ticket     *Ticket     `json:"ticket,omitempty"`
	Call       *Call       `json:"call,omitempty"`
	Queues     []QueueLen  `json:"queues,omitempty"`
	Error      *Error      `json:"error,omitempty"`
}

// Hello introduces a terminal.
type Hello struct {
	Device  string   `json:"device"`
	Roles   []string `json:"roles"`
	Version string   `json:"version"`
}

// Welcome is the server's snapshot for a terminal that just connected:
// everything it needs to show without waiting for the next change.
type Welcome struct {
	Office      Office     `json:"office"`
	Catalogue   Catalogue  `json:"catalogue"`
	Queues      []QueueLen `json:"queues"`
	RecentCalls []Call     `json:"recent_calls"`
	ServerTime  time.Time  `json:"server_time"`
}

type Office struct {
	ID   string `json:"id"`
	Name Text   `json:"name"`
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

type Catalogue struct {
	Groups   []Group   `json:"groups"`
	Services []Service `json:"services"`
}

type Group struct {
	ID     string `json:"id"`
	Name   Text   `json:"name"`
	Prefix string `json:"prefix"`
}

type Service struct {
	ID    string `json:"id"`
	Group string `json:"group"`
	Name  Text   `json:"name"`
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

// TakeTicket asks the server for a new ticket.
type TakeTicket struct {
	Service string `json:"service"`
}

// Ticket states.
const (
	StateWaiting = "waiting"
	StateCalled  = "called"
	StateDone    = "done"
)

type Ticket struct {
	Number   string     `json:"number"`
	Service  string     `json:"service"`
	Group    string     `json:"group"`
	IssuedAt time.Time  `json:"issued_at"`
	Ahead    int        `json:"ahead"`
	WaitMin  int        `json:"wait_min"`
	State    string     `json:"state"`
	Window   int        `json:"window,omitempty"`
	CalledAt *time.Time `json:"called_at,omitempty"`
	Device   string     `json:"device,omitempty"`
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

// QueueLen is how many visitors of a group wait, and the estimated wait of
// the next one to take a ticket.
type QueueLen struct {
	Group   string `json:"group"`
	Waiting int    `json:"waiting"`
	WaitMin int    `json:"wait_min"`
}

// Error codes.
const (
	CodeBadRequest     = "bad_request"
	CodeUnknownService = "unknown_service"
	CodeInternal       = "internal"
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
	dec := json.NewDecoder(bytes.NewReader(b))
	var m Message
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: trailing data after the message", ErrMalformed)
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
	case TypeTakeTicket:
		if m.TakeTicket == nil || m.ID == "" {
			return missing("take_ticket and id")
		}
	case TypeTicket:
		if m.Ticket == nil || m.Ticket.Number == "" {
			return missing("ticket.number")
		}
	case TypeCall:
		if m.Call == nil || m.Call.ID == "" || m.Call.Ticket == "" || m.Call.Window <= 0 {
			return missing("call.id, call.ticket and call.window")
		}
	case TypeQueues:
		// An empty list is a valid "nobody waits".
	case TypeError:
		if m.Error == nil {
			return missing("error")
		}
	default:
		return fmt.Errorf("%w: %q", ErrUnknownType, m.Type)
	}
	return nil
}
