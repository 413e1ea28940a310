package queue

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/cherga/kiosk/link/proto"
)

func openBookings(t *testing.T, c *clockwork.FakeClock) *Queue {
	t.Helper()
	cfg := testOffice(t)
	cfg.Bookings.Enabled = true
	key, err := LoadBookingKey(filepath.Join(t.TempDir(), "booking.key"))
	if err != nil {
		t.Fatal(err)
	}
	q, err := Open(filepath.Join(t.TempDir(), "q.db"), cfg, Options{Clock: c, BookingKey: key})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	// Kiosks get the rules to check codes offline; other terminals not.
	if w, _ := connect(t, q, hello("kiosk-1", "kiosk")); w.Bookings == nil || string(w.Bookings.Key) != string(key) {
		t.Fatalf("kiosk welcome bookings %+v", w.Bookings)
	}
	if w, _ := connect(t, q, hello("hall-1", "hall")); w.Bookings != nil {
		t.Fatal("a hall got the booking key")
	}
	return q
}

func bookingCode(err error) string {
	var be *BookingError
	if errors.As(err, &be) {
		return be.Code
	}
	return ""
}

func TestBookAndCheckIn(t *testing.T) {
	c := newClock() // 2026-11-23 09:00 Kyiv
	q := openBookings(t, c)

	// Capacity 2 per service and slot; slots every 15 min from 08:00.
	b1, err := q.Book("pension-age", "2026-11-23", "10:00")
	if err != nil {
		t.Fatal(err)
	}
	b2, err := q.Book("pension-age", "2026-11-23", "10:00")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := q.Book("pension-age", "2026-11-23", "10:00"); !errors.Is(err, ErrSlotFull) {
		t.Fatalf("third booking of a 2-place slot: %v", err)
	}
	for _, bad := range [][2]string{{"2026-11-23", "10:05"}, {"2026-11-23", "20:00"}, {"2026-11-22", "10:00"}, {"2027-01-30", "10:00"}, {"2026-11-23", "08:00"}} {
		if _, err := q.Book("pension-age", bad[0], bad[1]); !errors.Is(err, ErrBadSlot) {
			t.Errorf("Book(%s %s) = %v, want ErrBadSlot", bad[0], bad[1], err)
		}
	}
	if len(b1.Code) != 14 || b1.Code == b2.Code || b1.Opens.Format("15:04") != "09:30" || b1.Closes.Format("15:04") != "10:15" {
		t.Fatalf("bookings %+v %+v", b1, b2)
	}
	slots, err := q.Slots("pension-age", "2026-11-23")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range slots {
		if s.Time == "10:00" && s.Free != 0 || s.Time == "10:15" && s.Free != 2 {
			t.Errorf("slot %+v", s)
		}
	}
	if slots[0].Time != "08:45" {
		t.Errorf("first slot still open at 09:00 is %s, want 08:45 (late check-in runs to 09:00)", slots[0].Time)
	}

	// Too early, then in time: a reserved ticket with the booking's priority.
	if _, _, err := q.CheckIn(b1.Code, "kiosk-1"); bookingCode(err) != proto.CodeBookingEarly {
		t.Fatalf("at 09:00 for 10:00: %v", err)
	}
	c.Advance(45 * time.Minute)
	tk, bk, err := q.CheckIn(strings.ReplaceAll(b1.Code, "-", " "), "kiosk-1")
	if err != nil {
		t.Fatal(err)
	}
	if tk.State != proto.StateReserved || tk.Priority != 1 || tk.Booking == "" || bk.State != proto.BookingCheckedIn || bk.Ticket != tk.Number {
		t.Fatalf("ticket %+v booking %+v", tk, bk)
	}
	// The kiosk died before printing: the same check-in gives the same ticket.
	again, _, err := q.CheckIn(b1.Code, "kiosk-1")
	if err != nil || again.Number != tk.Number {
		t.Fatalf("repeated check-in: %+v %v", again, err)
	}
	if _, _, err := q.ApplyEvents("kiosk-1", 0, []*proto.Message{{Type: proto.TypeTicketIssued, Seq: 1, Ticket: &tk}}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := q.CheckIn(b1.Code, "kiosk-2"); bookingCode(err) != proto.CodeBookingUsed {
		t.Fatalf("used booking: %v", err)
	}
	// A mistyped digit, a cancelled booking, a late one.
	typo := []byte(b2.Code)
	typo[0] = '0' + (typo[0]-'0'+1)%10
	if _, _, err := q.CheckIn(string(typo), "kiosk-1"); bookingCode(err) != proto.CodeBookingUnknown {
		t.Fatalf("typo: %v", err)
	}
	if _, err := q.CancelBooking("2026-11-23", b2.Code); err != nil {
		t.Fatal(err)
	}
	if _, _, err := q.CheckIn(b2.Code, "kiosk-1"); bookingCode(err) != proto.CodeBookingCanceled {
		t.Fatalf("cancelled: %v", err)
	}
	b3, _ := q.Book("subsidy-housing", "2026-11-23", "09:30")
	c.Advance(time.Hour) // 10:45
	if _, _, err := q.CheckIn(b3.Code, "kiosk-1"); bookingCode(err) != proto.CodeBookingLate {
		t.Fatalf("late: %v", err)
	}
	// Another day's booking says which day.
	b4, _ := q.Book("subsidy-housing", "2026-11-25", "12:00")
	_, _, err = q.CheckIn(b4.Code, "kiosk-1")
	var be *BookingError
	if !errors.As(err, &be) || be.Code != proto.CodeBookingOtherDay || be.Booking.Date != "2026-11-25" {
		t.Fatalf("other day: %v", err)
	}
	list, _ := q.Bookings("2026-11-23")
	if len(list) != 3 {
		t.Errorf("%d bookings today, want 3", len(list))
	}
}

// A booked visitor is called before walk-ins who came earlier.
func TestBookedVisitorFirst(t *testing.T) {
	c := newClock()
	q := openBookings(t, c)
	walkIn, _, err := q.Issue("pension-age", "api")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := q.Book("pension-age", "2026-11-23", "09:15")
	tk, _, err := q.CheckIn(b.Code, "kiosk-1")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := q.ApplyEvents("kiosk-1", 0, []*proto.Message{{Type: proto.TypeTicketIssued, Seq: 1, Ticket: &tk}}); err != nil {
		t.Fatal(err)
	}
	first, _, _ := q.Next(9)
	second, _, _ := q.Next(9)
	if first.Number != tk.Number || second.Number != walkIn.Number {
		t.Errorf("called %s then %s; want the booking %s first", first.Number, second.Number, tk.Number)
	}
}

// A kiosk that checked a booking in by itself while the server was away
// marks it used when its ticket arrives.
func TestOfflineCheckIn(t *testing.T) {
	c := newClock()
	q := openBookings(t, c)
	b, _ := q.Book("subsidy-housing", "2026-11-23", "09:15")
	now := c.Now()
	digits := strings.ReplaceAll(b.Code, "-", "")
	if _, err := proto.VerifyBookingCode(q.bookingKey, "test-office", "2026-11-23", digits); err != nil {
		t.Fatalf("the code does not verify offline: %v", err)
	}
	off := proto.Ticket{Number: "А999", Service: "subsidy-housing", Group: "subsidies", IssuedAt: now, TerminalAt: &now,
		Offline: true, Booking: digits, Priority: 1, State: proto.StateWaiting}
	if _, _, err := q.ApplyEvents("kiosk-1", 0, []*proto.Message{{Type: proto.TypeTicketIssued, Seq: 1, Ticket: &off}}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := q.CheckIn(b.Code, "kiosk-2"); bookingCode(err) != proto.CodeBookingUsed {
		t.Fatalf("after the offline check-in: %v", err)
	}
}

func TestBookingKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k", "booking.key")
	k1, err := LoadBookingKey(path)
	if err != nil || len(k1) != 32 {
		t.Fatal(k1, err)
	}
	k2, _ := LoadBookingKey(path)
	if string(k1) != string(k2) {
		t.Error("the key changed on reload")
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v", fi.Mode())
	}
	_ = os.WriteFile(path, []byte("short"), 0o600)
	if _, err := LoadBookingKey(path); err == nil || !strings.Contains(err.Error(), "hex digits") {
		t.Errorf("bad key file: %v", err)
	}
}
