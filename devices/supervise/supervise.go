// Package supervise keeps a device that comes and goes in use. One loop
// serves every such device of a terminal (the printer, the scanners, the
// LED boards, the link to the queue server, and next the RS-485 bus):
//
//	open ──► use (a session, until it fails) ──► back off ──► open again
//	  │                                            ▲
//	  └──────────── open failed ──────────────────┘
//
// and says at every moment how the device is: its State, a Detail for a
// technician, the last error, since when the state holds, how often the
// device was reopened, and when the next open is due.
//
// A user gives three things: Open, which opens the device (a serial port,
// a socket, a websocket) and returns it; Use, which works with the opened
// device until it fails or ctx ends, reporting what it learns with
// Loop.Set (the loop itself never says a device works: only its session
// knows); and Describe, which words the states the loop enters by itself
// (opening, cannot open, lost, stopped). The waits are capped exponential
// backoff with full jitter, so a room of kiosks does not redial a server
// in step, and the count behind them resets only after a session stayed
// healthy for Backoff.HealthyAfter, so a device that opens and fails at
// once is not hammered. All waiting is on the injected clock: tests
// advance a clockwork.FakeClock instead of sleeping.
//
// A new user, such as the firmware bus, looks like this:
//
//	loop := supervise.New(supervise.Config[serial.Port]{
//		Name:    "bus",
//		Open:    func(ctx context.Context) (serial.Port, error) { return serial.Open(path, mode) },
//		Use:     func(ctx context.Context, p serial.Port) error { return bus.poll(ctx, p, loop) },
//		Backoff: supervise.Backoff{Min: 250 * time.Millisecond, Max: 10 * time.Second},
//		Clock:   clock,
//	})
//	go loop.Run(ctx)
//
// and its Status goes into devices.Status for /healthz.
//
// The package must never know what a device is for, and never sleep on
// real time behind the clock's back.
package supervise

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
)

// State is a device's health in one word.
type State string

const (
	// Starting: not yet known to work. The device is being opened for the
	// first time, or it is open and its session has not yet said it works.
	Starting State = "starting"
	OK       State = "ok"      // working
	Warning  State = "warning" // working, but needs a technician soon
	Fault    State = "fault"   // cannot do its job now
)

// Status is the device as the loop knows it.
type Status struct {
	State  State
	Detail string
	// LastError is the latest error of an open or a session. It stays
	// after the device recovers: a technician wants to know what it was.
	LastError string
	// Since is when State began; a change of Detail alone does not move it.
	Since time.Time
	// Reopens counts the opens after the first one that succeeded.
	Reopens int
	// Failures counts failed opens and sessions since the last healthy
	// session: the n of the wait now under way. A session that has been
	// healthy for Backoff.HealthyAfter shows 0.
	Failures int
	// RetryAt is when the next open is due, while the loop waits for it;
	// zero otherwise.
	RetryAt time.Time
}

// Backoff is capped exponential backoff with full jitter: the n-th wait
// (n from 1) is uniformly random up to min(Max, Min·2ⁿ). Only a session
// that stayed up for HealthyAfter resets n. Zero fields take the
// defaults, which are the link's documented ones.
type Backoff struct {
	Min          time.Duration // default 0.5 s: the first wait is up to 1 s
	Max          time.Duration // default 30 s
	HealthyAfter time.Duration // default 30 s
}

func (b Backoff) withDefaults() Backoff {
	if b.Min <= 0 {
		b.Min = 500 * time.Millisecond
	}
	if b.Max <= 0 {
		b.Max = 30 * time.Second
	}
	if b.HealthyAfter <= 0 {
		b.HealthyAfter = 30 * time.Second
	}
	return b
}

// Ceiling is the longest the n-th wait can be: min(Max, Min·2ⁿ).
func (b Backoff) Ceiling(n int) time.Duration {
	b = b.withDefaults()
	c := b.Min
	for i := 0; i < max(n, 1) && c < b.Max; i++ {
		c *= 2
	}
	return min(c, b.Max)
}

// Wait is the n-th wait: random in (0, Ceiling(n)].
func (b Backoff) Wait(n int) time.Duration {
	return time.Duration(rand.Int64N(int64(b.Ceiling(n)))) + 1
}

// Event is a state the loop enters by itself; Describe words it.
type Event int

const (
	Opening    Event = iota // before the first open
	OpenFailed              // the open failed: err, and the wait before the next
	Opened                  // opened; the session has not said anything yet
	Lost                    // the session ended: err, and the wait before the next open
	Stopped                 // ctx ended; the loop is over
)

func (e Event) String() string {
	switch e {
	case Opening:
		return "opening"
	case OpenFailed:
		return "cannot open"
	case Opened:
		return "opened"
	case Lost:
		return "lost"
	case Stopped:
		return "stopped"
	}
	return fmt.Sprintf("event(%d)", int(e))
}

// ErrEnded is the loss of a session that returned nil while the loop was
// still running.
var ErrEnded = errors.New("supervise: session ended")

// Config is one supervised device.
type Config[C io.Closer] struct {
	// Name names the device in the log: "printer", "scanner", "board hall".
	Name string
	// Open opens the device. It should give up when ctx ends.
	Open func(ctx context.Context) (C, error)
	// Use works with the opened device until it fails (its error) or ctx
	// ends (then it returns soon, with anything). The loop closes c after
	// Use returns; a Use blocked in a read that ctx cannot reach closes c
	// itself when ctx ends (context.AfterFunc).
	Use func(ctx context.Context, c C) error
	// Describe words the detail of the states the loop enters by itself;
	// err is the failure for OpenFailed and Lost, retry the wait before
	// the next open. Nil: short English defaults ("cannot open: …; retrying
	// in 1.2s"). It is never called with the loop's lock held, so it may
	// look at its device's own state.
	Describe func(ev Event, err error, retry time.Duration) string
	Backoff  Backoff
	// Clock is what the loop waits on; nil: the real clock.
	Clock clockwork.Clock
	// Log gets one line per open, failure and loss; nil: discarded.
	Log *slog.Logger
}

// Loop supervises one device. Run it once; read its Status from anywhere.
type Loop[C io.Closer] struct {
	cfg     Config[C]
	changes chan struct{}

	mu       sync.Mutex
	st       Status
	open     bool      // a session is running
	openedAt time.Time // when it began
	opens    int
	running  bool               // Run is under way
	endUse   context.CancelFunc // ends the session running; nil between sessions
	restart  chan struct{}      // Restart: cut the backoff short (one signal)
	restarts bool               // Restart asked for the session running to end
}

// New makes the loop of one device; Run starts it. Until then its state is
// Starting, with the Opening detail.
func New[C io.Closer](cfg Config[C]) *Loop[C] {
	if cfg.Clock == nil {
		cfg.Clock = clockwork.NewRealClock()
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Describe == nil {
		cfg.Describe = describe
	}
	cfg.Backoff = cfg.Backoff.withDefaults()
	l := &Loop[C]{cfg: cfg, changes: make(chan struct{}, 1), restart: make(chan struct{}, 1)}
	l.st = Status{State: Starting, Detail: cfg.Describe(Opening, nil, 0), Since: cfg.Clock.Now()}
	return l
}

func describe(ev Event, err error, retry time.Duration) string {
	switch ev {
	case OpenFailed:
		return fmt.Sprintf("cannot open: %v; retrying in %s", err, retry.Round(time.Millisecond))
	case Lost:
		return fmt.Sprintf("lost: %v; reopening in %s", err, retry.Round(time.Millisecond))
	}
	return ev.String()
}

// Status is the device now.
func (l *Loop[C]) Status() Status {
	l.mu.Lock()
	defer l.mu.Unlock()
	st := l.st
	if l.open && l.cfg.Clock.Since(l.openedAt) >= l.cfg.Backoff.HealthyAfter {
		st.Failures = 0
	}
	return st
}

// Changes signals after the status changed. It holds one signal: a
// reader that was away reads Status once for all it missed.
func (l *Loop[C]) Changes() <-chan struct{} { return l.changes }

// Set is the session saying how the device is. It applies only while a
// session is running (a report that comes late, after the device was
// lost, is dropped) and reports whether anything changed.
func (l *Loop[C]) Set(state State, detail string) bool {
	l.mu.Lock()
	if !l.open || (l.st.State == state && l.st.Detail == detail) {
		l.mu.Unlock()
		return false
	}
	l.setLocked(state, detail)
	l.mu.Unlock()
	l.notify()
	return true
}

func (l *Loop[C]) setLocked(state State, detail string) {
	if l.st.State != state {
		l.st.Since = l.cfg.Clock.Now()
	}
	l.st.State, l.st.Detail = state, detail
}

func (l *Loop[C]) notify() {
	select {
	case l.changes <- struct{}{}:
	default:
	}
}

// Restart closes the device and opens it again at once, as a technician
// who unplugs and replugs it would: a session running is ended (its ctx
// cancelled; the loop closes the device) and the device reopened without
// a backoff wait; a wait for the next open under way is cut short. The
// reopen counts in Reopens like any other. It reports false when the loop
// is not running.
func (l *Loop[C]) Restart() bool {
	l.mu.Lock()
	if !l.running {
		l.mu.Unlock()
		return false
	}
	end := l.endUse
	if end != nil {
		l.restarts = true
	}
	l.mu.Unlock()
	l.cfg.Log.Info("device restart asked for", "device", l.cfg.Name)
	if end != nil {
		end()
	} else {
		select {
		case l.restart <- struct{}{}:
		default:
		}
	}
	return true
}

// Run opens, uses and reopens the device until ctx ends, then leaves the
// state Fault with the Stopped detail. It returns only then.
func (l *Loop[C]) Run(ctx context.Context) {
	l.mu.Lock()
	l.running = true
	l.mu.Unlock()
	defer l.stopped()
	for ctx.Err() == nil {
		c, err := l.cfg.Open(ctx)
		if ctx.Err() != nil {
			if err == nil {
				c.Close()
			}
			return
		}
		if err != nil {
			if !l.fail(ctx, OpenFailed, err, time.Time{}) {
				return
			}
			continue
		}
		useCtx, endUse := context.WithCancel(ctx)
		began := l.opened(endUse)
		err = l.cfg.Use(useCtx, c)
		endUse()
		c.Close()
		l.mu.Lock()
		l.open, l.endUse = false, nil
		restarted := l.restarts
		l.restarts = false
		l.mu.Unlock()
		if ctx.Err() != nil {
			return
		}
		if restarted {
			l.cfg.Log.Info("device closed for a restart", "device", l.cfg.Name)
			continue
		}
		if err == nil {
			err = ErrEnded
		}
		if !l.fail(ctx, Lost, err, began) {
			return
		}
	}
}

// opened records a new session, which endUse ends, and returns when it
// began.
func (l *Loop[C]) opened(endUse context.CancelFunc) time.Time {
	detail := l.cfg.Describe(Opened, nil, 0)
	l.mu.Lock()
	now := l.cfg.Clock.Now()
	l.open, l.openedAt, l.endUse = true, now, endUse
	select { // a Restart asked for between sessions is this open
	case <-l.restart:
	default:
	}
	l.opens++
	l.st.Reopens = l.opens - 1
	l.setLocked(Starting, detail)
	l.mu.Unlock()
	l.notify()
	l.cfg.Log.Info("device opened", "device", l.cfg.Name, "reopens", l.opens-1)
	return now
}

// fail records a failed open (began zero) or a lost session, then waits
// the backoff. It reports false if ctx ended first.
func (l *Loop[C]) fail(ctx context.Context, ev Event, err error, began time.Time) bool {
	l.mu.Lock()
	now := l.cfg.Clock.Now()
	if !began.IsZero() && now.Sub(began) >= l.cfg.Backoff.HealthyAfter {
		l.st.Failures = 0
	}
	l.st.Failures++
	n := l.st.Failures
	l.mu.Unlock()
	wait := l.cfg.Backoff.Wait(n)
	detail := l.cfg.Describe(ev, err, wait)
	l.mu.Lock()
	l.setLocked(Fault, detail)
	l.st.LastError = err.Error()
	l.st.RetryAt = now.Add(wait)
	l.mu.Unlock()
	l.notify()
	msg := "device cannot be opened"
	if ev == Lost {
		msg = "device lost"
	}
	l.cfg.Log.Warn(msg, "device", l.cfg.Name, "err", err, "retry_in", wait.Round(time.Millisecond), "failures", n)

	t := l.cfg.Clock.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.Chan():
	case <-l.restart:
	}
	l.mu.Lock()
	l.st.RetryAt = time.Time{}
	l.mu.Unlock()
	return true
}

func (l *Loop[C]) stopped() {
	detail := l.cfg.Describe(Stopped, nil, 0)
	l.mu.Lock()
	l.open, l.running = false, false
	l.st.RetryAt = time.Time{}
	l.setLocked(Fault, detail)
	l.mu.Unlock()
	l.notify()
}
