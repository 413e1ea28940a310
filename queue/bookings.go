package queue

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/cherga/kiosk/link/proto"
	"github.com/cherga/kiosk/queue/datafile"
)

// Booking storage: bookings/<date>/<12 digits> → the booking; booking-index
// /<12 digits>/<date> → nothing, to find a code booked for another day.
var (
	bucketBookings = []byte("bookings")
	bucketBookIdx  = []byte("booking-index")
)

// Errors of the booking calls.
var (
	ErrBookingsOff   = errors.New("queue: this office takes no bookings (bookings.enabled is false)")
	ErrSlotFull      = errors.New("queue: the slot is fully booked")
	ErrBadSlot       = errors.New("queue: no such slot")
	ErrNoSuchBooking = errors.New("queue: no such booking")
)

// BookingError is a check-in refused; Booking is set when there is one.
type BookingError struct {
	Code    string // proto.CodeBooking*
	Message string
	Booking *proto.Booking
}

func (e *BookingError) Error() string { return "queue: " + e.Message }

// LoadBookingKey reads the office's booking key (hex), making a new random
// one if the file does not exist yet.
func LoadBookingKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("queue: booking key: %w", err)
		}
		// Atomic, so a crash cannot leave half a key; and given the data
		// directory's owner when queued was started from a root shell.
		if err := datafile.WriteFile(path, []byte(hex.EncodeToString(key)+"\n")); err != nil {
			return nil, fmt.Errorf("queue: booking key: %w", err)
		}
		return key, nil
	}
	if err != nil {
		return nil, fmt.Errorf("queue: booking key: %w", err)
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(key) < 16 {
		return nil, fmt.Errorf("queue: booking key %s: expected at least 32 hex digits (delete the file to make a new key; outstanding codes then stop verifying)", path)
	}
	return key, nil
}

// bookingRules is what kiosks need to check codes offline; nil when the
// office takes no bookings.
func (q *Queue) bookingRules() *proto.BookingRules {
	b := q.o.cfg.Bookings
	if !b.Enabled || len(q.bookingKey) == 0 {
		return nil
	}
	return &proto.BookingRules{Key: q.bookingKey, SlotMinutes: b.SlotMinutes,
		EarlyMin: int(b.Early / time.Minute), LateMin: int(b.Late / time.Minute), Priority: b.Priority}
}

// storedBooking is a booking in the database.
type storedBooking struct {
	proto.Booking
	Digits  string    `json:"digits"`
	Created time.Time `json:"created"`
	Device  string    `json:"device,omitempty"` // the kiosk it checked in at
}

// Slot is a bookable slot and how many places it has left.
type Slot struct {
	Time string `json:"time"` // HH:MM
	Free int    `json:"free"`
}

// parseSlot checks date and slot ("HH:MM") against the rules and today.
func (q *Queue) parseSlot(date, slot string) (time.Time, int, error) {
	b := q.o.cfg.Bookings
	day, err := time.ParseInLocation(time.DateOnly, date, q.o.loc)
	if err != nil {
		return time.Time{}, 0, fmt.Errorf("%w: date %q, expected YYYY-MM-DD", ErrBadSlot, date)
	}
	today, _ := time.ParseInLocation(time.DateOnly, q.today(), q.o.loc)
	if day.Before(today) || day.After(today.AddDate(0, 0, b.DaysAhead)) {
		return time.Time{}, 0, fmt.Errorf("%w: %s is not between today and %d days ahead", ErrBadSlot, date, b.DaysAhead)
	}
	t, err := time.Parse("15:04", slot)
	if err != nil {
		return time.Time{}, 0, fmt.Errorf("%w: slot %q, expected HH:MM", ErrBadSlot, slot)
	}
	min := t.Hour()*60 + t.Minute()
	first, last := b.SlotRange()
	if min < first || min > last || (min-first)%b.SlotMinutes != 0 {
		return time.Time{}, 0, fmt.Errorf("%w: %s is not a slot start (every %d min from %s, last %02d:%02d)",
			ErrBadSlot, slot, b.SlotMinutes, b.Open, last/60, last%60)
	}
	return time.Date(day.Year(), day.Month(), day.Day(), 0, min, 0, 0, q.o.loc), min, nil
}

func (q *Queue) bookingView(date, digits string, sb *storedBooking) proto.Booking {
	pb := sb.Booking
	b := q.o.cfg.Bookings
	if code, err := proto.DecodeBookingCode(digits); err == nil {
		if start, err := code.SlotTime(date, q.o.loc); err == nil {
			pb.Opens, pb.Closes = start.Add(-b.Early), start.Add(b.Late)
		}
	}
	return pb
}

// places lists the places taken in a service's slot on date.
func places(day *bolt.Bucket, service int, slotMin int) map[int]bool {
	taken := map[int]bool{}
	if day == nil {
		return taken
	}
	prefix := fmt.Sprintf("%03d%03d", service, slotMin/5)
	c := day.Cursor()
	for k, v := c.Seek([]byte(prefix)); k != nil && bytes.HasPrefix(k, []byte(prefix)); k, v = c.Next() {
		var sb storedBooking
		if json.Unmarshal(v, &sb) == nil && sb.State != proto.BookingCancelled {
			code, _ := proto.DecodeBookingCode(string(k))
			taken[code.Place] = true
		}
	}
	return taken
}

// Book books service's slot on date (YYYY-MM-DD, HH:MM).
func (q *Queue) Book(service, date, slot string) (proto.Booking, error) {
	var out proto.Booking
	_, err := q.update(false, func(tx *bolt.Tx, w *work) error {
		b := q.o.cfg.Bookings
		if !b.Enabled || len(q.bookingKey) == 0 {
			return refuse(ErrBookingsOff)
		}
		svc, ok := q.o.services[service]
		if !ok {
			return refuse(fmt.Errorf("%w %q", ErrUnknownService, service))
		}
		start, min, err := q.parseSlot(date, slot)
		if err != nil {
			return refuse(err)
		}
		if q.now().After(start.Add(b.Late)) {
			return refuse(fmt.Errorf("%w: %s %s is over", ErrBadSlot, date, slot))
		}
		all, err := tx.CreateBucketIfNotExists(bucketBookings)
		if err != nil {
			return err
		}
		day, err := all.CreateBucketIfNotExists([]byte(date))
		if err != nil {
			return err
		}
		taken := places(day, svc.Code, min)
		if len(taken) >= b.Capacity {
			return refuse(ErrSlotFull)
		}
		place := 0
		for taken[place] {
			place++
		}
		code := proto.BookingCode{Service: svc.Code, Slot: min, Place: place}.Format(q.bookingKey, q.o.cfg.ID, date)
		digits := strings.ReplaceAll(code, "-", "")
		sb := storedBooking{Booking: proto.Booking{Code: code, Service: service, Date: date, Slot: slot, State: proto.BookingBooked},
			Digits: digits, Created: q.now()}
		if err := putJSON(day, []byte(digits), &sb); err != nil {
			return err
		}
		idx, err := tx.CreateBucketIfNotExists(bucketBookIdx)
		if err != nil {
			return err
		}
		if err := idx.Put([]byte(digits+"/"+date), nil); err != nil {
			return err
		}
		out = q.bookingView(date, digits, &sb)
		return nil
	})
	return out, err
}

// Slots lists a service's slots on date with the places left.
func (q *Queue) Slots(service, date string) ([]Slot, error) {
	q.mu.Lock()
	b := q.o.cfg.Bookings
	svc, ok := q.o.services[service]
	first, last := b.SlotRange()
	firstStart, _, err := q.parseSlot(date, fmt.Sprintf("%02d:%02d", first/60, first%60))
	q.mu.Unlock()
	if !b.Enabled {
		return nil, ErrBookingsOff
	}
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownService, service)
	}
	if err != nil {
		return nil, err
	}
	var out []Slot
	now := q.now()
	err = q.db.View(func(tx *bolt.Tx) error {
		var day *bolt.Bucket
		if all := tx.Bucket(bucketBookings); all != nil {
			day = all.Bucket([]byte(date))
		}
		for m := first; m <= last; m += b.SlotMinutes {
			start := firstStart.Add(time.Duration(m-first) * time.Minute)
			if now.After(start.Add(b.Late)) {
				continue
			}
			out = append(out, Slot{Time: fmt.Sprintf("%02d:%02d", m/60, m%60), Free: b.Capacity - len(places(day, svc.Code, m))})
		}
		return nil
	})
	return out, err
}

// Bookings lists the bookings of date.
func (q *Queue) Bookings(date string) ([]proto.Booking, error) {
	if _, err := time.Parse(time.DateOnly, date); err != nil {
		return nil, fmt.Errorf("%w: %q", ErrBadDate, date)
	}
	out := []proto.Booking{}
	err := q.db.View(func(tx *bolt.Tx) error {
		all := tx.Bucket(bucketBookings)
		if all == nil || all.Bucket([]byte(date)) == nil {
			return nil
		}
		return all.Bucket([]byte(date)).ForEach(func(k, v []byte) error {
			var sb storedBooking
			if err := json.Unmarshal(v, &sb); err != nil {
				return err
			}
			out = append(out, q.bookingView(date, string(k), &sb))
			return nil
		})
	})
	return out, err
}

// CancelBooking frees a booking's place.
func (q *Queue) CancelBooking(date, code string) (proto.Booking, error) {
	digits, err := proto.ParseBookingCode(code)
	if err != nil {
		return proto.Booking{}, err
	}
	var out proto.Booking
	_, err = q.update(false, func(tx *bolt.Tx, w *work) error {
		sb, day := getBooking(tx, date, digits)
		if sb == nil {
			return refuse(ErrNoSuchBooking)
		}
		if sb.State == proto.BookingCheckedIn {
			return refuse(&BookingError{Code: proto.CodeBookingUsed, Message: "the visitor has checked in already"})
		}
		sb.State = proto.BookingCancelled
		out = q.bookingView(date, digits, sb)
		return putJSON(day, []byte(digits), sb)
	})
	return out, err
}

func getBooking(tx *bolt.Tx, date, digits string) (*storedBooking, *bolt.Bucket) {
	all := tx.Bucket(bucketBookings)
	if all == nil {
		return nil, nil
	}
	day := all.Bucket([]byte(date))
	if day == nil {
		return nil, nil
	}
	v := day.Get([]byte(digits))
	if v == nil {
		return nil, nil
	}
	var sb storedBooking
	if json.Unmarshal(v, &sb) != nil {
		return nil, nil
	}
	return &sb, day
}

// CheckIn turns today's booking with code into a reserved ticket with the
// booking's priority; the kiosk's ticket_issued confirms it as for any
// reserved ticket. A refusal is a *BookingError saying why. Checking in
// again while the ticket is still only reserved (the kiosk died before
// printing) gives the same ticket.
func (q *Queue) CheckIn(code, device string) (proto.Ticket, proto.Booking, error) {
	digits, err := proto.ParseBookingCode(code)
	if err != nil {
		return proto.Ticket{}, proto.Booking{}, &BookingError{Code: proto.CodeBookingUnknown, Message: err.Error()}
	}
	var ticket proto.Ticket
	var view proto.Booking
	_, err = q.update(false, func(tx *bolt.Tx, w *work) error {
		b := q.o.cfg.Bookings
		if !b.Enabled || len(q.bookingKey) == 0 {
			return refuse(ErrBookingsOff)
		}
		if err := q.rollDay(tx); err != nil {
			return err
		}
		today := q.day
		sb, day := getBooking(tx, today, digits)
		if sb == nil {
			if other := q.otherDay(tx, digits, today); other != nil {
				v := q.bookingView(other.Date, digits, other)
				return refuse(&BookingError{Code: proto.CodeBookingOtherDay, Message: "booked for " + other.Date, Booking: &v})
			}
			return refuse(&BookingError{Code: proto.CodeBookingUnknown, Message: "no booking with code " + code + " today"})
		}
		view = q.bookingView(today, digits, sb)
		now := q.now()
		switch {
		case sb.State == proto.BookingCancelled:
			return refuse(&BookingError{Code: proto.CodeBookingCanceled, Message: "the booking was cancelled", Booking: &view})
		case sb.State == proto.BookingCheckedIn:
			if t := q.tickets[sb.Ticket]; t != nil && t.State == proto.StateReserved && t.Device == device {
				ticket = t.Ticket
				return nil
			}
			return refuse(&BookingError{Code: proto.CodeBookingUsed, Message: "checked in already, ticket " + sb.Ticket, Booking: &view})
		case now.Before(view.Opens):
			return refuse(&BookingError{Code: proto.CodeBookingEarly, Message: "check-in opens at " + view.Opens.Format("15:04"), Booking: &view})
		case now.After(view.Closes):
			return refuse(&BookingError{Code: proto.CodeBookingLate, Message: "check-in closed at " + view.Closes.Format("15:04"), Booking: &view})
		}
		tk, err := q.issueTx(tx, w, sb.Service, device, proto.StateReserved, digits, b.Priority)
		if err != nil {
			return err
		}
		ticket = tk.Ticket
		sb.State, sb.Ticket, sb.Device = proto.BookingCheckedIn, ticket.Number, device
		view = q.bookingView(today, digits, sb)
		return putJSON(day, []byte(digits), sb)
	})
	return ticket, view, err
}

// otherDay finds the booking with digits on a day other than today.
func (q *Queue) otherDay(tx *bolt.Tx, digits, today string) *storedBooking {
	idx := tx.Bucket(bucketBookIdx)
	if idx == nil {
		return nil
	}
	c := idx.Cursor()
	prefix := []byte(digits + "/")
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		date := string(k[len(prefix):])
		if date == today {
			continue
		}
		if _, err := proto.VerifyBookingCode(q.bookingKey, q.o.cfg.ID, date, digits); err != nil {
			continue
		}
		if sb, _ := getBooking(tx, date, digits); sb != nil && sb.State == proto.BookingBooked {
			return sb
		}
	}
	return nil
}

// bookingUsedOffline records that a kiosk checked in a booking by itself
// while the server was away (its ticket_issued carries the code).
func (q *Queue) bookingUsedOffline(tx *bolt.Tx, t *proto.Ticket, device string) error {
	day := q.dayOf(t.IssuedAt)
	sb, b := getBooking(tx, day, t.Booking)
	switch {
	case sb == nil:
		q.log.Warn("offline check-in of a booking this server does not have; ticket kept", "booking", t.Booking, "ticket", t.Number, "device", device)
		return nil
	case sb.State != proto.BookingBooked:
		q.log.Warn("booking checked in twice (offline); both tickets kept", "booking", sb.Code, "first", sb.Ticket, "second", t.Number, "device", device)
		return nil
	}
	sb.State, sb.Ticket, sb.Device = proto.BookingCheckedIn, t.Number, device
	return putJSON(b, []byte(t.Booking), sb)
}
