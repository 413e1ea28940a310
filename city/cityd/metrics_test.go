package cityd

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cherga/kiosk/city"
	"github.com/cherga/kiosk/httpapi/apitest"
)

// retainFailing is a database whose retention fails.
type retainFailing struct{}

func (retainFailing) Retain(context.Context, time.Duration) error { return context.DeadlineExceeded }

func TestMetrics(t *testing.T) {
	f := newFixture(t, []string{"podil", "obolon"})
	f.srv.status.ttl = time.Second // the fixture's is off
	for _, id := range []string{"podil", "obolon", "darnytsia"} {
		register(t, f.db, id, "ЦНАП "+id)
	}
	putStatus(t, f.db, city.Status{Office: "podil", At: f.clock.Now(), Open: true, WindowsOpen: 2,
		Waiting: map[string]int{"g00": 3}, WaitMinutes: map[string]int{"g00": 10}, GroupNames: groupNames(1)})

	// Refused without the stats scope, as queued's.
	for _, token := range []string{"", "tickets"} {
		if resp := f.get("/metrics", token); resp.StatusCode != http.StatusUnauthorized && resp.StatusCode != http.StatusForbidden {
			t.Fatalf("GET /metrics with token %q: %d %s, want refused", token, resp.StatusCode, readAll(t, resp))
		}
	}

	for range 3 { // one read of the database, two answers from the cache
		if resp := f.get("/api/v1/city/status", ""); resp.StatusCode != http.StatusOK {
			t.Fatalf("status: %d", resp.StatusCode)
		}
	}
	if resp := f.get("/api/v1/city/stats?from=2026-01-01&to=2026-01-02", "stats"); resp.StatusCode != http.StatusOK {
		t.Fatalf("stats: %d %s", resp.StatusCode, readAll(t, resp))
	}
	f.get("/no/such/route", "")
	r := f.srv.metrics.retainer(f.db)
	if err := r.Retain(context.Background(), 3*365*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := f.srv.metrics.retainer(retainFailing{}).Retain(context.Background(), time.Hour); err == nil {
		t.Fatal("the failing retention did not fail")
	}

	resp := f.get("/metrics", "stats")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", resp.StatusCode, readAll(t, resp))
	}
	text := readAll(t, resp)
	for _, want := range []string{
		`cherga_cityd_http_requests_total{code="200",route="status"} 3` + "\n",
		`cherga_cityd_http_requests_total{code="200",route="stats"} 1` + "\n",
		`cherga_cityd_http_requests_total{code="401",route="metrics"} 1` + "\n",
		`cherga_cityd_http_requests_total{code="404",route="other"} 1` + "\n",
		"cherga_cityd_http_panics_total 0\n",
		"cherga_cityd_status_cache_hits_total 2\n",
		"cherga_cityd_status_cache_misses_total 1\n",
		`cherga_cityd_stats_queries_total{code="200"} 1` + "\n",
		"cherga_cityd_stats_query_duration_seconds_count 1\n",
		"cherga_cityd_database_up 1\n",
		"cherga_cityd_offices 3\n",
		"cherga_cityd_offices_stale 2\n", // obolon and darnytsia never reported
		"cherga_cityd_retention_runs_total 2\n",
		"cherga_cityd_retention_errors_total 1\n",
		"process_open_fds ",
		"go_goroutines ",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("no %q in\n%s", want, apitest.ChergaLines(text))
		}
	}
	apitest.Promtool(t, []byte(text))

	// Podil's status goes stale on cityd's clock.
	f.clock.Advance(f.cfg.StaleAfter + time.Second)
	if text := readAll(t, f.get("/metrics", "stats")); !strings.Contains(text, "cherga_cityd_offices_stale 3\n") {
		t.Errorf("after stale_after: no stale 3 in\n%s", apitest.ChergaLines(text))
	}
}

// A database that does not answer is told as down, the scrape answered.
func TestMetricsDatabaseDown(t *testing.T) {
	f := newFixture(t, nil)
	f.db.Close()
	resp := f.get("/metrics", "stats")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", resp.StatusCode, readAll(t, resp))
	}
	text := readAll(t, resp)
	if !strings.Contains(text, "cherga_cityd_database_up 0\n") || strings.Contains(text, "cherga_cityd_offices ") {
		t.Errorf("database down:\n%s", apitest.ChergaLines(text))
	}
	apitest.Promtool(t, []byte(text))
}
