package citygen_test

import (
	"testing"
	"time"

	"github.com/cherga/kiosk/city/citygen"
	"github.com/cherga/kiosk/queue/record"
	"github.com/cherga/kiosk/queue/stats"
)

// The made-up logs are ones queue/stats takes whole: seq without gaps,
// every event fitting its ticket's life, nothing left open.
func TestEventsAreAValidLog(t *testing.T) {
	cfg := citygen.Config{Offices: []string{"a", "b"}, Days: 3}
	from, to := cfg.Range()
	if from != "2025-01-01" || to != "2025-01-03" {
		t.Fatalf("range %s..%s", from, to)
	}
	seqs := map[string]uint64{}
	types := map[string]int{}
	n := 0
	for office, e := range citygen.Events(cfg) {
		if e.Seq != seqs[office]+1 {
			t.Fatalf("%s: seq %d after %d", office, e.Seq, seqs[office])
		}
		seqs[office] = e.Seq
		types[e.Type]++
		n++
	}
	perDay := float64(n) / (2 * 3)
	t.Logf("%d events, %.0f an office a day: %v", n, perDay, types)
	if year := perDay * 5 * 365; year < 10.1e6 {
		t.Errorf("%.0f events an office a day: the default year would be %.1f million, not ≥ 10", perDay, year/1e6)
	}
	for _, typ := range []string{record.Issued, record.Called, record.Recalled, record.Came, record.Finished, record.NoShow,
		record.Transferred, record.Rated, record.Cancelled, record.SignedIn, record.Paused, record.Resumed, record.SignedOut} {
		if types[typ] == 0 {
			t.Errorf("no %s events", typ)
		}
	}
	rep, err := stats.ComputeOffices(citygen.Events(cfg), stats.Query{From: from, To: to, By: stats.ByOffice}, stats.Names{},
		func(string) *time.Location { return cfg.Zone() })
	if err != nil {
		t.Fatal(err)
	}
	if rep.IgnoredEvents != 0 || rep.OpenEpisodes != 0 || len(rep.Rows) != 2 || rep.Total.Tickets != 2*3*1000 {
		t.Fatalf("report: ignored %d, open %d, rows %d, tickets %d", rep.IgnoredEvents, rep.OpenEpisodes, len(rep.Rows), rep.Total.Tickets)
	}
	t.Logf("visitors %d, wait median %.0fs", rep.Total.Visitors, rep.Total.Wait.MedianS)
}
