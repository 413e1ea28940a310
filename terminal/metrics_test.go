package terminal

import (
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/cherga/kiosk/httpapi/apitest"
	"github.com/cherga/kiosk/queue/queuetest"
)

// A whole terminal's /metrics after a ticket printed and a call shown and
// announced: the counts, the histograms, the devices, link and outbox read
// at scrape time, and promtool's lint.
func TestMetrics(t *testing.T) {
	clock := clockwork.NewFakeClockAt(time.Now())
	office := queuetest.Start(t, clock)
	r := startTerminal(t, clock, office)
	origin := "http://" + r.addr

	req, _ := http.NewRequest("POST", origin+"/api/v1/tickets", strings.NewReader(`{"service":"pension-age"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", origin)
	var tk struct {
		Number  string `json:"number"`
		Printed bool   `json:"printed"`
	}
	send(t, req, http.StatusCreated, &tk)
	if !tk.Printed {
		t.Fatalf("ticket %+v", tk)
	}
	send(t, office.Request("POST", "/api/v1/windows/3/next", ""), http.StatusOK, nil)
	r.waitServer(t, "call shown and announced", func() bool {
		log, err := office.Queue.CallLog(office.Queue.Today())
		if err != nil {
			t.Fatal(err)
		}
		return len(log) == 1 && slices.Equal(log[0].ShownBy, []string{"demo-01"}) && slices.Equal(log[0].AnnouncedBy, []string{"demo-01"})
	})

	resp, err := http.Get("http://" + r.admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s %s", resp.Status, b)
	}
	text := string(b)
	for _, want := range []string{
		`cherga_kioskd_tickets_issued_total{mode="online"} 1` + "\n",
		`cherga_kioskd_tickets_issued_total{mode="offline"} 0` + "\n",
		`cherga_kioskd_checkins_total{mode="online"} 0` + "\n",
		"cherga_kioskd_calls_shown_total 1\n",
		"cherga_kioskd_calls_announced_total 1\n",
		"cherga_kioskd_print_duration_seconds_count 1\n",
		"cherga_kioskd_announce_latency_seconds_count 1\n",
		"cherga_kioskd_link_up 1\n",
		"cherga_kioskd_link_reconnects_total 0\n",
		`cherga_kioskd_device_state{device="printer",driver="sim",kind="printer",state="ok"} 1` + "\n",
		`cherga_kioskd_device_state{device="printer",driver="sim",kind="printer",state="fault"} 0` + "\n",
		"cherga_kioskd_outbox_events ",
		"cherga_kioskd_outbox_oldest_event_age_seconds ",
		"cherga_kioskd_printer_paper_used_meters 0.", // one ticket; demo.yaml has no roll_m, so no paper_left
		`cherga_kioskd_build_info{device="demo-01",version="test"} 1` + "\n",
		"process_open_fds ",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("no %q in\n%s", want, chergaLines(text))
		}
	}
	apitest.Promtool(t, b)
}

// /metrics without an admin session is for this machine only.
func TestMetricsLoopbackOnly(t *testing.T) {
	h := loopbackOnly(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	for addr, want := range map[string]int{
		"127.0.0.1:5000": http.StatusOK, "[::1]:5000": http.StatusOK, "[::ffff:127.0.0.1]:5000": http.StatusOK,
		"192.168.1.20:5000": http.StatusForbidden, "[fe80::1]:5000": http.StatusForbidden, "garbage": http.StatusForbidden,
	} {
		req := httptest.NewRequest("GET", "http://127.0.0.1:8080/metrics", nil)
		req.RemoteAddr = addr
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != want {
			t.Errorf("from %s: %d, want %d", addr, w.Code, want)
		}
	}
	for host, want := range map[string]int{"localhost:8080": http.StatusOK, "[::1]:8080": http.StatusOK, "evil.example:8080": http.StatusForbidden} {
		req := httptest.NewRequest("GET", "http://"+host+"/metrics", nil)
		req.RemoteAddr = "127.0.0.1:5000"
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != want {
			t.Errorf("Host %s: %d, want %d", host, w.Code, want)
		}
	}
}

func chergaLines(text string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, "cherga_") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
