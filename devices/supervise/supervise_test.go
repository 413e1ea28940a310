package supervise

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
)

var start = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

// port is a device that counts its closes.
type port struct{ closed *atomic.Int32 }

func (p port) Close() error { p.closed.Add(1); return nil }

// waiting waits until n goroutines wait on clk: the loop in its backoff,
// or a session on its own timer.
func waiting(t *testing.T, clk *clockwork.FakeClock, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := clk.BlockUntilContext(ctx, n); err != nil {
		t.Fatalf("nobody waits on the clock: %v", err)
	}
}

// run starts l and returns a function that stops it and waits for Run.
func run[C interface{ Close() error }](t *testing.T, l *Loop[C]) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { l.Run(ctx); close(done) }()
	stop = func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("Run did not return after cancel")
		}
	}
	t.Cleanup(stop)
	return stop
}

func TestBackoffCeilingAndJitter(t *testing.T) {
	b := Backoff{}
	for n, want := range map[int]time.Duration{
		0: time.Second, 1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 5: 16 * time.Second,
		6: 30 * time.Second, 70: 30 * time.Second, 1 << 20: 30 * time.Second,
	} {
		if got := b.Ceiling(n); got != want {
			t.Errorf("Ceiling(%d) = %s, want %s", n, got, want)
		}
	}
	seen := map[time.Duration]bool{}
	for n := 1; n < 70; n++ {
		for range 50 {
			d := b.Wait(n)
			if d <= 0 || d > b.Ceiling(n) {
				t.Fatalf("wait %d: %s, ceiling %s", n, d, b.Ceiling(n))
			}
			seen[d] = true
		}
	}
	if len(seen) < 1000 {
		t.Errorf("only %d distinct waits: no jitter?", len(seen))
	}
	small := Backoff{Min: 250 * time.Millisecond, Max: 5 * time.Second}
	if got := small.Ceiling(1); got != 500*time.Millisecond {
		t.Errorf("first ceiling %s", got)
	}
	if got := small.Ceiling(10); got != 5*time.Second {
		t.Errorf("cap %s", got)
	}
}

// A device that cannot be opened: each wait is within its growing
// ceiling, the status says why and when the next try is, on the clock.
func TestOpenFailsBacksOff(t *testing.T) {
	clk := clockwork.NewFakeClockAt(start)
	var opens atomic.Int32
	l := New(Config[port]{
		Name: "scanner",
		Open: func(context.Context) (port, error) {
			opens.Add(1)
			return port{}, errors.New("no such file")
		},
		Use:   func(context.Context, port) error { t.Fatal("used a device that never opened"); return nil },
		Clock: clk,
	})
	if st := l.Status(); st.State != Starting || st.Detail != "opening" || !st.Since.Equal(start) {
		t.Fatalf("before Run: %+v", st)
	}
	run(t, l)
	for n := 1; n <= 10; n++ {
		waiting(t, clk, 1)
		st := l.Status()
		wait := st.RetryAt.Sub(clk.Now())
		if st.State != Fault || st.Failures != n || st.LastError != "no such file" || wait <= 0 || wait > l.cfg.Backoff.Ceiling(n) {
			t.Fatalf("failure %d: %+v (wait %s)", n, st, wait)
		}
		if !strings.HasPrefix(st.Detail, "cannot open: no such file; retrying in ") {
			t.Fatalf("detail %q", st.Detail)
		}
		if n == 1 && !st.Since.Equal(start) {
			t.Fatalf("since %s, want the first failure at %s", st.Since, start)
		}
		if int(opens.Load()) != n {
			t.Fatalf("%d opens after %d failures", opens.Load(), n)
		}
		clk.Advance(wait)
	}
	if st := l.Status(); !st.Since.Equal(start) {
		t.Errorf("a fault that goes on keeps its since: %s", st.Since)
	}
}

// session is one scripted session: it fails after d on the clock (at once
// for 0), or works until ctx ends for d < 0.
type session struct {
	d      time.Duration
	works  bool // says OK first
	detail string
}

// A session that fails at once counts as a failure of the device; one
// that was healthy for HealthyAfter resets the count, so the next wait is
// short again. Reopens and since follow.
func TestSessionsAtOnceAndAfterAWhile(t *testing.T) {
	clk := clockwork.NewFakeClockAt(start)
	script := make(chan session, 10)
	var closed atomic.Int32
	var l *Loop[port]
	l = New(Config[port]{
		Name: "printer",
		Open: func(context.Context) (port, error) { return port{&closed}, nil },
		Use: func(ctx context.Context, p port) error {
			s := <-script
			if s.works {
				l.Set(OK, s.detail)
			}
			if s.d < 0 {
				<-ctx.Done()
				return nil
			}
			if s.d > 0 {
				select {
				case <-clk.After(s.d):
				case <-ctx.Done():
					return nil
				}
			}
			return fmt.Errorf("unplugged after %s", s.d)
		},
		Describe: func(ev Event, err error, retry time.Duration) string {
			if ev == Lost {
				return "lost: " + err.Error()
			}
			return ev.String()
		},
		Backoff: Backoff{Min: 250 * time.Millisecond, Max: 5 * time.Second, HealthyAfter: 10 * time.Second},
		Clock:   clk,
	})
	stop := run(t, l)
	next := func(n int, reopens int) Status {
		t.Helper()
		waiting(t, clk, 1)
		st := l.Status()
		if st.State != Fault || st.Failures != n || st.Reopens != reopens || !strings.HasPrefix(st.Detail, "lost: unplugged") {
			t.Fatalf("want failure %d after %d reopens: %+v", n, reopens, st)
		}
		if wait := st.RetryAt.Sub(clk.Now()); wait <= 0 || wait > l.cfg.Backoff.Ceiling(n) {
			t.Fatalf("failure %d waits %s", n, wait)
		}
		return st
	}
	advance := func() { clk.Advance(l.Status().RetryAt.Sub(clk.Now())) }

	// Three sessions that fail at once: the count grows.
	for n := 1; n <= 3; n++ {
		script <- session{}
		next(n, n-1)
		if int(closed.Load()) != n {
			t.Fatalf("%d closes after %d sessions", closed.Load(), n)
		}
		advance()
	}
	// One that works for a while, then fails: healthy, so the count
	// starts again at 1.
	script <- session{d: 11 * time.Second, works: true, detail: "3 tickets printed"}
	waiting(t, clk, 1) // the session's own timer
	st := l.Status()
	if st.State != OK || st.Detail != "3 tickets printed" || st.Failures != 3 || !st.Since.Equal(clk.Now()) {
		t.Fatalf("working: %+v", st)
	}
	okSince := st.Since
	clk.Advance(10 * time.Second)
	if st := l.Status(); st.Failures != 0 {
		t.Fatalf("healthy for 10 s, still %d failures", st.Failures)
	}
	if !l.Set(OK, "4 tickets printed") || l.Status().Since != okSince {
		t.Fatalf("a new detail moved since: %+v", l.Status())
	}
	if l.Set(OK, "4 tickets printed") {
		t.Error("the same status again counted as a change")
	}
	clk.Advance(time.Second)
	lostAt := clk.Now()
	if st := next(1, 3); !st.Since.Equal(lostAt) || st.LastError != "unplugged after 11s" {
		t.Fatalf("after the healthy session: %+v", st)
	}
	// A report from the lost session is dropped.
	if l.Set(OK, "late") || l.Status().Detail == "late" {
		t.Fatalf("late report applied: %+v", l.Status())
	}
	// Short of healthy: the count goes on.
	advance()
	script <- session{d: 9 * time.Second, works: true}
	waiting(t, clk, 1)
	clk.Advance(9 * time.Second)
	next(2, 4)
	advance()

	// Stopped while a session works: the device is closed, the state says so.
	script <- session{d: -1, works: true, detail: "ok"}
	for l.Status().State != OK {
		<-l.Changes()
	}
	before := closed.Load()
	stop()
	if st := l.Status(); st.State != Fault || st.Detail != "stopped" || closed.Load() != before+1 {
		t.Fatalf("after stop: %+v, %d closes", st, closed.Load()-before)
	}
}

// Cancelled while it waits to reopen: Run returns at once, without
// opening again, and the wait is no longer announced.
func TestCancelDuringBackoff(t *testing.T) {
	clk := clockwork.NewFakeClockAt(start)
	var opens atomic.Int32
	l := New(Config[port]{
		Open: func(context.Context) (port, error) { opens.Add(1); return port{}, errors.New("refused") },
		Use:  func(context.Context, port) error { return nil },
		// The longest first wait possible: it is never waited out.
		Backoff: Backoff{Min: time.Hour, Max: time.Hour},
		Clock:   clk,
	})
	stop := run(t, l)
	waiting(t, clk, 1)
	stop()
	st := l.Status()
	if st.State != Fault || st.Detail != "stopped" || !st.RetryAt.IsZero() || st.LastError != "refused" || opens.Load() != 1 {
		t.Fatalf("after cancel: %+v, %d opens", st, opens.Load())
	}
}

// A session that returns nil while the loop runs has still lost the
// device; an open that fails because ctx ended is no failure.
func TestSessionEndsWithoutError(t *testing.T) {
	clk := clockwork.NewFakeClockAt(start)
	l := New(Config[port]{
		Open:  func(context.Context) (port, error) { return port{new(atomic.Int32)}, nil },
		Use:   func(context.Context, port) error { return nil },
		Clock: clk,
	})
	run(t, l)
	waiting(t, clk, 1)
	if st := l.Status(); st.State != Fault || st.LastError != ErrEnded.Error() || !strings.HasPrefix(st.Detail, "lost: "+ErrEnded.Error()+"; reopening in ") {
		t.Fatalf("%+v", st)
	}

	ctx, cancel := context.WithCancel(context.Background())
	l2 := New(Config[port]{
		Open: func(ctx context.Context) (port, error) { cancel(); return port{}, ctx.Err() },
		Use:  func(context.Context, port) error { return nil },
	})
	l2.Run(ctx)
	if st := l2.Status(); st.Failures != 0 || st.LastError != "" || st.Detail != "stopped" {
		t.Fatalf("open cut by ctx counted as a failure: %+v", st)
	}
}

// Changes holds one signal however many changes came.
func TestChangesCoalesce(t *testing.T) {
	l := New(Config[port]{Open: func(context.Context) (port, error) { return port{}, nil }})
	l.mu.Lock()
	l.open = true
	l.mu.Unlock()
	for i := range 5 {
		l.Set(OK, fmt.Sprint(i))
	}
	<-l.Changes()
	select {
	case <-l.Changes():
		t.Fatal("a second signal")
	default:
	}
	if l.Status().Detail != "4" {
		t.Fatalf("%+v", l.Status())
	}
}

// Restart closes an open device and opens it again at once, without the
// backoff a loss would wait; during a backoff it cuts the wait short.
func TestRestart(t *testing.T) {
	clk := clockwork.NewFakeClockAt(start)
	var closed atomic.Int32
	opens := make(chan struct{}, 10)
	fail := atomic.Bool{}
	l := New(Config[port]{
		Name: "printer",
		Open: func(ctx context.Context) (port, error) {
			if fail.Load() {
				opens <- struct{}{}
				return port{}, errors.New("no such device")
			}
			opens <- struct{}{}
			return port{&closed}, nil
		},
		Use: func(ctx context.Context, p port) error {
			<-ctx.Done()
			return ctx.Err()
		},
		Clock: clk,
	})
	if l.Restart() {
		t.Error("Restart of a loop not running reported true")
	}
	run(t, l)
	<-opens
	until(t, l, func(st Status) bool { return st.State == Starting && st.Detail == "opened" })
	if !l.Restart() {
		t.Fatal("Restart reported false")
	}
	select {
	case <-opens:
	case <-time.After(10 * time.Second):
		t.Fatal("not reopened after Restart")
	}
	if closed.Load() != 1 {
		t.Errorf("closed %d times, expected 1", closed.Load())
	}
	until(t, l, func(st Status) bool { return st.Reopens == 1 })
	if st := l.Status(); st.State == Fault || st.RetryAt != (time.Time{}) {
		t.Errorf("after a restart: %+v", st)
	}

	// A device that cannot be opened: Restart skips the backoff.
	fail.Store(true)
	l.Restart()
	<-opens // the failed open
	waiting(t, clk, 1)
	l.Restart()
	select {
	case <-opens:
	case <-time.After(10 * time.Second):
		t.Fatal("the backoff was not cut short")
	}
}

// until waits, on the loop's Changes, for its status to satisfy ok.
func until[C interface{ Close() error }](t *testing.T, l *Loop[C], ok func(Status) bool) {
	t.Helper()
	guard := time.After(10 * time.Second)
	for !ok(l.Status()) {
		select {
		case <-l.Changes():
		case <-guard:
			t.Fatalf("status %+v", l.Status())
		}
	}
}
