// Package watchdog tells systemd that a daemon (kioskd, queued) is ready
// and feeds the service's watchdog (WatchdogSec=) only while a health
// check of the daemon's main loop passes. A loop that is stuck (a
// deadlocked committer, a server that no longer answers) stops the
// feeding, and systemd restarts the service after WatchdogSec.
//
// Outside systemd (no NOTIFY_SOCKET, no WATCHDOG_USEC) everything here is
// a no-op, so the daemons run the same from a shell.
package watchdog

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
	"github.com/jonboulle/clockwork"
)

// Check answers whether the daemon's main loop is healthy: nil when it
// answered. It should return when ctx ends; one that does not is treated
// as stuck until it does return, and no second check is started meanwhile.
type Check func(ctx context.Context) error

// Options are Run's optional parts.
type Options struct {
	Clock clockwork.Clock // nil: the real clock; tests pass a fake
	Log   *slog.Logger    // nil: discarded
}

// Ready tells systemd that the daemon is up (Type=notify). It reports
// whether the notification was sent: false outside systemd.
func Ready() (bool, error) {
	ok, err := daemon.SdNotify(false, daemon.SdNotifyReady)
	if err != nil {
		return false, fmt.Errorf("watchdog: notify ready: %w", err)
	}
	return ok, nil
}

// Stopping tells systemd that the daemon is shutting down.
func Stopping() {
	daemon.SdNotify(false, daemon.SdNotifyStopping)
}

// Interval is the watchdog timeout systemd set for this process, 0 when
// there is none.
func Interval() (time.Duration, error) {
	d, err := daemon.SdWatchdogEnabled(false)
	if err != nil {
		return 0, fmt.Errorf("watchdog: %w", err)
	}
	return d, nil
}

// Run feeds systemd's watchdog until ctx ends. Every half of the timeout
// it runs check, giving it half of the timeout again to answer; only a
// nil answer within that time sends WATCHDOG=1. A failed or late check
// sends a STATUS= line instead (seen in `systemctl status`) and is logged,
// so two missed periods in a row let systemd restart the service. Without
// a watchdog (WATCHDOG_USEC unset) Run returns nil at once.
func Run(ctx context.Context, check Check, opts Options) error {
	interval, err := Interval()
	if err != nil || interval == 0 {
		return err
	}
	if opts.Clock == nil {
		opts.Clock = clockwork.NewRealClock()
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	period := interval / 2
	ticker := opts.Clock.NewTicker(period)
	defer ticker.Stop()
	var (
		answer  chan error // the check in flight, nil when none
		healthy = true
	)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.Chan():
		}
		if answer == nil {
			answer = make(chan error, 1)
			go func(answer chan<- error) {
				cctx, cancel := context.WithCancel(ctx)
				defer cancel()
				answer <- check(cctx)
			}(answer)
		}
		timer := opts.Clock.NewTimer(period)
		var res error
		select {
		case res = <-answer:
			answer = nil
		case <-timer.Chan():
			res = fmt.Errorf("no answer within %s", period)
		case <-ctx.Done():
			timer.Stop()
			return nil
		}
		timer.Stop()
		if res == nil {
			msg := daemon.SdNotifyWatchdog
			if !healthy {
				msg = "STATUS=healthy\n" + msg
				opts.Log.Info("watchdog: main loop healthy again")
			}
			healthy = true
			daemon.SdNotify(false, msg)
			continue
		}
		healthy = false
		opts.Log.Error("watchdog: main loop unhealthy, not feeding systemd's watchdog", "err", res)
		daemon.SdNotify(false, "STATUS=unhealthy: "+res.Error())
	}
}
