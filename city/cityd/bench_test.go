package cityd

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/cherga/kiosk/city"
	"github.com/cherga/kiosk/city/citygen"
)

func reportPercentiles(b *testing.B, took []time.Duration) {
	if len(took) == 0 {
		return
	}
	slices.Sort(took)
	pct := func(p float64) float64 { return float64(took[int(p*float64(len(took)-1))]) / 1e6 }
	b.ReportMetric(pct(0.5), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}

// BenchmarkCityStatus is GET /api/v1/city/status over HTTP with fifty
// centres of ten groups each, the cache off: the database's query, the
// view and the JSON, each time.
func BenchmarkCityStatus(b *testing.B) {
	f := newFixture(b, nil)
	names := groupNames(10)
	for i := range 50 {
		id := fmt.Sprintf("cnap-%02d", i+1)
		register(b, f.db, id, "ЦНАП "+id)
		waiting, wait := map[string]int{}, map[string]int{}
		for g := range 10 {
			waiting[fmt.Sprintf("g%02d", g)], wait[fmt.Sprintf("g%02d", g)] = i+g, 2*g
		}
		putStatus(b, f.db, city.Status{Office: id, At: time.Now(), Open: true, WindowsOpen: 5, Waiting: waiting, WaitMinutes: wait, GroupNames: names})
	}
	url := f.http.URL + "/api/v1/city/status"
	var took []time.Duration
	for b.Loop() {
		t0 := time.Now()
		resp, err := http.Get(url)
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || n < 10000 {
			b.Fatalf("status %d, %d bytes", resp.StatusCode, n)
		}
		took = append(took, time.Since(t0))
	}
	reportPercentiles(b, took)
}

// BenchmarkCityStatsHTTP (CITY_BENCH_BIG=1) loads citygen's made-up year
// of five centres (≈ 11 million events) and times GET
// /api/v1/city/stats by office for a month and for the year, through
// cityd's handler (sign-in, the database's Events, ComputeOffices, JSON):
//
//	CITY_BENCH_BIG=1 go test -run '^$' -bench CityStatsHTTP -benchtime 5x -timeout 2h ./city/cityd/
func BenchmarkCityStatsHTTP(b *testing.B) {
	if os.Getenv("CITY_BENCH_BIG") == "" {
		b.Skip("CITY_BENCH_BIG=1 runs it (≈ 11 million events, a few GB of disk)")
	}
	f := newFixture(b, nil)
	cfg := citygen.Config{}
	from, to := cfg.Range()
	for _, o := range []string{"c1", "c2", "c3", "c4", "c5"} {
		register(b, f.db, o, "ЦНАП "+o)
	}
	n, err := f.db.Import(context.Background(), from, to, citygen.Events(cfg))
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("loaded %d events", n)
	for _, r := range []struct{ name, from, to string }{{"month", "2025-06-01", "2025-06-30"}, {"year", from, to}} {
		b.Run(r.name, func(b *testing.B) {
			var took []time.Duration
			for b.Loop() {
				t0 := time.Now()
				resp := f.get("/api/v1/city/stats?by=office&from="+r.from+"&to="+r.to, "stats")
				_, _ = io.Copy(io.Discard, resp.Body)
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("status %d", resp.StatusCode)
				}
				took = append(took, time.Since(t0))
			}
			reportPercentiles(b, took)
		})
	}
}
