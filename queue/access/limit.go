package access

import (
	"container/list"
	"sync"
	"time"
)

// Sign-in rate limits: enough failures to mistype a password a few
// times, too few to guess one.
const (
	maxFailures   = 5
	failureWindow = 15 * time.Minute
	firstLockout  = time.Minute
	maxLockout    = 15 * time.Minute
	// maxLimited bounds each limiter's memory however many names or
	// addresses an attacker tries.
	maxLimited = 10000
)

// limiter counts failed sign-ins per key (an account name or an address)
// and locks a key out after maxFailures within failureWindow, for
// firstLockout, doubling with each further lockout up to maxLockout.
type limiter struct {
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

func newLimiter(max int) *limiter {
	return &limiter{max: max, entries: map[string]*list.Element{}, order: list.New()}
}

// lockedFor returns how long key is still locked out, 0 when it is not.
func (l *limiter) lockedFor(key string, now time.Time) time.Duration {
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

// fail records a failed sign-in for key and returns the lockout it
// started, 0 when none.
func (l *limiter) fail(key string, now time.Time) time.Duration {
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
	if now.Sub(a.last) > failureWindow && !now.Before(a.until) {
		a.lockouts = 0
	}
	a.last = now
	kept := a.failures[:0]
	for _, t := range a.failures {
		if now.Sub(t) < failureWindow {
			kept = append(kept, t)
		}
	}
	a.failures = append(kept, now)
	if len(a.failures) < maxFailures {
		return 0
	}
	a.failures = a.failures[:0]
	d := firstLockout << min(a.lockouts, 10)
	if d > maxLockout {
		d = maxLockout
	}
	a.lockouts++
	a.until = now.Add(d)
	return d
}

// clear forgets key's failures, after a successful sign-in.
func (l *limiter) clear(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if el, ok := l.entries[key]; ok {
		l.order.Remove(el)
		delete(l.entries, key)
	}
}

func (l *limiter) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.order.Len()
}
