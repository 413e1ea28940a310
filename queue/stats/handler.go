package stats

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"html/template"
	"iter"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
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
	h := &handler{src: src, log: log}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /reports/{$}", h.page)
	mux.HandleFunc("GET /reports/reports.css", h.css)
	mux.HandleFunc("GET /api/v1/stats", h.api)
	return mux
}

type handler struct {
	src Source
	log *slog.Logger
}

// query reads the report's parameters, today for a missing date.
func (h *handler) query(r *http.Request) (Query, error) {
	v := r.URL.Query()
	for _, p := range []string{"from", "to"} {
		if len(v[p]) <= 1 && v.Get(p) == "" {
			v.Set(p, h.src.Today())
		}
	}
	return ParseQuery(v)
}

// compute runs Compute over the source's events; a failure of the source
// is its error.
func (h *handler) compute(ctx context.Context, q Query) (*Report, error) {
	var srcErr error
	events := func(yield func(record.Event) bool) {
		for e, err := range h.src.Events(ctx, q.From, q.To) {
			if err != nil {
				srcErr = err
				return
			}
			if !yield(e) {
				return
			}
		}
	}
	rep, err := Compute(events, q, h.src.Names(), h.src.Location())
	if err == nil {
		err = srcErr
	}
	return rep, err
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
	q, err := h.query(r)
	if err == nil {
		err = checkFormat(r.URL.Query()["format"])
	}
	if err != nil {
		writeJSON(w, http.StatusBadRequest, apiError{Code: "bad_query", Error: err.Error()})
		return
	}
	rep, err := h.compute(r.Context(), q)
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
	d := pageData{Lang: lang, SwitchTo: "en"}
	if lang == "en" {
		d.SwitchTo = "uk"
	}
	status := http.StatusOK
	q, err := h.query(r)
	if err != nil {
		status = http.StatusBadRequest
		d.Error = err.Error()
		// Show the form as it was sent, so the wrong value can be fixed.
		d.Query = Query{From: v.Get("from"), To: v.Get("to"), By: v.Get("by")}
	} else {
		d.Query = q
		rep, err := h.compute(r.Context(), q)
		if err != nil {
			h.failed(r, err)
			status, d.Failed = http.StatusInternalServerError, true
		} else {
			d.fill(rep)
		}
	}
	by := d.Query.By
	if !slices.Contains(Bys, by) {
		by = ByOperator
	}
	d.ByLabel = i18n.T(lang, "reports.by."+by)
	for _, by := range Bys {
		d.Bys = append(d.Bys, option{Value: by, Label: i18n.T(lang, "reports.by."+by), Selected: by == d.Query.By})
	}
	sw := url.Values{"from": {d.Query.From}, "to": {d.Query.To}, "by": {d.Query.By}}
	if d.SwitchTo == "en" {
		sw.Set("lang", "en")
	}
	d.SwitchURL = "/reports/?" + sw.Encode()

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

// fill lays out a computed report for the page in d.Lang.
func (d *pageData) fill(rep *Report) {
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
	d.JSONURL = "/api/v1/stats?" + q.Encode()
	q.Set("format", "csv")
	d.CSVURL = "/api/v1/stats?" + q.Encode()
}

func (d *pageData) byLower() string { return i18n.T(d.Lang, "reports.by_in_title."+d.Query.By) }

func (r *Report) query() Query { return Query{From: r.From, To: r.To, By: r.By} }
