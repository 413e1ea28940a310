package stats

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cherga/kiosk/queue/record"
)

func dur(count int, mean, median, p90 float64) Durations {
	return Durations{Count: count, MeanS: mean, MedianS: median, P90S: p90}
}

// The test day's total, the same for every by (episodes in day_test.go).
var wantTotal = Total{
	Figures: Figures{
		// served e1 e2 e3 e5 e6 e7 e8 e10 e11 e12 e13; no-show e4;
		// transfers e5 e7; cancelled e9.
		Visitors: 11, NoShows: 1, Transfers: 2, Cancelled: 1,
		// 12 called episodes, sorted: 120 120 240 300 300 420 | 600 600 600 660 900 900;
		// sum 5760 / 12 = 480; median (420+600)/2 = 510; p90 index ⌈10.8⌉−1 = 10 → 900.
		Wait: dur(12, 480, 510, 900),
		// 11 served, sorted: 420 540 540 600 720 780 840 840 840 900 1140;
		// sum 8160 / 11 = 741.82 → 741.8; median index 5 → 780; p90 index ⌈9.9⌉−1 = 9 → 900.
		Service: dur(11, 741.8, 780, 900),
		// 5 4 3 5 2 4, and the 1 that rated nothing: 7 ratings, sum 24, 24/7 = 3.4286 → 3.43.
		Ratings: Ratings{Count: 7, Mean: 3.43, Dist: [5]int{1, 1, 1, 2, 2}},
	},
	Tickets: 12, // А001–А007, Б001–Б005
	// all but А004 (cancelled), Б002 (no-show), Б005 (waiting)
	ServedTickets: 9,
}

// olena's episodes are window 1's: e1 e3 e4 e6 e10 e12 e13.
var olena = Figures{
	Visitors: 6, NoShows: 1, // e1 e3 e6 e10 e12 e13; e4
	// 120 300 300 420 600 660 900: sum 3300 / 7 = 471.43; median index 3 → 420; p90 index ⌈6.3⌉−1 = 6 → 900
	Wait: dur(7, 471.4, 420, 900),
	// 420 540 840 840 840 900: sum 4380 / 6 = 730; median (840+840)/2; p90 index ⌈5.4⌉−1 = 5 → 900
	Service: dur(6, 730, 840, 900),
	// e1 5, e6 3, e10 2, e13 4: 14 / 4 = 3.5
	Ratings: Ratings{Count: 4, Mean: 3.5, Dist: [5]int{0, 1, 1, 1, 1}},
}

var cancelledOnly = Figures{Cancelled: 1} // e9, cancelled by the API: no window, no operator

var wantRows = map[string][]Row{
	ByOperator: {
		{Key: "", Name: "", NameEN: "", Figures: cancelledOnly},
		{Key: "olena", Name: "Олена Коваль", NameEN: "Олена Коваль", Figures: olena},
		{Key: "petro", Name: "Петро Шевченко", NameEN: "Петро Шевченко", Figures: Figures{
			Visitors: 5, Transfers: 2, // e2 e5 e7 e8 e11; e5 e7
			// 120 240 600 600 900: sum 2460 / 5 = 492; median 600; p90 index ⌈4.5⌉−1 = 4 → 900
			Wait: dur(5, 492, 600, 900),
			// 540 600 720 780 1140: sum 3780 / 5 = 756; median 720; p90 index 4 → 1140
			Service: dur(5, 756, 720, 1140),
			// e2 4, e8 5
			Ratings: Ratings{Count: 2, Mean: 4.5, Dist: [5]int{0, 0, 0, 1, 1}},
		}},
	},
	ByWindow: {
		{Key: "", Name: "", NameEN: "", Figures: cancelledOnly},
		{Key: "1", Name: "1", NameEN: "1", Figures: olena},
		{Key: "2", Name: "2", NameEN: "2", Figures: Figures{
			Visitors: 3, Transfers: 2, // e2 e5 e7
			// 240 600 600: sum 1440 / 3 = 480; median 600; p90 index ⌈2.7⌉−1 = 2 → 600
			Wait: dur(3, 480, 600, 600),
			// 540 600 780: sum 1920 / 3 = 640; median 600; p90 780
			Service: dur(3, 640, 600, 780),
			Ratings: Ratings{Count: 1, Mean: 4, Dist: [5]int{0, 0, 0, 1, 0}}, // e2; А006's 1 was given here but rates nothing
		}},
		{Key: "3", Name: "3", NameEN: "3", Figures: Figures{
			Visitors: 2, // e8 e11
			// 120 900: mean = median = 510; p90 index ⌈1.8⌉−1 = 1 → 900
			Wait: dur(2, 510, 510, 900),
			// 720 1140: mean = median = 930; p90 1140
			Service: dur(2, 930, 930, 1140),
			Ratings: Ratings{Count: 1, Mean: 5, Dist: [5]int{0, 0, 0, 0, 1}}, // e8
		}},
	},
	ByService: {
		{Key: "passport-foreign", Name: "Закордонний паспорт", NameEN: "Passport for travel abroad", Figures: Figures{
			Visitors: 1, Wait: dur(1, 120, 120, 120), Service: dur(1, 720, 720, 720), // e11
		}},
		{Key: "passport-id", Name: "ID-картка", NameEN: "ID card", Figures: Figures{
			Visitors: 3, NoShows: 1, Transfers: 1, // e3 e7 e8; e4; e7 (to window 3, same service)
			// 420 600 660 900: sum 2580 / 4 = 645; median (600+660)/2 = 630; p90 index ⌈3.6⌉−1 = 3 → 900
			Wait: dur(4, 645, 630, 900),
			// 780 900 1140: sum 2820 / 3 = 940; median 900; p90 index ⌈2.7⌉−1 = 2 → 1140
			Service: dur(3, 940, 900, 1140),
			Ratings: Ratings{Count: 1, Mean: 5, Dist: [5]int{0, 0, 0, 0, 1}}, // e8
		}},
		{Key: "subsidy-housing", Name: "Житлова субсидія", NameEN: "Housing subsidy", Figures: Figures{
			Visitors: 5, Transfers: 1, // e1 e2 e5 e10 e13; e5 (before its transfer to S2)
			// 120 240 300 300 600: sum 1560 / 5 = 312; median 300; p90 index 4 → 600
			Wait: dur(5, 312, 300, 600),
			// 420 540 540 600 840: sum 2940 / 5 = 588; median 540; p90 840
			Service: dur(5, 588, 540, 840),
			// e1 5, e2 4, e10 2, e13 4: 15 / 4 = 3.75
			Ratings: Ratings{Count: 4, Mean: 3.75, Dist: [5]int{0, 1, 0, 2, 1}},
		}},
		{Key: "subsidy-utility", Name: "Субсидія на комунальні послуги", NameEN: "Utility subsidy", Figures: Figures{
			Visitors: 2, Cancelled: 1, // e6 e12; e9
			// 600 900: mean = median = 750; p90 900
			Wait: dur(2, 750, 750, 900),
			// 840 840
			Service: dur(2, 840, 840, 840),
			Ratings: Ratings{Count: 1, Mean: 3, Dist: [5]int{0, 0, 1, 0, 0}}, // e6
		}},
	},
	ByGroup: {
		{Key: "passports", Name: "Паспорти", NameEN: "Passports", Figures: Figures{
			Visitors: 4, NoShows: 1, Transfers: 1, // e3 e7 e8 e11; e4; e7
			// 120 420 600 660 900: sum 2700 / 5 = 540; median 600; p90 index 4 → 900
			Wait: dur(5, 540, 600, 900),
			// 720 780 900 1140: sum 3540 / 4 = 885; median (780+900)/2 = 840; p90 index 3 → 1140
			Service: dur(4, 885, 840, 1140),
			Ratings: Ratings{Count: 1, Mean: 5, Dist: [5]int{0, 0, 0, 0, 1}},
		}},
		{Key: "subsidies", Name: "Субсидії", NameEN: "Subsidies", Figures: Figures{
			Visitors: 7, Transfers: 1, Cancelled: 1, // e1 e2 e5 e6 e10 e12 e13; e5; e9
			// 120 240 300 300 600 600 900: sum 3060 / 7 = 437.14; median 300; p90 index 6 → 900
			Wait: dur(7, 437.1, 300, 900),
			// 420 540 540 600 840 840 840: sum 4620 / 7 = 660; median 600; p90 840
			Service: dur(7, 660, 600, 840),
			// 5 4 3 2 4: 18 / 5 = 3.6
			Ratings: Ratings{Count: 5, Mean: 3.6, Dist: [5]int{0, 1, 1, 2, 1}},
		}},
	},
	ByHour: {
		// Numerically: 9 before 10.
		{Key: "9", Name: "09:00–10:00", NameEN: "09:00–10:00", Figures: Figures{
			// e1 e2 e3 e4 e5, and e6, which started waiting at 09:50 though called at 10:05
			Visitors: 5, NoShows: 1, Transfers: 1,
			// 120 240 420 600 660 900: sum 2940 / 6 = 490; median (420+600)/2 = 510; p90 index ⌈5.4⌉−1 = 5 → 900
			Wait: dur(6, 490, 510, 900),
			// 420 540 600 840 900: sum 3300 / 5 = 660; median 600; p90 index 4 → 900
			Service: dur(5, 660, 600, 900),
			// e1 5, e2 4, e6 3
			Ratings: Ratings{Count: 3, Mean: 4, Dist: [5]int{0, 0, 1, 1, 1}},
		}},
		{Key: "10", Name: "10:00–11:00", NameEN: "10:00–11:00", Figures: Figures{
			Visitors: 2, Transfers: 1, Cancelled: 1, // e7 e8 (started 10:25, at the transfer); e7; e9
			Wait:    dur(2, 750, 750, 900),  // 600 900
			Service: dur(2, 960, 960, 1140), // 780 1140
			Ratings: Ratings{Count: 1, Mean: 5, Dist: [5]int{0, 0, 0, 0, 1}},
		}},
		{Key: "11", Name: "11:00–12:00", NameEN: "11:00–12:00", Figures: Figures{
			Visitors: 4, // e10 e11 e12 e13
			// 120 300 300 600: sum 1320 / 4 = 330; median 300; p90 index 3 → 600
			Wait: dur(4, 330, 300, 600),
			// 540 720 840 840: sum 2940 / 4 = 735; median (720+840)/2 = 780; p90 840
			Service: dur(4, 735, 780, 840),
			// e10 2, e13 4
			Ratings: Ratings{Count: 2, Mean: 3, Dist: [5]int{0, 1, 0, 1, 0}},
		}},
	},
}

var wantTop = []ServiceCount{
	{Service: "subsidy-housing", Name: "Житлова субсидія", NameEN: "Housing subsidy", Issued: 5},                                 // А001 А002 А003 А005 А007
	{Service: "passport-id", Name: "ID-картка", NameEN: "ID card", Issued: 4},                                                    // Б001 Б002 Б003 Б005
	{Service: "subsidy-utility", Name: "Субсидія на комунальні послуги", NameEN: "Utility subsidy", Issued: 2, TransferredIn: 1}, // А004 А006; А003
	{Service: "passport-foreign", Name: "Закордонний паспорт", NameEN: "Passport for travel abroad", Issued: 1},                  // Б004
}

func computeDay(t testing.TB, by string) *Report {
	t.Helper()
	r, err := Compute(slices.Values(dayEvents()), Query{From: testDay, To: testDay, By: by}, testNames, testLoc)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestComputeDay(t *testing.T) {
	for _, by := range Bys {
		t.Run(by, func(t *testing.T) {
			r := computeDay(t, by)
			if r.From != testDay || r.To != testDay || r.By != by {
				t.Errorf("range %s–%s by %s", r.From, r.To, r.By)
			}
			if !reflect.DeepEqual(r.Rows, wantRows[by]) {
				for i := range max(len(r.Rows), len(wantRows[by])) {
					var got, want any = "(none)", "(none)"
					if i < len(r.Rows) {
						got = r.Rows[i]
					}
					if i < len(wantRows[by]) {
						want = wantRows[by][i]
					}
					if !reflect.DeepEqual(got, want) {
						t.Errorf("row %d:\n got %+v\nwant %+v", i, got, want)
					}
				}
			}
			if r.Total != wantTotal {
				t.Errorf("total:\n got %+v\nwant %+v", r.Total, wantTotal)
			}
			if !reflect.DeepEqual(r.TopServices, wantTop) {
				t.Errorf("top services:\n got %+v\nwant %+v", r.TopServices, wantTop)
			}
			// Б005 is still waiting; the score 7 and the call for В999 do not fit.
			if r.OpenEpisodes != 1 || r.IgnoredEvents != 2 {
				t.Errorf("open %d, ignored %d; want 1 and 2", r.OpenEpisodes, r.IgnoredEvents)
			}
			checkSums(t, r, 1) // А006's rating rated nothing
		})
	}
}

// checkSums checks that the rows add up to the total, but for the
// ratings that rated no episode.
func checkSums(t *testing.T, r *Report, unrated int) {
	t.Helper()
	var sum Figures
	for _, row := range r.Rows {
		sum.Visitors += row.Visitors
		sum.NoShows += row.NoShows
		sum.Transfers += row.Transfers
		sum.Cancelled += row.Cancelled
		sum.Wait.Count += row.Wait.Count
		sum.Service.Count += row.Service.Count
		sum.Ratings.Count += row.Ratings.Count
	}
	tot := r.Total
	got := []int{sum.Visitors, sum.NoShows, sum.Transfers, sum.Cancelled, sum.Wait.Count, sum.Service.Count, sum.Ratings.Count + unrated}
	want := []int{tot.Visitors, tot.NoShows, tot.Transfers, tot.Cancelled, tot.Wait.Count, tot.Service.Count, tot.Ratings.Count}
	if !slices.Equal(got, want) {
		t.Errorf("by %s: rows add up to %v, total is %v (visitors, no-shows, transfers, cancelled, waits, services, ratings)", r.By, got, want)
	}
}

func TestSummary(t *testing.T) {
	for _, tc := range []struct {
		ms   []int32
		want Durations
	}{
		{nil, Durations{}},
		{[]int32{61_000}, dur(1, 61, 61, 61)},
		// median of two: their mean; p90 of two: index ⌈1.8⌉−1 = 1
		{[]int32{2_000, 1_000}, dur(2, 1.5, 1.5, 2)},
		// 1..10 s: median 5.5; p90 index ⌈9⌉−1 = 8 → 9 s (not 10: nearest rank)
		{[]int32{10_000, 9_000, 8_000, 7_000, 6_000, 5_000, 4_000, 3_000, 2_000, 1_000}, dur(10, 5.5, 5.5, 9)},
		// 1..11 s: p90 index ⌈9.9⌉−1 = 9 → 10 s
		{[]int32{1e3, 2e3, 3e3, 4e3, 5e3, 6e3, 7e3, 8e3, 9e3, 10e3, 11e3}, dur(11, 6, 6, 10)},
		// rounding to 0.1 s: 1.25 → 1.3 (half away from zero), 1.349 → 1.3
		{[]int32{1_250}, dur(1, 1.3, 1.3, 1.3)},
		{[]int32{1_349}, dur(1, 1.3, 1.3, 1.3)},
	} {
		s := samples{ms: slices.Clone(tc.ms)}
		for _, v := range tc.ms {
			s.sum += int64(v)
		}
		if got := s.summary(); got != tc.want {
			t.Errorf("%v: got %+v, want %+v", tc.ms, got, tc.want)
		}
	}
	// Every n agrees with the definition written with floats, where 0.9·n
	// is exact enough (n < 1000).
	for n := 1; n < 1000; n++ {
		if got, want := (9*n+9)/10-1, int(ceilTenths(9*n))-1; got != want {
			t.Fatalf("n=%d: p90 index %d, want %d", n, got, want)
		}
	}
}

// ceilTenths is ⌈x/10⌉ for x ≥ 0.
func ceilTenths(x int) int {
	if x%10 == 0 {
		return x / 10
	}
	return x/10 + 1
}

func TestDurationsClamped(t *testing.T) {
	// An offline kiosk's clock ran 30 s fast: the call is "before" the
	// issue. Wait counts 0, never a negative time.
	evs := []record.Event{
		{At: at("09:00:30"), Day: testDay, Type: record.Issued, Ticket: "А001", Service: "s", Offline: true},
		{At: at("09:00:00"), Day: testDay, Type: record.Called, Ticket: "А001", Service: "s", Window: 1},
		{At: at("09:05:00"), Day: testDay, Type: record.Finished, Ticket: "А001", Service: "s", Window: 1},
	}
	r, err := Compute(slices.Values(evs), Query{From: testDay, To: testDay, By: ByWindow}, Names{}, testLoc)
	if err != nil {
		t.Fatal(err)
	}
	if w, s := r.Total.Wait, r.Total.Service; w != dur(1, 0, 0, 0) || s != dur(1, 300, 300, 300) {
		t.Errorf("wait %+v, service %+v", w, s)
	}
}

func TestRecallWithoutCall(t *testing.T) {
	// A Recalled with no Called before it is the first call; a Called after
	// it does not move it.
	evs := []record.Event{
		{At: at("09:00:00"), Day: testDay, Type: record.Issued, Ticket: "А001"},
		{At: at("09:01:00"), Day: testDay, Type: record.Recalled, Ticket: "А001", Window: 1},
		{At: at("09:02:00"), Day: testDay, Type: record.Called, Ticket: "А001", Window: 1},
		{At: at("09:03:00"), Day: testDay, Type: record.NoShow, Ticket: "А001", Window: 1},
	}
	r, _ := Compute(slices.Values(evs), Query{From: testDay, To: testDay, By: ByWindow}, Names{}, testLoc)
	if w := r.Total.Wait; w != dur(1, 60, 60, 60) || r.Total.NoShows != 1 {
		t.Errorf("wait %+v, no-shows %d", w, r.Total.NoShows)
	}
}

func TestRatingAfterMidnightAndDaysDropped(t *testing.T) {
	// Days 2026-11-01 to 2026-11-10, three tickets a day: А001 served
	// until 23:59 and rated at 00:00:30 the next day (still its ticket's
	// Day), after Б001 of the next day was issued at 00:00:10; А002 and
	// Б001 left waiting.
	var evs []record.Event
	day0 := time.Date(2026, 11, 1, 0, 0, 0, 0, testLoc)
	for d := range 10 {
		date := day0.AddDate(0, 0, d)
		day := date.Format(dateLayout)
		t0 := date.Add(23*time.Hour + 50*time.Minute)
		evs = append(evs,
			record.Event{At: t0, Day: day, Type: record.Issued, Ticket: "А001", Service: "s"},
			record.Event{At: t0, Day: day, Type: record.Issued, Ticket: "А002", Service: "s"},
			record.Event{At: t0.Add(5 * time.Minute), Day: day, Type: record.Called, Ticket: "А001", Window: 4},
			record.Event{At: t0.Add(9 * time.Minute), Day: day, Type: record.Finished, Ticket: "А001", Window: 4},
			record.Event{At: t0.Add(10*time.Minute + 30*time.Second), Day: day, Type: record.Rated, Ticket: "А001", Window: 4, Score: 5},
			record.Event{At: date.Add(10 * time.Second), Day: day, Type: record.Issued, Ticket: "Б001", Service: "s"},
		)
	}
	slices.SortStableFunc(evs, func(a, b record.Event) int { return a.At.Compare(b.At) })
	c := newComputation(Query{From: "2026-11-01", To: "2026-11-30", By: ByWindow}, func(string) *time.Location { return testLoc })
	c.switchOffice("")
	for i := range evs {
		c.add(&evs[i])
		if days := c.state.days; len(days) > 2 {
			t.Fatalf("after event %d, %d days kept: %v", i, len(days), slices.Collect(mapKeys(days)))
		}
	}
	r := c.report(Names{})
	if len(r.Rows) != 1 || r.Rows[0].Key != "4" || r.Rows[0].Ratings.Count != 10 || r.Total.Ratings.Count != 10 {
		t.Errorf("rows %+v, total ratings %+v", r.Rows, r.Total.Ratings)
	}
	if r.OpenEpisodes != 20 || r.Total.Tickets != 30 || r.Total.ServedTickets != 10 {
		t.Errorf("open %d, tickets %d, served %d", r.OpenEpisodes, r.Total.Tickets, r.Total.ServedTickets)
	}
}

func mapKeys[K comparable, V any](m map[K]V) func(func(K) bool) {
	return func(yield func(K) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func TestComputeRange(t *testing.T) {
	// The day before the test day only holds one Issued.
	r, err := Compute(slices.Values(dayEvents()), Query{From: "2026-11-01", To: "2026-11-22", By: ByService}, testNames, testLoc)
	if err != nil {
		t.Fatal(err)
	}
	if r.Total.Tickets != 1 || len(r.Rows) != 0 || r.OpenEpisodes != 1 {
		t.Errorf("%+v", r)
	}
	// Nothing at all: empty lists, not null, in the JSON.
	r, _ = Compute(slices.Values([]record.Event(nil)), Query{From: testDay, To: testDay, By: ByHour}, Names{}, testLoc)
	b, _ := json.Marshal(r)
	if !strings.Contains(string(b), `"rows":[]`) || !strings.Contains(string(b), `"top_services":[]`) {
		t.Errorf("%s", b)
	}
}

func TestComputeRefuses(t *testing.T) {
	if _, err := Compute(slices.Values(dayEvents()), Query{From: testDay, To: testDay, By: "day"}, Names{}, testLoc); err == nil {
		t.Error("by=day accepted")
	}
	if _, err := Compute(slices.Values(dayEvents()), Query{From: testDay, To: testDay, By: ByHour}, Names{}, nil); err == nil {
		t.Error("nil location accepted")
	}
}

func TestComputeReadsOnce(t *testing.T) {
	evs := dayEvents()
	passes := 0
	seq := func(yield func(record.Event) bool) {
		passes++
		for _, e := range evs {
			if !yield(e) {
				return
			}
		}
	}
	if _, err := Compute(seq, Query{From: testDay, To: testDay, By: ByGroup}, testNames, testLoc); err != nil || passes != 1 {
		t.Errorf("err %v, %d passes", err, passes)
	}
}

// The JSON's field names are the API: snake_case, every one present.
func TestJSONFields(t *testing.T) {
	b, err := json.Marshal(computeDay(t, ByOperator))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	keys := func(v any) string {
		var ks []string
		for k := range v.(map[string]any) {
			ks = append(ks, k)
		}
		slices.Sort(ks)
		return strings.Join(ks, ",")
	}
	row := m["rows"].([]any)[1]
	for _, c := range []struct{ got, want string }{
		{keys(m), "by,from,ignored_events,open_episodes,rows,to,top_services,total"},
		{keys(row), "cancelled,key,name,name_en,no_shows,ratings,service,transfers,visitors,wait"},
		{keys(m["total"]), "cancelled,no_shows,ratings,served_tickets,service,tickets,transfers,visitors,wait"},
		{keys(row.(map[string]any)["wait"]), "count,mean_s,median_s,p90_s"},
		{keys(row.(map[string]any)["ratings"]), "count,dist,mean"},
		{keys(m["top_services"].([]any)[0]), "issued,name,name_en,service,transferred_in"},
	} {
		if c.got != c.want {
			t.Errorf("fields %s, want %s", c.got, c.want)
		}
	}
	if !strings.Contains(string(b), `"dist":[0,1,1,1,1]`) {
		t.Errorf("dist not an array: %s", b)
	}
}

func TestCameWithoutCall(t *testing.T) {
	// A visitor sent straight to a window nobody called from: service
	// starts at came; no wait is counted, since nobody called.
	evs := []record.Event{
		{At: at("09:00:00"), Day: testDay, Type: record.Issued, Ticket: "А001"},
		{At: at("09:01:00"), Day: testDay, Type: record.Came, Ticket: "А001", Window: 1},
		{At: at("09:04:00"), Day: testDay, Type: record.Finished, Ticket: "А001", Window: 1},
	}
	r, _ := Compute(slices.Values(evs), Query{From: testDay, To: testDay, By: ByWindow}, Names{}, testLoc)
	if w, s := r.Total.Wait, r.Total.Service; w.Count != 0 || s != dur(1, 180, 180, 180) {
		t.Errorf("wait %+v, service %+v", w, s)
	}
}

// A log out of order (it cannot be, but a bug elsewhere could make it so)
// gives figures that still add up, and no panic.
func TestShuffledLog(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for range 200 {
		evs := dayEvents()
		rng.Shuffle(len(evs), func(i, j int) { evs[i], evs[j] = evs[j], evs[i] })
		for _, by := range Bys {
			r, err := Compute(slices.Values(evs), Query{From: testDay, To: testDay, By: by}, testNames, testLoc)
			if err != nil {
				t.Fatal(err)
			}
			rated := 0
			for _, row := range r.Rows {
				rated += row.Ratings.Count
			}
			if rated > r.Total.Ratings.Count || r.Total.Tickets > 12 || r.Total.Visitors > 11+2 {
				t.Fatalf("by %s: %+v", by, r.Total)
			}
			checkSums(t, r, r.Total.Ratings.Count-rated)
		}
	}
}
