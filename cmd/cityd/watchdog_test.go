package main

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"
)

// serve is a loopback server answering GET /healthz with h.
func serve(t *testing.T, useTLS bool, h http.HandlerFunc) net.Addr {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", h)
	var srv *httptest.Server
	if useTLS {
		srv = httptest.NewTLSServer(mux)
	} else {
		srv = httptest.NewServer(mux)
	}
	t.Cleanup(srv.Close)
	return srv.Listener.Addr()
}

func status(code int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(code) }
}

// The watchdog asks whether cityd's own server answers, not whether the
// database does: /healthz's 503 (database down) feeds it, a server that
// answers nothing or fails otherwise does not.
func TestHealthCheck(t *testing.T) {
	for _, c := range []struct {
		name    string
		tls     bool
		code    int
		healthy bool
	}{
		{"ok", false, http.StatusOK, true},
		{"database down", false, http.StatusServiceUnavailable, true},
		{"tls", true, http.StatusOK, true},
		{"tls database down", true, http.StatusServiceUnavailable, true},
		{"panic", false, http.StatusInternalServerError, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := healthCheck(serve(t, c.tls, status(c.code)), c.tls)(t.Context())
			if (err == nil) != c.healthy {
				t.Errorf("GET /healthz %d: check %v, want healthy %v", c.code, err, c.healthy)
			}
		})
	}

	// A server that accepts but never answers: the check gives up when
	// watchdog.Run's period (here: ctx) ends.
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	addr := serve(t, false, func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-release
	})
	defer close(release)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- healthCheck(addr, false)(ctx) }()
	<-entered
	cancel()
	select {
	case err := <-done:
		if err == nil {
			t.Error("a server that does not answer passed the check")
		}
	case <-time.After(20 * time.Second): // guard only
		t.Fatal("the check did not end with its context")
	}

	// Nothing listening at all.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gone := ln.Addr()
	ln.Close()
	if err := healthCheck(gone, false)(t.Context()); err == nil {
		t.Error("a closed port passed the check")
	}
}

func TestLoopback(t *testing.T) {
	for _, c := range []struct {
		addr net.Addr
		want string
	}{
		{&net.TCPAddr{IP: net.IPv4zero, Port: 8095}, "127.0.0.1:8095"},
		{&net.TCPAddr{IP: net.IPv6unspecified, Port: 443}, "[::1]:443"},
		{&net.TCPAddr{Port: 80}, "127.0.0.1:80"},
		{&net.TCPAddr{IP: net.IPv4(10, 0, 0, 5), Port: 8095}, "10.0.0.5:8095"},
	} {
		if got := loopback(c.addr); got != c.want {
			t.Errorf("loopback(%v) = %s, want %s", c.addr, got, c.want)
		}
	}
}

// Under systemd without a watchdog (no WATCHDOG_USEC), cityd says READY=1
// and superviseSystemd returns.
func TestSuperviseSystemdReady(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	t.Setenv("NOTIFY_SOCKET", path)
	t.Setenv("WATCHDOG_USEC", "")
	superviseSystemd(t.Context(), serve(t, false, status(http.StatusOK)), false, slog.New(slog.DiscardHandler))
	conn.SetReadDeadline(time.Now().Add(20 * time.Second)) // guard only
	b := make([]byte, 256)
	n, err := conn.Read(b)
	if err != nil || string(b[:n]) != "READY=1" {
		t.Errorf("notification %q, %v; want READY=1", b[:n], err)
	}
}
