package stats

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

func TestParseQuery(t *testing.T) {
	for _, tc := range []struct {
		raw  string
		want Query
		err  string
	}{
		{"from=2026-11-01&to=2026-11-30&by=window", Query{"2026-11-01", "2026-11-30", ByWindow}, ""},
		{"from=2026-11-23&to=2026-11-23", Query{"2026-11-23", "2026-11-23", ByOperator}, ""},
		{"from=2026-11-23&to=2026-11-23&by=", Query{"2026-11-23", "2026-11-23", ByOperator}, ""},
		{"from=2024-01-01&to=2024-12-31&by=hour", Query{"2024-01-01", "2024-12-31", ByHour}, ""}, // 366 days, a leap year
		{"from=2026-11-23&to=2026-11-23&by=x", Query{}, `by: got "x", expected one of operator, window, service, group, hour`},
		{"to=2026-11-23", Query{}, "from: missing, expected a date like 2026-11-23"},
		{"from=2026-11-23", Query{}, "to: missing, expected a date like 2026-11-23"},
		{"from=23.11.2026&to=2026-11-23", Query{}, `from: got "23.11.2026", expected a date like 2026-11-23`},
		{"from=2026-02-30&to=2026-03-01", Query{}, `from: got "2026-02-30", expected a date like 2026-11-23`},
		{"from=2026-11-23&to=2026-11-23+", Query{}, `to: got "2026-11-23 ", expected a date like 2026-11-23`},
		{"from=2026-11-24&to=2026-11-23", Query{}, `to: got "2026-11-23", expected a date on or after from (2026-11-24)`},
		{"from=2025-01-01&to=2026-01-01", Query{"2025-01-01", "2026-01-01", ByOperator}, ""}, // 366 days
		{"from=2025-01-01&to=2026-01-02", Query{}, `to: got "2026-01-02", expected at most 366 days from 2025-01-01, not 367`},
		{"from=2026-11-23&from=2026-11-24&to=2026-11-24", Query{}, `from: got "2026-11-23,2026-11-24", expected one value`},
	} {
		v, _ := url.ParseQuery(tc.raw)
		got, err := ParseQuery(v)
		if tc.err != "" {
			var qe *QueryError
			if err == nil || err.Error() != tc.err || !errors.As(err, &qe) {
				t.Errorf("%s: error %v, want %s", tc.raw, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s: got %+v, %v; want %+v", tc.raw, got, err, tc.want)
		}
	}
}

func TestQueryErrorShortensValue(t *testing.T) {
	e := &QueryError{Param: "by", Got: strings.Repeat("ї", 100), Expected: "x"}
	if s := e.Error(); len(s) > 100 || !strings.Contains(s, "…") || !strings.HasPrefix(s, `by: got "їїї`) {
		t.Errorf("%s", s)
	}
}

func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{
		"from=2026-11-01&to=2026-11-30&by=window",
		"from=2026-11-23&to=2026-11-23&by=hour&lang=en",
		"from=2024-02-29&to=2025-02-28",
		"from=0000-01-01&to=9999-12-31&by=group",
		"by=x&by=y", "from=%ff&to=%00", "from=2026-11-23&to=2026-11-23&by=servic%D0%B5",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q, err := ParseQuery(v)
		if err != nil {
			var qe *QueryError
			if !errors.As(err, &qe) || !strings.HasPrefix(err.Error(), qe.Param+": ") {
				t.Fatalf("%q: error %v does not name its parameter", raw, err)
			}
			return
		}
		// What is accepted is a range Compute takes, and survives a round trip.
		if q.From > q.To || len(q.From) != 10 || len(q.To) != 10 {
			t.Fatalf("%q: accepted %+v", raw, q)
		}
		if err := q.check(Bys); err != nil {
			t.Fatalf("%q: accepted %+v, then %v", raw, q, err)
		}
		if back, err := ParseQuery(q.Values()); err != nil || back != q {
			t.Fatalf("%q: %+v came back as %+v, %v", raw, q, back, err)
		}
	})
}
