package stats

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Row keys a report can be grouped by.
const (
	ByOperator = "operator"
	ByWindow   = "window"
	ByService  = "service"
	ByGroup    = "group"
	ByHour     = "hour"
	// ByOffice is a city's report's only (ComputeOffices).
	ByOffice = "office"
)

// Bys lists the groupings in the order the reports page offers them.
var Bys = []string{ByOperator, ByWindow, ByService, ByGroup, ByHour}

// CityBys lists the groupings of a city's report (ComputeOffices,
// ParseCityQuery): a window number means nothing across offices.
var CityBys = []string{ByOffice, ByOperator, ByService, ByGroup, ByHour}

// MaxDays is the longest range a report may cover.
const MaxDays = 366

const dateLayout = "2006-01-02"

// Query says which report to compute: the days From to To (YYYY-MM-DD,
// inclusive) with rows by By.
type Query struct {
	From string
	To   string
	By   string
}

// QueryError is a parameter that cannot be used; its text names the
// parameter, what it got and what it expects, and is safe to show.
type QueryError struct {
	Param    string // from, to, by or format
	Got      string // the value as given, quoted in the message; "" when missing
	Expected string
}

func (e *QueryError) Error() string {
	if e.Got == "" {
		return fmt.Sprintf("%s: missing, expected %s", e.Param, e.Expected)
	}
	got := e.Got
	if len(got) > 64 {
		// Echo enough to recognise the value, not a whole pasted page.
		cut := 64
		for cut > 0 && !utf8.RuneStart(got[cut]) {
			cut--
		}
		got = got[:cut] + "…"
	}
	return fmt.Sprintf("%s: got %q, expected %s", e.Param, got, e.Expected)
}

// ParseQuery reads from, to and by from a request's query. from and to are
// required (the handler fills in today for a missing one); by defaults to
// operator. Other parameters are left to the caller.
func ParseQuery(v url.Values) (Query, error) { return parseQuery(v, ByOperator, Bys) }

// ParseCityQuery is ParseQuery for a city's report: by is one of CityBys,
// office by default.
func ParseCityQuery(v url.Values) (Query, error) { return parseQuery(v, ByOffice, CityBys) }

func parseQuery(v url.Values, by string, bys []string) (Query, error) {
	q := Query{By: by}
	for _, p := range []struct {
		name string
		dst  *string
	}{{"from", &q.From}, {"to", &q.To}, {"by", &q.By}} {
		switch vals := v[p.name]; len(vals) {
		case 0:
		case 1:
			if vals[0] != "" {
				*p.dst = vals[0]
			}
		default:
			return Query{}, &QueryError{Param: p.name, Got: strings.Join(vals, ","), Expected: "one value"}
		}
	}
	if err := q.check(bys); err != nil {
		return Query{}, err
	}
	return q, nil
}

// Values is the query as URL parameters; ParseQuery(q.Values()) gives q.
func (q Query) Values() url.Values {
	return url.Values{"from": {q.From}, "to": {q.To}, "by": {q.By}}
}

// check reports the first problem with q, as ParseQuery and Compute do;
// bys are the groupings allowed.
func (q Query) check(bys []string) error {
	from, err := parseDate("from", q.From)
	if err != nil {
		return err
	}
	to, err := parseDate("to", q.To)
	if err != nil {
		return err
	}
	if to.Before(from) {
		return &QueryError{Param: "to", Got: q.To, Expected: "a date on or after from (" + q.From + ")"}
	}
	// Dates parsed in UTC have no DST: every day is 24 hours.
	if days := int(to.Sub(from).Hours()/24) + 1; days > MaxDays {
		return &QueryError{Param: "to", Got: q.To, Expected: fmt.Sprintf("at most %d days from %s, not %d", MaxDays, q.From, days)}
	}
	if !slices.Contains(bys, q.By) {
		return &QueryError{Param: "by", Got: q.By, Expected: "one of " + strings.Join(bys, ", ")}
	}
	return nil
}

func parseDate(param, s string) (time.Time, error) {
	// time.Parse alone would take "2026-11-23 " or a leap second; a date
	// that prints back the same is exactly YYYY-MM-DD and real.
	t, err := time.Parse(dateLayout, s)
	if err != nil || t.Format(dateLayout) != s {
		return time.Time{}, &QueryError{Param: param, Got: s, Expected: "a date like 2026-11-23"}
	}
	return t, nil
}
