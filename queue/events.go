package queue

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/cherga/kiosk/link/proto"
	"github.com/cherga/kiosk/queue/record"
)

// keypadMaxAge is how old a keypad press may be and still act: a "next"
// pressed during a network outage must not call someone minutes later.
const keypadMaxAge = time.Minute

// badEventError is a terminal event that can never be applied (it names
// an unknown service, a call that does not exist…). It is recorded as
// rejected, answered with a rejected message, and moved past, so one bad
// event never blocks a terminal for good.
type badEventError struct{ msg string }

func (e *badEventError) Error() string { return e.msg }

func badEvent(format string, args ...any) error {
	return &badEventError{fmt.Sprintf(format, args...)}
}

// ErrGap is a batch of a terminal's events that skips a sequence number:
// nothing past the gap is acknowledged; the terminal sends again from the
// acknowledged one.
var ErrGap = errors.New("queue: gap in the terminal's event sequence")

// rejection is a terminal event the server refused, as stored.
type rejection struct {
	Device string    `json:"device"`
	Seq    uint64    `json:"seq"`
	Type   string    `json:"type"`
	At     time.Time `json:"at"`
	Error  string    `json:"error"`
}

// ApplyEvents commits a batch of one terminal's events, skipping every
// event at or below the last one committed from it, and returns the seq to
// acknowledge. offset is the terminal's clock offset (server minus
// terminal) measured at hello; times it sends are corrected by it. An
// event that can never be applied is rejected (Effects.Rejected) and
// acknowledged with the rest. At a gap in the sequence the batch stops:
// what came before is committed and acknowledged, and the error wraps
// ErrGap.
func (q *Queue) ApplyEvents(device string, offset time.Duration, events []*proto.Message) (uint64, Effects, error) {
	var acked uint64
	var gap error
	w, err := q.update(true, func(tx *bolt.Tx, w *work) error {
		if err := q.rollDay(tx); err != nil {
			return err
		}
		old := q.devices[device]
		if old == nil {
			return fmt.Errorf("queue: events from %s before its hello", device)
		}
		d := *old
		status := false
		for _, m := range events {
			if m.Seq <= d.LastSeq {
				continue // already committed: resent after a break
			}
			if m.Seq != d.LastSeq+1 {
				q.gaps.Add(1)
				gap = fmt.Errorf("%w: after %d came %d", ErrGap, d.LastSeq, m.Seq)
				break
			}
			err := q.applyEvent(tx, w, &d, offset, m)
			var bad *badEventError
			if errors.As(err, &bad) {
				if err := q.reject(tx, w, d.ID, m, bad.msg); err != nil {
					return err
				}
			} else if err != nil {
				return fmt.Errorf("event %d (%s): %w", m.Seq, m.Type, err)
			}
			status = status || m.Type == proto.TypeDeviceStatus
			d.LastSeq = m.Seq
		}
		d.LastSeen = q.now()
		acked = d.LastSeq
		if status {
			return saveDevice(tx, w, q, &d)
		}
		return saveDeviceSeq(tx, w, q, &d) // LastSeen stays in memory until the record is next written
	})
	if err != nil {
		return 0, Effects{}, fmt.Errorf("queue: events from %s: %w", device, err)
	}
	return acked, w.effects(), gap
}

// reject records a refused event and queues its answer.
func (q *Queue) reject(tx *bolt.Tx, w *work, device string, m *proto.Message, why string) error {
	q.rejected.Add(1)
	q.log.Warn("terminal event rejected", "device", device, "seq", m.Seq, "type", m.Type, "why", why)
	b := tx.Bucket(bucketRejected)
	n, err := b.NextSequence()
	if err != nil {
		return err
	}
	if err := putJSON(b, u64(n), rejection{Device: device, Seq: m.Seq, Type: m.Type, At: q.now(), Error: why}); err != nil {
		return err
	}
	w.rejected = append(w.rejected, &proto.Message{Type: proto.TypeRejected, Seq: m.Seq,
		Error: &proto.Error{Code: proto.CodeBadEvent, Message: why}})
	return nil
}

// Rejected is how many terminal events were refused since start.
func (q *Queue) Rejected() int64 { return q.rejected.Load() }

func (q *Queue) applyEvent(tx *bolt.Tx, w *work, d *Device, offset time.Duration, m *proto.Message) error {
	switch m.Type {
	case proto.TypeTicketIssued:
		return q.ticketIssued(tx, w, d, offset, m.Ticket)
	case proto.TypeDeviceStatus:
		d.Status = m.Status
		return nil
	case proto.TypeCallShown, proto.TypeCallAnnounced:
		return q.callSeen(tx, d.ID, m.Seen.Call, m.Type == proto.TypeCallAnnounced, m.Seen.At.Add(offset))
	case proto.TypeKeypad:
		return q.keypad(tx, w, d, offset, m.Keypad)
	case proto.TypeRating:
		return q.rating(tx, d, offset, m.Rating)
	case proto.TypeTicketWithdrawn:
		return q.ticketWithdrawn(tx, w, d, offset, m.Ticket, m.Withdrawal)
	}
	return badEvent("%s is not an event", m.Type)
}

// ratingWithin is how long after a visitor is finished at a window its
// rating panel's mark is still theirs.
const ratingWithin = 15 * time.Minute

// rating stores a visitor's mark and logs it against the ticket just
// finished at that window (the window's Finished, O(1)) and its operator.
func (q *Queue) rating(tx *bolt.Tx, d *Device, offset time.Duration, r *proto.Rating) error {
	rt := *r
	rt.At = rt.At.Add(offset)
	win := q.windows[rt.Window]
	if win == nil {
		return badEvent("rating for window %d, which is not configured", rt.Window)
	}
	// A panel names no ticket, or the one it was told (the window's
	// Finished): the window's last finished visitor, if that was a moment
	// ago, is the one rated.
	key := rt.Ticket
	if key == "" || q.tickets[key] == nil {
		key = ""
		if t := q.finishedAt(win); t != nil && rt.At.Sub(win.lastDoneAt) <= ratingWithin && win.lastDoneAt.Sub(rt.At) <= keypadMaxAge {
			key = t.key
		} else {
			q.log.Warn("rating with no visitor finished at the window lately; kept, tied to nobody", "device", d.ID, "window", rt.Window)
		}
	}
	b, err := createDayBucket(tx, q.dayOf(rt.At))
	if err != nil {
		return err
	}
	if err := putJSON(b.Bucket(bucketRatings), []byte(key+"/"+d.ID+"/"+rt.At.Format(time.RFC3339Nano)), struct {
		proto.Rating
		Device string `json:"device"`
	}{rt, d.ID}); err != nil {
		return err
	}
	e := record.Event{Type: record.Rated, At: rt.At, Window: rt.Window, Score: rt.Score, Terminal: d.ID}
	if t := q.tickets[key]; t != nil {
		e.Ticket, e.Service, e.Group, e.Operator, e.Day = t.Number, t.Service, t.Group, t.Operator, q.day
		if early := win.lastDoneAt.Sub(rt.At); t == q.finishedAt(win) && early > 0 && early <= keypadMaxAge {
			// Pressed before queued recorded the finish (the panel and the
			// keypad share an outbox, and a finish is stamped when
			// committed): a rating cannot come before the visit it rates
			// ended, and the statistics tie it by that order.
			e.At = win.lastDoneAt
		}
	}
	return q.appendLog(tx, e)
}

// ticketIssued puts a ticket a kiosk handed out into the queue. An online
// ticket was reserved by the server and is confirmed; an offline one is
// merged in issue-time order, its time corrected to the server's clock.
func (q *Queue) ticketIssued(tx *bolt.Tx, w *work, d *Device, offset time.Duration, pt *proto.Ticket) error {
	g, ok := q.groupOf(pt.Service)
	if !ok {
		return badEvent("ticket %s for service %q, which the catalogue does not have", pt.Number, pt.Service)
	}
	if !pt.Offline {
		day := q.dayOf(pt.IssuedAt)
		if day == q.day {
			if t := q.tickets[pt.Number]; t != nil {
				if t.State != proto.StateReserved || t.Device != d.ID {
					q.log.Warn("ticket confirmed twice or by another kiosk; kept as it was",
						"number", pt.Number, "device", d.ID, "state", t.State, "holder", t.Device)
					return nil
				}
				t.State = proto.StateWaiting
				q.join(t)
				q.touchQueues()
				if err := q.saveTicket(tx, w, t); err != nil {
					return err
				}
				return q.logTicket(tx, t, recordIssued(t, d.ID))
			}
		} else if b := dayBucket(tx, day); b != nil && b.Bucket(bucketTix).Get([]byte(pt.Number)) != nil {
			// Yesterday's reservation confirmed after midnight: it is
			// yesterday's ticket, and nobody calls it now.
			old, err := decodeTicket(b.Bucket(bucketTix).Get([]byte(pt.Number)))
			if err != nil {
				return err
			}
			if old.State == proto.StateReserved && old.Device == d.ID {
				old.State = proto.StateWaiting
				t := &ticket{Ticket: *old, key: pt.Number}
				if err := putTicketJSON(tx, day, pt.Number, old); err != nil {
					return err
				}
				return q.logTicket(tx, t, recordIssued(t, d.ID))
			}
			return nil
		}
		// The reservation is gone (a restored database): take the kiosk's word.
		q.log.Warn("confirmed ticket was never reserved here; adding it", "number", pt.Number, "device", d.ID)
	}
	nt := *pt
	nt.Device, nt.State, nt.Group = d.ID, proto.StateWaiting, g.ID
	if pt.Offline {
		terminalAt := pt.IssuedAt
		if pt.TerminalAt != nil {
			terminalAt = *pt.TerminalAt
		}
		nt.TerminalAt = &terminalAt
		nt.IssuedAt = terminalAt.Add(offset).In(q.o.loc)
		if pt.Booking != "" {
			if err := q.bookingUsedOffline(tx, &nt, d.ID); err != nil {
				return err
			}
		}
	}
	day := q.dayOf(nt.IssuedAt)
	b, err := createDayBucket(tx, day)
	if err != nil {
		return err
	}
	key := pt.Number
	if b.Bucket(bucketTix).Get([]byte(key)) != nil {
		// Every kiosk's offline series is its own (its slot is in the
		// number); if it happens anyway, the visitor holding the paper
		// still gets served.
		key = pt.Number + "~" + d.ID
		q.log.Error("offline ticket number already taken; kept under another key", "number", pt.Number, "device", d.ID, "key", key)
	}
	t := &ticket{Ticket: nt, key: key}
	if day == q.day {
		if err := q.addTicket(tx, w, t); err != nil {
			return err
		}
	} else if err := putTicketJSON(tx, day, key, &t.Ticket); err != nil {
		return err
	}
	return q.logTicket(tx, t, recordIssued(t, d.ID))
}

func decodeTicket(v []byte) (*proto.Ticket, error) {
	t := new(proto.Ticket)
	return t, json.Unmarshal(v, t)
}

// keypad acts on an operator's key and records on the window what the
// press did (WindowState.Key and Refused), so the keypad can show it. A
// press that can do nothing is kept as done with its reason: too old to
// mean anything now, on a window nobody is signed in to (the operator
// signs in on queued's operator page first, so every call and service is
// an operator's in the statistics), or refused by the window (nobody
// waiting, paused, no visitor); it never blocks the keypad's outbox. A
// press for a window the office does not have, or an unknown key, is
// rejected.
func (q *Queue) keypad(tx *bolt.Tx, w *work, d *Device, offset time.Duration, k *proto.Keypad) error {
	win := q.windows[k.Window]
	if win == nil {
		return badEvent("keypad: window %d is not in this office", k.Window)
	}
	switch k.Key {
	case proto.KeyNext, proto.KeyRecall, proto.KeyCame, proto.KeyFinish, proto.KeyNoShow,
		proto.KeyPause, proto.KeyResume, proto.KeyTransfer:
	default:
		return badEvent("keypad: unknown key %q", k.Key)
	}
	if k.To < 0 {
		return badEvent("keypad: transfer to window %d", k.To)
	}
	pressed := func(refused string) {
		win.key, win.refused = k.Key, refused
		q.touchWindow(w, k.Window)
	}
	if age := q.now().Sub(k.At.Add(offset)); age > keypadMaxAge {
		q.log.Warn("keypad press too old, not acted on", "device", d.ID, "window", k.Window, "key", k.Key, "age", age.Round(time.Second))
		pressed(RefusedTooOld)
		return nil
	}
	if win.operator == "" {
		q.log.Info("keypad press on a window nobody is signed in to, not acted on", "device", d.ID, "window", k.Window, "key", k.Key)
		pressed(RefusedNotSignedIn)
		return nil
	}
	by := Actor{Terminal: d.ID}
	var r Result
	var err error
	switch k.Key {
	case proto.KeyNext:
		r, err = q.nextTx(tx, w, k.Window, nil, by)
	case proto.KeyRecall:
		r, err = q.actTx(tx, w, k.Window, ActRecall, by)
	case proto.KeyCame:
		r, err = q.actTx(tx, w, k.Window, ActCame, by)
	case proto.KeyFinish:
		r, err = q.actTx(tx, w, k.Window, ActFinish, by)
	case proto.KeyNoShow:
		r, err = q.actTx(tx, w, k.Window, ActNoShow, by)
	case proto.KeyResume:
		r, err = q.actTx(tx, w, k.Window, ActResume, by)
	case proto.KeyPause:
		// One key toggles: resume a paused window, else pause it for the
		// office's first reason (configs requires at least one).
		switch {
		case win.state == WindowPaused:
			r, err = q.actTx(tx, w, k.Window, ActResume, by)
		case len(q.o.cfg.PauseReasons) == 0:
			err = refuse(ErrBadReason)
		default:
			r, err = q.pauseTx(tx, w, k.Window, q.o.cfg.PauseReasons[0].ID, by)
		}
	case proto.KeyTransfer:
		r, err = q.transferTx(tx, w, k.Window, "", k.To, k.To == 0, by)
	}
	var rf *refusal
	switch {
	case errors.As(err, &rf):
		code := refusalCode(rf.err)
		q.log.Info("keypad press did nothing", "device", d.ID, "window", k.Window, "key", k.Key, "refused", code, "why", rf.err)
		pressed(code)
	case err != nil:
		return err
	case r.Repeated:
		pressed(RefusedNothingToDo)
	default:
		pressed("")
	}
	return nil
}

// refusalCode is the WindowState.Refused code of a window's refusal.
func refusalCode(err error) string {
	switch {
	case errors.Is(err, ErrQueueEmpty):
		return RefusedNobodyWaiting
	case errors.Is(err, ErrWindowPaused):
		return RefusedPaused
	}
	// No visitor to act on, a no-show before the recalls, a visitor
	// already being served, a transfer to this window or one the office
	// does not have.
	return RefusedNothingToDo
}
