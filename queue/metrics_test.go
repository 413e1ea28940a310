package queue

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/cherga/kiosk/httpapi/apitest"
	"github.com/cherga/kiosk/link/proto"
)

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
			t.Errorf("no %q in\n%s", want, apitest.ChergaLines(text))
		}
	}
	apitest.Promtool(t, b)
}
