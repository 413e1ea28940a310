package stats

import (
	"context"
	"encoding/json"
	"iter"
	"log/slog"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/cherga/kiosk/queue/record"
)

// Two offices with the same day (the same ticket numbers): the city's
// report keeps their tickets apart, its rows by office are each office's
// own total, and its counts are the sums.
func TestComputeOffices(t *testing.T) {
	day := dayEvents()
	q := Query{From: testDay, To: testDay, By: ByOffice}
	events := func(yield func(string, record.Event) bool) {
		// Interleaved: an event of one office, then one of the other.
		for _, e := range day {
			if !yield("a", e) || !yield("b", e) {
				return
			}
		}
	}
	locs := func(o string) *time.Location { return map[string]*time.Location{"a": testLoc, "b": testLoc}[o] }
	names := testNames
	names.Offices = map[string]Name{"a": {UK: "Центр А", EN: "Centre A"}}
	city, err := ComputeOffices(events, q, names, locs)
	if err != nil {
		t.Fatal(err)
	}
	own, err := Compute(slices.Values(day), Query{From: testDay, To: testDay, By: ByGroup}, testNames, testLoc)
	if err != nil {
		t.Fatal(err)
	}
	if len(city.Rows) != 2 || city.Rows[0].Key != "a" || city.Rows[0].Name != "Центр А" || city.Rows[1].Name != "b" {
		t.Fatalf("rows %+v", city.Rows)
	}
	for _, row := range city.Rows {
		// A rating that rated no episode is in the total only, the
		// office's and the city's, in no row.
		f, want := row.Figures, own.Total.Figures
		f.Ratings, want.Ratings = Ratings{}, Ratings{}
		if !reflect.DeepEqual(f, want) {
			t.Errorf("office %s: %+v, its own report %+v", row.Key, row.Figures, own.Total.Figures)
		}
	}
	if city.Total.Tickets != 2*own.Total.Tickets || city.Total.Visitors != 2*own.Total.Visitors ||
		city.IgnoredEvents != 2*own.IgnoredEvents || city.OpenEpisodes != 2*own.OpenEpisodes ||
		city.Total.Ratings.Count != 2*own.Total.Ratings.Count {
		t.Errorf("city total %+v, office %+v", city.Total, own.Total)
	}
	if city.Total.Wait.MedianS != own.Total.Wait.MedianS {
		t.Errorf("the same samples twice have the same median: %v, %v", city.Total.Wait, own.Total.Wait)
	}

	byOp, err := ComputeOffices(events, Query{From: testDay, To: testDay, By: ByOperator}, names, locs)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, r := range byOp.Rows {
		keys = append(keys, r.Key)
	}
	if want := []string{"", "a/olena", "a/petro", "b/olena", "b/petro"}; !slices.Equal(keys, want) {
		t.Errorf("operator keys %q, want %q", keys, want)
	}

	if _, err := Compute(slices.Values(day), q, testNames, testLoc); err == nil {
		t.Error("an office's Compute took by=office")
	}
	if _, err := ComputeOffices(func(yield func(string, record.Event) bool) { yield("x", day[0]) }, q, names, locs); err == nil {
		t.Error("an office without a time zone was taken")
	}
}

// citySource is two offices with the test day each.
type citySource struct{}

func (citySource) Events(ctx context.Context, offices []string, from, to string) iter.Seq2[OfficeEvent, error] {
	return func(yield func(OfficeEvent, error) bool) {
		for _, o := range []string{"a", "b"} {
			if offices != nil && !slices.Contains(offices, o) {
				continue
			}
			for _, e := range dayEvents() {
				if e.Day >= from && e.Day <= to && !yield(OfficeEvent{Office: o, Event: e}, nil) {
					return
				}
			}
		}
	}
}

func (citySource) Names() Names {
	n := testNames
	n.Offices = map[string]Name{"a": {UK: "Центр А", EN: "Centre A"}, "b": {UK: "Центр Б", EN: "Centre B"}}
	return n
}
func (citySource) Location(string) *time.Location { return testLoc }
func (citySource) Today() string                  { return testDay }

// FuzzCityHandler: whatever the query, a city's API answers 200 with a
// report or 400 with a JSON error naming the parameter, never 500, and
// its page answers 200 or 400.
func FuzzCityHandler(f *testing.F) {
	for _, s := range []string{
		"from=2026-11-23&to=2026-11-23", "by=operator&office=a", "office=a,b,a&by=hour&format=csv",
		"office=zzz", "by=window", "office=&office=b&lang=en", "from=2026-11-23&to=2027-12-01",
	} {
		f.Add(s)
	}
	h := CityHandler(citySource{}, "/city/reports/", "/api/v1/city/stats", slog.New(slog.DiscardHandler))
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		raw = v.Encode()
		w := get(t, h, "/api/v1/city/stats?"+raw)
		switch w.Code {
		case http.StatusOK:
		case http.StatusBadRequest:
			var e apiError
			if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Code != "bad_query" || e.Error == "" {
				t.Fatalf("%q: %s", raw, w.Body)
			}
		default:
			t.Fatalf("%q: %d %s", raw, w.Code, w.Body)
		}
		if w := get(t, h, "/city/reports/?"+raw); w.Code != http.StatusOK && w.Code != http.StatusBadRequest {
			t.Fatalf("page %q: %d", raw, w.Code)
		}
	})
}
