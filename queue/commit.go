package queue

import (
	"errors"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Every change goes through one committer goroutine that group-commits:
// whatever arrived while the previous commit was on disk shares the next
// transaction, so eight clients issuing at once cost about one fsync, not
// eight, and three hundred terminals confirming a call cost one commit.
// Operators' actions and tickets are urgent: each batch takes every urgent
// change waiting before any terminal confirmation, and confirmations
// (bulk) are bounded per batch, so "next" never queues behind them.
//
// A change runs with q.mu held and applies its memory changes at once, so
// the next change in the same batch sees them. If the transaction fails
// (a full disk), memory is read again from the database and each change is
// retried alone, so one change's failure is never another's.

const (
	maxBatch     = 2000 // changes in one transaction
	maxBulkShare = 1000 // of which terminal confirmations at most
	// bulkLinger is how long a batch that starts with a terminal's
	// confirmations waits for more: a call is confirmed by dozens of halls
	// and windows within a few milliseconds, and one commit for all of
	// them costs a tenth of one each. Nobody waits on a confirmation's ack
	// but its terminal's outbox; an urgent change ends the wait at once.
	// It is a batching delay on the real clock, not logic.
	bulkLinger = 5 * time.Millisecond
)

type change struct {
	fn   func(tx *bolt.Tx, w *work) error
	w    *work
	done chan error
}

// refusal is a change's answer that is not a failure: what the change
// wrote so far stays (often nothing: it refused before writing), and the
// caller gets the error. A queue that is empty after the window's visitor
// was finished is one.
type refusal struct{ err error }

func (r *refusal) Error() string { return r.err.Error() }
func (r *refusal) Unwrap() error { return r.err }

// refuse makes err a refusal.
func refuse(err error) error { return &refusal{err} }

// run runs one change of q inside tx: nil or a refusal keeps it. The
// states of the windows it acted on are taken as it ends.
func (c *change) run(q *Queue, tx *bolt.Tx) (refused error, failed error) {
	c.w = newWork()
	err := c.fn(tx, c.w)
	var r *refusal
	if err != nil && !errors.As(err, &r) {
		return nil, err
	}
	c.w.apply()
	q.takeStates(c.w)
	if r != nil {
		return r.err, nil
	}
	return nil, nil
}

// errChangeFailed marks a rollback caused by one change.
var errChangeFailed = errors.New("queue: a change in the batch failed")

// update runs fn in a write transaction shared with whatever else is
// waiting, and returns once it is on disk together with what the change
// means for the terminals. fn runs with q.mu held; it must not block.
// bulk marks a change nobody waits on interactively (a terminal's events).
func (q *Queue) update(bulk bool, fn func(tx *bolt.Tx, w *work) error) (*work, error) {
	c := &change{fn: fn, done: make(chan error, 1)}
	q.closing.RLock()
	if q.closed {
		q.closing.RUnlock()
		return nil, ErrClosed
	}
	if bulk {
		q.bulk <- c
	} else {
		q.urgent <- c
	}
	q.closing.RUnlock()
	err := <-c.done
	if c.w == nil {
		c.w = newWork()
	}
	return c.w, err
}

func (q *Queue) commitLoop() {
	defer close(q.stopped)
	for {
		var batch []*change
		select {
		case c := <-q.urgent:
			batch = append(batch, c)
		case c := <-q.bulk:
			batch = q.linger(append(batch, c))
		case <-q.stop:
			// Writers hold the read lock while queueing, so after Close
			// took the write lock nothing more arrives; finish what came.
			for {
				select {
				case c := <-q.urgent:
					q.commit([]*change{c})
				case c := <-q.bulk:
					q.commit([]*change{c})
				default:
					return
				}
			}
		}
		batch = q.drain(batch)
		q.commit(batch)
	}
}

// linger gathers terminal confirmations for up to bulkLinger, until an
// urgent change or the stop arrives or the batch is full.
func (q *Queue) linger(batch []*change) []*change {
	t := time.NewTimer(bulkLinger)
	defer t.Stop()
	for len(batch) < maxBulkShare {
		select {
		case c := <-q.bulk:
			batch = append(batch, c)
		case c := <-q.urgent:
			return append(batch, c)
		case <-t.C:
			return batch
		case <-q.stop:
			return batch
		}
	}
	return batch
}

// drain adds to batch what is already waiting, urgent changes first.
func (q *Queue) drain(batch []*change) []*change {
	for len(batch) < maxBatch {
		select {
		case c := <-q.urgent:
			batch = append(batch, c)
			continue
		default:
		}
		break
	}
	bulk := 0
	for len(batch) < maxBatch && bulk < maxBulkShare {
		select {
		case c := <-q.bulk:
			batch = append(batch, c)
			bulk++
			continue
		default:
		}
		break
	}
	return batch
}

func (q *Queue) commit(batch []*change) {
	answers := make([]error, len(batch))
	var seq uint64
	err := q.db.Update(func(tx *bolt.Tx) error {
		q.mu.Lock()
		defer q.mu.Unlock()
		for i, c := range batch {
			refused, failed := c.run(q, tx)
			if failed != nil {
				return errChangeFailed
			}
			answers[i] = refused
		}
		seq = tx.Bucket(bucketLog).Sequence()
		return nil
	})
	q.commits.Add(1)
	if err == nil {
		q.committedLog(seq)
		q.signal()
		for i, c := range batch {
			c.done <- answers[i]
		}
		return
	}
	// Memory holds what the rolled-back transaction did: read it again,
	// then give every change its own transaction and its own answer.
	q.reload()
	for _, c := range batch {
		var refused error
		var seq uint64
		err := q.db.Update(func(tx *bolt.Tx) error {
			q.mu.Lock()
			defer q.mu.Unlock()
			var failed error
			refused, failed = c.run(q, tx)
			seq = tx.Bucket(bucketLog).Sequence()
			return failed
		})
		if err != nil {
			q.reload()
			q.log.Error("change not committed", "err", err)
			c.w = nil // rolled back: nothing to tell the terminals
			c.done <- err
			continue
		}
		q.committedLog(seq)
		q.signal()
		c.done <- refused
	}
}

// reload reads memory again from the database after a failed commit.
func (q *Queue) reload() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if err := q.db.View(func(tx *bolt.Tx) error { return q.loadTx(tx, q.day) }); err != nil {
		q.log.Error("reload after a failed commit", "err", err)
	}
}
