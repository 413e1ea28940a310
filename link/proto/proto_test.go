package proto

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestRoundTrip(t *testing.T) {
	at := time.Date(2026, 11, 23, 10, 15, 0, 0, time.UTC)
	msgs := []*Message{
		{Type: TypeHello, Hello: &Hello{Device: "kiosk-01", Roles: []string{"kiosk"}, Version: "1.0", Time: at, Epoch: "e1", LastAck: 4, LastPush: 9}},
		{Type: TypeReserve, ID: "r1", Reserve: &Reserve{Service: "pension-age"}},
		{Type: TypeReserved, Re: "r1", Ticket: &Ticket{Number: "П001", Service: "pension-age", IssuedAt: at, State: StateReserved}},
		{Type: TypeTicketIssued, Seq: 5, Ticket: &Ticket{Number: "П3-007", Service: "pension-age", IssuedAt: at, TerminalAt: &at, Offline: true}},
		{Type: TypeDeviceStatus, Seq: 6, Status: &DeviceStatus{At: at, Devices: []DeviceState{{Name: "printer", State: "fault", Detail: "paper_out"}}}},
		{Type: TypeCallShown, Seq: 7, Seen: &CallSeen{Call: "2026-11-23/1", At: at}},
		{Type: TypeCallAnnounced, Seq: 8, Seen: &CallSeen{Call: "2026-11-23/1", At: at}},
		{Type: TypeKeypad, Seq: 9, Keypad: &Keypad{Window: 3, Key: KeyNext, At: at}},
		{Type: TypeRating, Seq: 10, Rating: &Rating{Ticket: "П001", Window: 3, Score: 5, At: at}},
		{Type: TypeCheckin, ID: "r2", Checkin: &Checkin{Code: "4821-7730", At: at}},
		{Type: TypeAck, Seq: 10},
		{Type: TypeRejected, Seq: 9, Error: &Error{Code: CodeBadEvent, Message: "keypad: window 99 is not in this office"}},
		{Type: TypeRejected, Seq: 9, Error: &Error{Code: CodeBadEvent}},
		{Type: TypeLease, Leases: []Lease{{Day: "2026-11-23", Prefix: "П", From: 980, To: 999}}},
		{Type: TypeTicketWithdrawn, Seq: 11, Ticket: &Ticket{Number: "П3-007", Service: "pension-age", IssuedAt: at, TerminalAt: &at, Offline: true},
			Withdrawal: &Withdrawal{Reason: WithdrawNotHandedOut, Printing: true, At: at}},
		{Type: TypeCall, ID: "2026-11-23/1", Push: 11, Call: &Call{ID: "2026-11-23/1", Ticket: "П001", Window: 3, At: at}},
		{Type: TypeRecall, ID: "2026-11-23/2", Push: 12, Call: &Call{ID: "2026-11-23/2", Ticket: "П001", Window: 3, At: at, Recall: true}},
		{Type: TypeCancel, ID: "cancel/2026-11-23/2", Push: 13, Cancel: &Cancel{Call: "2026-11-23/2", Ticket: "П001"}},
		{Type: TypeHallMessage, ID: "hall/14", Push: 14, HallMessage: &HallMessage{Text: Text{UK: "Центр працює до 20:00", EN: "Open until 20:00"}}},
		{Type: TypeUpdate, ID: "update/v2", Push: 15, Update: &Update{Version: "v2"}},
		{Type: TypeQueues, Queues: []QueueLen{{Group: "pensions", Waiting: 4, WaitMin: 12, MinPerVisitor: 3}}},
		{Type: TypeQueues},
		{Type: TypeError, Re: "r2", Error: &Error{Code: CodeUnsupported, Message: "no bookings"}},
		{Type: TypeWelcome, Welcome: &Welcome{Office: Office{ID: "o", Name: Text{UK: "Офіс", EN: "Office"}}, ServerTime: at, Resume: 4, Slot: 2}},
	}
	for _, m := range msgs {
		b, err := Encode(m)
		if err != nil {
			t.Fatalf("%s: %v", m.Type, err)
		}
		got, err := Decode(b)
		if err != nil {
			t.Fatalf("%s: decode %s: %v", m.Type, b, err)
		}
		b2, _ := Encode(got)
		if string(b) != string(b2) {
			t.Errorf("round trip changed %s into %s", b, b2)
		}
	}
}

func TestDecodeRejects(t *testing.T) {
	tests := []struct {
		in   string
		want error
	}{
		{`not json`, ErrMalformed},
		{`{"type":"call"}`, ErrMalformed},
		{`{"type":"call","call":{"id":"x","ticket":"А1","window":0}}`, ErrMalformed},
		{`{"type":"hello","hello":{}}`, ErrMalformed},
		{`{"type":"reserve","reserve":{"service":"x"}}`, ErrMalformed},                    // no id to answer
		{`{"type":"ticket_issued","ticket":{"number":"А1","service":"x"}}`, ErrMalformed}, // an event without seq
		{`{"type":"rating","seq":3,"rating":{"score":9}}`, ErrMalformed},
		{`{"type":"ack"}`, ErrMalformed},
		{`{"type":"rejected","error":{"code":"bad_event","message":"x"}}`, ErrMalformed}, // no seq
		{`{"type":"rejected","seq":3}`, ErrMalformed},                                    // no error
		{`{"type":"rejected","seq":3,"error":{"message":"x"}}`, ErrMalformed},            // no code
		{`{"type":"rejected","seq":-3,"error":{"code":"bad_event"}}`, ErrMalformed},
		{`{"type":"call","call":{"id":"x","ticket":"А1","window":3}}`, ErrMalformed}, // a push without id
		{`{"type":"call","call":{"id":"x","ticket":"А1","window":3}} {}`, ErrMalformed},
		{`{"type":"teleport","id":"t1"}`, ErrUnknownType},
		{`{"type":"queues","queues":"many"}`, ErrMalformed},
		{`{"type":"hello","hello":{"device":"k"}}` + strings.Repeat(" ", MaxMessageBytes), ErrTooLarge},
	}
	for _, tt := range tests {
		_, err := Decode([]byte(tt.in))
		if !errors.Is(err, tt.want) {
			t.Errorf("Decode(%.60q) = %v, want %v", tt.in, err, tt.want)
		}
	}
}

// An unknown type comes back with its id, so the receiver can answer it.
func TestUnknownTypeKeepsID(t *testing.T) {
	m, err := Decode([]byte(`{"type":"teleport","id":"t1","teleport":{"to":"mars"}}`))
	if !errors.Is(err, ErrUnknownType) || m == nil || m.ID != "t1" {
		t.Fatalf("got %+v, %v", m, err)
	}
}

// Fields added by a newer peer within the same version are ignored.
func TestUnknownFieldsIgnored(t *testing.T) {
	m, err := Decode([]byte(`{"type":"call","id":"x","priority":9,"call":{"id":"x","ticket":"А1","window":3,"colour":"red"}}`))
	if err != nil || m.Call.Window != 3 {
		t.Fatalf("got %+v, %v", m, err)
	}
}

func TestTextFallsBackToUkrainian(t *testing.T) {
	if got := (Text{UK: "Пенсії"}).In("en"); got != "Пенсії" {
		t.Errorf("got %q", got)
	}
	if got := (Text{UK: "Пенсії", EN: "Pensions"}).In("en"); got != "Pensions" {
		t.Errorf("got %q", got)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"type":"call","id":"1","push":4,"call":{"id":"1","ticket":"А001","window":3,"at":"2026-11-23T10:00:00Z"}}`))
	f.Add([]byte(`{"type":"ticket_issued","seq":7,"ticket":{"number":"А980","service":"s","offline":true,"terminal_at":"2026-11-23T10:00:00Z"}}`))
	f.Add([]byte(`{"type":"hello","hello":{"device":"k","epoch":"e","last_ack":3,"last_push":18446744073709551615}}`))
	f.Add([]byte(`{"type":"lease","leases":[{"day":"2026-11-23","prefix":"А","from":980,"to":999}]}`))
	f.Add([]byte(`{"type":"welcome","welcome":{"catalogue":{"groups":[{"id":"g"}],"services":[{"id":"s","group":"g"}]}}}`))
	f.Add([]byte(`{"type":"welcome","welcome":{"catalogue":{"groups":[{"id":"g","subgroups":[{"id":"sg"}]}],"services":[{"id":"s","group":"g","subgroup":"sg","keywords":{"uk":["пенсія"]},"info":{"documents":["d"],"term":{"uk":"до 10 днів","en":"10 days"},"forms":["f"]}}],"documents":[{"id":"d"}],"forms":[{"id":"f","file":"f.png"}]}}}`))
	f.Add([]byte(`{"type":"reserved","re":"r1","ticket":{"number":"А1","called_at":null}}`))
	f.Add([]byte(`{"type":"error","error":{"code":"x"}}`))
	f.Add([]byte(`{"type":"rejected","seq":9,"error":{"code":"bad_event","message":"keypad: window 99 is not in this office"}}`))
	f.Add([]byte(`{"type":"ticket_withdrawn","seq":10,"ticket":{"number":"П3-007","service":"s","offline":true},"withdrawal":{"reason":"not_handed_out","printing":true,"at":"2026-11-23T10:00:00Z"}}`))
	f.Add([]byte(`{"type":"ticket_withdrawn","seq":11,"ticket":{"number":"П001","service":"s"},"withdrawal":{"reason":""}}`))
	f.Add([]byte(`{"type":"welcome","welcome":{"series":[{"day":"2026-11-23","prefix":"П","last":-7}]}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Decode(b)
		if err != nil {
			if m != nil && !errors.Is(err, ErrUnknownType) {
				t.Fatalf("message returned with error %v", err)
			}
			return
		}
		// Whatever decodes must encode again: the payload for its type is set.
		if _, err := Encode(m); err != nil {
			t.Fatalf("decoded message does not encode: %v", err)
		}
	})
}

// An offline number is the prefix, the slot, a dash and three digits, and
// reads back as what made it; an online number, or anything else, is not
// one.
func TestOfflineNumber(t *testing.T) {
	if n := OfflineNumber("П", 3, 7); n != "П3-007" {
		t.Errorf("OfflineNumber: %s", n)
	}
	if n := OfflineNumber("Ж", 12, 1234); n != "Ж12-1234" {
		t.Errorf("OfflineNumber past 999: %s", n)
	}
	for number, want := range map[string][2]int{
		"П3-007": {3, 7}, "П12-1234": {12, 1234}, "П001": {}, "П3-": {}, "П-007": {}, "П3-0x7": {},
		"А3-007": {}, "П0-001": {}, "П3-000": {}, "П+3-007": {}, "П3-007~kiosk": {},
	} {
		slot, n, ok := ParseOfflineNumber(number, "П")
		if ok != (want != [2]int{}) || slot != want[0] && ok || n != want[1] && ok {
			t.Errorf("%s: slot %d n %d ok %v, want %v", number, slot, n, ok, want)
		}
	}
}

func FuzzParseOfflineNumber(f *testing.F) {
	for _, s := range []string{"П3-007", "П001", "П99999-999999", "ПП1-1", "П-1-1", "П1--1", "П١-٣"} {
		f.Add(s, "П")
	}
	f.Fuzz(func(t *testing.T, number, prefix string) {
		slot, n, ok := ParseOfflineNumber(number, prefix)
		if !ok {
			return
		}
		if slot < 1 || n < 1 {
			t.Fatalf("%q: slot %d, n %d", number, slot, n)
		}
		if s2, n2, ok2 := ParseOfflineNumber(OfflineNumber(prefix, slot, n), prefix); !ok2 || s2 != slot || n2 != n {
			t.Fatalf("%q: %d %d does not read back", number, slot, n)
		}
	})
}
