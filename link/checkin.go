package link

import (
	"context"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/cherga/kiosk/link/proto"
)

// bucketCheckins remembers the bookings this kiosk checked in by itself
// (key: date/digits), so one code gives one ticket here while offline.
var bucketCheckins = []byte("checkins")

// CodeBookingUnverified: the server is away and the code does not verify
// with the office's key (another day's booking, a typo, or this kiosk
// never got the key).
const CodeBookingUnverified = "booking_unverified"

// BookingRefused is a check-in that gives no ticket, and why: Code is one
// of proto.CodeBooking* or CodeBookingUnverified; Booking is set when the
// booking is known.
type BookingRefused struct {
	Code    string
	Message string
	Booking *proto.Booking
	Offline bool // decided by this kiosk alone
}

func (e *BookingRefused) Error() string { return "check-in refused: " + e.Code + ": " + e.Message }

// CheckedIn is a booking turned into a ticket, in the outbox.
type CheckedIn struct {
	Issued
	Booking proto.Booking
}

// CheckIn turns a typed or scanned booking code into a ticket, committed
// to the outbox before it returns (as IssueTicket). Online the server
// decides; with the server away the kiosk checks the code's signature
// with the office's key, the slot against its own clock, and that it did
// not check the code in already.
func (c *Client) CheckIn(ctx context.Context, code string) (*CheckedIn, error) {
	digits, err := proto.ParseBookingCode(code)
	if err != nil {
		return nil, &BookingRefused{Code: proto.CodeBookingUnknown, Message: err.Error()}
	}
	snap := c.Snapshot()
	if snap == nil {
		return nil, fmt.Errorf("%w: never reached, no catalogue", ErrOffline)
	}
	c.mu.Lock()
	now := c.clock.Now().In(c.loc)
	c.mu.Unlock()
	key := []byte(now.Format(time.DateOnly) + "/" + digits)
	// This kiosk gave the code a ticket already (its confirmation may
	// still be on the way to the server): never a second paper.
	if err := c.store.db.View(func(tx *bolt.Tx) error { return checkedInHere(tx, key) }); err != nil {
		var br *BookingRefused
		if errors.As(err, &br) {
			// Say which booking it was, so the visitor sees the service
			// and can take a normal ticket for it.
			if bc, derr := proto.DecodeBookingCode(digits); derr == nil {
				if b, ok := describeBooking(snap, bc, digits, now); ok {
					b.State = proto.BookingCheckedIn
					br.Booking = &b
				}
			}
		}
		return nil, err
	}
	rctx, cancel := withTimeout(ctx, c.clock, c.cfg.ReserveTimeout)
	r, err := c.request(rctx, &proto.Message{Type: proto.TypeCheckin, Checkin: &proto.Checkin{Code: digits, At: c.clock.Now()}})
	cancel()
	var rerr *replyError
	switch {
	case err == nil && r.Type == proto.TypeReserved && r.Ticket != nil && r.Booking != nil:
		t := *r.Ticket
		t.State, t.Offline, t.Device = proto.StateWaiting, false, c.cfg.Device
		var seq uint64
		err := c.store.update(func(tx *bolt.Tx) error {
			if err := recordCheckin(tx, key, t.Number); err != nil {
				return err
			}
			var err error
			if seq, err = c.store.appendTx(tx, &proto.Message{Type: proto.TypeTicketIssued, Ticket: &t}); err != nil {
				return err
			}
			return putHandout(tx, seq, &t, key)
		})
		if err != nil {
			return nil, err
		}
		return &CheckedIn{Issued: Issued{Ticket: t, Mode: ModeOnline, Seq: seq}, Booking: *r.Booking}, nil
	case errors.As(err, &rerr) && rerr.m.Error.Code != proto.CodeInternal && rerr.m.Error.Code != proto.CodeUnsupported:
		return nil, &BookingRefused{Code: rerr.m.Error.Code, Message: rerr.m.Error.Message, Booking: rerr.m.Booking}
	case ctx.Err() != nil:
		return nil, ctx.Err()
	}
	if err != nil && !errors.Is(err, ErrOffline) {
		c.log.Warn("no check-in answer from the server; checking the code here", "err", err)
	}
	return c.checkInOffline(snap, digits, now, key)
}

// checkInOffline decides at now (office time) alone; key is the code's
// record in bucketCheckins.
func (c *Client) checkInOffline(snap *proto.Welcome, digits string, now time.Time, key []byte) (*CheckedIn, error) {
	rules := snap.Bookings
	if rules == nil {
		return nil, &BookingRefused{Code: CodeBookingUnverified, Offline: true,
			Message: "the server is away and this kiosk has no booking key"}
	}
	day := now.Format(time.DateOnly)
	bc, err := proto.VerifyBookingCode(rules.Key, snap.Office.ID, day, digits)
	if err != nil {
		return nil, &BookingRefused{Code: CodeBookingUnverified, Offline: true, Message: err.Error()}
	}
	b, ok := describeBooking(snap, bc, digits, now)
	if !ok {
		return nil, &BookingRefused{Code: CodeBookingUnverified, Offline: true,
			Message: fmt.Sprintf("service %d is not in this kiosk's catalogue", bc.Service)}
	}
	svc, _ := snap.Catalogue.Service(b.Service)
	switch {
	case now.Before(b.Opens):
		return nil, &BookingRefused{Code: proto.CodeBookingEarly, Offline: true, Booking: &b, Message: "check-in opens at " + b.Opens.Format("15:04")}
	case now.After(b.Closes):
		return nil, &BookingRefused{Code: proto.CodeBookingLate, Offline: true, Booking: &b, Message: "check-in closed at " + b.Closes.Format("15:04")}
	}
	group, _ := snap.Catalogue.Group(svc.Group)
	is, err := c.issueOfflineWith(svc, group, snap.Slot, func(tx *bolt.Tx, t *proto.Ticket) error {
		t.Booking, t.Priority = digits, rules.Priority
		return recordCheckin(tx, key, t.Number)
	}, key)
	if err != nil {
		return nil, err
	}
	b.State, b.Ticket = proto.BookingCheckedIn, is.Number
	c.log.Info("booking checked in offline", "booking", b.Code, "number", is.Number)
	return &CheckedIn{Issued: *is, Booking: b}, nil
}

// describeBooking is the booking a code names, for today (now, office
// time), as far as the kiosk can tell from the code and the office's
// rules; false if its service is not in the catalogue.
func describeBooking(snap *proto.Welcome, bc proto.BookingCode, digits string, now time.Time) (proto.Booking, bool) {
	svc, ok := snap.Catalogue.ServiceByCode(bc.Service)
	if !ok {
		return proto.Booking{}, false
	}
	day := now.Format(time.DateOnly)
	start, _ := bc.SlotTime(day, now.Location())
	b := proto.Booking{Code: digits[:4] + "-" + digits[4:8] + "-" + digits[8:], Service: svc.ID, Date: day,
		Slot: start.Format("15:04"), State: proto.BookingBooked}
	if rules := snap.Bookings; rules != nil {
		b.Opens = start.Add(-time.Duration(rules.EarlyMin) * time.Minute)
		b.Closes = start.Add(time.Duration(rules.LateMin) * time.Minute)
	}
	return b, true
}

// checkedInHere refuses a booking (key: date/digits) this kiosk gave a
// ticket already.
func checkedInHere(tx *bolt.Tx, key []byte) error {
	if b := tx.Bucket(bucketCheckins); b != nil {
		if prev := b.Get(key); prev != nil {
			return &BookingRefused{Code: proto.CodeBookingUsed, Message: "checked in here already, ticket " + string(prev)}
		}
	}
	return nil
}

// recordCheckin notes that this kiosk gave the booking key ticket number,
// refusing a second one.
func recordCheckin(tx *bolt.Tx, key []byte, number string) error {
	if err := checkedInHere(tx, key); err != nil {
		return err
	}
	b, err := tx.CreateBucketIfNotExists(bucketCheckins)
	if err != nil {
		return err
	}
	return b.Put(key, []byte(number))
}
