package city

import (
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cherga/kiosk/city/citygen"
	"github.com/cherga/kiosk/city/pgtest"
	"github.com/cherga/kiosk/queue/record"
	"github.com/cherga/kiosk/queue/stats"
)

const benchBatch = 500

// BenchmarkAppend is the shipper's path: batches of 500 through Append
// (COPY to a temporary table, INSERT … ON CONFLICT DO NOTHING, commit).
func BenchmarkAppend(b *testing.B) {
	db := newDB(b)
	ctx := ctxT(b)
	seq := uint64(1)
	for b.Loop() {
		evs := someEvents(seq, benchBatch, fmt.Sprintf("2026-03-%02d", 1+int(seq/benchBatch)%28))
		seq += benchBatch
		if n, err := db.Append(ctx, "kyiv-1", evs); err != nil || n != benchBatch {
			b.Fatal(n, err)
		}
	}
	b.ReportMetric(float64(seq-1)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkRawInsert is the database's own rate: the same batches COPYed
// straight into events, no staging, no conflict check.
func BenchmarkRawInsert(b *testing.B) {
	db := newDB(b)
	ctx := ctxT(b)
	seq := uint64(1)
	for m := 1; m <= 12; m++ {
		db.ensureMonth(ctx, time.Date(2026, time.Month(m), 1, 0, 0, 0, 0, time.UTC))
	}
	for b.Loop() {
		rows, _, err := batchRows("kyiv-1", someEvents(seq, benchBatch, fmt.Sprintf("2026-03-%02d", 1+int(seq/benchBatch)%28)))
		if err != nil {
			b.Fatal(err)
		}
		seq += benchBatch
		if _, err := db.pool.CopyFrom(ctx, pgx.Identifier{"events"}, eventColumns, pgx.CopyFromRows(rows)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(seq-1)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkStatuses is cityd's status page query over 50 offices, each
// with a status and 2,000 events over two months.
func BenchmarkStatuses(b *testing.B) {
	db := openDB(b, newDSN(b))
	ctx := ctxT(b)
	for i := range 50 {
		id := fmt.Sprintf("office-%02d", i)
		if err := db.Register(ctx, Office{ID: id, Name: map[string]string{"uk": id}, Timezone: "Europe/Kyiv"}, "i"); err != nil {
			b.Fatal(err)
		}
		for j, day := range []string{"2026-02-10", "2026-03-10"} {
			if _, err := db.Append(ctx, id, someEvents(uint64(1+j*1000), 1000, day)); err != nil {
				b.Fatal(err)
			}
		}
		if err := db.PutStatus(ctx, Status{Office: id, At: time.Now(), Open: true, WindowsOpen: 5,
			Waiting: map[string]int{"docs": 3, "money": 1}, WaitMinutes: map[string]int{"docs": 9, "money": 2},
			GroupNames: map[string]map[string]string{"docs": {"uk": "Документи", "en": "Documents"}}, LastSeq: 2000}); err != nil {
			b.Fatal(err)
		}
	}
	var took []time.Duration
	for b.Loop() {
		t0 := time.Now()
		sts, err := db.Statuses(ctx)
		took = append(took, time.Since(t0))
		if err != nil || len(sts) != 50 || sts[49].ShippedSeq != 2000 {
			b.Fatal(len(sts), err)
		}
	}
	reportPercentiles(b, took)
}

func reportPercentiles(b *testing.B, took []time.Duration) {
	slices.Sort(took)
	pct := func(p float64) float64 { return float64(took[int(p*float64(len(took)-1))]) / 1e6 }
	b.ReportMetric(pct(0.5), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkCityYear (CITY_BENCH_BIG=1) loads a made-up year of five
// centres at 1,000 visitors a day (citygen: ~11 million events, by COPY)
// into its own cluster, then times queue/stats.ComputeOffices over Events
// for a month and for the year, and Events alone:
//
//	CITY_BENCH_BIG=1 go test -run '^$' -bench CityYear -benchtime 5x -timeout 2h ./city/
//
// CITY_BENCH_DSN=… uses that database instead of a new cluster, loading
// it only if its events table is empty (load once, time many).
func BenchmarkCityYear(b *testing.B) {
	if os.Getenv("CITY_BENCH_BIG") == "" {
		b.Skip("CITY_BENCH_BIG=1 runs it (≈ 11 million events, a few GB of disk)")
	}
	dsn := os.Getenv("CITY_BENCH_DSN") // a database loaded before is used as it is
	if dsn == "" {
		c := pgtest.StartWith(b, pgtest.Options{Fast: true})
		dsn = c.CreateDB(b, "city")
	}
	db := openDB(b, dsn)
	ctx, cancel := contextWithoutGuard(ctxT(b))
	defer cancel()
	cfg := citygen.Config{}
	from, to := cfg.Range()
	var loaded bool
	if err := db.pool.QueryRow(ctx, `select exists (select 1 from events)`).Scan(&loaded); err != nil {
		b.Fatal(err)
	}
	if !loaded {
		t0 := time.Now()
		n, err := db.Import(ctx, from, to, citygen.Events(cfg))
		if err != nil {
			b.Fatal(err)
		}
		load := time.Since(t0)
		if _, err := db.pool.Exec(ctx, "analyze events"); err != nil {
			b.Fatal(err)
		}
		b.Logf("loaded %d events in %v (%.0f events/s)", n, load.Round(time.Second), float64(n)/load.Seconds())
	}
	var size string
	db.pool.QueryRow(ctx, `select pg_size_pretty(sum(pg_total_relation_size(inhrelid))) from pg_inherits where inhparent = 'events'::regclass`).Scan(&size)
	b.Logf("events with indexes: %s", size)
	loc := cfg.Zone()
	q := func(f, t string) stats.Query { return stats.Query{From: f, To: t, By: stats.ByOffice} }
	for _, r := range []struct{ name, from, to string }{{"month", "2025-06-01", "2025-06-30"}, {"year", from, to}} {
		b.Run("events-"+r.name, func(b *testing.B) {
			var took []time.Duration
			for b.Loop() {
				t0 := time.Now()
				k := 0
				for _, err := range db.Events(ctx, nil, r.from, r.to) {
					if err != nil {
						b.Fatal(err)
					}
					k++
				}
				took = append(took, time.Since(t0))
				b.ReportMetric(float64(k), "events")
			}
			reportPercentiles(b, took)
		})
		b.Run("compute-"+r.name, func(b *testing.B) {
			var took []time.Duration
			for b.Loop() {
				t0 := time.Now()
				var scanErr error
				evs := func(yield func(string, record.Event) bool) {
					for e, err := range db.Events(ctx, nil, r.from, r.to) {
						if err != nil {
							scanErr = err
							return
						}
						if !yield(e.Office, e.Event) {
							return
						}
					}
				}
				rep, err := stats.ComputeOffices(evs, q(r.from, r.to), stats.Names{}, func(string) *time.Location { return loc })
				if err == nil {
					err = scanErr
				}
				if err != nil {
					b.Fatal(err)
				}
				took = append(took, time.Since(t0))
				b.ReportMetric(float64(rep.Total.Visitors), "visitors")
			}
			reportPercentiles(b, took)
		})
	}
}
