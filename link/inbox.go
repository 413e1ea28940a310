package link

import (
	"encoding/binary"
	"time"

	bolt "go.etcd.io/bbolt"
)

// inboxKeep is how long a push id is remembered on disk. The server
// resends at most two hours of pushes, so a day and a half covers every
// resend.
const inboxKeep = 36 * time.Hour

// inboxMemory is how many recent push ids are also kept in memory.
const inboxMemory = 4096

// Receive reports whether the push numbered seq with id is new, and
// records it. A resent call is shown and announced once.
//
// The answer comes from memory and the file, and the record is committed
// in the background: a call reaches the screen and the speaker without
// waiting for a disk flush. A crash in the millisecond before that commit
// can make a resent call be announced again after the restart; a repeated
// announcement is the lesser harm than a late or missing one.
func (s *Store) Receive(seq uint64, id string) (fresh bool, err error) {
	s.inboxMu.Lock()
	if s.seen[id] {
		s.inboxMu.Unlock()
		return false, nil
	}
	s.inboxMu.Unlock()
	err = s.db.View(func(tx *bolt.Tx) error {
		fresh = tx.Bucket(bucketInbox).Get([]byte(id)) == nil
		return nil
	})
	if err != nil || !fresh {
		return false, err
	}
	s.inboxMu.Lock()
	s.seen[id] = true
	s.seenOrder = append(s.seenOrder, id)
	if len(s.seenOrder) > inboxMemory {
		delete(s.seen, s.seenOrder[0])
		s.seenOrder = s.seenOrder[1:]
	}
	s.inboxMu.Unlock()
	s.raiseLastPush(seq)
	at := uint64(s.clock.Now().UnixNano())
	s.background.Add(1)
	go func() {
		defer s.background.Done()
		err := s.update(func(tx *bolt.Tx) error {
			st := tx.Bucket(bucketState)
			if seq > getU64(st, keyLastPush) {
				if err := st.Put(keyLastPush, u64(seq)); err != nil {
					return err
				}
			}
			return tx.Bucket(bucketInbox).Put([]byte(id), u64(at))
		})
		if err != nil && err != ErrClosed {
			s.opts.Log.Error("inbox: push not recorded; a resend may repeat it", "id", id, "err", err)
		}
	}()
	return true, nil
}

func (s *Store) raiseLastPush(seq uint64) {
	for {
		cur := s.lastPush.Load()
		if seq <= cur || s.lastPush.CompareAndSwap(cur, seq) {
			return
		}
	}
}

// LastPush is the highest push acted on; hello sends it so the server
// resends only what came after.
func (s *Store) LastPush() uint64 { return s.lastPush.Load() }

// PruneInbox forgets push ids older than inboxKeep.
func (s *Store) PruneInbox() error {
	cutoff := uint64(s.clock.Now().Add(-inboxKeep).UnixNano())
	return s.update(func(tx *bolt.Tx) error {
		in := tx.Bucket(bucketInbox)
		var old [][]byte // deleting under a moving cursor skips keys
		_ = in.ForEach(func(k, v []byte) error {
			if len(v) == 8 && binary.BigEndian.Uint64(v) < cutoff {
				old = append(old, append([]byte(nil), k...))
			}
			return nil
		})
		for _, k := range old {
			if err := in.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
}
