package city

import (
	"strings"
	"testing"
)

// TestPlans checks that the hot queries use their indexes and read only
// the partitions they need (a plan regression would pass every other test
// and only show at a city's scale).
func TestPlans(t *testing.T) {
	db := newDB(t)
	ctx := ctxT(t)
	for i, day := range []string{"2026-01-10", "2026-02-10", "2026-03-10"} {
		if _, err := db.Append(ctx, "kyiv-1", someEvents(uint64(1+i*100), 100, day)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.pool.Exec(ctx, "analyze events; set enable_seqscan = off"); err != nil {
		t.Fatal(err)
	}
	plan := func(sql string, args ...any) string {
		rows, err := db.pool.Query(ctx, "explain "+sql, args...)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var b strings.Builder
		for rows.Next() {
			var line string
			rows.Scan(&line)
			b.WriteString(line + "\n")
		}
		return b.String()
	}
	p := plan(`select coalesce(max(seq), 0) from events where office = $1`, "kyiv-1")
	if !strings.Contains(p, "Index Only Scan Backward using events_") || strings.Contains(p, "Seq Scan") {
		t.Errorf("Shipped's plan:\n%s", p)
	}
	p = plan(`select seq from events where day between $1::date and $2::date and ($3::text[] is null or office = any($3)) order by office, seq`,
		"2026-02-01", "2026-02-28", []string{"kyiv-1"})
	if strings.Contains(p, "events_202601") || strings.Contains(p, "events_202603") || !strings.Contains(p, "events_202602") {
		t.Errorf("Events for February reads other months:\n%s", p)
	}
	t.Logf("%s", p)
}
