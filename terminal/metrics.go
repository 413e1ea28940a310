package terminal

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/cherga/kiosk/devices"
	"github.com/cherga/kiosk/httpapi"
	"github.com/cherga/kiosk/kiosk"
	"github.com/cherga/kiosk/link"
	"github.com/cherga/kiosk/link/proto"
)

// Prometheus exposition at GET /metrics, on the admin listener (admin.go),
// never the main one: a kiosk listening on 0.0.0.0 for the hall TVs must
// not tell the hall how it is. Off loopback it needs an admin session, or
// a scraper on the terminal itself (loopbackOnly).
//
// What a scrape shows is mostly read then from the terminal's own state
// (terminalCollector: the devices, the link, the outbox, the paper), as
// /healthz reads it. The counters and histograms kept on the way cost a
// constant per ticket, call or announcement, resolved once here.

// terminalMetrics is what the terminal counts as it goes.
type terminalMetrics struct {
	reg *prometheus.Registry

	ticketsOnline, ticketsOffline   prometheus.Counter
	checkinsOnline, checkinsOffline prometheus.Counter
	ticketFailures, checkinFailures prometheus.Counter
	callsShown, callsAnnounced      prometheus.Counter
	reconnects                      prometheus.Counter
	refusedConns                    prometheus.Counter
	printing, announcing            prometheus.Histogram

	mu        sync.Mutex
	wasUp     bool                 // the link was up once: the next up is a reconnect
	printing0 map[uint64]time.Time // ticket event → when its bytes started for the printer
	called    map[string]time.Time // call id → when it reached the terminal, until announced
}

// inFlight bounds the starts kept for the histograms: a ticket or call
// whose end never comes is forgotten, not kept for the rest of the day.
const inFlight = 64

func newTerminalMetrics(t *Terminal) *terminalMetrics {
	m := &terminalMetrics{reg: prometheus.NewRegistry(), printing0: map[uint64]time.Time{}, called: map[string]time.Time{}}
	tickets := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cherga_kioskd_tickets_issued_total",
		Help: "Tickets this kiosk issued since kioskd started, by numbering mode (online: by queued; offline: from the kiosk's own series).",
	}, []string{"mode"})
	checkins := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cherga_kioskd_checkins_total",
		Help: "Bookings checked in at this kiosk since kioskd started, by mode (online: by queued; offline: by the kiosk).",
	}, []string{"mode"})
	m.ticketsOnline, m.ticketsOffline = tickets.WithLabelValues(link.ModeOnline), tickets.WithLabelValues(link.ModeOffline)
	m.checkinsOnline, m.checkinsOffline = checkins.WithLabelValues(link.ModeOnline), checkins.WithLabelValues(link.ModeOffline)
	m.ticketFailures = prometheus.NewCounter(prometheus.CounterOpts{Name: "cherga_kioskd_ticket_failures_total",
		Help: "Tickets asked for that could not be issued, since kioskd started."})
	m.checkinFailures = prometheus.NewCounter(prometheus.CounterOpts{Name: "cherga_kioskd_checkin_failures_total",
		Help: "Booking codes refused or not checked in, since kioskd started."})
	m.callsShown = prometheus.NewCounter(prometheus.CounterOpts{Name: "cherga_kioskd_calls_shown_total",
		Help: "Calls this terminal's displays showed, since kioskd started."})
	m.callsAnnounced = prometheus.NewCounter(prometheus.CounterOpts{Name: "cherga_kioskd_calls_announced_total",
		Help: "Calls this hall announced, since kioskd started."})
	m.reconnects = prometheus.NewCounter(prometheus.CounterOpts{Name: "cherga_kioskd_link_reconnects_total",
		Help: "Times the link to queued came up again after it was lost, since kioskd started."})
	m.refusedConns = prometheus.NewCounter(prometheus.CounterOpts{Name: "cherga_kioskd_http_refused_connections_total",
		Help: "Connections refused for being over http.max_connections, since kioskd started."})
	m.printing = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "cherga_kioskd_print_duration_seconds",
		Help:    "From a ticket's bytes starting for the printer to the ticket handed out.",
		Buckets: []float64{.25, .5, 1, 2, 3, 5, 8, 13, 20}})
	m.announcing = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "cherga_kioskd_announce_latency_seconds",
		Help:    "From a call reaching this hall to its announcement spoken.",
		Buckets: []float64{.5, 1, 2, 3, 5, 8, 13, 20, 30, 60, 120}})
	m.reg.MustRegister(tickets, checkins, m.ticketFailures, m.checkinFailures, m.callsShown, m.callsAnnounced,
		m.reconnects, m.refusedConns, m.printing, m.announcing, terminalCollector{t},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// loopbackOnly answers 403 to a client not on this machine, and to a
// Host that is not an address or localhost (a page of another site on
// the kiosk's own browser, by DNS rebinding).
func loopbackOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		ip, perr := netip.ParseAddr(host)
		if err != nil || perr != nil || !ip.Unmap().IsLoopback() {
			httpapi.WriteError(w, http.StatusForbidden, "loopback_only", "/metrics answers on this machine only (127.0.0.1, ::1)")
			return
		}
		if !addressHost(r.Host) {
			httpapi.WriteError(w, http.StatusForbidden, "bad_host", "/metrics answers at an IP address or localhost only")
			return
		}
		h.ServeHTTP(w, r)
	})
}

// connectionRefused counts a connection over http.max_connections.
func (m *terminalMetrics) connectionRefused() {
	if m != nil {
		m.refusedConns.Inc()
	}
}

// callShown counts a call a part showed.
func (m *terminalMetrics) callShown() {
	if m != nil {
		m.callsShown.Inc()
	}
}

// linkChanged counts a reconnect.
func (m *terminalMetrics) linkChanged(up bool) {
	if m == nil { // a terminal assembled by a test without metrics
		return
	}
	if !up {
		return
	}
	m.mu.Lock()
	again := m.wasUp
	m.wasUp = true
	m.mu.Unlock()
	if again {
		m.reconnects.Inc()
	}
}

// callReached notes when a call reached the terminal, for the announcing
// latency.
func (m *terminalMetrics) callReached(c proto.Call, now time.Time) {
	if m == nil { // a terminal assembled by a test without metrics
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.called) >= inFlight {
		clear(m.called)
	}
	if _, ok := m.called[c.ID]; !ok { // a recall keeps the first call's time
		m.called[c.ID] = now
	}
}

// callAnnounced observes a call's announcing latency.
func (m *terminalMetrics) callAnnounced(c proto.Call, err error, now time.Time) {
	if m == nil { // a terminal assembled by a test without metrics
		return
	}
	m.mu.Lock()
	at, ok := m.called[c.ID]
	delete(m.called, c.ID)
	m.mu.Unlock()
	if err != nil {
		return
	}
	m.callsAnnounced.Inc()
	if ok {
		m.announcing.Observe(now.Sub(at).Seconds())
	}
}

// meteredTickets counts the kiosk's tickets and check-ins and times their
// printing; everything else passes through.
type meteredTickets struct {
	kiosk.Tickets
	m     *terminalMetrics
	clock interface{ Now() time.Time }
	scans *scanLog // the scans whose check-in's outcome the admin page shows; nil: none
}

func (mt meteredTickets) IssueTicket(ctx context.Context, service string) (*link.Issued, error) {
	is, err := mt.Tickets.IssueTicket(ctx, service)
	switch {
	case err != nil:
		mt.m.ticketFailures.Inc()
	case is.Mode == link.ModeOffline:
		mt.m.ticketsOffline.Inc()
	default:
		mt.m.ticketsOnline.Inc()
	}
	return is, err
}

func (mt meteredTickets) CheckIn(ctx context.Context, code string) (*link.CheckedIn, error) {
	ci, err := mt.Tickets.CheckIn(ctx, code)
	mt.scans.checkedIn(code, err)
	switch {
	case err != nil:
		mt.m.checkinFailures.Inc()
	case ci.Mode == link.ModeOffline:
		mt.m.checkinsOffline.Inc()
	default:
		mt.m.checkinsOnline.Inc()
	}
	return ci, err
}

func (mt meteredTickets) Printing(seq uint64) error {
	m := mt.m
	m.mu.Lock()
	if len(m.printing0) >= inFlight {
		clear(m.printing0)
	}
	m.printing0[seq] = mt.clock.Now()
	m.mu.Unlock()
	return mt.Tickets.Printing(seq)
}

func (mt meteredTickets) HandedOut(seq uint64) error {
	m := mt.m
	m.mu.Lock()
	at, ok := m.printing0[seq]
	delete(m.printing0, seq)
	m.mu.Unlock()
	if ok {
		m.printing.Observe(mt.clock.Now().Sub(at).Seconds())
	}
	return mt.Tickets.HandedOut(seq)
}

func (mt meteredTickets) Withdraw(seq uint64) (*link.Withdrawn, error) {
	mt.m.mu.Lock()
	delete(mt.m.printing0, seq)
	mt.m.mu.Unlock()
	return mt.Tickets.Withdraw(seq)
}

var (
	descDeviceState = prometheus.NewDesc("cherga_kioskd_device_state",
		"1 for each device's present state (starting, ok, warning, fault), 0 for the others.",
		[]string{"device", "kind", "driver", "state"}, nil)
	descDeviceSince = prometheus.NewDesc("cherga_kioskd_device_state_since_seconds",
		"When each device entered its present state, in seconds since the Unix epoch.",
		[]string{"device"}, nil)
	descDeviceReopens = prometheus.NewDesc("cherga_kioskd_device_reopens_total",
		"Times each supervised device was opened again after a failure.", []string{"device"}, nil)
	descDeviceErrors = prometheus.NewDesc("cherga_kioskd_device_errors_total",
		"Failed requests to each bus device.", []string{"device"}, nil)
	descLinkUp = prometheus.NewDesc("cherga_kioskd_link_up",
		"1 while the link to queued is up.", nil, nil)
	descLinkRetries = prometheus.NewDesc("cherga_kioskd_link_retries",
		"Failed attempts to connect to queued since the link was last up.", nil, nil)
	descLinkRejected = prometheus.NewDesc("cherga_kioskd_link_rejected_events_total",
		"Events queued refused for good, since the outbox file was created.", nil, nil)
	descBuffered = prometheus.NewDesc("cherga_kioskd_outbox_events",
		"Events in the outbox not yet acknowledged by queued.", nil, nil)
	descBufferMax = prometheus.NewDesc("cherga_kioskd_outbox_max_events",
		"The most events the outbox holds (buffer.max_events).", nil, nil)
	descOldest = prometheus.NewDesc("cherga_kioskd_outbox_oldest_event_age_seconds",
		"Age of the oldest event not yet acknowledged; 0 with none.", nil, nil)
	descOutboxAlarm = prometheus.NewDesc("cherga_kioskd_outbox_alarm",
		"1 while the outbox alarm is raised (too many events, or too old).", nil, nil)
	descDiskFull = prometheus.NewDesc("cherga_kioskd_disk_full",
		"1 while the data directory's disk is full: events cannot be committed, no ticket is issued.", nil, nil)
	descPaperUsed = prometheus.NewDesc("cherga_kioskd_printer_paper_used_meters",
		"Paper printed since the roll was changed (kioskctl printer new-roll).", nil, nil)
	descPaperLeft = prometheus.NewDesc("cherga_kioskd_printer_paper_left_meters",
		"Estimated paper left on the roll (kiosk.printer.roll_m less what was printed).", nil, nil)
	descInfo = prometheus.NewDesc("cherga_kioskd_build_info",
		"Always 1: this kioskd's version and device id.", []string{"version", "device"}, nil)
)

// deviceStates are the states cherga_kioskd_device_state enumerates.
var deviceStates = []devices.State{devices.Starting, devices.OK, devices.Warning, devices.Fault}

// papered is a printer that estimates its roll (printer.ESCPOS).
type papered interface{ Paper() (usedMM, rollMM int) }

// terminalCollector reads the terminal's state at scrape time.
type terminalCollector struct{ t *Terminal }

func (terminalCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descDeviceState, descDeviceSince, descDeviceReopens, descDeviceErrors,
		descLinkUp, descLinkRetries, descLinkRejected, descBuffered, descBufferMax, descOldest, descOutboxAlarm,
		descDiskFull, descPaperUsed, descPaperLeft, descInfo} {
		ch <- d
	}
}

func (c terminalCollector) Collect(ch chan<- prometheus.Metric) {
	t := c.t
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	gauge(descInfo, 1, t.version, t.cfg.DeviceID)
	seen := map[string]bool{} // a name reported twice would fail the scrape
	for _, d := range t.deviceStates() {
		if seen[d.Name] {
			continue
		}
		seen[d.Name] = true
		for _, s := range deviceStates {
			gauge(descDeviceState, b2f(d.State == s), d.Name, d.Kind, d.Driver, string(s))
		}
		if !d.Since.IsZero() {
			gauge(descDeviceSince, float64(d.Since.UnixNano())/1e9, d.Name)
		}
		counter(descDeviceReopens, float64(d.Reopens), d.Name)
		if d.Address != "" { // a bus device
			counter(descDeviceErrors, float64(d.Errors), d.Name)
		}
	}
	ls := t.link.Status()
	gauge(descLinkUp, b2f(ls.State == link.StateUp))
	gauge(descLinkRetries, float64(ls.Retries))
	counter(descLinkRejected, float64(ls.Rejected))
	ob := t.store.Outbox()
	gauge(descBuffered, float64(ob.Events))
	gauge(descBufferMax, float64(ob.MaxEvents))
	age := 0.0
	if ob.Events > 0 && !ob.OldestAt.IsZero() {
		age = max(0, t.clock.Since(ob.OldestAt).Seconds())
	}
	gauge(descOldest, age)
	gauge(descOutboxAlarm, b2f(ob.Alarm != ""))
	gauge(descDiskFull, b2f(t.store.DiskFull()))
	for _, p := range t.parts {
		if k, ok := p.(*kioskPart); ok {
			if pp, ok := k.prn.(papered); ok {
				used, roll := pp.Paper()
				gauge(descPaperUsed, float64(used)/1000)
				if roll > 0 {
					gauge(descPaperLeft, float64(max(0, roll-used))/1000)
				}
			}
		}
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
