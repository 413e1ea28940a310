package queue

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/cherga/kiosk/link/proto"
	"github.com/cherga/kiosk/queue/record"
	"github.com/cherga/kiosk/queue/stats"
)

func withdrawEvent(seq uint64, tk proto.Ticket, printing bool) *proto.Message {
	return &proto.Message{Type: proto.TypeTicketWithdrawn, Seq: seq, Ticket: &tk,
		Withdrawal: &proto.Withdrawal{Reason: proto.WithdrawNotHandedOut, Printing: printing, At: tk.IssuedAt}}
}

// report is today's statistics of q, for the whole office.
func report(t *testing.T, q *Queue) stats.Total {
	t.Helper()
	day := q.Today()
	events := func(yield func(e record.Event) bool) {
		for e, err := range q.Events(day, day) {
			if err != nil {
				t.Fatal(err)
			}
			if !yield(e) {
				return
			}
		}
	}
	r, err := stats.Compute(events, stats.Query{From: day, To: day, By: "group"}, stats.Names{}, q.o.loc)
	if err != nil {
		t.Fatal(err)
	}
	return r.Total
}

// A ticket its kiosk never handed out leaves the queue, whether it was
// waiting (offline or online) or already called (the call is withdrawn
// from the displays and the window calls the next); the statistics count
// it cancelled, not a visitor and not a no-show. A visitor who came to
// the window keeps the ticket.
func TestTicketWithdrawn(t *testing.T) {
	c := newClock()
	q := openTest(t, filepath.Join(t.TempDir(), "q.db"), c)
	connect(t, q, hello("kiosk-1", "kiosk"))
	at := c.Now()
	ghostOff := offlineTicket("П1-001", "pension-age", at)
	apply(t, q, "kiosk-1", 0, ticketEvent(1, ghostOff))
	// An online ghost, confirmed (the kiosk sent ticket_issued), then called.
	res, err := q.Reserve("pension-age", "kiosk-1")
	if err != nil {
		t.Fatal(err)
	}
	res.State = proto.StateWaiting
	c.Advance(time.Minute)
	real := mustIssue(t, q, "pension-age")
	served := mustIssue(t, q, "pension-age")
	apply(t, q, "kiosk-1", 0, ticketEvent(2, res))
	if n := q.Lengths()[1].Waiting; n != 4 {
		t.Fatalf("%d waiting", n)
	}

	// The offline ghost, waiting, leaves its line.
	if _, eff := apply(t, q, "kiosk-1", 0, withdrawEvent(3, ghostOff, false)); !eff.Queues {
		t.Error("the queue lengths were not sent again")
	}
	if n := q.Lengths()[1].Waiting; n != 3 {
		t.Fatalf("%d waiting after the withdrawal", n)
	}
	// The online ghost is called first (issued earlier than real), then
	// withdrawn: the call comes off the displays and the window is free.
	called, _, err := q.Next(9)
	if err != nil || called.Number != res.Number {
		t.Fatalf("called %s %v, want %s", called.Number, err, res.Number)
	}
	_, eff := apply(t, q, "kiosk-1", 0, withdrawEvent(4, res, true))
	var cancelled bool
	for _, m := range eff.Pushes {
		cancelled = cancelled || (m.Type == proto.TypeCancel && m.Cancel.Ticket == res.Number)
	}
	if !cancelled {
		t.Errorf("no cancel of the ghost's call in %+v", eff.Pushes)
	}
	if tk, ok := q.AtWindow(9); ok {
		t.Errorf("window 9 still has %s", tk.Number)
	}
	next, _, err := q.Next(9)
	if err != nil || next.Number != real.Number {
		t.Fatalf("next call %s %v, want %s", next.Number, err, real.Number)
	}
	if _, err := q.Act(9, ActCame, by0); err != nil {
		t.Fatal(err)
	}
	// A visitor who came holds the ticket: a withdrawal keeps it.
	realTk := q.tickets[real.Number].Ticket
	realTk.State = proto.StateWaiting
	apply(t, q, "kiosk-1", 0, withdrawEvent(5, realTk, false))
	if tk, ok := q.AtWindow(9); !ok || tk.Number != real.Number || tk.State != proto.StateServing {
		t.Errorf("the visitor at the window lost the ticket: %+v", tk)
	}
	// Finished and the next: the queue never calls a ghost.
	last, _, err := q.Next(9)
	if err != nil || last.Number != served.Number {
		t.Fatalf("last call %s %v, want %s", last.Number, err, served.Number)
	}
	if _, _, err := q.Next(9); err == nil {
		t.Fatal("a third call: a ghost is still in the queue")
	}
	for _, n := range []string{ghostOff.Number, res.Number} {
		if tk, _, err := q.Track(q.Today(), n); err != nil || tk.State != proto.StateCancelled {
			t.Errorf("%s: %+v %v", n, tk, err)
		}
	}
	// An unknown reason is rejected, not applied; a ticket never issued
	// here is nothing to withdraw.
	bad := withdrawEvent(6, realTk, false)
	bad.Withdrawal.Reason = "bored"
	if _, eff := apply(t, q, "kiosk-1", 0, bad); len(eff.Rejected) != 1 {
		t.Errorf("unknown reason: %+v", eff)
	}
	apply(t, q, "kiosk-1", 0, withdrawEvent(7, offlineTicket("П1-099", "pension-age", at), false))

	tot := report(t, q)
	// The visitors: real, finished at the last call, and served, finished
	// by the call that found nobody; the ghost called is no one's wait.
	if tot.Cancelled != 2 || tot.NoShows != 0 || tot.Visitors != 2 || tot.Tickets != 4 || tot.Wait.Count != 2 {
		t.Errorf("statistics %+v", tot)
	}
}

// A ghost of yesterday (an offline ticket that arrives with its
// withdrawal after midnight) is marked cancelled on its own day.
func TestTicketWithdrawnOtherDay(t *testing.T) {
	c := newClock()
	q := openTest(t, filepath.Join(t.TempDir(), "q.db"), c)
	connect(t, q, hello("kiosk-1", "kiosk"))
	yesterday := c.Now().Add(-24 * time.Hour)
	ghost := offlineTicket("П1-004", "pension-age", yesterday)
	apply(t, q, "kiosk-1", 0, ticketEvent(1, ghost), withdrawEvent(2, ghost, false))
	all, err := q.Tickets(q.dayOf(yesterday))
	if err != nil || len(all) != 1 || all[0].State != proto.StateCancelled {
		t.Fatalf("yesterday %+v %v", all, err)
	}
	if n := q.Lengths()[1].Waiting; n != 0 {
		t.Errorf("%d waiting today", n)
	}
}
