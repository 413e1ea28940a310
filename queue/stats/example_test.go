package stats_test

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/cherga/kiosk/queue/record"
	"github.com/cherga/kiosk/queue/stats"
)

// Two visitors at window 3: one served for 12 minutes after a 4-minute
// wait, one who waited 17 minutes and did not come to the call. The
// median of the two waits is their mean, 630 s.
func Example() {
	kyiv := time.FixedZone("EET", 2*60*60)
	at := func(hm string) time.Time {
		t, _ := time.ParseInLocation("2006-01-02 15:04", "2026-11-23 "+hm, kyiv)
		return t
	}
	ev := func(typ, hm, ticket string) record.Event {
		return record.Event{At: at(hm), Day: "2026-11-23", Type: typ, Ticket: ticket,
			Service: "subsidy-housing", Group: "subsidies", Window: 3, Operator: "olena"}
	}
	log := []record.Event{
		ev(record.Issued, "09:00", "А001"),
		ev(record.Issued, "09:01", "А002"),
		ev(record.Called, "09:04", "А001"),
		ev(record.Came, "09:05", "А001"),
		ev(record.Finished, "09:17", "А001"),
		ev(record.Called, "09:18", "А002"),
		ev(record.NoShow, "09:21", "А002"),
	}
	q, err := stats.ParseQuery(url.Values{"from": {"2026-11-23"}, "to": {"2026-11-23"}, "by": {"operator"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	names := stats.Names{Operators: map[string]string{"olena": "Олена Коваль"}}
	r, err := stats.Compute(slices.Values(log), q, names, kyiv)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, row := range r.Rows {
		fmt.Printf("%s: visitors %d, no-shows %d, median wait %.0f s, mean service %.0f s\n",
			row.Name, row.Visitors, row.NoShows, row.Wait.MedianS, row.Service.MeanS)
	}
	fmt.Println("tickets", r.Total.Tickets, "served", r.Total.ServedTickets)
	var csv strings.Builder
	_ = stats.WriteCSV(&csv, r)
	body, bom := strings.CutPrefix(csv.String(), "\uFEFF")
	fmt.Println("byte order mark:", bom)
	fmt.Print(strings.ReplaceAll(body, "\r\n", "\n"))
	// Output:
	// Олена Коваль: visitors 1, no-shows 1, median wait 630 s, mean service 720 s
	// tickets 2 served 1
	// byte order mark: true
	// key,name,visitors,no_shows,transfers,cancelled,wait_count,wait_mean_s,wait_median_s,wait_p90_s,service_count,service_mean_s,service_median_s,service_p90_s,ratings_count,ratings_mean,ratings_1,ratings_2,ratings_3,ratings_4,ratings_5
	// olena,Олена Коваль,1,1,0,0,2,630,630,1020,1,720,720,720,0,0,0,0,0,0,0
	// total,,1,1,0,0,2,630,630,1020,1,720,720,720,0,0,0,0,0,0,0
}

func ExampleParseQuery() {
	_, err := stats.ParseQuery(url.Values{"from": {"2026-11-01"}, "to": {"2026-11-30"}, "by": {"day"}})
	fmt.Println(err)
	// Output: by: got "day", expected one of operator, window, service, group, hour
}
