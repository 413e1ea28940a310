package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"testing"
)

func TestLoopback(t *testing.T) {
	for in, want := range map[string]string{
		"0.0.0.0:8080": "127.0.0.1:8080", "[::]:8080": "[::1]:8080",
		"127.0.0.1:8080": "127.0.0.1:8080", "192.168.1.5:80": "192.168.1.5:80",
	} {
		a, err := net.ResolveTCPAddr("tcp", in)
		if err != nil {
			t.Fatal(err)
		}
		if got := loopback(a); got != want {
			t.Errorf("loopback(%s) = %s, want %s", in, got, want)
		}
	}
}

// The health check passes while the server answers /healthz and fails
// once nothing serves the address.
func TestHealthCheck(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("{}")) })
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	check := healthCheck(ln.Addr(), nil)
	if err := check(t.Context()); err != nil {
		t.Fatalf("serving: %v", err)
	}
	srv.Close()
	if err := check(t.Context()); err == nil {
		t.Fatal("the check passed with nothing serving")
	}
}

// A server that answers with a committer that does not fails the check.
func TestHealthCheckCommitter(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("{}")) })
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	defer srv.Close()
	stuck := errors.New("link: ping: the committer did not answer")
	check := healthCheck(ln.Addr(), func(context.Context) error { return stuck })
	if err := check(t.Context()); !errors.Is(err, stuck) {
		t.Fatalf("stuck committer: got %v", err)
	}
	check = healthCheck(ln.Addr(), func(context.Context) error { return nil })
	if err := check(t.Context()); err != nil {
		t.Fatalf("committer answering: %v", err)
	}
}
