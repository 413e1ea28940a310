// Package queuetest runs a real queue server on loopback for other
// packages' tests: the demo office of configs/office.yaml, its database in
// the test's temporary directory. It is the peer of link tests, not a mock.
package queuetest

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/cherga/kiosk/configs"
	"github.com/cherga/kiosk/queue"
)

// Office is a running queue server.
type Office struct {
	*httptest.Server
	Queue *queue.Queue
}

// LinkURL is the terminals' websocket address.
func (o *Office) LinkURL() string {
	return "ws" + strings.TrimPrefix(o.URL, "http") + "/api/v1/link"
}

// Start serves the demo office until the test ends.
func Start(t testing.TB) *Office {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	cfg, err := configs.LoadOffice(filepath.Join(filepath.Dir(file), "../../configs/office.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	q, err := queue.Open(filepath.Join(t.TempDir(), "queued.db"), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := queue.NewServer(q, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ts := httptest.NewServer(srv)
	t.Cleanup(func() { srv.Close(); ts.Close(); q.Close() })
	return &Office{Server: ts, Queue: q}
}
