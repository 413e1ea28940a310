package cityd

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Prometheus exposition at GET /metrics, behind the "stats" scope as
// queued's (a scraper gets its own token: cityd token -name prometheus
// -scope stats). The counters are kept on the way; the database's state
// (up, the offices known and stale) is read when scraped (dbCollector).

// serverMetrics is what the server counts as it goes.
type serverMetrics struct {
	reg *prometheus.Registry
	// requests is by route class (routeClass) and status code.
	requests       *prometheus.CounterVec
	cacheHits      prometheus.Counter
	cacheMisses    prometheus.Counter
	statsQueries   *prometheus.CounterVec // by status code
	statsDuration  prometheus.Histogram
	retentionRuns  prometheus.Counter
	retentionFails prometheus.Counter
}

var (
	descPanics = prometheus.NewDesc("cherga_cityd_http_panics_total",
		"HTTP handlers that failed inside the server (answered 500 or cut), since cityd started.", nil, nil)
	descDBUp = prometheus.NewDesc("cherga_cityd_database_up",
		"1 if the city's database answered a ping at this scrape, 0 if not.", nil, nil)
	descOffices = prometheus.NewDesc("cherga_cityd_offices",
		"Offices registered in the city's database (as of this scrape).", nil, nil)
	descStale = prometheus.NewDesc("cherga_cityd_offices_stale",
		"Offices whose last status is older than stale_after, or that never sent one (as of this scrape).", nil, nil)
)

// scrapeTimeout bounds the database's reads of one scrape.
const scrapeTimeout = 3 * time.Second

func newServerMetrics(s *Server) *serverMetrics {
	m := &serverMetrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cherga_cityd_http_requests_total",
		Help: "HTTP requests answered since cityd started, by route class (status, stats, page, auth, health, metrics, other) and status code.",
	}, []string{"route", "code"})
	m.cacheHits = prometheus.NewCounter(prometheus.CounterOpts{Name: "cherga_cityd_status_cache_hits_total",
		Help: "City status answers served from the status cache, since cityd started."})
	m.cacheMisses = prometheus.NewCounter(prometheus.CounterOpts{Name: "cherga_cityd_status_cache_misses_total",
		Help: "City status answers that read the database (cache empty, expired or off), since cityd started."})
	m.statsQueries = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cherga_cityd_stats_queries_total",
		Help: "Signed-in queries of the city's statistics (GET /api/v1/city/stats), since cityd started, by status code."},
		[]string{"code"})
	m.statsDuration = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "cherga_cityd_stats_query_duration_seconds",
		Help:    "How long a query of the city's statistics took to read, compute and send.",
		Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300}})
	m.retentionRuns = prometheus.NewCounter(prometheus.CounterOpts{Name: "cherga_cityd_retention_runs_total",
		Help: "Retention runs (dropping the months older than retention), since cityd started."})
	m.retentionFails = prometheus.NewCounter(prometheus.CounterOpts{Name: "cherga_cityd_retention_errors_total",
		Help: "Retention runs that failed, since cityd started."})
	m.reg.MustRegister(m.requests, m.cacheHits, m.cacheMisses, m.statsQueries, m.statsDuration,
		m.retentionRuns, m.retentionFails, dbCollector{s},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *serverMetrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// routeClass is the class of a request's path, a bounded label.
func routeClass(path string) string {
	switch {
	case path == "/api/v1/city/status":
		return "status"
	case path == cityStatsAPI || strings.HasPrefix(path, "/city/reports"):
		return "stats"
	case path == "/healthz":
		return "health"
	case path == "/metrics":
		return "metrics"
	case path == "/login" || strings.HasPrefix(path, "/login/") || path == "/api/v1/login" ||
		path == "/api/v1/logout" || path == "/api/v1/me":
		return "auth"
	case path == "/" || path == "/city.css" || path == "/city.js" || path == "/clock.js" ||
		path == "/favicon.ico" || path == "/i18n.json" || path == "/i18n.js":
		return "page"
	}
	return "other"
}

// count counts every request h answers by route class and code.
func (m *serverMetrics) count(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cw := &codeWriter{ResponseWriter: w}
		defer func() { m.requests.WithLabelValues(routeClass(r.URL.Path), cw.codeLabel()).Inc() }()
		h.ServeHTTP(cw, r)
	})
}

// timeStats counts and times the statistics' queries h answers.
func (m *serverMetrics) timeStats(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cw := &codeWriter{ResponseWriter: w}
		start := time.Now() // the real time: a fake clock would not move
		defer func() {
			m.statsDuration.Observe(time.Since(start).Seconds())
			m.statsQueries.WithLabelValues(cw.codeLabel()).Inc()
		}()
		h.ServeHTTP(cw, r)
	})
}

// codeWriter keeps the status code of the answer. It passes Flush and
// Hijack through, and Unwrap lets http.ResponseController reach the
// server's writer (the reports' write deadline).
type codeWriter struct {
	http.ResponseWriter
	code int
}

func (cw *codeWriter) WriteHeader(code int) {
	if cw.code == 0 && code >= 200 {
		cw.code = code
	}
	cw.ResponseWriter.WriteHeader(code)
}

func (cw *codeWriter) Write(b []byte) (int, error) {
	if cw.code == 0 {
		cw.code = http.StatusOK
	}
	return cw.ResponseWriter.Write(b)
}

func (cw *codeWriter) Flush() {
	if cw.code == 0 {
		cw.code = http.StatusOK
	}
	_ = http.NewResponseController(cw.ResponseWriter).Flush()
}

func (cw *codeWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(cw.ResponseWriter).Hijack()
}

func (cw *codeWriter) Unwrap() http.ResponseWriter { return cw.ResponseWriter }

// codeLabel is the code as a label; a handler that wrote nothing answered
// 200, as net/http does.
func (cw *codeWriter) codeLabel() string {
	if cw.code == 0 {
		return "200"
	}
	return strconv.Itoa(cw.code)
}

// retainer counts the retention's runs of db.
func (m *serverMetrics) retainer(db retainer) retainer { return countedRetainer{db, m} }

type countedRetainer struct {
	db retainer
	m  *serverMetrics
}

func (c countedRetainer) Retain(ctx context.Context, keep time.Duration) error {
	err := c.db.Retain(ctx, keep)
	c.m.retentionRuns.Inc()
	if err != nil {
		c.m.retentionFails.Inc()
	}
	return err
}

// dbCollector pings the database and reads the offices' statuses at
// scrape time.
type dbCollector struct{ s *Server }

func (dbCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descPanics, descDBUp, descOffices, descStale} {
		ch <- d
	}
}

func (c dbCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.s
	ch <- prometheus.MustNewConstMetric(descPanics, prometheus.CounterValue, float64(s.badRequests.Load()))
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	up := 0.0
	if err := s.db.Ping(ctx); err == nil {
		up = 1
	} else {
		s.log.Warn("metrics: the database does not answer", "err", err)
	}
	ch <- prometheus.MustNewConstMetric(descDBUp, prometheus.GaugeValue, up)
	if up == 0 {
		return // no figures rather than wrong ones
	}
	st, err := s.cityStatus(ctx)
	if err != nil {
		s.log.Warn("metrics: the offices' statuses", "err", err)
		return
	}
	stale := 0
	for _, o := range st.Offices {
		if o.Stale {
			stale++
		}
	}
	ch <- prometheus.MustNewConstMetric(descOffices, prometheus.GaugeValue, float64(len(st.Offices)))
	ch <- prometheus.MustNewConstMetric(descStale, prometheus.GaugeValue, float64(stale))
}
