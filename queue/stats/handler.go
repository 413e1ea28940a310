package stats

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"iter"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cherga/kiosk/i18n"
	"github.com/cherga/kiosk/queue/record"
)

// Source is what the handler reads reports from: queued's event log and
// its configuration.
type Source interface {
	// Events yields the events whose Day is within [from, to] (both
	// YYYY-MM-DD, valid, from ≤ to), in log order; extra events are
	// allowed and skipped. A failure is yielded once as the last item.
	// Iteration stops early when ctx is done or the caller stops.
	Events(ctx context.Context, from, to string) iter.Seq2[record.Event, error]
	Names() Names
	Location() *time.Location // the office's time zone
	Today() string            // the office-local date, YYYY-MM-DD
}

//go:embed reports.html
var pageHTML string

//go:embed reports.css
var pageCSS []byte

var pageTemplate = template.Must(template.New("reports.html").Funcs(template.FuncMap{
	"t":       func(lang, key string, args ...any) string { return i18n.T(lang, key, args...) },
	"minutes": func(lang string, s float64) string { return decimal(lang, s/60, 1) },
	"decimal": func(lang string, x float64) string { return decimal(lang, x, 2) },
	"rowOf":   func(lang string, r pageRow) rowInLang { return rowInLang{lang, r} },
}).Parse(pageHTML))

// pageCSP allows the page its own stylesheet and form, nothing else: no
// script at all, no inline style (the charts use SVG attributes).
const pageCSP = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// Handler serves the reports page at GET /reports/ (its stylesheet at
// /reports/reports.css) and the report as data at GET /api/v1/stats;
// mount it at those paths as they are. It checks no credential: wrap it.
// A missing from or to is today.
func Handler(src Source) http.Handler { return newHandler(src, slog.Default()) }

func newHandler(src Source, log *slog.Logger) http.Handler {
	h := &handler{log: log, pagePath: "/reports/", apiPath: "/api/v1/stats", title: "reports.title", bys: Bys,
		parse: ParseQuery, today: src.Today, names: src.Names}
	h.compute = func(ctx context.Context, q Query, _ []string) (*Report, error) {
		var srcErr error
		events := func(yield func(record.Event) bool) {
			for e, err := range src.Events(ctx, q.From, q.To) {
				if err != nil {
					srcErr = err
					return
				}
				if !yield(e) {
					return
				}
			}
		}
		rep, err := Compute(events, q, src.Names(), src.Location())
		if err == nil {
			err = srcErr
		}
		return rep, err
	}
	return h.mux()
}

// OfficeEvent is one event of a city's database and the office it is of.
type OfficeEvent struct {
	Office string
	record.Event
}

// CitySource is what a city's handler reads reports from: every office's
// events (a city's database) and their names.
type CitySource interface {
	// Events yields the events of offices (nil: every office) whose Day
	// is within [from, to], each office's in its log order; a failure
	// is yielded once as the last item.
	Events(ctx context.Context, offices []string, from, to string) iter.Seq2[OfficeEvent, error]
	// Names are the offices', services', groups' and operators' names;
	// Names().Offices lists every office a query may name.
	Names() Names
	Location(office string) *time.Location // nil: not an office
	Today() string                         // the city's date, YYYY-MM-DD
}

// CityHandler is Handler for a city's service: the page at pagePath
// (like "/city/reports/", its stylesheet at pagePath+"reports.css") and
// the data at apiPath, over ComputeOffices (CityBys, by office unless
// asked; office=id, repeatable, keeps to those offices). It checks no
// credential: wrap it.
func CityHandler(src CitySource, pagePath, apiPath string, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.Default()
	}
	h := &handler{log: log, pagePath: pagePath, apiPath: apiPath, title: "reports.city_title", bys: CityBys,
		parse: ParseCityQuery, today: src.Today, names: src.Names, city: true}
	h.compute = func(ctx context.Context, q Query, offices []string) (*Report, error) {
		var srcErr error
		events := func(yield func(string, record.Event) bool) {
			for e, err := range src.Events(ctx, offices, q.From, q.To) {
				if err != nil {
					srcErr = err
					return
				}
				if !yield(e.Office, e.Event) {
					return
				}
			}
		}
		rep, err := ComputeOffices(events, q, src.Names(), src.Location)
		if err == nil {
			err = srcErr
		}
		return rep, err
	}
	return h.mux()
}

func (h *handler) mux() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+h.pagePath+"{$}", h.page)
	mux.HandleFunc("GET "+h.pagePath+"reports.css", h.css)
	mux.HandleFunc("GET "+h.apiPath, h.api)
	return mux
}

type handler struct {
	log      *slog.Logger
	pagePath string // the page's path, ending in /
	apiPath  string
	title    string // the page's title's i18n key
	bys      []string
	city     bool // office= is a parameter
	parse    func(url.Values) (Query, error)
	today    func() string
	names    func() Names
	compute  func(ctx context.Context, q Query, offices []string) (*Report, error)
}

// maxOffices is how many office= a city's query may name.
const maxOffices = 1000

// query reads the report's parameters, today for a missing date, and a
// city's office= list (nil: all).
func (h *handler) query(r *http.Request) (Query, []string, error) {
	v := r.URL.Query()
	for _, p := range []string{"from", "to"} {
		if len(v[p]) <= 1 && v.Get(p) == "" {
			v.Set(p, h.today())
		}
	}
	q, err := h.parse(v)
	if err != nil || !h.city {
		return q, nil, err
	}
	var offices []string
	known := h.names().Offices
	for _, o := range v["office"] {
		for _, id := range strings.Split(o, ",") {
			if id == "" {
				continue
			}
			if _, ok := known[id]; !ok {
				return Query{}, nil, &QueryError{Param: "office", Got: id, Expected: "the id of an office of the city (GET /api/v1/city/status lists them)"}
			}
			if !slices.Contains(offices, id) {
				offices = append(offices, id)
			}
			if len(offices) > maxOffices {
				return Query{}, nil, &QueryError{Param: "office", Got: id, Expected: fmt.Sprintf("at most %d offices", maxOffices)}
			}
		}
	}
	return q, offices, nil
}

// apiError is the body of a failed API request, as everywhere in queued.
type apiError struct {
	Code  string `json:"code"`
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (h *handler) api(w http.ResponseWriter, r *http.Request) {
	q, offices, err := h.query(r)
	if err == nil {
		err = checkFormat(r.URL.Query()["format"])
	}
	if err != nil {
		writeJSON(w, http.StatusBadRequest, apiError{Code: "bad_query", Error: err.Error()})
		return
	}
	rep, err := h.compute(r.Context(), q, offices)
	if err != nil {
		h.failed(r, err)
		writeJSON(w, http.StatusInternalServerError, apiError{Code: "internal", Error: "the report could not be computed; the server's log says why"})
		return
	}
	if r.URL.Query().Get("format") != "csv" {
		writeJSON(w, http.StatusOK, rep)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+csvFilename(q)+`"`)
	w.Header().Set("Cache-Control", "no-store")
	var buf bytes.Buffer
	_ = WriteCSV(&buf, rep) // a bytes.Buffer does not fail
	_, _ = w.Write(buf.Bytes())
}

func checkFormat(vals []string) error {
	switch {
	case len(vals) > 1:
		return &QueryError{Param: "format", Got: vals[0] + ",…", Expected: "one value"}
	case len(vals) == 0, vals[0] == "", vals[0] == "json", vals[0] == "csv":
		return nil
	}
	return &QueryError{Param: "format", Got: vals[0], Expected: "csv or json"}
}

// csvFilename is the CSV's name when saved: only checked dates and a by.
func csvFilename(q Query) string {
	return "cherga-stats-" + q.From + "-" + q.To + "-" + q.By + ".csv"
}

func (h *handler) failed(r *http.Request, err error) {
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		return // the client left
	}
	h.log.Error("stats: report failed", "path", r.URL.Path, "query", r.URL.RawQuery, "err", err)
}

func (h *handler) css(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(pageCSS)
}

// pageData is what reports.html shows.
type pageData struct {
	Title     string // the page's title's key
	PagePath  string
	Offices   []option // a city's: the offices to keep to ("" all)
	Lang      string
	SwitchURL string // the same page in the other language
	SwitchTo  string // that language
	Query     Query
	Bys       []option
	ByLabel   string
	Error     string // the parameter that could not be used
	Failed    bool   // the report could not be computed
	Report    *Report
	Rows      []pageRow
	Total     pageRow
	Charts    []svgChart
	Top       []pageService
	CSVURL    string
	JSONURL   string
}

type option struct {
	Value, Label string
	Selected     bool
}

type pageRow struct {
	Name string
	Figures
}

// rowInLang is a table row's figures and the language to write them in.
type rowInLang struct {
	Lang string
	Row  pageRow
}

type pageService struct {
	Name string
	ServiceCount
}

func (h *handler) page(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	lang := "uk"
	if v.Get("lang") == "en" {
		lang = "en"
	}
	d := pageData{Lang: lang, SwitchTo: "en", Title: h.title, PagePath: h.pagePath}
	if lang == "en" {
		d.SwitchTo = "uk"
	}
	status := http.StatusOK
	q, offices, err := h.query(r)
	if err != nil {
		status = http.StatusBadRequest
		d.Error = err.Error()
		// Show the form as it was sent, so the wrong value can be fixed.
		d.Query = Query{From: v.Get("from"), To: v.Get("to"), By: v.Get("by")}
	} else {
		d.Query = q
		rep, err := h.compute(r.Context(), q, offices)
		if err != nil {
			h.failed(r, err)
			status, d.Failed = http.StatusInternalServerError, true
		} else {
			d.fill(rep, h.apiPath, offices)
		}
	}
	by := d.Query.By
	if !slices.Contains(h.bys, by) {
		by = h.bys[0]
	}
	d.ByLabel = i18n.T(lang, "reports.by."+by)
	for _, by := range h.bys {
		d.Bys = append(d.Bys, option{Value: by, Label: i18n.T(lang, "reports.by."+by), Selected: by == d.Query.By})
	}
	sw := url.Values{"from": {d.Query.From}, "to": {d.Query.To}, "by": {d.Query.By}}
	if h.city {
		d.Offices = h.officeOptions(lang, offices)
		if len(offices) == 1 {
			sw.Set("office", offices[0])
		}
	}
	if d.SwitchTo == "en" {
		sw.Set("lang", "en")
	}
	d.SwitchURL = h.pagePath + "?" + sw.Encode()

	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, d); err != nil {
		h.log.Error("stats: reports page", "err", err)
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", pageCSP)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// officeOptions are the page's choice of offices: all, or one.
func (h *handler) officeOptions(lang string, chosen []string) []option {
	names := h.names().Offices
	opts := []option{{Value: "", Label: i18n.T(lang, "reports.all_offices"), Selected: len(chosen) != 1}}
	for _, id := range slices.Sorted(maps.Keys(names)) {
		uk, en := bilingual(names, id)
		label := uk
		if lang == "en" {
			label = en
		}
		opts = append(opts, option{Value: id, Label: label, Selected: len(chosen) == 1 && chosen[0] == id})
	}
	return opts
}

// fill lays out a computed report for the page in d.Lang; apiPath is the
// data's, offices the city's offices it keeps to.
func (d *pageData) fill(rep *Report, apiPath string, offices []string) {
	d.Report = rep
	lang := d.Lang
	chartRows := make([]chartRow, 0, len(rep.Rows))
	hours := map[int]int{}
	for _, row := range rep.Rows {
		name := row.Name
		if lang == "en" {
			name = row.NameEN
		}
		if row.Key == "" {
			name = i18n.T(lang, "reports.not_recorded")
		}
		d.Rows = append(d.Rows, pageRow{Name: name, Figures: row.Figures})
		chartRows = append(chartRows, chartRow{Name: name, Visitors: row.Visitors,
			WaitMedian: row.Wait.MedianS / 60, WaitP90: row.Wait.P90S / 60})
		if rep.By == ByHour {
			if h, err := strconv.Atoi(row.Key); err == nil {
				hours[h] = row.Visitors
			}
		}
	}
	d.Total = pageRow{Name: i18n.T(lang, "reports.total"), Figures: rep.Total.Figures}
	if len(rep.Rows) > 0 {
		if rep.By == ByHour {
			d.Charts = append(d.Charts, hoursChart(lang, i18n.T(lang, "reports.chart.hours"), hours))
		} else {
			d.Charts = append(d.Charts, visitorsChart(lang, i18n.T(lang, "reports.chart.visitors", "by", d.byLower()), chartRows))
		}
		d.Charts = append(d.Charts, waitChart(lang, i18n.T(lang, "reports.chart.wait", "by", d.byLower()), chartRows))
	}
	for _, s := range rep.TopServices {
		name := s.Name
		if lang == "en" {
			name = s.NameEN
		}
		d.Top = append(d.Top, pageService{Name: name, ServiceCount: s})
	}
	q := rep.query().Values()
	if len(offices) > 0 {
		q["office"] = offices
	}
	d.JSONURL = apiPath + "?" + q.Encode()
	q.Set("format", "csv")
	d.CSVURL = apiPath + "?" + q.Encode()
}

func (d *pageData) byLower() string { return i18n.T(d.Lang, "reports.by_in_title."+d.Query.By) }

func (r *Report) query() Query { return Query{From: r.From, To: r.To, By: r.By} }
