package queue

import (
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/cherga/kiosk/link/proto"
	"github.com/cherga/kiosk/queue/record"
)

// Tickets nobody holds. A kiosk commits a ticket (ticket_issued) before
// printing it; if kioskd dies in between (a crash, kill -9, a power cut),
// the ticket is in the queue but nobody has its paper. At its next start
// the kiosk withdraws it (ticket_withdrawn), and the server takes it out:
// waiting, it leaves its line; called already, the call is taken off the
// displays and the window is free for its next call. It is recorded as
// cancelled (reason not_handed_out), so the statistics count it withdrawn,
// not served and not a no-show. A visitor who came to the window has the
// paper after all: that ticket is kept.

// ticketWithdrawn applies a kiosk's ticket_withdrawn; pt is the ticket as
// its ticket_issued sent it.
func (q *Queue) ticketWithdrawn(tx *bolt.Tx, wk *work, d *Device, offset time.Duration, pt *proto.Ticket, wd *proto.Withdrawal) error {
	if wd.Reason != proto.WithdrawNotHandedOut {
		return badEvent("ticket_withdrawn %s: unknown reason %q", pt.Number, wd.Reason)
	}
	day, key, t, old := q.findIssued(tx, d, offset, pt)
	log := q.log.With("number", pt.Number, "device", d.ID, "printing", wd.Printing)
	if t == nil && old == nil {
		// Its ticket_issued was rejected (a service gone from the
		// catalogue): there is nothing to take out.
		log.Warn("withdrawn ticket not found; nothing to take out of the queue")
		return nil
	}
	now := q.now().In(q.o.loc)
	if old != nil {
		// A ticket of another day: nobody calls it any more, but the
		// record says it was never handed out.
		if old.State != proto.StateWaiting && old.State != proto.StateReserved && old.State != proto.StateCalled {
			log.Info("withdrawn ticket of another day already ended; kept as it is", "day", day, "state", old.State)
			return nil
		}
		logged := old.State != proto.StateReserved
		old.State, old.FinishedAt = proto.StateCancelled, &now
		if err := putTicketJSON(tx, day, key, old); err != nil {
			return err
		}
		if err := q.unbook(tx, old); err != nil {
			return err
		}
		log.Warn("ticket withdrawn: the kiosk never handed it out", "day", day)
		if !logged {
			return nil
		}
		return q.logTicket(tx, &ticket{Ticket: *old, key: key}, record.Event{Type: record.Cancelled, At: now, Day: day,
			Service: old.Service, Group: old.Group, Terminal: d.ID, Reason: record.ReasonNotHandedOut})
	}
	e := record.Event{Type: record.Cancelled, At: now, Service: t.Service, Group: t.Group, Terminal: d.ID,
		Reason: record.ReasonNotHandedOut}
	switch t.State {
	case proto.StateWaiting:
		q.lines.drop(t)
	case proto.StateReserved:
	case proto.StateCalled:
		// An operator called a number nobody holds: the call comes off the
		// displays and the window may call the next at once.
		if w := q.windows[t.Window]; w != nil && w.current == t {
			e.Window, e.Operator = w.cfg.Number, w.operator
			if err := q.withdrawCall(tx, wk, w, t); err != nil {
				return err
			}
			w.current, w.freed = nil, now
			if err := q.saveWindow(tx, wk, w); err != nil {
				return err
			}
		}
	case proto.StateServing:
		log.Warn("kiosk says it never handed out a ticket whose visitor came to the window; kept", "window", t.Window)
		return nil
	default:
		log.Info("withdrawn ticket already ended; kept as it is", "state", t.State)
		return nil
	}
	logged := t.State != proto.StateReserved
	t.State, t.FinishedAt = proto.StateCancelled, &now
	q.touchQueues()
	if err := q.saveTicket(tx, wk, t); err != nil {
		return err
	}
	if err := q.unbook(tx, &t.Ticket); err != nil {
		return err
	}
	if wd.Printing {
		log.Warn("ticket withdrawn: kioskd stopped while printing it; if a visitor shows its paper, serve them at reception")
	} else {
		log.Warn("ticket withdrawn: the kiosk never handed it out")
	}
	if !logged {
		return nil // a reservation never joined the record
	}
	return q.logTicket(tx, t, e)
}

// findIssued finds the ticket a kiosk issued as pt: today's in memory (t),
// or another day's from disk (old), with its day and storage key. An
// offline ticket's day follows its corrected time; the offset measured now
// may differ a little from the one it arrived with, so both days are
// looked at.
func (q *Queue) findIssued(tx *bolt.Tx, d *Device, offset time.Duration, pt *proto.Ticket) (day, key string, t *ticket, old *proto.Ticket) {
	days := []string{q.dayOf(pt.IssuedAt)}
	if pt.Offline {
		at := pt.IssuedAt
		if pt.TerminalAt != nil {
			at = *pt.TerminalAt
		}
		days = []string{q.dayOf(at.Add(offset)), q.dayOf(at)}
	}
	for _, day := range days {
		for _, key := range []string{pt.Number, pt.Number + "~" + d.ID} {
			if day == q.day {
				if t := q.tickets[key]; t != nil && t.Device == d.ID {
					return day, key, t, nil
				}
				continue
			}
			b := dayBucket(tx, day)
			if b == nil {
				continue
			}
			v := b.Bucket(bucketTix).Get([]byte(key))
			if v == nil {
				continue
			}
			if o, err := decodeTicket(v); err == nil && o.Device == d.ID {
				return day, key, nil, o
			}
		}
	}
	return "", "", nil, nil
}

// unbook makes the booking a withdrawn ticket checked in bookable again:
// the visitor got no paper and may check in once more.
func (q *Queue) unbook(tx *bolt.Tx, t *proto.Ticket) error {
	if t.Booking == "" {
		return nil
	}
	sb, b := getBooking(tx, q.dayOf(t.IssuedAt), t.Booking)
	if sb == nil || sb.State != proto.BookingCheckedIn || sb.Ticket != t.Number {
		return nil
	}
	sb.State, sb.Ticket, sb.Device = proto.BookingBooked, "", ""
	return putJSON(b, []byte(t.Booking), sb)
}
