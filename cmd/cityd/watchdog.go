package main

import (
	"context"
	"log/slog"
	"net"

	"github.com/cherga/kiosk/watchdog"
)

// loopback is where cityd reaches its own HTTP server.
func loopback(addr net.Addr) string { return watchdog.Loopback(addr) }

// healthCheck is cityd's watchdog check: its own HTTP server answers GET
// /healthz at all (watchdog.Healthz). /healthz answers 503 while the
// database does not (it pings it for at most 3 s): that still counts, as a
// database outage is for an alarm and for cityd's reconnecting, not for
// systemd restarting cityd in a loop.
func healthCheck(addr net.Addr, useTLS bool) watchdog.Check { return watchdog.Healthz(addr, useTLS) }

// superviseSystemd tells systemd cityd is ready (it listens, its database
// migrated), then feeds the watchdog while its server keeps answering,
// until ctx ends. Outside systemd it does nothing.
func superviseSystemd(ctx context.Context, addr net.Addr, useTLS bool, log *slog.Logger) {
	if _, err := watchdog.Ready(); err != nil {
		log.Warn("systemd", "err", err)
	}
	if err := watchdog.Run(ctx, healthCheck(addr, useTLS), watchdog.Options{Log: log}); err != nil {
		log.Warn("systemd watchdog", "err", err)
	}
}
