package access

import (
	"time"

	"github.com/cherga/kiosk/httpapi/auth"
)

// Sign-in rate limits (package auth, shared with kioskd's admin listener).
const (
	maxFailures   = auth.MaxFailures
	failureWindow = auth.FailureWindow
	maxLockout    = auth.MaxLockout
	maxLimited    = auth.MaxLimited
)

// limiter counts failed sign-ins per key (an account name or an address);
// see auth.Limiter.
type limiter struct{ l *auth.Limiter }

func newLimiter(max int) *limiter { return &limiter{auth.NewLimiter(max)} }

func (l *limiter) lockedFor(key string, now time.Time) time.Duration { return l.l.LockedFor(key, now) }
func (l *limiter) fail(key string, now time.Time) time.Duration      { return l.l.Fail(key, now) }
func (l *limiter) clear(key string)                                  { l.l.Clear(key) }
func (l *limiter) len() int                                          { return l.l.Len() }
func (l *limiter) has(key string) bool                               { return l.l.Has(key) }
