package queue

import (
	"context"
	"fmt"
	"sync"

	bolt "go.etcd.io/bbolt"
)

// Ping passes a change that writes nothing through the committer and
// returns nil once the committer ran it: the health check behind queued's
// systemd watchdog. A committer that is stuck (a change that never ends, a
// commit that hangs) leaves Ping waiting until ctx ends. A commit that
// fails (a full disk) still answers: the committer is alive, and the disk
// is an alarm of its own, not a reason for systemd to restart queued.
func (q *Queue) Ping(ctx context.Context) error {
	ran := make(chan struct{})
	var once sync.Once
	errc := make(chan error, 1)
	go func() {
		_, err := q.update(false, func(*bolt.Tx, *work) error {
			once.Do(func() { close(ran) })
			return nil
		})
		errc <- err
	}()
	select {
	case <-ran:
		return nil
	case err := <-errc:
		if err != nil {
			return fmt.Errorf("queue: ping: %w", err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("queue: ping: the committer did not answer: %w", ctx.Err())
	}
}
