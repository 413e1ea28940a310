package queue

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"iter"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/cherga/kiosk/link/proto"
	"github.com/cherga/kiosk/queue/record"
)

// The queue's record: every change of a ticket or a window is appended to
// bucket "log" under its office-wide sequence number, in the transaction
// that makes the change, so the log and the state never disagree. The
// index "log-days" (day + sequence) finds a range of days without reading
// the rest. Nothing ever rewrites or deletes an entry.

var (
	bucketLog      = []byte("log")
	bucketLogIndex = []byte("log-days")
)

// logTicket appends an event about ticket t (of q.day unless t's own day
// differs, as for an offline ticket of yesterday).
func (q *Queue) logTicket(tx *bolt.Tx, t *ticket, e record.Event) error {
	if e.Ticket == "" {
		e.Ticket = t.Number
	}
	if e.Day == "" {
		e.Day = q.dayOf(t.IssuedAt)
	}
	return q.appendLog(tx, e)
}

// logWindow appends an event about a window.
func (q *Queue) logWindow(tx *bolt.Tx, e record.Event) error {
	return q.appendLog(tx, e)
}

func (q *Queue) appendLog(tx *bolt.Tx, e record.Event) error {
	b := tx.Bucket(bucketLog)
	seq, err := b.NextSequence()
	if err != nil {
		return err
	}
	e.Seq = seq
	if e.At.IsZero() {
		e.At = q.now()
	}
	e.At = e.At.In(q.o.loc)
	if e.Day == "" {
		e.Day = q.dayOf(e.At)
	}
	data, err := json.Marshal(e)
	if err != nil {
		return err
	}
	if err := b.Put(u64(seq), data); err != nil {
		return err
	}
	return tx.Bucket(bucketLogIndex).Put(dayKey(e.Day, seq), nil)
}

func dayKey(day string, seq uint64) []byte {
	k := make([]byte, len(day)+8)
	copy(k, day)
	binary.BigEndian.PutUint64(k[len(day):], seq)
	return k
}

// recordIssued is the issued event of t.
func recordIssued(t *ticket, terminal string) record.Event {
	return record.Event{Type: record.Issued, At: t.IssuedAt, Ticket: t.Number, Service: t.Service, Group: t.Group,
		Terminal: terminal, Priority: t.Priority, Booked: t.Booking != "", Offline: t.Offline}
}

// Events yields the events of the days from to to (YYYY-MM-DD, inclusive)
// in log order within each day. It reads one transaction's snapshot.
func (q *Queue) Events(from, to string) iter.Seq2[record.Event, error] {
	return func(yield func(record.Event, error) bool) {
		for _, d := range []string{from, to} {
			if _, err := time.Parse(time.DateOnly, d); err != nil {
				yield(record.Event{}, fmt.Errorf("%w, got %q", ErrBadDate, d))
				return
			}
		}
		var stopped bool
		err := q.db.View(func(tx *bolt.Tx) error {
			log := tx.Bucket(bucketLog)
			c := tx.Bucket(bucketLogIndex).Cursor()
			for k, _ := c.Seek([]byte(from)); k != nil && len(k) > 8 && string(k[:len(k)-8]) <= to; k, _ = c.Next() {
				v := log.Get(k[len(k)-8:])
				var e record.Event
				if err := json.Unmarshal(v, &e); err != nil {
					return fmt.Errorf("queue: log entry %d: %w", binary.BigEndian.Uint64(k[len(k)-8:]), err)
				}
				if !yield(e, nil) {
					stopped = true
					return nil
				}
			}
			return nil
		})
		if err != nil && !stopped {
			yield(record.Event{}, err)
		}
	}
}

// EventsAfter yields the log from sequence after+1 on, in order, at most
// max events: for shipping the log elsewhere.
func (q *Queue) EventsAfter(after uint64, max int) ([]record.Event, error) {
	var out []record.Event
	err := q.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketLog).Cursor()
		for k, v := c.Seek(u64(after + 1)); k != nil && len(out) < max; k, v = c.Next() {
			var e record.Event
			if err := json.Unmarshal(v, &e); err != nil {
				return err
			}
			out = append(out, e)
		}
		return nil
	})
	return out, err
}

// Replay rebuilds tickets from events alone, as the log says they are:
// for checking that the log and the stored tickets agree, and for a
// database that has only the log. Keys are day + "/" + number.
func Replay(events iter.Seq[record.Event]) map[string]proto.Ticket {
	out := map[string]proto.Ticket{}
	for e := range events {
		if e.Ticket == "" {
			continue
		}
		key := e.Day + "/" + e.Ticket
		t := out[key]
		at := e.At
		if e.Type != record.Issued && e.Type != record.Transferred {
			t.Service, t.Group = cmpOr(e.Service, t.Service), cmpOr(e.Group, t.Group)
		}
		switch e.Type {
		case record.Issued:
			t = proto.Ticket{Number: e.Ticket, Service: e.Service, Group: e.Group, IssuedAt: e.At,
				State: proto.StateWaiting, Priority: e.Priority, Offline: e.Offline}
		case record.Called:
			t.State, t.Window, t.CalledAt, t.CameAt, t.FinishedAt, t.Recalls, t.Operator, t.ForWindow = proto.StateCalled, e.Window, &at, nil, nil, 0, e.Operator, 0
		case record.Recalled:
			t.Recalls++
		case record.Came:
			t.State, t.CameAt = proto.StateServing, &at
		case record.Finished:
			t.State, t.FinishedAt = proto.StateDone, &at
		case record.NoShow:
			t.State, t.FinishedAt = proto.StateNoShow, &at
		case record.Transferred:
			t.State, t.ForWindow = proto.StateWaiting, e.ToWindow
			t.Service, t.Group = cmpOr(e.ToService, e.Service), cmpOr(e.ToGroup, e.Group)
			t.Window, t.CalledAt, t.CameAt, t.FinishedAt, t.Recalls, t.Operator = 0, nil, nil, nil, 0, ""
		case record.Cancelled:
			t.State = proto.StateCancelled
		case record.Prioritized:
			t.Priority = e.Priority
		default:
			continue
		}
		out[key] = t
	}
	return out
}
