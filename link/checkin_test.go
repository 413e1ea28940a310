package link

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/cherga/kiosk/link/proto"
	"github.com/cherga/kiosk/queue/queuetest"
)

func refused(err error) string {
	var br *BookingRefused
	if errors.As(err, &br) {
		return br.Code
	}
	return ""
}

// A booking checked in online becomes a priority ticket; with the server
// away, a kiosk verifies codes itself, once each; back online, the server
// learns the booking was used.
func TestCheckIn(t *testing.T) {
	kyiv, _ := time.LoadLocation("Europe/Kyiv")
	// 10:00 in Kyiv on both sides: bookings need office hours, whenever
	// the test runs.
	clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 23, 10, 0, 0, 0, kyiv))
	office := queuetest.Start(t, clock)
	r := start(t, office.LinkURL(), t.TempDir(), []string{"kiosk"}, func(c *Config) {
		c.Clock, c.ReserveTimeout = clock, 300*time.Millisecond
	})
	defer r.stop()
	if w := receive(t, r.rec.welcomes, "welcome"); w.Bookings == nil {
		t.Fatal("no booking rules in the kiosk's welcome")
	}
	b1, err := office.Queue.Book("pension-age", "2026-11-23", "10:15")
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := office.Queue.Book("pension-age", "2026-11-23", "10:15")
	early, _ := office.Queue.Book("pension-age", "2026-11-23", "12:00")
	ctx := context.Background()

	ci, err := r.c.CheckIn(ctx, b1.Code)
	if err != nil {
		t.Fatal(err)
	}
	if ci.Offline || ci.Priority != 1 || ci.Booking.State != proto.BookingCheckedIn || ci.Number[:len("П")] != "П" {
		t.Fatalf("checked in %+v", ci)
	}
	if _, err := r.c.CheckIn(ctx, b1.Code); refused(err) != proto.CodeBookingUsed {
		t.Fatalf("second check-in: %v", err)
	}
	if _, err := r.c.CheckIn(ctx, early.Code); refused(err) != proto.CodeBookingEarly {
		t.Fatalf("early: %v", err)
	}
	if _, err := r.c.CheckIn(ctx, "12-34"); refused(err) != proto.CodeBookingUnknown {
		t.Fatalf("garbage: %v", err)
	}
	if err := r.c.WaitAck(ctx, ci.Seq); err != nil {
		t.Fatal(err)
	}

	office.Stop()
	off, err := r.c.CheckIn(ctx, b2.Code)
	if err != nil {
		t.Fatal(err)
	}
	if !off.Offline || off.Booking.Slot != "10:15" || off.Priority != 1 || off.Booking.Ticket != off.Number {
		t.Fatalf("offline check-in %+v", off)
	}
	if _, err := r.c.CheckIn(ctx, b2.Code); refused(err) != proto.CodeBookingUsed {
		t.Fatalf("offline, the same code again: %v", err)
	}
	if _, err := r.c.CheckIn(ctx, early.Code); refused(err) != proto.CodeBookingEarly {
		t.Fatalf("offline early: %v", err)
	}
	typo := []byte(b2.Code)
	typo[13] = '0' + (typo[13]-'0'+1)%10
	if _, err := r.c.CheckIn(ctx, string(typo)); refused(err) != CodeBookingUnverified {
		t.Fatalf("offline typo: %v", err)
	}

	office.Restart()
	clock.Advance(waitRedial(t, r.c, clock))
	receive(t, r.rec.welcomes, "welcome after the restart")
	if err := r.c.WaitAck(ctx, off.Seq); err != nil {
		t.Fatal(err)
	}
	list, _ := office.Queue.Bookings("2026-11-23")
	for _, b := range list {
		if b.Code == b2.Code && (b.State != proto.BookingCheckedIn || b.Ticket != off.Number) {
			t.Errorf("after the offline check-in the server has %+v", b)
		}
	}
}
