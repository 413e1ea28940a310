package link

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/cherga/kiosk/link/proto"
)

// An outbox entry is stored as 8 bytes of append time (Unix nanoseconds)
// followed by the message's JSON, ready to send as it is.

func eventTime(v []byte) time.Time {
	if len(v) < 8 {
		return time.Time{}
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(v)))
}

// Append commits m to the outbox as the next event and returns its seq. It
// returns after the event is on disk: the action it records may then be
// reported done.
func (s *Store) Append(m *proto.Message) (uint64, error) {
	// Encoding happens here, outside the shared commit, so a burst of
	// producers keeps the committer's critical path short.
	m.Seq = 0
	body, err := proto.Encode(withPlaceholderSeq(m))
	if err != nil {
		return 0, err
	}
	var seq uint64
	err = s.update(func(tx *bolt.Tx) error {
		var err error
		seq, err = s.appendBody(tx, body)
		return err
	})
	m.Seq = seq
	return seq, err
}

// AppendMarked commits m to the outbox and sets the mark key to value in
// the same transaction, so the event and the mark land together or not
// at all. A device that numbers its own events (a bus keypad) keeps the
// last number taken in a mark, and a repeat is recognised after any crash.
func (s *Store) AppendMarked(m *proto.Message, key string, value []byte) (uint64, error) {
	if key == "" {
		return 0, fmt.Errorf("link: mark without a key")
	}
	m.Seq = 0
	body, err := proto.Encode(withPlaceholderSeq(m))
	if err != nil {
		return 0, err
	}
	var seq uint64
	err = s.update(func(tx *bolt.Tx) error {
		var err error
		if seq, err = s.appendBody(tx, body); err != nil {
			return err
		}
		return tx.Bucket(bucketMarks).Put([]byte(key), value)
	})
	m.Seq = seq
	return seq, err
}

// Mark returns the value last set for key, nil if none.
func (s *Store) Mark(key string) ([]byte, error) {
	var v []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketMarks).Get([]byte(key)); b != nil {
			v = append([]byte(nil), b...)
		}
		return nil
	})
	return v, err
}

// withPlaceholderSeq gives an event a seq for validation; the stored body
// leaves it out and Pending writes the real one in.
func withPlaceholderSeq(m *proto.Message) *proto.Message {
	cp := *m
	cp.Seq = 1
	return &cp
}

// appendTx adds m to the outbox inside tx; the in-memory count follows only
// after the commit (see afterAppend).
func (s *Store) appendTx(tx *bolt.Tx, m *proto.Message) (uint64, error) {
	body, err := proto.Encode(withPlaceholderSeq(m))
	if err != nil {
		return 0, err
	}
	seq, err := s.appendBody(tx, body)
	m.Seq = seq
	return seq, err
}

// appendBody stores an encoded event under the next seq. The body's own
// "seq":1 placeholder is dropped: the key is the truth.
func (s *Store) appendBody(tx *bolt.Tx, body []byte) (uint64, error) {
	st := tx.Bucket(bucketState)
	ob := tx.Bucket(bucketOutbox)
	// The count lags by at most one batch, so the limit may be passed by
	// that much; it is a guard against a full disk, not an exact quota.
	if n := s.Buffered(); n >= s.opts.MaxEvents {
		return 0, fmt.Errorf("%w: %d events wait for the server (limit %d)", ErrOutboxFull, n, s.opts.MaxEvents)
	}
	seq := getU64(st, keyNextSeq)
	if seq == 0 {
		seq = 1
	}
	body = bytes.Replace(body, []byte(`,"seq":1,`), []byte(","), 1)
	v := make([]byte, 8, 8+len(body))
	binary.BigEndian.PutUint64(v, uint64(s.clock.Now().UnixNano()))
	v = append(v, body...)
	if err := ob.Put(u64(seq), v); err != nil {
		return 0, err
	}
	if err := st.Put(keyNextSeq, u64(seq+1)); err != nil {
		return 0, err
	}
	tx.OnCommit(func() { s.afterAppend(seq) })
	return seq, nil
}

// withSeq puts seq into a stored event's JSON: {"seq":N,...}.
func withSeq(seq uint64, stored []byte) []byte {
	out := make([]byte, 0, len(stored)+24)
	out = append(out, `{"seq":`...)
	out = strconv.AppendUint(out, seq, 10)
	out = append(out, ',')
	return append(out, stored[1:]...)
}

func (s *Store) afterAppend(seq uint64) {
	s.mu.Lock()
	if s.events == 0 {
		s.oldestAt = s.clock.Now()
	}
	s.events++
	s.nextSeq = seq + 1
	s.checkAlarm()
	s.mu.Unlock()
	select {
	case s.appended <- struct{}{}:
	default:
	}
}

// Appended signals after new events were committed.
func (s *Store) Appended() <-chan struct{} { return s.appended }

// pending is one event ready to send.
type pending struct {
	seq  uint64
	body []byte
}

// Pending returns up to max events with seq above after, oldest first.
func (s *Store) Pending(after uint64, max int) ([]pending, error) {
	var out []pending
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketOutbox).Cursor()
		for k, v := c.Seek(u64(after + 1)); k != nil && len(out) < max; k, v = c.Next() {
			seq := binary.BigEndian.Uint64(k)
			out = append(out, pending{seq: seq, body: withSeq(seq, v[8:])})
		}
		return nil
	})
	return out, err
}

// Ack removes every event up to seq: the server has committed them.
func (s *Store) Ack(seq uint64) error {
	err := s.update(func(tx *bolt.Tx) error {
		st := tx.Bucket(bucketState)
		if seq <= getU64(st, keyAcked) {
			return nil
		}
		ob := tx.Bucket(bucketOutbox)
		c := ob.Cursor()
		deleted := 0
		for k, _ := c.First(); k != nil && binary.BigEndian.Uint64(k) <= seq; k, _ = c.First() {
			if err := c.Delete(); err != nil {
				return err
			}
			deleted++
		}
		var oldest time.Time
		if k, v := c.First(); k != nil {
			oldest = eventTime(v)
		}
		// The counts follow in commit order, whoever called.
		tx.OnCommit(func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.acked = seq
			s.events -= deleted
			s.oldestAt = oldest
			s.checkAlarm()
		})
		return st.Put(keyAcked, u64(seq))
	})
	if err != nil {
		return fmt.Errorf("link: ack %d: %w", seq, err)
	}
	return nil
}

// checkAlarm sets the outbox alarm, and logs when it is raised or cleared;
// s.mu is held.
func (s *Store) checkAlarm() {
	was := s.alarm
	defer func() {
		if s.alarm != "" && was == "" {
			s.opts.Log.Error("outbox alarm: the server has not taken this terminal's events", "alarm", s.alarm)
		} else if s.alarm == "" && was != "" {
			s.opts.Log.Info("outbox alarm cleared", "events", s.events)
		}
	}()
	s.alarm = ""
	switch {
	case s.events >= s.opts.AlarmEvents:
		s.alarm = fmt.Sprintf("%d events wait for the server (alarm at %d, limit %d)", s.events, s.opts.AlarmEvents, s.opts.MaxEvents)
	case s.events > 0 && s.clock.Now().Sub(s.oldestAt) >= s.opts.AlarmAge:
		s.alarm = fmt.Sprintf("the oldest event has waited %s for the server (alarm at %s)",
			s.clock.Now().Sub(s.oldestAt).Round(time.Second), s.opts.AlarmAge)
	}
}

// OutboxStats is the outbox as /healthz shows it.
type OutboxStats struct {
	Events    int       `json:"events"`
	OldestAt  time.Time `json:"oldest_at,omitzero"`
	NextSeq   uint64    `json:"next_seq"`
	Acked     uint64    `json:"acked"`
	Alarm     string    `json:"alarm,omitempty"`
	MaxEvents int       `json:"max_events"`
}

// Outbox reports the outbox's state.
func (s *Store) Outbox() OutboxStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.checkAlarm() // age grows without any event
	return OutboxStats{Events: s.events, OldestAt: s.oldestAt, NextSeq: s.nextSeq, Acked: s.acked,
		Alarm: s.alarm, MaxEvents: s.opts.MaxEvents}
}

// Buffered is the number of events waiting for the server.
func (s *Store) Buffered() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.events
}

// EnsureNextSeq moves the sequence forward to at least next. A server that
// has committed events up to next-1 from this outbox (its file restored
// from an older copy) would otherwise take new events for duplicates.
func (s *Store) EnsureNextSeq(next uint64) (moved bool, err error) {
	err = s.update(func(tx *bolt.Tx) error {
		st := tx.Bucket(bucketState)
		if getU64(st, keyNextSeq) >= next {
			return nil
		}
		moved = true
		tx.OnCommit(func() {
			s.mu.Lock()
			s.nextSeq = next
			s.mu.Unlock()
		})
		return st.Put(keyNextSeq, u64(next))
	})
	return moved, err
}

// TicketsWaiting counts, by group, the tickets in the outbox (issued and
// not yet acknowledged by the server), less those withdrawn: the visitors
// this kiosk added that the server's last queue lengths cannot include.
// It reads the whole outbox; the client calls it once, at start.
func (s *Store) TicketsWaiting() (map[string]int, error) {
	issued := []byte(`{"type":"` + proto.TypeTicketIssued + `"`)
	withdrawn := []byte(`{"type":"` + proto.TypeTicketWithdrawn + `"`)
	out := map[string]int{}
	err := s.db.View(func(tx *bolt.Tx) error {
		// An event acknowledged a moment before kioskd stopped may not be
		// pruned yet, and is counted: an estimate for visitors, at worst a
		// little high.
		c := tx.Bucket(bucketOutbox).Cursor()
		for k, v := c.Seek(u64(getU64(tx.Bucket(bucketState), keyAcked) + 1)); k != nil; k, v = c.Next() {
			if len(v) < 8 {
				continue
			}
			body := v[8:]
			n := 0
			switch {
			case bytes.HasPrefix(body, issued):
				n = 1
			case bytes.HasPrefix(body, withdrawn):
				n = -1
			default:
				continue
			}
			var m struct {
				Ticket struct {
					Group string `json:"group"`
				} `json:"ticket"`
			}
			if json.Unmarshal(body, &m) != nil || m.Ticket.Group == "" {
				continue
			}
			out[m.Ticket.Group] += n
		}
		return nil
	})
	for g, n := range out {
		if n <= 0 {
			delete(out, g)
		}
	}
	return out, err
}

// OutboxEvent is one event waiting in the outbox, as the admin page lists
// it: which, of what type, appended when, and, if the server already
// refused it for good (it leaves the outbox with the ack that follows),
// why.
type OutboxEvent struct {
	Seq      uint64     `json:"seq"`
	Type     string     `json:"type"`
	At       time.Time  `json:"at"`
	Rejected *Rejection `json:"rejected,omitempty"`
}

// Head returns up to n of the oldest events not yet acknowledged, oldest
// first. It reads those n and no more of the outbox, whatever its size.
func (s *Store) Head(n int) ([]OutboxEvent, error) {
	out := []OutboxEvent{}
	if n <= 0 {
		return out, nil
	}
	err := s.db.View(func(tx *bolt.Tx) error {
		acked := getU64(tx.Bucket(bucketState), keyAcked)
		rb := tx.Bucket(bucketRejected)
		c := tx.Bucket(bucketOutbox).Cursor()
		for k, v := c.Seek(u64(acked + 1)); k != nil && len(out) < n; k, v = c.Next() {
			e := OutboxEvent{Seq: binary.BigEndian.Uint64(k), At: eventTime(v)}
			if len(v) > 8 {
				var m struct {
					Type string `json:"type"`
				}
				_ = json.Unmarshal(v[8:], &m) // a damaged entry still counts, with no type
				e.Type = m.Type
			}
			if rv := rb.Get(k); rv != nil {
				var r RejectedEvent
				if json.Unmarshal(rv, &r) == nil {
					e.Rejected = &r.Rejection
				}
			}
			out = append(out, e)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("link: read outbox: %w", err)
	}
	return out, nil
}
