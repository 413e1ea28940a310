package queue

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/cherga/kiosk/link/proto"
)

// Calls are numbered per day ("2026-11-23/17") and kept with who showed
// and announced them. A terminal's confirmation is one small key of its
// own (call, device, kind), written once: confirming costs the same
// whether three or three hundred terminals show the call.

// CallRecord is a call as the call log gives it, with who showed and
// announced it.
type CallRecord struct {
	proto.Call
	ShownBy     []string `json:"shown_by,omitempty"`
	AnnouncedBy []string `json:"announced_by,omitempty"`
}

// call records a call (or recall) of t and queues its push.
func (q *Queue) call(tx *bolt.Tx, w *work, t *ticket, typ string) error {
	b, err := createDayBucket(tx, q.day)
	if err != nil {
		return err
	}
	calls := b.Bucket(bucketCall)
	n, err := calls.NextSequence()
	if err != nil {
		return err
	}
	c := proto.Call{
		ID: fmt.Sprintf("%s/%d", q.day, n), Ticket: t.Number, Service: t.Service, Window: t.Window,
		At: q.now().In(q.o.loc), Recall: typ == proto.TypeRecall,
	}
	if err := putJSON(calls, u64(n), c); err != nil {
		return err
	}
	q.recentCall(c)
	return q.push(tx, w, &proto.Message{Type: typ, ID: c.ID, Call: &c})
}

const (
	seenShown     = 's'
	seenAnnounced = 'a'
)

// callSeen records that a terminal showed or announced a call.
func (q *Queue) callSeen(tx *bolt.Tx, device, callID string, announced bool, at time.Time) error {
	day, n, ok := strings.Cut(callID, "/")
	seq, err := strconv.ParseUint(n, 10, 64)
	if !ok || err != nil {
		return badEvent("call id %q is not day/number", callID)
	}
	b := dayBucket(tx, day)
	if b == nil || b.Bucket(bucketCall).Get(u64(seq)) == nil {
		return badEvent("no call %s", callID)
	}
	kind := byte(seenShown)
	if announced {
		kind = seenAnnounced
	}
	seen, err := b.CreateBucketIfNotExists(bucketSeen)
	if err != nil {
		return err
	}
	key := append(append(u64(seq), kind), device...)
	if seen.Get(key) != nil {
		return nil
	}
	stamp, _ := at.MarshalText()
	return seen.Put(key, stamp)
}

// CallLog returns every call of date with who showed and announced it.
func (q *Queue) CallLog(date string) ([]CallRecord, error) {
	if _, err := time.Parse(time.DateOnly, date); err != nil {
		return nil, fmt.Errorf("%w, got %q", ErrBadDate, date)
	}
	out := []CallRecord{}
	err := q.db.View(func(tx *bolt.Tx) error {
		b := dayBucket(tx, date)
		if b == nil {
			return nil
		}
		seen := b.Bucket(bucketSeen)
		return b.Bucket(bucketCall).ForEach(func(k, v []byte) error {
			var c CallRecord
			if err := json.Unmarshal(v, &c); err != nil {
				return err
			}
			if seen != nil {
				sc := seen.Cursor()
				for sk, _ := sc.Seek(k); sk != nil && bytes.HasPrefix(sk, k) && len(sk) > 9; sk, _ = sc.Next() {
					device := string(sk[9:])
					if sk[8] == seenAnnounced {
						c.AnnouncedBy = append(c.AnnouncedBy, device)
					} else {
						c.ShownBy = append(c.ShownBy, device)
					}
				}
			}
			out = append(out, c)
			return nil
		})
	})
	return out, err
}
