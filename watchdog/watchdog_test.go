package watchdog

import (
	"context"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
)

// notifySocket is a fake systemd: the unixgram socket NOTIFY_SOCKET names,
// with WATCHDOG_USEC set as systemd sets it for WatchdogSec=2.
func notifySocket(t *testing.T) *net.UnixConn {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	t.Setenv("NOTIFY_SOCKET", path)
	t.Setenv("WATCHDOG_USEC", "2000000")
	t.Setenv("WATCHDOG_PID", "")
	return conn
}

// next reads one notification; the deadline only keeps a broken test from
// hanging, nothing waits on it.
func next(t *testing.T, conn *net.UnixConn) string {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	b := make([]byte, 4096)
	n, err := conn.Read(b)
	if err != nil {
		t.Fatalf("no notification: %v", err)
	}
	return string(b[:n])
}

func TestReady(t *testing.T) {
	conn := notifySocket(t)
	if ok, err := Ready(); !ok || err != nil {
		t.Fatalf("Ready: %v, %v", ok, err)
	}
	if got := next(t, conn); got != "READY=1" {
		t.Fatalf("got %q, want READY=1", got)
	}
	if d, err := Interval(); d != 2*time.Second || err != nil {
		t.Fatalf("Interval: %v, %v", d, err)
	}
}

// A healthy loop feeds the watchdog every half timeout; a stuck one stops
// the feeding for as long as it is stuck (systemd would restart the
// service after WatchdogSec), and feeding resumes once it answers.
func TestStuckLoopStopsFeeding(t *testing.T) {
	conn := notifySocket(t)
	clock := clockwork.NewFakeClock()
	ctx, cancel := context.WithCancel(t.Context())
	release := make(chan struct{})
	stuck := make(chan bool, 1)
	stuck <- false
	// The test hook: while stuck, the check blocks like a deadlocked loop
	// (and ignores ctx, as a deadlocked loop would).
	check := func(context.Context) error {
		s := <-stuck
		stuck <- s
		if s {
			<-release
		}
		return nil
	}
	done := make(chan error, 1)
	go func() { done <- Run(ctx, check, Options{Clock: clock}) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()

	if err := clock.BlockUntilContext(ctx, 1); err != nil { // the ticker
		t.Fatal(err)
	}
	clock.Advance(time.Second)
	if got := next(t, conn); got != "WATCHDOG=1" {
		t.Fatalf("healthy loop: got %q, want WATCHDOG=1", got)
	}

	<-stuck
	stuck <- true
	clock.Advance(time.Second) // the tick starts a check that does not answer
	for range 3 {              // three periods (1.5 timeouts) without a feed
		if err := clock.BlockUntilContext(ctx, 2); err != nil { // ticker and the check's timer
			t.Fatal(err)
		}
		clock.Advance(time.Second) // the check's time is up; the next tick waits on the same check
		if got := next(t, conn); !strings.HasPrefix(got, "STATUS=unhealthy") || strings.Contains(got, "WATCHDOG=1") {
			t.Fatalf("stuck loop: got %q, want STATUS=unhealthy and no WATCHDOG=1", got)
		}
	}

	<-stuck
	stuck <- false
	close(release)
	if got := next(t, conn); got != "STATUS=healthy\nWATCHDOG=1" {
		t.Fatalf("loop answering again: got %q, want the feeding to resume", got)
	}
}

// A check that fails (rather than hangs) does not feed either.
func TestFailingCheckDoesNotFeed(t *testing.T) {
	conn := notifySocket(t)
	clock := clockwork.NewFakeClock()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, func(context.Context) error { return context.DeadlineExceeded }, Options{Clock: clock})
	}()
	if err := clock.BlockUntilContext(ctx, 1); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Second)
	if got := next(t, conn); !strings.HasPrefix(got, "STATUS=unhealthy") {
		t.Fatalf("got %q, want STATUS=unhealthy", got)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// Outside systemd Run returns at once and Ready sends nothing.
func TestNoSystemd(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	t.Setenv("WATCHDOG_USEC", "")
	if ok, err := Ready(); ok || err != nil {
		t.Fatalf("Ready outside systemd: %v, %v", ok, err)
	}
	if err := Run(t.Context(), nil, Options{}); err != nil {
		t.Fatal(err)
	}
}
