package link

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	bolt "go.etcd.io/bbolt"

	"github.com/cherga/kiosk/link/proto"
)

// A server that cannot apply an event and never will (it names a window
// the office no longer has) commits it as rejected, says so with a
// rejected message, and then acknowledges it like any other, so the outbox
// moves past it instead of resending it for ever. The terminal keeps what
// was rejected, with the event itself, in the rejected bucket: the event
// is gone from the outbox after the ack, and a technician must still be
// able to see what was lost.

// keepRejected is how many rejections the rejected bucket keeps, the
// newest; the total count is kept apart and never shrinks.
const keepRejected = 100

var (
	bucketRejected   = []byte("rejected")
	keyRejectedTotal = []byte("rejected_total")
)

// errNoSuchEvent: a rejection for a seq this outbox never numbered.
var errNoSuchEvent = errors.New("link: rejected event was never sent")

// Rejection is one event the server refused for good, as /healthz shows it.
type Rejection struct {
	Seq uint64    `json:"seq"`
	At  time.Time `json:"at"` // when this terminal was told
	// Type is the event's type, "" if the outbox no longer held it.
	Type    string `json:"type"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// RejectedEvent is a rejection as the store keeps it.
type RejectedEvent struct {
	Rejection
	// Event is the message as it was sent (seq included), if the outbox
	// still held it when the rejection came.
	Event json.RawMessage `json:"event,omitempty"`
}

// RejectionStats sum up the rejections for /healthz.
type RejectionStats struct {
	Total int        // since the file was created
	Last  *Rejection // the latest, nil if none
	// Alarm is set while the latest rejection is younger than
	// StoreOptions.RejectedAlarm.
	Alarm string
}

// RecordRejected keeps, durably, that the server rejected event seq with
// e, copying the event from the outbox. It returns after the commit, so a
// caller that handles the server's messages in order has the copy on disk
// before the ack that follows can prune the outbox. fresh is false for a
// rejection already recorded (a server may send it again after a
// reconnect). If the commit fails the rejection is still counted in
// memory, so /healthz shows the alarm, and the error is returned.
func (s *Store) RecordRejected(seq uint64, e *proto.Error) (r Rejection, fresh bool, err error) {
	// The server's words are bounded: a 1 MiB message is not kept 100 times.
	r = Rejection{Seq: seq, At: s.clock.Now(), Code: clip(e.Code, 64), Message: clip(e.Message, 1000)}
	err = s.update(func(tx *bolt.Tx) error {
		r.Type, fresh = "", false
		if next := getU64(tx.Bucket(bucketState), keyNextSeq); seq >= max(next, 1) {
			return fmt.Errorf("%w: seq %d, the outbox numbered up to %d", errNoSuchEvent, seq, max(next, 1)-1)
		}
		rb := tx.Bucket(bucketRejected)
		key := u64(seq)
		if rb.Get(key) != nil {
			return nil
		}
		kept := 0
		c := rb.Cursor()
		first, _ := c.First()
		for k := first; k != nil; k, _ = c.Next() {
			kept++
		}
		if kept >= keepRejected && binary.BigEndian.Uint64(first) > seq {
			return nil // recorded once, and already pruned as old
		}
		fresh = true
		rec := RejectedEvent{Rejection: r}
		if v := tx.Bucket(bucketOutbox).Get(key); len(v) > 8 {
			rec.Event = withSeq(seq, v[8:]) // a copy: v lives only as long as tx
			var head struct {
				Type string `json:"type"`
			}
			if json.Unmarshal(rec.Event, &head) == nil {
				rec.Type = head.Type
			}
		}
		r.Type = rec.Type
		b, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		if err := rb.Put(key, b); err != nil {
			return err
		}
		for ; kept >= keepRejected; kept-- {
			k, _ := rb.Cursor().First()
			if err := rb.Delete(k); err != nil {
				return err
			}
		}
		st := tx.Bucket(bucketState)
		total := getU64(st, keyRejectedTotal) + 1
		if err := st.Put(keyRejectedTotal, u64(total)); err != nil {
			return err
		}
		last := r
		tx.OnCommit(func() {
			s.mu.Lock()
			s.rejectedTotal = int(total)
			s.lastRejected = &last
			s.mu.Unlock()
		})
		return nil
	})
	if err != nil && !errors.Is(err, errNoSuchEvent) {
		s.mu.Lock()
		s.rejectedTotal++
		last := r
		s.lastRejected = &last
		s.mu.Unlock()
		return r, true, fmt.Errorf("link: record rejected event %d: %w", seq, err)
	}
	return r, fresh, err
}

// clip cuts s to at most n bytes, on a character boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// loadRejected reads the rejection count and the latest rejection, at open.
func (s *Store) loadRejected(tx *bolt.Tx) error {
	s.rejectedTotal = int(getU64(tx.Bucket(bucketState), keyRejectedTotal))
	_, v := tx.Bucket(bucketRejected).Cursor().Last()
	if v == nil {
		return nil
	}
	var rec RejectedEvent
	if err := json.Unmarshal(v, &rec); err != nil {
		// Only the record is damaged; the count above still holds.
		s.opts.Log.Warn("latest rejected event unreadable", "err", err)
		return nil
	}
	s.lastRejected = &rec.Rejection
	return nil
}

// Rejected returns the rejections kept, oldest first.
func (s *Store) Rejected() ([]RejectedEvent, error) {
	var out []RejectedEvent
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketRejected).ForEach(func(k, v []byte) error {
			var rec RejectedEvent
			if err := json.Unmarshal(v, &rec); err != nil {
				return fmt.Errorf("rejected event %d: %w", binary.BigEndian.Uint64(k), err)
			}
			out = append(out, rec)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("link: read rejected events: %w", err)
	}
	return out, nil
}

// Rejections sums up the rejections, with the alarm.
func (s *Store) Rejections() RejectionStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := RejectionStats{Total: s.rejectedTotal}
	if s.lastRejected == nil {
		return st
	}
	last := *s.lastRejected
	st.Last = &last
	if s.clock.Now().Sub(last.At) < s.opts.RejectedAlarm {
		typ := last.Type
		if typ == "" {
			typ = "no longer in the outbox"
		}
		st.Alarm = fmt.Sprintf("the server rejected event %d (%s) at %s and will never apply it: %s: %s; %d rejected in all",
			last.Seq, typ, last.At.Format(time.RFC3339), last.Code, last.Message, st.Total)
	}
	return st
}
