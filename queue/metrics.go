package queue

import (
	"net/http"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/cherga/kiosk/httpapi"
	"github.com/cherga/kiosk/link/proto"
)

// Prometheus exposition at GET /metrics, behind the "stats" scope like the
// statistics (a scraper gets its own token: queued token -name prometheus
// -scope stats). Almost everything is read from the server's state when
// scraped (serverCollector); the only counter kept on the way is the calls,
// one atomic add per call pushed.

// serverMetrics is what the server counts as it goes.
type serverMetrics struct {
	reg   *prometheus.Registry
	calls *prometheus.CounterVec
	// call and recall are calls's children, resolved once.
	call, recall prometheus.Counter
	// refusedConns counts connections over max_connections (Limit).
	refusedConns prometheus.Counter
	limiter      atomic.Pointer[httpapi.Limiter] // set by Limit; its open connections
}

// connectionRefused counts a connection refused by Limit.
func (m *serverMetrics) connectionRefused() { m.refusedConns.Inc() }

var descOpenConns = prometheus.NewDesc("cherga_queued_http_connections",
	"HTTP connections open now (links, pages, streams), counted against max_connections.", nil, nil)

// limitCollector reports the connections open at scrape time.
type limitCollector struct{ m *serverMetrics }

func (limitCollector) Describe(ch chan<- *prometheus.Desc) { ch <- descOpenConns }

func (c limitCollector) Collect(ch chan<- prometheus.Metric) {
	if l := c.m.limiter.Load(); l != nil {
		ch <- prometheus.MustNewConstMetric(descOpenConns, prometheus.GaugeValue, float64(l.Open()))
	}
}

func newServerMetrics(s *Server) *serverMetrics {
	m := &serverMetrics{reg: prometheus.NewRegistry()}
	m.calls = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cherga_queued_calls_total",
		Help: "Calls pushed to the terminals since queued started, by kind (call, recall).",
	}, []string{"kind"})
	m.call, m.recall = m.calls.WithLabelValues("call"), m.calls.WithLabelValues("recall")
	m.refusedConns = prometheus.NewCounter(prometheus.CounterOpts{Name: "cherga_queued_http_refused_connections_total",
		Help: "HTTP connections refused for being over max_connections, since queued started."})
	m.reg.MustRegister(m.calls, m.refusedConns, limitCollector{m}, serverCollector{s}, alertCollector{s.alerts}, cityCollector{s},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// pushed counts a push sent to the terminals.
func (m *serverMetrics) pushed(msg *proto.Message) {
	switch msg.Type {
	case proto.TypeCall:
		m.call.Inc()
	case proto.TypeRecall:
		m.recall.Inc()
	}
}

func (m *serverMetrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

var (
	descConnected = prometheus.NewDesc("cherga_queued_terminals_connected",
		"Terminals with the link open now.", nil, nil)
	descKnown = prometheus.NewDesc("cherga_queued_terminals_known",
		"Terminals that ever said hello to this server.", nil, nil)
	descWaiting = prometheus.NewDesc("cherga_queued_waiting",
		"Visitors waiting now, by service group.", []string{"group"}, nil)
	descWaitEstimate = prometheus.NewDesc("cherga_queued_wait_estimate_seconds",
		"The estimated wait for a new visitor, by service group.", []string{"group"}, nil)
	descBadRequests = prometheus.NewDesc("cherga_queued_http_bad_requests_total",
		"HTTP requests refused as malformed, or that failed inside the server, since queued started.", nil, nil)
	descBadMessages = prometheus.NewDesc("cherga_queued_link_bad_messages_total",
		"Link messages from terminals that could not be read or were out of place, since queued started.", nil, nil)
	descRejected = prometheus.NewDesc("cherga_queued_link_rejected_events_total",
		"Terminal events refused for good, since queued started.", nil, nil)
	descGaps = prometheus.NewDesc("cherga_queued_link_event_gaps_total",
		"Terminal event batches stopped at a gap in their sequence, since queued started.", nil, nil)
)

// serverCollector reads the server's state at scrape time.
type serverCollector struct{ s *Server }

func (c serverCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descConnected, descKnown, descWaiting, descWaitEstimate,
		descBadRequests, descBadMessages, descRejected, descGaps} {
		ch <- d
	}
}

func (c serverCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.s
	s.mu.Lock()
	connected := len(s.terms)
	s.mu.Unlock()
	ch <- prometheus.MustNewConstMetric(descConnected, prometheus.GaugeValue, float64(connected))
	ch <- prometheus.MustNewConstMetric(descKnown, prometheus.GaugeValue, float64(len(s.q.Devices())))
	for _, l := range s.q.Lengths() {
		ch <- prometheus.MustNewConstMetric(descWaiting, prometheus.GaugeValue, float64(l.Waiting), l.Group)
		ch <- prometheus.MustNewConstMetric(descWaitEstimate, prometheus.GaugeValue, float64(l.WaitMin*60), l.Group)
	}
	ch <- prometheus.MustNewConstMetric(descBadRequests, prometheus.CounterValue, float64(s.badRequests.Load()))
	ch <- prometheus.MustNewConstMetric(descBadMessages, prometheus.CounterValue, float64(s.badMessages.Load()))
	ch <- prometheus.MustNewConstMetric(descRejected, prometheus.CounterValue, float64(s.q.Rejected()))
	ch <- prometheus.MustNewConstMetric(descGaps, prometheus.CounterValue, float64(s.q.gaps.Load()))
}
