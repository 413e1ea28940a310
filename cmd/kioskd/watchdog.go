package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"

	"github.com/cherga/kiosk/watchdog"
)

// loopback is where kioskd reaches its own HTTP server.
func loopback(addr net.Addr) string { return watchdog.Loopback(addr) }

// healthCheck is kioskd's watchdog check: its HTTP server, through which
// every page, API and the technician's tool reach the terminal, answers
// GET /healthz (which reads the link, the outbox and every device), and
// committer answers (terminal.Terminal.Ping: the committer of kioskd.db,
// through which every change goes, takes a ping; nil: not asked). Any HTTP answer
// counts: a degraded device is a reason for an alarm, not for a restart;
// no answer within the watchdog's period, from either, is.
func healthCheck(addr net.Addr, committer watchdog.Check) watchdog.Check {
	server := watchdog.Healthz(addr, false)
	return func(ctx context.Context) error {
		if err := server(ctx); err != nil {
			return err
		}
		if committer == nil {
			return nil
		}
		if err := committer(ctx); err != nil {
			return fmt.Errorf("health check: %w", err)
		}
		return nil
	}
}

// superviseSystemd tells systemd kioskd is ready once its server and its
// committer answer, then feeds the watchdog while they keep answering,
// until ctx ends.
func superviseSystemd(ctx context.Context, addr net.Addr, committer watchdog.Check, log *slog.Logger) {
	check := healthCheck(addr, committer)
	if err := check(ctx); err != nil {
		if ctx.Err() == nil {
			log.Error("kioskd does not answer its own health check; not ready", "err", err)
		}
		return
	}
	if _, err := watchdog.Ready(); err != nil {
		log.Warn("systemd", "err", err)
	}
	if err := watchdog.Run(ctx, check, watchdog.Options{Log: log}); err != nil {
		log.Warn("systemd watchdog", "err", err)
	}
}
