package stats

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/cherga/kiosk/queue/record"
)

// busyMonth is a generated month of a busy centre: 30 days of 1,000
// tickets each over 10 windows, 40 services in 10 groups, about six
// events a ticket (recalls, no-shows, transfers, cancellations, ratings
// and the windows' pauses among them), in log order.
func busyMonth() []record.Event {
	rng := rand.New(rand.NewPCG(1, 2))
	var all []record.Event
	start := time.Date(2026, 11, 1, 8, 0, 0, 0, testLoc)
	for d := range 30 {
		day0 := start.AddDate(0, 0, d)
		day := day0.Format(dateLayout)
		var evs []record.Event
		add := func(typ string, at time.Time, ticket, service string, window int) *record.Event {
			evs = append(evs, record.Event{At: at, Day: day, Type: typ, Ticket: ticket, Service: service,
				Group: fmt.Sprintf("g%d", len(service)%10), Window: window, Operator: fmt.Sprintf("op%02d", window)})
			return &evs[len(evs)-1]
		}
		for i := range 1000 {
			ticket := fmt.Sprintf("%c%03d", 'А'+rune(i%10), i/10)
			service := fmt.Sprintf("service-%02d", rng.IntN(40))
			t := day0.Add(time.Duration(i) * 36 * time.Second) // 08:00 to 18:00
			add(record.Issued, t, ticket, service, 0).Operator = ""
			if rng.IntN(100) < 3 {
				add(record.Cancelled, t.Add(time.Minute), ticket, service, 0).Operator = ""
				continue
			}
			for episode := 0; ; episode++ {
				w := 1 + rng.IntN(10)
				t = t.Add(time.Duration(1+rng.IntN(1200)) * time.Second)
				add(record.Called, t, ticket, service, w)
				if rng.IntN(10) < 4 {
					t = t.Add(time.Minute)
					add(record.Recalled, t, ticket, service, w)
				}
				if rng.IntN(100) < 5 {
					add(record.NoShow, t.Add(time.Minute), ticket, service, w)
					break
				}
				if rng.IntN(20) != 0 {
					t = t.Add(time.Duration(10+rng.IntN(60)) * time.Second)
					add(record.Came, t, ticket, service, w)
				}
				t = t.Add(time.Duration(60+rng.IntN(900)) * time.Second)
				if episode == 0 && rng.IntN(100) < 20 {
					to := fmt.Sprintf("service-%02d", rng.IntN(40))
					add(record.Transferred, t, ticket, service, w).ToService = to
					service = to
					continue
				}
				add(record.Finished, t, ticket, service, w)
				if rng.IntN(10) < 7 {
					add(record.Rated, t.Add(20*time.Second), ticket, service, w).Score = 1 + rng.IntN(5)
				}
				break
			}
		}
		// Each window pauses and resumes about once an hour.
		for w := 1; w <= 10; w++ {
			for h := range 10 {
				t := day0.Add(time.Duration(h)*time.Hour + time.Duration(rng.IntN(3000))*time.Second)
				evs = append(evs, record.Event{At: t, Day: day, Type: record.Paused, Window: w, Reason: "break"},
					record.Event{At: t.Add(5 * time.Minute), Day: day, Type: record.Resumed, Window: w})
			}
		}
		slices.SortStableFunc(evs, func(a, b record.Event) int { return a.At.Compare(b.At) })
		all = append(all, evs...)
	}
	for i := range all {
		all[i].Seq = uint64(i + 1)
	}
	return all
}

func BenchmarkCompute(b *testing.B) {
	evs := busyMonth()
	q := Query{From: "2026-11-01", To: "2026-11-30"}
	for _, by := range Bys {
		b.Run(by, func(b *testing.B) {
			q.By = by
			b.ReportAllocs()
			var r *Report
			for b.Loop() {
				var err error
				if r, err = Compute(slices.Values(evs), q, Names{}, testLoc); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(evs))*float64(b.N)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(len(evs))/30/1000, "events/ticket")
			b.ReportMetric(float64(len(evs)), "events")
			if r.Total.Tickets != 30_000 || r.OpenEpisodes != 0 {
				b.Fatalf("tickets %d, open %d", r.Total.Tickets, r.OpenEpisodes)
			}
		})
	}
}
