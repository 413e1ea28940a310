package queue

import (
	"context"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	bolt "go.etcd.io/bbolt"

	"github.com/cherga/kiosk/watchdog"
)

// queued's watchdog feeds systemd while the committer answers Ping, and
// stops feeding while the committer is stuck in a change that never ends
// (the test hook); the feeding resumes once the change ends. The fake
// systemd is the unixgram socket NOTIFY_SOCKET names.
func TestWatchdogStopsWhileCommitterStuck(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notify")
	sock, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer sock.Close()
	t.Setenv("NOTIFY_SOCKET", path)
	t.Setenv("WATCHDOG_USEC", "30000000") // WatchdogSec=30
	t.Setenv("WATCHDOG_PID", "")
	next := func() string {
		t.Helper()
		sock.SetReadDeadline(time.Now().Add(20 * time.Second)) // only against a hang
		b := make([]byte, 4096)
		n, err := sock.Read(b)
		if err != nil {
			t.Fatalf("no notification: %v", err)
		}
		return string(b[:n])
	}

	q := openTest(t, filepath.Join(t.TempDir(), "q.db"), newClock())
	wdClock := clockwork.NewFakeClock()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- watchdog.Run(ctx, q.Ping, watchdog.Options{Clock: wdClock}) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	period := 15 * time.Second

	if err := wdClock.BlockUntilContext(ctx, 1); err != nil {
		t.Fatal(err)
	}
	wdClock.Advance(period)
	if got := next(); got != "WATCHDOG=1" {
		t.Fatalf("healthy committer: got %q, want WATCHDOG=1", got)
	}

	entered, release := make(chan struct{}), make(chan struct{})
	stuckDone := make(chan error, 1)
	go func() {
		_, err := q.update(false, func(*bolt.Tx, *work) error {
			close(entered)
			<-release
			return nil
		})
		stuckDone <- err
	}()
	<-entered
	wdClock.Advance(period) // the tick starts a ping the committer does not answer
	for range 2 {           // a whole WatchdogSec without a feed: systemd restarts queued
		if err := wdClock.BlockUntilContext(ctx, 2); err != nil {
			t.Fatal(err)
		}
		wdClock.Advance(period) // the ping's time is up; the next tick waits on the same ping
		if got := next(); !strings.HasPrefix(got, "STATUS=unhealthy") || strings.Contains(got, "WATCHDOG=1") {
			t.Fatalf("stuck committer: got %q, want STATUS=unhealthy and no WATCHDOG=1", got)
		}
	}

	close(release)
	if err := <-stuckDone; err != nil {
		t.Fatal(err)
	}
	if got := next(); got != "STATUS=healthy\nWATCHDOG=1" {
		t.Fatalf("committer free again: got %q, want the feeding to resume", got)
	}
}

func TestPingClosed(t *testing.T) {
	q := openTest(t, filepath.Join(t.TempDir(), "q.db"), newClock())
	if err := q.Ping(t.Context()); err != nil {
		t.Fatalf("open queue: %v", err)
	}
	q.Close()
	if err := q.Ping(t.Context()); err == nil {
		t.Fatal("a closed queue answered the ping")
	}
}
