package link

import (
	"context"
	"errors"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// Ping answers while the committer is free, without a commit; behind a
// change that does not end it waits (until its context ends), and it is
// answered once the change is done.
func TestPing(t *testing.T) {
	s := openStore(t, t.TempDir(), StoreOptions{})
	before := s.committed.Load()
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("idle committer: %v", err)
	}
	if n := s.committed.Load() - before; n != 0 {
		t.Errorf("a ping made %d commits, want none", n)
	}

	// A change that never ends, as a commit on a disk that hangs would.
	entered, release := make(chan struct{}), make(chan struct{})
	changed := make(chan error, 1)
	go func() {
		changed <- s.update(func(*bolt.Tx) error {
			close(entered)
			<-release
			return nil
		})
	}()
	<-entered
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s.Ping(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("stuck committer, ended context: got %v, want context.Canceled", err)
	}
	pinged := make(chan error, 1)
	go func() { pinged <- s.Ping(t.Context()) }()
	select {
	case err := <-pinged:
		t.Fatalf("a ping behind a stuck change answered: %v", err)
	default:
	}
	close(release)
	if err := <-changed; err != nil {
		t.Fatal(err)
	}
	if err := <-pinged; err != nil {
		t.Fatalf("after the change: %v", err)
	}
}

func TestPingClosed(t *testing.T) {
	s := openStore(t, t.TempDir(), StoreOptions{})
	s.Close()
	if err := s.Ping(t.Context()); !errors.Is(err, ErrClosed) {
		t.Fatalf("got %v, want ErrClosed", err)
	}
}
