package terminal

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/cherga/kiosk/configs"
	"github.com/cherga/kiosk/httpapi"
	"github.com/cherga/kiosk/queue/queuetest"
)

// Many idle connections — keep-alive ones after a request and ones that
// never sent one — are closed by kioskd once the idle (or header) timeout
// passes, while a page's websocket stays open.
func TestIdleConnectionsClosed(t *testing.T) {
	clock := clockwork.NewFakeClockAt(time.Now())
	r := startTerminalHTTP(t, clock, queuetest.Start(t, clock),
		httpapi.Timeouts{ReadHeader: 100 * time.Millisecond, Idle: 100 * time.Millisecond}, "http.max_connections: 1000")
	c := dialPage(t, r.addr, "/hall/ws")
	var snapshot map[string]any
	_ = c.SetReadDeadline(time.Now().Add(guard))
	if err := c.ReadJSON(&snapshot); err != nil {
		t.Fatalf("hall websocket: %v", err)
	}
	waitIdleClosed(t, r.addr, 200)
}

// waitIdleClosed opens n connections to addr, half of them after one
// GET /healthz on keep-alive, and waits for the server to close each
// (its read returning EOF), bounded by guard.
func waitIdleClosed(t *testing.T, addr string, n int) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		wg.Go(func() {
			_ = conn.SetDeadline(time.Now().Add(guard))
			br := bufio.NewReader(conn)
			if i%2 == 0 {
				if _, err := io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: "+addr+"\r\n\r\n"); err != nil {
					errs <- err
					return
				}
				resp, err := http.ReadResponse(br, nil)
				if err != nil {
					errs <- err
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.Close {
					errs <- errors.New("the server did not keep the connection alive")
					return
				}
			}
			if _, err := br.ReadByte(); !errors.Is(err, io.EOF) {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("idle connection not closed by the server: %v", err)
	}
}

// A token file the group or others may read is refused with the chmod
// that fixes it.
func TestTokenFileMustBePrivate(t *testing.T) {
	f := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(f, []byte("tok\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(f, 0o644); err != nil { // past the umask
		t.Fatal(err)
	}
	var c configs.Terminal
	c.Server.TokenFile = f
	_, err := credentials(&c)
	if err == nil || !strings.Contains(err.Error(), "chmod 600 "+f) || !strings.Contains(err.Error(), "server.token_file") {
		t.Fatalf("mode 0644: %v, want a refusal naming chmod 600", err)
	}
	if err := os.Chmod(f, 0o600); err != nil {
		t.Fatal(err)
	}
	lc, err := credentials(&c)
	if err != nil || lc.Token != "tok" {
		t.Fatalf("mode 0600: %q, %v", lc.Token, err)
	}
}
