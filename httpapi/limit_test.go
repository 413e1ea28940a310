package httpapi_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cherga/kiosk/httpapi"
)

const guard = 10 * time.Second

// get sends one GET on conn (kept alive) and returns the answer's status
// and body.
func get(t *testing.T, conn net.Conn, br *bufio.Reader) (int, string) {
	t.Helper()
	_ = conn.SetDeadline(time.Now().Add(guard))
	if _, err := io.WriteString(conn, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp.StatusCode, string(b)
}

// Connections beyond the limit are answered 503 at once and counted, while
// those within it go on being served; a slot freed is taken by the next.
func TestLimit(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var refused atomic.Int64
	lim := httpapi.Limit(ln, 3, func() { refused.Add(1) })
	srv := httpapi.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") }), nil, httpapi.Timeouts{})
	go srv.Serve(lim)
	t.Cleanup(func() { srv.Close() })
	addr := ln.Addr().String()

	type client struct {
		conn net.Conn
		br   *bufio.Reader
	}
	dial := func() client {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return client{c, bufio.NewReader(c)}
	}
	var held []client
	for range 3 {
		c := dial()
		if code, _ := get(t, c.conn, c.br); code != http.StatusOK {
			t.Fatalf("within the limit: %d", code)
		}
		held = append(held, c)
	}
	for i := range 5 {
		c := dial()
		code, body := get(t, c.conn, c.br)
		if code != http.StatusServiceUnavailable || !strings.Contains(body, `"code":"too_many_connections"`) {
			t.Fatalf("over the limit (%d): %d %s", i, code, body)
		}
		if _, err := c.br.ReadByte(); !errors.Is(err, io.EOF) {
			t.Fatalf("refused connection not closed: %v", err)
		}
	}
	if refused.Load() != 5 || lim.Refused() != 5 || lim.Open() != 3 {
		t.Errorf("refused %d (%d), open %d", refused.Load(), lim.Refused(), lim.Open())
	}
	// The ones held are still served.
	for _, c := range held {
		if code, _ := get(t, c.conn, c.br); code != http.StatusOK {
			t.Fatalf("a held connection: %d", code)
		}
	}
	held[0].conn.Close()
	deadline := time.Now().Add(guard)
	for lim.Open() != 2 { // the server notices the close on its next read
		if time.Now().After(deadline) {
			t.Fatalf("open %d after a close", lim.Open())
		}
		time.Sleep(time.Millisecond)
	}
	c := dial()
	if code, _ := get(t, c.conn, c.br); code != http.StatusOK {
		t.Fatalf("a freed slot: %d", code)
	}
}

// Silent (a TLS listener): a refused connection is closed without a word.
func TestLimitSilent(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lim := httpapi.Limit(ln, 1, nil)
	lim.Silent = true
	defer lim.Close()
	first, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	accepted := make(chan net.Conn, 2)
	go func() {
		for {
			c, err := lim.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	<-accepted
	second, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	_ = second.SetDeadline(time.Now().Add(guard))
	if n, err := second.Read(make([]byte, 1)); n != 0 || err == nil {
		t.Fatalf("refused, silent: %d %v", n, err)
	}
	if lim.Refused() != 1 {
		t.Errorf("refused %d", lim.Refused())
	}
}
