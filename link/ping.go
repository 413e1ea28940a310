package link

import (
	"context"
	"fmt"
)

// Ping passes through the committer and returns nil once the committer
// took it: the health check behind kioskd's systemd watchdog. A committer
// that is stuck (a change that never ends, a commit the disk never
// finishes) leaves Ping waiting until ctx ends.
//
// Unlike queued's Ping, it writes nothing: the committer answers it
// without a transaction, so the terminal's SD card sees no fsync for it.
// A terminal with a stuck disk and nothing to write is therefore still
// healthy; the first change it tries to commit (a ticket, a device status,
// an acknowledgement) gets stuck behind the disk, and the next Ping with
// it.
func (s *Store) Ping(ctx context.Context) error {
	r := &commitReq{done: make(chan error, 1)} // no fn: a ping
	s.closing.RLock()
	if s.closed {
		s.closing.RUnlock()
		return fmt.Errorf("link: ping: %w", ErrClosed)
	}
	select {
	case s.commits <- r:
	case <-ctx.Done():
		s.closing.RUnlock()
		return fmt.Errorf("link: ping: the committer is not taking changes: %w", ctx.Err())
	}
	s.closing.RUnlock()
	select {
	case <-r.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("link: ping: the committer did not answer: %w", ctx.Err())
	}
}

// answerPings answers the pings in batch (the committer has reached them,
// so it is not stuck) and returns the changes left, in their order.
func answerPings(batch []*commitReq) []*commitReq {
	changes := batch[:0]
	for _, r := range batch {
		if r.fn == nil {
			r.done <- nil
			continue
		}
		changes = append(changes, r)
	}
	return changes
}
