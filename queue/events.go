package queue

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/cherga/kiosk/link/proto"
)

// keypadMaxAge is how old a keypad press may be and still act: a "next"
// pressed during a network outage must not call someone minutes later.
const keypadMaxAge = time.Minute

// ApplyEvents commits a batch of one terminal's events in one transaction,
// skipping every event at or below the last one committed from it, and
// returns the seq to acknowledge. offset is the terminal's clock offset
// (server minus terminal) measured at hello; times it sends are corrected
// by it.
func (q *Queue) ApplyEvents(device string, offset time.Duration, events []*proto.Message) (uint64, Effects, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if err := q.rollDay(); err != nil {
		return 0, Effects{}, err
	}
	var acked uint64
	w, err := q.update(func(tx *bolt.Tx, w *work) error {
		old := q.devices[device]
		if old == nil {
			return fmt.Errorf("queue: events from %s before its hello", device)
		}
		d := *old
		tickets := false
		for _, m := range events {
			if m.Seq <= d.LastSeq {
				continue // already committed: resent after a break
			}
			if m.Seq != d.LastSeq+1 {
				q.log.Warn("gap in a terminal's events", "device", device, "after", d.LastSeq, "got", m.Seq)
			}
			if err := q.applyEvent(tx, w, &d, offset, m); err != nil {
				return fmt.Errorf("event %d (%s): %w", m.Seq, m.Type, err)
			}
			tickets = tickets || m.Type == proto.TypeTicketIssued
			d.LastSeq = m.Seq
		}
		d.LastSeen = q.now()
		if tickets && d.HasRole("kiosk") {
			if err := q.ensureLeases(tx, w, d.ID); err != nil {
				return err
			}
		}
		acked = d.LastSeq
		return saveDevice(tx, w, q, &d)
	})
	if err != nil {
		return 0, Effects{}, fmt.Errorf("queue: events from %s: %w", device, err)
	}
	return acked, w.effects(), nil
}

func (q *Queue) applyEvent(tx *bolt.Tx, w *work, d *Device, offset time.Duration, m *proto.Message) error {
	switch m.Type {
	case proto.TypeTicketIssued:
		return q.ticketIssued(tx, w, d, offset, m.Ticket)
	case proto.TypeDeviceStatus:
		d.Status = m.Status
		return nil
	case proto.TypeCallShown, proto.TypeCallAnnounced:
		return q.callSeen(tx, d.ID, m.Seen.Call, m.Type == proto.TypeCallAnnounced)
	case proto.TypeKeypad:
		return q.keypad(tx, w, d, offset, m.Keypad)
	case proto.TypeRating:
		r := *m.Rating
		r.At = r.At.Add(offset)
		b, err := createDayBucket(tx, q.dayOf(r.At))
		if err != nil {
			return err
		}
		return putJSON(b.Bucket(bucketRatings), []byte(r.Ticket+"/"+d.ID), struct {
			proto.Rating
			Device string `json:"device"`
		}{r, d.ID})
	}
	return fmt.Errorf("not an event")
}

// ticketIssued puts a ticket a kiosk handed out into the queue. An online
// ticket was reserved by the server and is confirmed; an offline one is
// merged in issue-time order, its time corrected to the server's clock.
func (q *Queue) ticketIssued(tx *bolt.Tx, w *work, d *Device, offset time.Duration, t *proto.Ticket) error {
	nt := *t
	nt.Device, nt.State = d.ID, proto.StateWaiting
	if nt.Group == "" {
		if g, ok := q.groupOf(nt.Service); ok {
			nt.Group = g.ID
		}
	}
	if !t.Offline {
		day := q.dayOf(t.IssuedAt)
		b, err := createDayBucket(tx, day)
		if err != nil {
			return err
		}
		if v := b.Bucket(bucketTix).Get([]byte(t.Number)); v != nil {
			old, err := decodeTicket(v)
			if err != nil {
				return err
			}
			if old.State != proto.StateReserved || old.Device != d.ID {
				q.log.Warn("ticket confirmed twice or by another kiosk; kept as it was",
					"number", t.Number, "device", d.ID, "state", old.State, "holder", old.Device)
				return nil
			}
			old.State = proto.StateWaiting
			return q.putTicket(tx, w, day, t.Number, old)
		}
		// The reservation is gone (a restored database): take the kiosk's word.
		q.log.Warn("confirmed ticket was never reserved here; adding it", "number", t.Number, "device", d.ID)
		return q.putTicket(tx, w, day, t.Number, &nt)
	}

	terminalAt := t.IssuedAt
	if t.TerminalAt != nil {
		terminalAt = *t.TerminalAt
	}
	nt.TerminalAt = &terminalAt
	nt.IssuedAt = terminalAt.Add(offset).In(q.o.loc)
	if t.Booking != "" {
		if err := q.bookingUsedOffline(tx, &nt, d.ID); err != nil {
			return err
		}
	}
	day := q.dayOf(nt.IssuedAt)
	b, err := createDayBucket(tx, day)
	if err != nil {
		return err
	}
	key := t.Number
	if b.Bucket(bucketTix).Get([]byte(key)) != nil {
		// Leases make this impossible; if it happens anyway, the visitor
		// holding the paper still gets served.
		key = t.Number + "~" + d.ID
		q.log.Error("offline ticket number already taken; kept under another key", "number", t.Number, "device", d.ID, "key", key)
	}
	if n, ok := leasedNumber(t.Number, nt.Group, q); ok {
		if _, err := markUsed(b, d.ID, q.o.groups[nt.Group].Prefix, n); err != nil {
			return err
		}
	}
	return q.putTicket(tx, w, day, key, &nt)
}

// leasedNumber parses a lease-format number ("А980") of group.
func leasedNumber(number, group string, q *Queue) (int, bool) {
	g, ok := q.o.groups[group]
	if !ok || !strings.HasPrefix(number, g.Prefix) {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimPrefix(number, g.Prefix))
	return n, err == nil
}

func decodeTicket(v []byte) (*proto.Ticket, error) {
	t := new(proto.Ticket)
	return t, json.Unmarshal(v, t)
}

// callSeen records that a terminal showed or announced a call.
func (q *Queue) callSeen(tx *bolt.Tx, device, callID string, announced bool) error {
	day, n, ok := strings.Cut(callID, "/")
	seq, err := strconv.ParseUint(n, 10, 64)
	if !ok || err != nil {
		q.log.Warn("seen call with a malformed id", "device", device, "call", callID)
		return nil
	}
	b := dayBucket(tx, day)
	if b == nil || b.Bucket(bucketCall).Get(u64(seq)) == nil {
		q.log.Warn("seen call is unknown", "device", device, "call", callID)
		return nil
	}
	calls := b.Bucket(bucketCall)
	var c callRecord
	if err := json.Unmarshal(calls.Get(u64(seq)), &c); err != nil {
		return err
	}
	list := &c.ShownBy
	if announced {
		list = &c.AnnouncedBy
	}
	for _, x := range *list {
		if x == device {
			return nil
		}
	}
	*list = append(*list, device)
	return putJSON(calls, u64(seq), c)
}

// keypad acts on an operator's key, unless it is too old to mean anything
// now.
func (q *Queue) keypad(tx *bolt.Tx, w *work, d *Device, offset time.Duration, k *proto.Keypad) error {
	if age := q.now().Sub(k.At.Add(offset)); age > keypadMaxAge {
		q.log.Warn("keypad press too old, not acted on", "device", d.ID, "window", k.Window, "key", k.Key, "age", age.Round(time.Second))
		return nil
	}
	var err error
	switch k.Key {
	case proto.KeyNext:
		_, _, err = q.nextTx(tx, w, k.Window)
	case proto.KeyRecall:
		_, err = q.recallTx(tx, w, k.Window)
	default:
		q.log.Warn("unknown keypad key", "device", d.ID, "key", k.Key)
		return nil
	}
	if errors.Is(err, ErrUnknownWindow) || errors.Is(err, ErrNothingToCall) {
		q.log.Warn("keypad press not possible", "device", d.ID, "window", k.Window, "key", k.Key, "err", err)
		return nil
	}
	return err
}
