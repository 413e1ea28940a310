package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"

	"github.com/cherga/kiosk/watchdog"
)

// loopback is where cityd reaches its own HTTP server: addr, with an
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
	return net.JoinHostPort(ip.String(), strconv.Itoa(ta.Port))
}

// healthCheck is cityd's watchdog check: its own HTTP server (https when
// useTLS; its own certificate, so not verified) answers GET /healthz at
// all. Any HTTP answer counts, 503 included: /healthz answers 503 while
// the database does not (it pings it for at most 3 s), and a database
// outage is for an alarm and for cityd's reconnecting, not for systemd
// restarting cityd in a loop. Only a server that no longer answers within
// the watchdog's period, or answers with another 5xx (a panic caught by
// httpapi.Recover), is.
func healthCheck(addr net.Addr, useTLS bool) watchdog.Check {
	scheme := "http"
	tr := &http.Transport{DisableKeepAlives: true, Proxy: nil}
	if useTLS {
		scheme = "https"
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} // our own server on loopback
	}
	url := scheme + "://" + loopback(addr) + "/healthz"
	client := &http.Client{Transport: tr}
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return fmt.Errorf("health check: %w", err)
		}
		resp, err := client.Do(req)
		if err != nil {
			return fmt.Errorf("health check: %w", err)
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		if resp.StatusCode >= 500 && resp.StatusCode != http.StatusServiceUnavailable {
			return fmt.Errorf("health check: GET /healthz: %s", resp.Status)
		}
		return nil
	}
}

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
