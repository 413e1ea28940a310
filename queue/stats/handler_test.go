package stats

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"iter"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cherga/kiosk/queue/record"
)

type fakeSource struct {
	events []record.Event
	names  Names
	err    error
}

func (s *fakeSource) Events(ctx context.Context, from, to string) iter.Seq2[record.Event, error] {
	return func(yield func(record.Event, error) bool) {
		for _, e := range s.events {
			if e.Day < from || e.Day > to {
				continue
			}
			if !yield(e, nil) {
				return
			}
		}
		if s.err != nil {
			yield(record.Event{}, s.err)
		}
	}
}

func (s *fakeSource) Names() Names             { return s.names }
func (s *fakeSource) Location() *time.Location { return testLoc }
func (s *fakeSource) Today() string            { return testDay }

// hostileNames are the test day's names with markup in them, which must
// come out as text everywhere.
func hostileNames() Names {
	n := testNames
	n.Services = maps.Clone(testNames.Services)
	n.Services["passport-id"] = Name{UK: `<script>alert("uk")</script>`, EN: `<script>alert('en')</script>`}
	n.Operators = map[string]string{"olena": `Олена <b onmouseover="x()">Коваль</b>`, "petro": "Петро & Co"}
	return n
}

func get(t *testing.T, h http.Handler, target string) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, target, nil))
	return w
}

// element is one start tag of a parsed page, with the text directly in it.
type element struct {
	name  string
	attrs map[string]string
	path  []string // the names of the open elements around it
	text  string   // all the text inside it
}

// parsePage parses HTML as Go's XML decoder does in its HTML mode (void
// elements closed, HTML entities known); a page it cannot parse fails.
func parsePage(t *testing.T, body []byte) []*element {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(body))
	d.Strict = false
	d.AutoClose = xml.HTMLAutoClose
	d.Entity = xml.HTMLEntity
	var all, open []*element
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("page does not parse: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			e := &element{name: strings.ToLower(tok.Name.Local), attrs: map[string]string{}}
			for _, a := range tok.Attr {
				name := a.Name.Local
				if a.Name.Space != "" {
					name = a.Name.Space + ":" + name
				}
				e.attrs[strings.ToLower(name)] = a.Value
			}
			for _, o := range open {
				e.path = append(e.path, o.name)
			}
			all, open = append(all, e), append(open, e)
		case xml.EndElement:
			if len(open) > 0 {
				open = open[:len(open)-1]
			}
		case xml.CharData:
			for _, o := range open {
				o.text += string(tok)
			}
		}
	}
	return all
}

func find(els []*element, name string) []*element {
	var out []*element
	for _, e := range els {
		if e.name == name {
			out = append(out, e)
		}
	}
	return out
}

func TestReportsPage(t *testing.T) {
	h := Handler(&fakeSource{events: dayEvents(), names: hostileNames()})
	for _, tc := range []struct {
		target, lang string
		rows         int
		texts        []string // text the page must show
	}{
		{"/reports/?from=2026-11-23&to=2026-11-23&by=service", "uk", 4,
			[]string{"Статистика обслуговування", `<script>alert("uk")</script>`, "Житлова субсидія", "Обслуговані відвідувачі за послугами", "15,7"}},
		{"/reports/?from=2026-11-23&to=2026-11-23&by=service&lang=en", "en", 4,
			[]string{"Service statistics", `<script>alert('en')</script>`, "Housing subsidy", "Visitors served by service", "15.7"}},
		{"/reports/?from=2026-11-23&to=2026-11-23&by=operator", "uk", 3,
			[]string{`Олена <b onmouseover="x()">Коваль</b>`, "Петро & Co", "Не вказано"}},
		{"/reports/?by=hour&lang=en", "en", 3, // no dates: today
			[]string{"09:00–10:00", "Busiest hour: 09:00–10:00, 5 visitors. Total: 11."}},
	} {
		t.Run(tc.target, func(t *testing.T) {
			w := get(t, h, tc.target)
			if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") {
				t.Fatalf("%d %s", w.Code, w.Header().Get("Content-Type"))
			}
			if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "unsafe") {
				t.Errorf("CSP %q", csp)
			}
			body := w.Body.Bytes()
			els := parsePage(t, body)

			// Nothing the strict CSP would block, and no markup from a name.
			for _, e := range els {
				if e.name == "script" || e.name == "style" || e.name == "b" {
					t.Errorf("<%s> in the page, inside %v", e.name, e.path)
				}
				for a := range e.attrs {
					if a == "style" || strings.HasPrefix(a, "on") {
						t.Errorf("<%s %s=…>", e.name, a)
					}
				}
			}
			if bytes.Contains(body, []byte("<script")) {
				t.Error("<script in the page's bytes")
			}
			if html := find(els, "html"); len(html) != 1 || html[0].attrs["lang"] != tc.lang {
				t.Errorf("html lang %v", html)
			}
			text := strings.Join(strings.Fields(find(els, "html")[0].text), " ")
			for _, s := range tc.texts {
				if !strings.Contains(text, s) {
					t.Errorf("page lacks %q", s)
				}
			}

			// The table: row headers for each row and the total, column headers.
			var rowHeads, colHeads int
			for _, th := range find(els, "th") {
				switch th.attrs["scope"] {
				case "row":
					rowHeads++
				case "col", "colgroup":
					colHeads++
				default:
					t.Errorf("th without scope: %q", th.text)
				}
			}
			// The figures table (rows + total) and the top services (4).
			if rowHeads != tc.rows+1+4 || colHeads < 16 {
				t.Errorf("%d row headers, %d column headers", rowHeads, colHeads)
			}

			// Two charts, each an image with a summary and a title.
			svgs := find(els, "svg")
			if len(svgs) != 2 {
				t.Fatalf("%d charts", len(svgs))
			}
			for _, s := range svgs {
				if s.attrs["role"] != "img" || len(s.attrs["aria-label"]) < 20 || s.attrs["viewbox"] == "" || s.attrs["width"] != "100%" {
					t.Errorf("svg %v", s.attrs)
				}
			}
			var titles int
			for _, e := range find(els, "title") {
				if len(e.path) > 0 && e.path[len(e.path)-1] == "svg" {
					titles++
				}
			}
			if titles != 2 {
				t.Errorf("%d chart titles", titles)
			}

			// Links to the same report as data.
			var links []string
			for _, a := range find(els, "a") {
				links = append(links, a.attrs["href"])
			}
			joined := strings.Join(links, " ")
			if !strings.Contains(joined, "/api/v1/stats?by=") || !strings.Contains(joined, "format=csv") || !strings.Contains(joined, "/reports/?") {
				t.Errorf("links %v", links)
			}
		})
	}
}

func TestReportsPageHourChart(t *testing.T) {
	h := Handler(&fakeSource{events: dayEvents(), names: testNames})
	els := parsePage(t, get(t, h, "/reports/?from=2026-11-23&to=2026-11-23&by=hour").Body.Bytes())
	svgs := find(els, "svg")
	// 9, 10 and 11 o'clock: three columns, labelled 09 10 11.
	var hours []string
	for _, e := range find(els, "text") {
		if e.attrs["text-anchor"] == "middle" && len(e.text) == 2 && e.text[0] <= '2' {
			hours = append(hours, e.text)
		}
	}
	if len(svgs) != 2 || strings.Join(hours, " ") != "09 10 11" {
		t.Errorf("%d charts, hours %v", len(svgs), hours)
	}
}

func TestReportsPageBadQuery(t *testing.T) {
	h := Handler(&fakeSource{events: dayEvents()})
	w := get(t, h, "/reports/?from=2026-11-24&to=2026-11-23&by=%3Cscript%3E")
	if w.Code != http.StatusBadRequest {
		t.Fatalf("%d", w.Code)
	}
	els := parsePage(t, w.Body.Bytes())
	var alert string
	for _, p := range find(els, "p") {
		if p.attrs["role"] == "alert" {
			alert = p.text
		}
	}
	if !strings.Contains(alert, "to: got") || len(find(els, "form")) != 1 || len(find(els, "table")) != 0 || bytes.Contains(w.Body.Bytes(), []byte("<script")) {
		t.Errorf("alert %q, body %s", alert, w.Body)
	}
}

func TestStatsAPI(t *testing.T) {
	src := &fakeSource{events: dayEvents(), names: testNames}
	h := Handler(src)

	w := get(t, h, "/api/v1/stats?from=2026-11-23&to=2026-11-23&by=group")
	var got Report
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || w.Code != http.StatusOK {
		t.Fatalf("%d %v %s", w.Code, err, w.Body)
	}
	want := computeDay(t, ByGroup)
	if gb, _ := json.Marshal(got); string(gb) != string(must(json.Marshal(want))) {
		t.Errorf("JSON differs from Compute:\n%s", gb)
	}

	w = get(t, h, "/api/v1/stats?from=2026-11-23&to=2026-11-23&by=service&format=csv")
	golden, _ := os.ReadFile(filepath.Join("testdata", "day-service.csv"))
	if w.Code != http.StatusOK || !bytes.Equal(w.Body.Bytes(), golden) ||
		w.Header().Get("Content-Type") != "text/csv; charset=utf-8" ||
		w.Header().Get("Content-Disposition") != `attachment; filename="cherga-stats-2026-11-23-2026-11-23-service.csv"` {
		t.Errorf("CSV: %d %v", w.Code, w.Header())
	}

	for target, want := range map[string]string{
		"/api/v1/stats?from=2026-11-23&to=2026-11-23&by=day":              `by: got "day", expected one of operator, window, service, group, hour`,
		"/api/v1/stats?from=2026-11-23&to=2026-11-23&format=xml":          `format: got "xml", expected csv or json`,
		"/api/v1/stats?from=2026-11-23&to=2026-11-23&format=csv&format=x": `format: got "csv,…", expected one value`,
		"/api/v1/stats?from=2025-11-22":                                   `to: got "2026-11-23", expected at most 366 days from 2025-11-22, not 367`,
	} {
		w := get(t, h, target)
		var e apiError
		if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || w.Code != http.StatusBadRequest || e.Code != "bad_query" || e.Error != want {
			t.Errorf("%s: %d %s", target, w.Code, w.Body)
		}
	}

	// Today's report when no dates are given.
	w = get(t, h, "/api/v1/stats")
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || got.From != testDay || got.By != ByOperator || got.Total.Tickets != 12 {
		t.Errorf("default: %+v %v", got, err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestSourceFailure(t *testing.T) {
	var logged bytes.Buffer
	h := newHandler(&fakeSource{events: dayEvents(), err: errors.New("bbolt: /var/lib/queued/queued.db: input/output error")},
		slog.New(slog.NewTextHandler(&logged, nil)))
	for _, target := range []string{"/api/v1/stats", "/api/v1/stats?format=csv", "/reports/"} {
		w := get(t, h, target)
		if w.Code != http.StatusInternalServerError || strings.Contains(w.Body.String(), "bbolt") || strings.Contains(w.Body.String(), "/var/lib") {
			t.Errorf("%s: %d %s", target, w.Code, w.Body)
		}
	}
	var e apiError
	_ = json.Unmarshal(get(t, h, "/api/v1/stats").Body.Bytes(), &e)
	if e.Code != "internal" {
		t.Errorf("%+v", e)
	}
	// The technician finds the cause in the log.
	if !strings.Contains(logged.String(), "input/output error") {
		t.Errorf("log: %s", logged.String())
	}
}

func TestStylesheetAndMethods(t *testing.T) {
	h := Handler(&fakeSource{})
	w := get(t, h, "/reports/reports.css")
	if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "text/css; charset=utf-8" || !bytes.Equal(w.Body.Bytes(), pageCSS) {
		t.Errorf("%d %v", w.Code, w.Header())
	}
	r := httptest.NewRequest(http.MethodPost, "/api/v1/stats", nil)
	w = httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", w.Code)
	}
	if w := get(t, h, "/reports/other"); w.Code != http.StatusNotFound {
		t.Errorf("/reports/other: %d", w.Code)
	}
	// An empty range still renders: the form, the summary, no charts.
	w = get(t, h, "/reports/")
	els := parsePage(t, w.Body.Bytes())
	if w.Code != http.StatusOK || len(find(els, "svg")) != 0 || len(find(els, "form")) != 1 || !strings.Contains(w.Body.String(), "За цей період подій немає.") {
		t.Errorf("%d %s", w.Code, w.Body)
	}
}

// Every reports.* key this package uses is in i18n/messages.json, in both
// languages with the same placeholders.
func TestTextsInBothLanguages(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "i18n", "messages.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cat map[string]map[string]string
	if err := json.Unmarshal(b, &cat); err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{}
	for _, f := range []string{"handler.go", "chart.go", "reports.html"} {
		src, _ := os.ReadFile(f)
		for _, m := range regexp.MustCompile(`"(reports\.[\w.]*\w)"`).FindAllStringSubmatch(string(src), -1) {
			if m[1] != "reports.html" && m[1] != "reports.css" { // the files
				used[m[1]] = true
			}
		}
	}
	for _, by := range append(Bys, CityBys...) { // made at run time
		used["reports.by."+by] = true
		used["reports.by_in_title."+by] = true
	}
	ph := regexp.MustCompile(`\{\w+\}`)
	for k := range used {
		texts, ok := cat[k]
		if !ok || texts["uk"] == "" || texts["en"] == "" {
			t.Errorf("%s: %v", k, texts)
			continue
		}
		if a, b := ph.FindAllString(texts["uk"], -1), ph.FindAllString(texts["en"], -1); strings.Join(a, ",") != strings.Join(b, ",") {
			t.Errorf("%s: placeholders %v and %v", k, a, b)
		}
	}
	for k := range cat {
		if strings.HasPrefix(k, "reports.") && !used[k] {
			t.Errorf("%s is in messages.json but unused", k)
		}
	}
	if len(used) < 40 {
		t.Errorf("found %d keys: the pattern no longer matches", len(used))
	}
}
