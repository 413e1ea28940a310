package queue

import (
	"encoding/binary"
	"encoding/json"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/cherga/kiosk/link/proto"
)

// Pushes (calls, recalls, cancels, hall messages, updates) are numbered
// office-wide and kept for a day, so a terminal that was away gets what it
// missed when it says hello with the last number it acted on.

const (
	pushKeep       = 24 * time.Hour
	pushResendMax  = 500
	pushPruneEvery = 100
)

type storedPush struct {
	At  time.Time      `json:"at"`
	Msg *proto.Message `json:"msg"`
}

// push numbers m, stores it and queues it for broadcast after the commit.
func (q *Queue) push(tx *bolt.Tx, w *work, m *proto.Message) error {
	n, err := tx.Bucket(bucketPushes).NextSequence()
	if err != nil {
		return err
	}
	return q.pushAs(tx, w, n, m)
}

func (q *Queue) pushAs(tx *bolt.Tx, w *work, n uint64, m *proto.Message) error {
	m.Push = n
	b := tx.Bucket(bucketPushes)
	if err := putJSON(b, u64(n), storedPush{At: q.now(), Msg: m}); err != nil {
		return err
	}
	if n%pushPruneEvery == 0 {
		if err := q.prunePushes(b); err != nil {
			return err
		}
	}
	w.pushes = append(w.pushes, m)
	return nil
}

func (q *Queue) prunePushes(b *bolt.Bucket) error {
	cutoff := q.now().Add(-pushKeep)
	var old [][]byte
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		var p storedPush
		if json.Unmarshal(v, &p) == nil && p.At.After(cutoff) {
			break // pushes are stored in time order
		}
		old = append(old, append([]byte(nil), k...))
	}
	for _, k := range old {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// pushesAfter returns the stored pushes numbered above after and younger
// than maxAge, oldest first, and the highest push number so far.
func pushesAfter(tx *bolt.Tx, after uint64, since time.Time) (out []*proto.Message, last uint64) {
	b := tx.Bucket(bucketPushes)
	last = b.Sequence()
	c := b.Cursor()
	for k, v := c.Seek(u64(after + 1)); k != nil && len(out) < pushResendMax; k, v = c.Next() {
		var p storedPush
		if err := json.Unmarshal(v, &p); err != nil || p.Msg == nil || p.At.Before(since) {
			continue
		}
		p.Msg.Push = binary.BigEndian.Uint64(k)
		out = append(out, p.Msg)
	}
	return out, last
}
