package watchdog

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
)

// Loopback is where a daemon reaches its own server listening on addr:
// addr, with an unspecified address (0.0.0.0, ::) replaced by the
// loopback one.
func Loopback(addr net.Addr) string {
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

// Healthz is a Check that a daemon's own HTTP server, listening on addr,
// answers GET /healthz (https when useTLS: its own certificate on
// loopback, so not verified). Any answer counts, 503 included: a degraded
// device or a database that is down is a reason for an alarm, not for
// systemd restarting the daemon in a loop. No answer within the check's
// time, or another 5xx (a panic caught by httpapi.Recover), fails.
func Healthz(addr net.Addr, useTLS bool) Check {
	scheme := "http"
	tr := &http.Transport{DisableKeepAlives: true, Proxy: nil}
	if useTLS {
		scheme = "https"
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} // the daemon's own server on loopback
	}
	url := scheme + "://" + Loopback(addr) + "/healthz"
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
