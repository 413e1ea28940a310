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

// outboxTypes lists the types of the events in the outbox, in order.
func outboxTypes(t *testing.T, s *Store) []string {
	t.Helper()
	ps, err := s.Pending(0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range ps {
		m, err := proto.Decode(p.body)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m.Type)
	}
	return out
}

// A ticket is pending hand-out from its commit until HandedOut; what is
// pending when the kiosk starts is withdrawn, saying whether its printing
// had started, and only once. One handed out is never withdrawn.
func TestHandOutRecords(t *testing.T) {
	office := queuetest.Start(t, nil)
	dir := t.TempDir()
	r := start(t, office.LinkURL(), dir, kioskHall)
	receive(t, r.rec.welcomes, "welcome")
	handed := issue(t, r.c, "pension-age")
	if err := r.c.Printing(handed.Seq); err != nil {
		t.Fatal(err)
	}
	if err := r.c.HandedOut(handed.Seq); err != nil {
		t.Fatal(err)
	}
	if err := r.c.HandedOut(handed.Seq); !errors.Is(err, ErrNotPending) {
		t.Errorf("handed out twice: %v", err)
	}
	never := issue(t, r.c, "pension-age")    // committed, then kioskd died
	printing := issue(t, r.c, "pension-age") // died while it printed
	if err := r.c.Printing(printing.Seq); err != nil {
		t.Fatal(err)
	}
	if err := r.c.WaitAck(context.Background(), printing.Seq); err != nil {
		t.Fatal(err)
	}
	r.stop()
	office.Stop() // the server is away when the kiosk starts again

	r = start(t, office.LinkURL(), dir, kioskHall)
	defer func() { r.stop() }()
	receive(t, r.rec.welcomes, "saved welcome")
	ws, err := r.c.SettleUnhanded()
	if err != nil {
		t.Fatal(err)
	}
	if len(ws) != 2 || ws[0].Number != never.Number || ws[0].Printing || ws[1].Number != printing.Number || !ws[1].Printing {
		t.Fatalf("withdrawn %+v", ws)
	}
	if again, err := r.c.SettleUnhanded(); err != nil || len(again) != 0 {
		t.Errorf("settled again: %+v %v", again, err)
	}
	if _, err := r.c.Withdraw(handed.Seq); !errors.Is(err, ErrNotPending) {
		t.Errorf("a ticket handed out withdrawn: %v", err)
	}
	// (The events before may still be there: acknowledged, not yet pruned.)
	if got := outboxTypes(t, r.store); len(got) < 2 || got[len(got)-2] != proto.TypeTicketWithdrawn || got[len(got)-1] != proto.TypeTicketWithdrawn {
		t.Errorf("outbox %v", got)
	}

	// Back: the server takes both out of the queue; the one handed out
	// is the next call.
	office.Restart()
	if err := r.c.WaitAck(context.Background(), ws[1].WithdrawnSeq); err != nil {
		t.Fatal(err)
	}
	for _, w := range ws {
		tk, _, err := office.Queue.Track(office.Queue.Today(), w.Number)
		if err != nil || tk.State != proto.StateCancelled {
			t.Errorf("%s at the server: %+v %v", w.Number, tk, err)
		}
	}
	if called, _, err := office.Queue.Next(9); err != nil || called.Number != handed.Number {
		t.Fatalf("next call %s %v, want %s", called.Number, err, handed.Number)
	}
	if tk, _, err := office.Queue.Next(9); err == nil {
		t.Errorf("a withdrawn ticket was called: %s", tk.Number)
	}
}

// A kiosk restarted while the server is away counts the visitors ahead
// from the queue lengths it last had and the tickets it issued since,
// still in its outbox; a ticket it withdrew is nobody ahead.
func TestAheadSurvivesRestartOffline(t *testing.T) {
	office := queuetest.Start(t, nil)
	dir := t.TempDir()
	r := start(t, office.LinkURL(), dir, kioskHall)
	receive(t, r.rec.welcomes, "welcome")
	first := issue(t, r.c, "pension-age")
	if err := r.c.HandedOut(first.Seq); err != nil {
		t.Fatal(err)
	}
	if err := r.c.WaitAck(context.Background(), first.Seq); err != nil {
		t.Fatal(err)
	}
	for q := r.c.Snapshot().Queues; waitingIn(q, "pensions") != 1; q = receive(t, r.rec.queues, "queue lengths") {
	}
	office.Stop()
	for i := range 2 {
		is := issue(t, r.c, "pension-age")
		if !is.Offline || is.Ahead != 1+i {
			t.Fatalf("offline ticket %d: %+v", i, is)
		}
		if err := r.c.HandedOut(is.Seq); err != nil {
			t.Fatal(err)
		}
	}
	ghost := issue(t, r.c, "pension-age") // never handed out
	if ghost.Ahead != 3 {
		t.Fatalf("ghost %+v", ghost)
	}
	r.stop()

	r = start(t, office.LinkURL(), dir, kioskHall)
	defer func() { r.stop() }()
	receive(t, r.rec.welcomes, "saved welcome")
	if ws, err := r.c.SettleUnhanded(); err != nil || len(ws) != 1 || ws[0].Number != ghost.Number {
		t.Fatalf("settled %+v %v", ws, err)
	}
	if is := issue(t, r.c, "pension-age"); is.Ahead != 3 || is.Number != "П1-004" {
		t.Errorf("after the restart: %s with %d ahead, want П1-004 with 3", is.Number, is.Ahead)
	}
}

// A booking whose ticket was never handed out may be checked in again:
// online the server makes it bookable again when the ticket is withdrawn;
// offline the kiosk frees its own record of the code.
func TestWithdrawnCheckInMayCheckInAgain(t *testing.T) {
	kyiv, _ := time.LoadLocation("Europe/Kyiv")
	clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 23, 10, 0, 0, 0, kyiv))
	office := queuetest.Start(t, clock)
	r := start(t, office.LinkURL(), t.TempDir(), []string{"kiosk"}, func(c *Config) {
		c.Clock, c.ReserveTimeout = clock, 300*time.Millisecond
	})
	defer r.stop()
	receive(t, r.rec.welcomes, "welcome")
	b1, err := office.Queue.Book("pension-age", "2026-11-23", "10:15")
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := office.Queue.Book("pension-age", "2026-11-23", "10:15")
	ctx := context.Background()

	ci, err := r.c.CheckIn(ctx, b1.Code)
	if err != nil || ci.Offline {
		t.Fatalf("check-in %+v %v", ci, err)
	}
	w, err := r.c.Withdraw(ci.Seq)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.c.WaitAck(ctx, w.WithdrawnSeq); err != nil {
		t.Fatal(err)
	}
	list, _ := office.Queue.Bookings("2026-11-23")
	for _, b := range list {
		if b.Code == b1.Code && (b.State != proto.BookingBooked || b.Ticket != "") {
			t.Errorf("after the withdrawal the server has %+v", b)
		}
	}
	again, err := r.c.CheckIn(ctx, b1.Code)
	if err != nil || again.Number == ci.Number {
		t.Fatalf("online check-in after the withdrawal: %+v %v", again, err)
	}

	office.Stop()
	off, err := r.c.CheckIn(ctx, b2.Code)
	if err != nil || !off.Offline {
		t.Fatalf("offline check-in %+v %v", off, err)
	}
	if _, err := r.c.CheckIn(ctx, b2.Code); refused(err) != proto.CodeBookingUsed {
		t.Fatalf("second check-in before the withdrawal: %v", err)
	}
	if _, err := r.c.Withdraw(off.Seq); err != nil {
		t.Fatal(err)
	}
	if again, err := r.c.CheckIn(ctx, b2.Code); err != nil || again.Number == off.Number {
		t.Fatalf("offline check-in after the withdrawal: %+v %v", again, err)
	}
}
