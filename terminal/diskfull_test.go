package terminal

import (
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/cherga/kiosk/httpapi"
	"github.com/cherga/kiosk/link/linktest"
	"github.com/cherga/kiosk/queue/queuetest"
)

// With the data directory on a real file system that fills up, a ticket
// is refused with 507 disk_full (not a bare 500), /healthz and the metrics
// raise the disk_full alarm naming the directory and its free bytes, and
// the page's status says so; once space is freed the alarm clears by
// itself (the terminal's probe, on its clock) and tickets are issued again.
func TestDiskFullAlarm(t *testing.T) {
	data, ok := linktest.TinyFS(t, 8<<20)
	if !ok {
		return
	}
	clock := clockwork.NewFakeClockAt(time.Now())
	office := queuetest.Start(t, clock)
	r := startTerminalHTTP(t, clock, office, httpapi.Timeouts{}, "data_dir: "+data)
	base := "http://" + r.addr
	take := func() (int, string) {
		code, body, _ := request(t, "POST", base+"/api/v1/tickets", `{"service":"pension-age"}`,
			map[string]string{"Origin": base, "Content-Type": "application/json"})
		return code, body
	}
	get := func(path string) string {
		at := base
		if path == "/metrics" {
			at = "http://" + r.admin
		}
		code, body, _ := request(t, "GET", at+path, "", nil)
		if code != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, code, body)
		}
		return body
	}
	if code, body := take(); code != http.StatusCreated {
		t.Fatalf("a ticket with room: %d %s", code, body)
	}

	// With queued away the kiosk numbers tickets itself and keeps every
	// one in its outbox (a drained outbox would reuse its file's free
	// pages for ever and never need more disk): the file has room inside
	// for a few more tickets; then it must grow, and cannot.
	office.Stop()
	eventually(t, "the link down", func() bool { return r.term.link.Status().State != "up" })
	filler := linktest.Fill(t, data)
	code, body := take()
	taken := 0
	for ; code == http.StatusCreated && taken < 5000; taken++ {
		code, body = take()
	}
	if code != http.StatusInsufficientStorage || errCode(body) != "disk_full" {
		t.Fatalf("a ticket on a full disk, after %d more: %d %s, want 507 disk_full", taken, code, body)
	}
	t.Logf("disk full after %d more tickets: %s", taken, body)
	h := get("/healthz")
	if !strings.Contains(h, `"status": "degraded"`) || !strings.Contains(h, "disk_full: the disk of data_dir "+data) ||
		!strings.Contains(h, "(0 bytes free)") {
		t.Errorf("/healthz on a full disk:\n%s", h)
	}
	if m := get("/metrics"); !strings.Contains(m, "\ncherga_kioskd_disk_full 1\n") {
		t.Errorf("metrics on a full disk: no cherga_kioskd_disk_full 1")
	}
	if s := get("/api/v1/services"); !strings.Contains(s, `"disk_full":true`) {
		t.Errorf("the page's status on a full disk: %s", s)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	clock.Advance(diskProbeEvery) // the probe, with no ticket asked for
	eventually(t, "the alarm cleared once there is room", func() bool { return !r.term.store.DiskFull() })
	if h := get("/healthz"); strings.Contains(h, "disk_full") {
		t.Errorf("/healthz with room again:\n%s", h)
	}
	if m := get("/metrics"); !strings.Contains(m, "\ncherga_kioskd_disk_full 0\n") {
		t.Errorf("metrics with room again: no cherga_kioskd_disk_full 0")
	}
	if code, body := take(); code != http.StatusCreated {
		t.Fatalf("a ticket with room again: %d %s", code, body)
	}
}
