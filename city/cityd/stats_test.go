package cityd

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cherga/kiosk/city"
	"github.com/cherga/kiosk/city/citygen"
	"github.com/cherga/kiosk/httpapi"
	"github.com/cherga/kiosk/queue/record"
	"github.com/cherga/kiosk/queue/stats"
)

// cityData is three centres' record of three days in the database.
type cityData struct {
	f       *fixture
	offices []string
	events  map[string][]record.Event
	names   stats.Names
	days    []string
}

func newCityData(t *testing.T) *cityData {
	offices := []string{"darnytsia", "obolon", "podil"}
	f := newFixture(t, nil)
	d := &cityData{f: f, offices: offices, events: map[string][]record.Event{}, days: []string{"2026-11-23", "2026-11-24", "2026-11-25"},
		names: stats.Names{Offices: map[string]stats.Name{}, Groups: map[string]stats.Name{}, Services: map[string]stats.Name{}, Operators: map[string]string{}}}
	gn := groupNames(10)
	for id, n := range gn {
		d.names.Groups[id] = stats.Name{UK: n["uk"], EN: n["en"]}
	}
	for i, o := range offices {
		register(t, f.db, o, "ЦНАП "+o)
		d.names.Offices[o] = stats.Name{UK: "ЦНАП " + o, EN: "Centre " + o}
		putStatus(t, f.db, city.Status{Office: o, At: time.Now(), GroupNames: gn, Waiting: map[string]int{}, WaitMinutes: map[string]int{}})
		// The same ticket numbers in every centre, different lives.
		d.events[o] = simulateDays(uint64(i+1), d.days, 150+50*i)
		appendAll(t, f.db, o, d.events[o])
	}
	return d
}

// report asks cityd for a report as JSON.
func (d *cityData) report(t *testing.T, q url.Values) *stats.Report {
	t.Helper()
	resp := d.f.get("/api/v1/city/stats?"+q.Encode(), "stats")
	body := readAll(t, resp)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: %d %s", q.Encode(), resp.StatusCode, body)
	}
	var r stats.Report
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatal(err)
	}
	return &r
}

// roundTrip is what a report is after its JSON, as cityd's answer is.
func roundTrip(t *testing.T, r *stats.Report) *stats.Report {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var out stats.Report
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return &out
}

func (d *cityData) union() func(yield func(string, record.Event) bool) {
	return func(yield func(string, record.Event) bool) {
		for _, o := range d.offices {
			for _, e := range d.events[o] {
				if !yield(o, e) {
					return
				}
			}
		}
	}
}

// TestStatsEqualOffices: the city's figures are ComputeOffices over every
// centre's events, a centre's are what its own queued computes (Compute
// over its events alone, the same JSON and CSV), and the city's counts
// are the sums of the centres'.
func TestStatsEqualOffices(t *testing.T) {
	d := newCityData(t)
	from, to := d.days[0], d.days[len(d.days)-1]
	loc := func(string) *time.Location { return kyiv }
	officeNames := d.names
	officeNames.Offices = nil // an office's own report names no offices

	for _, by := range []string{stats.ByGroup, stats.ByService, stats.ByHour, stats.ByOffice, stats.ByOperator} {
		q := stats.Query{From: from, To: to, By: by}
		got := d.report(t, q.Values())
		want, err := stats.ComputeOffices(d.union(), q, d.names, loc)
		if err != nil {
			t.Fatal(err)
		}
		if want := roundTrip(t, want); !reflect.DeepEqual(got, want) {
			t.Errorf("by %s: cityd\n%+v\nComputeOffices over the union\n%+v", by, got, want)
		}
		if got.Total.Tickets == 0 || len(got.Rows) < 3 {
			t.Fatalf("by %s: an empty report %+v", by, got.Total)
		}

		// Each centre alone, as its own queued computes it.
		var sum stats.Total
		for _, o := range d.offices {
			if by == stats.ByOffice || by == stats.ByOperator {
				continue // an office's own report has neither
			}
			v := q.Values()
			v.Set("office", o)
			got := d.report(t, v)
			own, err := stats.Compute(slices.Values(d.events[o]), q, d.names, kyiv)
			if err != nil {
				t.Fatal(err)
			}
			if own := roundTrip(t, own); !reflect.DeepEqual(got, own) {
				t.Errorf("by %s, office %s: cityd\n%+v\nthe office's own\n%+v", by, o, got, own)
			}
			// The CSV, byte for byte.
			v.Set("format", "csv")
			resp := d.f.get("/api/v1/city/stats?"+v.Encode(), "stats")
			var csv bytes.Buffer
			if err := stats.WriteCSV(&csv, own); err != nil {
				t.Fatal(err)
			}
			if body := readAll(t, resp); body != csv.String() {
				t.Errorf("by %s, office %s: CSV\n%s\nthe office's own\n%s", by, o, body, csv.String())
			}
			if ct := resp.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
				t.Errorf("CSV Content-Type %q", ct)
			}
			sum.Tickets += own.Total.Tickets
			sum.ServedTickets += own.Total.ServedTickets
			sum.Visitors += own.Total.Visitors
			sum.NoShows += own.Total.NoShows
			sum.Transfers += own.Total.Transfers
			sum.Cancelled += own.Total.Cancelled
			sum.Wait.Count += own.Total.Wait.Count
			sum.Ratings.Count += own.Total.Ratings.Count
		}
		if by != stats.ByOffice && by != stats.ByOperator {
			g := got.Total
			if g.Tickets != sum.Tickets || g.ServedTickets != sum.ServedTickets || g.Visitors != sum.Visitors || g.NoShows != sum.NoShows ||
				g.Transfers != sum.Transfers || g.Cancelled != sum.Cancelled || g.Wait.Count != sum.Wait.Count || g.Ratings.Count != sum.Ratings.Count {
				t.Errorf("by %s: the city's total %+v is not the sum of the centres' %+v", by, g, sum)
			}
		}
	}

	// By office: a row per centre with its own total's figures (ratings
	// that rated no episode are in totals only).
	rep := d.report(t, url.Values{"from": {from}, "to": {to}})
	if rep.By != stats.ByOffice || len(rep.Rows) != len(d.offices) {
		t.Fatalf("default by %q, %d rows", rep.By, len(rep.Rows))
	}
	for i, o := range d.offices {
		own, _ := stats.Compute(slices.Values(d.events[o]), stats.Query{From: from, To: to, By: stats.ByGroup}, officeNames, kyiv)
		row := rep.Rows[i]
		f, w := row.Figures, own.Total.Figures
		f.Ratings, w.Ratings = stats.Ratings{}, stats.Ratings{}
		if row.Key != o || row.Name != "ЦНАП "+o || row.NameEN != "Centre "+o || !reflect.DeepEqual(f, w) {
			t.Errorf("row %d: %+v, office %s's own total %+v", i, row, o, own.Total.Figures)
		}
	}
	// Operators are the centre's: one "op1" per centre.
	rep = d.report(t, url.Values{"from": {from}, "to": {to}, "by": {"operator"}})
	keys := map[string]bool{}
	for _, r := range rep.Rows {
		keys[r.Key] = true
	}
	for _, o := range d.offices {
		if !keys[o+"/op1"] {
			t.Errorf("no row %s/op1 in %v", o, keys)
		}
	}
	// One day of two centres.
	rep = d.report(t, url.Values{"from": {d.days[1]}, "to": {d.days[1]}, "by": {"group"}, "office": {"podil,obolon"}})
	want, _ := stats.ComputeOffices(func(yield func(string, record.Event) bool) {
		for _, o := range []string{"obolon", "podil"} {
			for _, e := range d.events[o] {
				if e.Day == d.days[1] && !yield(o, e) {
					return
				}
			}
		}
	}, stats.Query{From: d.days[1], To: d.days[1], By: "group"}, d.names, loc)
	if want := roundTrip(t, want); !reflect.DeepEqual(rep, want) {
		t.Errorf("two centres, one day:\n%+v\nwant\n%+v", rep, want)
	}
}

func TestStatsRefused(t *testing.T) {
	d := newCityData(t)
	day := d.days[0]
	path := "/api/v1/city/stats?from=" + day + "&to=" + day
	for _, c := range []struct {
		token string
		want  int
	}{{"", http.StatusUnauthorized}, {"tickets", http.StatusForbidden}, {"stats", http.StatusOK}} {
		resp := d.f.get(path, c.token)
		body := readAll(t, resp)
		if resp.StatusCode != c.want {
			t.Errorf("token %q: %d %s, want %d", c.token, resp.StatusCode, body, c.want)
		}
		if c.want != http.StatusOK && (!strings.Contains(body, `"code":`) || strings.Contains(body, "visitors")) {
			t.Errorf("token %q: refused with %s", c.token, body)
		}
	}
	bad := map[string]string{
		"from=2026-11-25&to=2026-11-23":                    "to: got",
		"from=2025-01-01&to=2026-11-23":                    "at most 366 days",
		"from=2026-11-23&to=2026-11-23&by=window":          `by: got \"window\", expected one of office, operator, service, group, hour`,
		"from=2026-13-01&to=2026-11-23":                    "from: got",
		"from=2026-11-23&to=2026-11-23&office=nowhere":     `office: got \"nowhere\"`,
		"from=2026-11-23&to=2026-11-23&format=xml":         "format: got",
		"from=2026-11-23&to=2026-11-23&by=office&by=group": "by: got",
	}
	for q, want := range bad {
		resp := d.f.get("/api/v1/city/stats?"+q, "stats")
		body := readAll(t, resp)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `"code":"bad_query"`) || !strings.Contains(body, want) {
			t.Errorf("%s: %d %s, want 400 saying %q", q, resp.StatusCode, body, want)
		}
	}
	// The page: to the sign-in without a credential, the comparison of
	// the centres with one.
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Get(d.f.http.URL + reportsPath)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login?next="+reportsPath {
		t.Errorf("the page without sign-in: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp = d.f.get(reportsPath+"?from="+day+"&to="+d.days[2], "stats")
	body := readAll(t, resp)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("page %d %s", resp.StatusCode, body)
	}
	for _, o := range d.offices {
		if !strings.Contains(body, "ЦНАП "+o) {
			t.Errorf("the page lacks centre %s", o)
		}
	}
	if n := strings.Count(body, "<svg"); n < 2 {
		t.Errorf("%d charts on the page", n)
	}
	for _, want := range []string{`action="/city/reports/"`, `href="/city/reports/reports.css"`, `/api/v1/city/stats?`, `name="office"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	if strings.Contains(resp.Header.Get("Content-Security-Policy"), "unsafe") || strings.Contains(body, "<script") {
		t.Error("the reports page runs a script")
	}
	if resp := d.f.get(reportsPath+"reports.css", "stats"); resp.StatusCode != http.StatusOK {
		t.Errorf("stylesheet %d", resp.StatusCode)
	}
}

// The same with package citygen's made-up centres (another generator's
// mix: recalls, pauses, ratings), shipped through Append.
func TestStatsEqualOfficesCitygen(t *testing.T) {
	f := newFixture(t, nil)
	gen := citygen.Config{Offices: []string{"c1", "c2"}, From: "2026-03-28", Days: 3, VisitorsPerDay: 200}
	from, to := gen.Range() // over the change to summer time
	byOffice := map[string][]record.Event{}
	for o, e := range citygen.Events(gen) {
		byOffice[o] = append(byOffice[o], e)
	}
	for _, o := range gen.Offices {
		register(t, f.db, o, "ЦНАП "+o)
		appendAll(t, f.db, o, byOffice[o])
	}
	d := &cityData{f: f}
	for _, by := range []string{stats.ByGroup, stats.ByService, stats.ByHour} {
		for _, o := range gen.Offices {
			q := stats.Query{From: from, To: to, By: by}
			v := q.Values()
			v.Set("office", o)
			got := d.report(t, v)
			own, err := stats.Compute(slices.Values(byOffice[o]), q, stats.Names{}, gen.Zone())
			if err != nil {
				t.Fatal(err)
			}
			if own.Total.Visitors == 0 {
				t.Fatal("no visitors made up")
			}
			// cityd names nothing it has no names for: the ids.
			if own := roundTrip(t, own); !reflect.DeepEqual(got, own) {
				t.Errorf("by %s, office %s: cityd\n%+v\nthe office's own\n%+v", by, o, got, own)
			}
		}
	}
}

// A report outlives the server's write timeout (a year of a big city
// takes longer than its 30 s); here the timeout is a millisecond.
func TestStatsOutliveWriteTimeout(t *testing.T) {
	d := newCityData(t)
	hs := httpapi.NewServer(d.f.srv, nil, httpapi.Timeouts{Write: time.Millisecond})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	req, _ := http.NewRequest(http.MethodGet, "http://"+ln.Addr().String()+"/api/v1/city/stats?from="+d.days[0]+"&to="+d.days[2], nil)
	req.Header.Set("Authorization", "Bearer "+d.f.tokens["stats"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r stats.Report
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || resp.StatusCode != http.StatusOK || r.Total.Tickets == 0 {
		t.Fatalf("%d %v %+v", resp.StatusCode, err, r.Total)
	}
}
