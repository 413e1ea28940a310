package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"

	"github.com/cherga/kiosk/watchdog"
)

// loopback is where kioskd reaches its own HTTP server: addr, with an
// unspecified address (0.0.0.0, ::) replaced by the loopback one.
func loopback(addr net.Addr) string {
	ta, ok := addr.(*net.TCPAddr)
	if !ok {
		return addr.String()
	}
	ip := ta.IP
	switch {
	case ip == nil || ip.Equal(net.IPv4zero):
		ip = net.IPv4(127, 0, 0, 1)
	case ip.Equal(net.IPv6unspecified):
		ip = net.IPv6loopback
	}
	return net.JoinHostPort(ip.String(), fmt.Sprint(ta.Port))
}

// healthCheck is kioskd's watchdog check: its HTTP server, through which
// every page, API and the technician's tool reach the terminal, answers
// GET /healthz (which reads the link, the outbox and every device), and
// committer answers (terminal.Terminal.Ping: the committer of kioskd.db,
// through which every change goes, takes a ping; nil: not asked). Any HTTP answer
// counts: a degraded device is a reason for an alarm, not for a restart;
// no answer within the watchdog's period, from either, is.
func healthCheck(addr net.Addr, committer watchdog.Check) watchdog.Check {
	url := "http://" + loopback(addr) + "/healthz"
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil}}
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return fmt.Errorf("health check: %w", err)
		}
		resp, err := client.Do(req)
		if err != nil {
			return fmt.Errorf("health check: %w", err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 500 && resp.StatusCode != http.StatusServiceUnavailable {
			return fmt.Errorf("health check: GET /healthz: %s", resp.Status)
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
