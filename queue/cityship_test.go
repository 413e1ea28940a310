package queue

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cherga/kiosk/city"
	"github.com/cherga/kiosk/city/pgtest"
	"github.com/cherga/kiosk/httpapi/apitest"
	"github.com/cherga/kiosk/queue/access"
)

// eventually polls cond (the shipper's progress against a real
// database) until it holds; the deadline only guards against a hang.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 60 s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// /healthz and the metrics show the shipping: connected, shipped, the
// backlog while the city's database is away, and the alarm once the
// oldest event waits longer than city.alarm_age.
func TestCityHealthAndMetrics(t *testing.T) {
	cluster := pgtest.Start(t)
	dsn := cluster.CreateDB(t, "city")
	cdb, err := city.Open(context.Background(), dsn, city.Options{Migrate: true, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer cdb.Close()

	clock := newClock()
	cfg := testOffice(t)
	cfg.City.DSN = dsn
	q, err := Open(filepath.Join(t.TempDir(), "q.db"), cfg, Options{Clock: clock, Version: "v1"})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	file := filepath.Join(t.TempDir(), "access.json")
	store, err := access.OpenStore(file, access.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	token, err := store.AddToken("tests", []string{access.ScopeAdmin})
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewServer(q, ServerOptions{Log: slog.New(slog.DiscardHandler), AccessFile: file})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	defer ts.Close()
	defer s.Close()

	type health struct {
		Status string   `json:"status"`
		Alarms []string `json:"alarms"`
		City   *struct {
			Connected bool    `json:"connected"`
			Shipped   uint64  `json:"shipped_seq"`
			Backlog   uint64  `json:"backlog_events"`
			Lag       float64 `json:"lag_seconds"`
			LastError string  `json:"last_error"`
			Oldest    string  `json:"oldest_unshipped"`
		} `json:"city"`
	}
	get := func(tok string) health {
		req, _ := http.NewRequest("GET", ts.URL+"/healthz", nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var h health
		if err := json.Unmarshal(b, &h); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		return h
	}
	for range 3 {
		mustIssue(t, q, "subsidy-housing")
	}
	eventually(t, "shipped", func() bool {
		h := get(token)
		return h.City != nil && h.City.Connected && h.City.Shipped == q.LastSeq()
	})
	if h := get(""); h.City != nil || h.Status != "ok" {
		t.Errorf("public /healthz %+v: the city's details are for the terminals scope", h)
	}

	cluster.Stop(t)
	before := q.LastSeq()
	for range 5 {
		mustIssue(t, q, "pension-age") // the office works on
	}
	eventually(t, "loss seen", func() bool { h := get(token); return !h.City.Connected && h.City.LastError != "" })
	h := get(token)
	if h.City.Backlog != q.LastSeq()-before || h.City.Oldest == "" || h.Status != "ok" {
		t.Errorf("while the database is away: %+v %+v", h, *h.City)
	}
	clock.Advance(16 * time.Minute) // past alarm_age (15m)
	h = get("")
	if h.Status != "degraded" || len(h.Alarms) != 1 || !strings.HasPrefix(h.Alarms[0], "city: 5 events not shipped") {
		t.Errorf("alarm: %+v", h)
	}
	text := string(scrape(t, ts.URL+"/metrics", token, http.StatusOK))
	for _, want := range []string{
		"cherga_queued_city_backlog_events 5\n",
		"cherga_queued_city_lag_seconds 960\n",
		"cherga_queued_city_shipped_events_total 3\n",
		"cherga_queued_city_connected 0\n",
		"cherga_queued_city_alarm 1\n",
		"cherga_queued_city_errors_total ",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("no %q in\n%s", want, apitest.ChergaLines(text))
		}
	}
	apitest.Promtool(t, []byte(text))

	cluster.Restart(t)
	// The reconnect waits its backoff on the office's clock.
	eventually(t, "backlog shipped", func() bool {
		clock.Advance(time.Second)
		h := get(token)
		return h.City.Connected && h.City.Backlog == 0
	})
	if h := get(""); h.Status != "ok" || len(h.Alarms) != 0 {
		t.Errorf("after: %+v", h)
	}
}
