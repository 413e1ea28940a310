package auth

import (
	"container/list"
	"sync"
	"time"
)

// Sign-in rate limits: enough failures to mistype a password a few
// times, too few to guess one.
const (
	MaxFailures   = 5
	FailureWindow = 15 * time.Minute
	FirstLockout  = time.Minute
	MaxLockout    = 15 * time.Minute
	// MaxLimited is a good bound on a limiter's keys: its memory stays
	// small however many names or addresses an attacker tries.
	MaxLimited = 10000
)

// Limiter counts failed sign-ins per key (an account name or a client
// address) and locks a key out after MaxFailures within FailureWindow,
// for FirstLockout, doubling with each further lockout up to MaxLockout.
// It keeps at most max keys, forgetting the least recently failed. It
// reads no clock: every call says what time it is.
type Limiter struct {
	mu      sync.Mutex
	max     int
	entries map[string]*list.Element // of *attempts
	order   *list.List               // front: touched last
}

type attempts struct {
	key      string
	failures []time.Time
	lockouts int // lockouts so far, for doubling
	until    time.Time
	last     time.Time // last failure
}

// NewLimiter makes a limiter of at most max keys.
func NewLimiter(max int) *Limiter {
	return &Limiter{max: max, entries: map[string]*list.Element{}, order: list.New()}
}

// LockedFor returns how long key is still locked out, 0 when it is not.
func (l *Limiter) LockedFor(key string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.entries[key]
	if !ok {
		return 0
	}
	if d := e.Value.(*attempts).until.Sub(now); d > 0 {
		return d
	}
	return 0
}

// Fail records a failed sign-in for key and returns the lockout it
// started, 0 when none.
func (l *Limiter) Fail(key string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	el, ok := l.entries[key]
	if ok {
		l.order.MoveToFront(el)
	} else {
		if l.order.Len() >= l.max {
			oldest := l.order.Back()
			l.order.Remove(oldest)
			delete(l.entries, oldest.Value.(*attempts).key)
		}
		el = l.order.PushFront(&attempts{key: key})
		l.entries[key] = el
	}
	a := el.Value.(*attempts)
	// A key quiet for a whole window after its last lockout starts over,
	// so one bad morning does not cost 15 minutes a week later.
	if now.Sub(a.last) > FailureWindow && !now.Before(a.until) {
		a.lockouts = 0
	}
	a.last = now
	kept := a.failures[:0]
	for _, t := range a.failures {
		if now.Sub(t) < FailureWindow {
			kept = append(kept, t)
		}
	}
	a.failures = append(kept, now)
	if len(a.failures) < MaxFailures {
		return 0
	}
	a.failures = a.failures[:0]
	d := min(FirstLockout<<min(a.lockouts, 10), MaxLockout)
	a.lockouts++
	a.until = now.Add(d)
	return d
}

// Clear forgets key's failures, after a successful sign-in.
func (l *Limiter) Clear(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if el, ok := l.entries[key]; ok {
		l.order.Remove(el)
		delete(l.entries, key)
	}
}

// Len is how many keys the limiter holds.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.order.Len()
}

// Has reports whether the limiter holds key.
func (l *Limiter) Has(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, ok := l.entries[key]
	return ok
}
