package queue

import (
	"crypto/rand"
	"encoding/hex"

	bolt "go.etcd.io/bbolt"

	"github.com/cherga/kiosk/city"
)

// What the city's shipper (package queue/ship) needs of the queue: the
// log after a position, a signal when the log grew, the position and the
// shipper's instance id kept in bucket "city", and the status snapshot
// the city's page shows. Nothing here is on the path of a ticket or a
// call: the committer only stores a number and signals a channel that
// holds one value.

var (
	bucketCity       = []byte("city")
	keyCityInstance  = []byte("instance")
	keyCityPosition  = []byte("position")
	cityInstanceSize = 16
)

// committedLog records the log's last sequence after a commit and wakes
// the shipper if it moved.
func (q *Queue) committedLog(seq uint64) {
	if seq <= q.logSeq.Load() {
		return
	}
	q.logSeq.Store(seq)
	select {
	case q.logged <- struct{}{}:
	default:
	}
}

// LastSeq is the sequence of the log's last committed event (0: none).
func (q *Queue) LastSeq() uint64 { return q.logSeq.Load() }

// Logged receives a value after a commit that appended to the log; one
// value stands for every commit since the last receive. There is one
// receiver: the city's shipper.
func (q *Queue) Logged() <-chan struct{} { return q.logged }

// CityInstance is this database's instance id for the city (random, made
// at first use and kept): two queued claiming one office id are told
// apart by it.
func (q *Queue) CityInstance() (string, error) {
	var id string
	err := q.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketCity); b != nil {
			id = string(b.Get(keyCityInstance))
		}
		return nil
	})
	if err != nil || id != "" {
		return id, err
	}
	_, err = q.update(false, func(tx *bolt.Tx, _ *work) error {
		b, err := tx.CreateBucketIfNotExists(bucketCity)
		if err != nil {
			return err
		}
		if v := b.Get(keyCityInstance); v != nil {
			id = string(v)
			return nil
		}
		raw := make([]byte, cityInstanceSize)
		if _, err := rand.Read(raw); err != nil {
			return err
		}
		id = hex.EncodeToString(raw)
		return b.Put(keyCityInstance, []byte(id))
	})
	return id, err
}

// CityPosition is the highest sequence known to be in the city's
// database (0: nothing shipped).
func (q *Queue) CityPosition() (uint64, error) {
	var pos uint64
	err := q.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketCity); b != nil {
			pos = getU64(b, keyCityPosition)
		}
		return nil
	})
	return pos, err
}

// SetCityPosition stores the shipped position; it never moves back. It
// goes through the committer with the terminals' confirmations (bulk),
// sharing their transaction, so it costs no commit of its own under load.
func (q *Queue) SetCityPosition(seq uint64) error {
	_, err := q.update(true, func(tx *bolt.Tx, _ *work) error {
		b, err := tx.CreateBucketIfNotExists(bucketCity)
		if err != nil {
			return err
		}
		if getU64(b, keyCityPosition) >= seq {
			return nil
		}
		return b.Put(keyCityPosition, u64(seq))
	})
	return err
}

// CityStatus is the office now as the city's status page shows it:
// waiting and estimated wait per group, windows open, the groups' names.
// At and Office are left to the shipper (At is the corrected time).
func (q *Queue) CityStatus() city.Status {
	q.mu.Lock()
	defer q.mu.Unlock()
	st := city.Status{Waiting: map[string]int{}, WaitMinutes: map[string]int{}, GroupNames: map[string]map[string]string{},
		LastSeq: q.logSeq.Load()}
	stale := q.stale()
	for _, g := range q.o.cfg.Groups {
		st.GroupNames[g.ID] = map[string]string{"uk": g.Name.UK, "en": g.Name.EN}
		if stale {
			st.Waiting[g.ID], st.WaitMinutes[g.ID] = 0, 0
			continue
		}
		l := q.lengthOf(g.ID)
		st.Waiting[g.ID], st.WaitMinutes[g.ID] = l.Waiting, l.WaitMin
	}
	for _, w := range q.winOrder {
		if w.state == WindowOpen {
			st.WindowsOpen++
		}
	}
	st.Open = st.WindowsOpen > 0
	return st
}
