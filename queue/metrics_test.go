package queue

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/cherga/kiosk/link/proto"
)

// promtoolCheck runs `promtool check metrics` (Debian's prometheus package,
// scripts/test-deps.sh) on an exposition; it must pass, lint included.
func promtoolCheck(t *testing.T, exposition []byte) {
	t.Helper()
	path, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("promtool not installed (scripts/test-deps.sh installs it)")
		}
		t.Skip("promtool not installed; scripts/test-deps.sh installs it")
	}
	cmd := exec.Command(path, "check", "metrics")
	cmd.Stdin = bytes.NewReader(exposition)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
}

func scrape(t *testing.T, url, token string, want int) []byte {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("GET %s: %s %s, want %d", url, resp.Status, b, want)
	}
	return b
}

func TestMetrics(t *testing.T) {
	ts, _ := newTestServer(t)
	scrape(t, ts.URL+"/metrics", "", http.StatusUnauthorized) // the stats scope only

	kiosk := dialPeer(t, ts)
	hall := dialPeer(t, ts)
	kiosk.hello("kiosk-01", "kiosk")
	hall.hello("hall-01", "hall")
	kiosk.send(&proto.Message{Type: proto.TypeReserve, ID: "r1", Reserve: &proto.Reserve{Service: "subsidy-housing"}})
	tk := *kiosk.next(proto.TypeReserved).Ticket
	kiosk.send(&proto.Message{Type: proto.TypeTicketIssued, Seq: 1, Ticket: &tk})
	kiosk.next(proto.TypeAck)
	call(t, "POST", ts.URL+"/api/v1/windows/3/next", "", http.StatusOK, nil)
	hall.next(proto.TypeCall)
	call(t, "POST", ts.URL+"/api/v1/windows/3/recall", "", http.StatusOK, nil)
	hall.next(proto.TypeRecall)
	call(t, "POST", ts.URL+"/api/v1/tickets", "{", http.StatusBadRequest, nil)

	b := scrape(t, ts.URL+"/metrics", apiToken, http.StatusOK)
	text := string(b)
	for _, want := range []string{
		"cherga_queued_terminals_connected 2\n",
		"cherga_queued_terminals_known 2\n",
		`cherga_queued_calls_total{kind="call"} 1` + "\n",
		`cherga_queued_calls_total{kind="recall"} 1` + "\n",
		"cherga_queued_http_bad_requests_total 1\n",
		"cherga_queued_link_bad_messages_total 0\n",
		"cherga_queued_link_rejected_events_total 0\n",
		`cherga_queued_waiting{group=`,
		`cherga_queued_wait_estimate_seconds{group=`,
		"process_open_fds ",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("no %q in\n%s", want, grepCherga(text))
		}
	}
	promtoolCheck(t, b)
}

func grepCherga(text string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, "cherga_") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
