package queue

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cherga/kiosk/configs"
	"github.com/cherga/kiosk/link/proto"
)

// The office's terminals and their devices as a supervisor sees them, and
// the alerts about them: paper near its end or out, a device at fault, a
// terminal without its link for longer than alerts.offline_after, a
// terminal whose outbox holds events queued has not committed (more than
// alerts.backlog_events, or one older than alerts.backlog_age).
//
// The book keeps one small state per terminal, changed by what that
// terminal's link does (hello, a device report, a commit of its events,
// an outbox report, the end of the link) and looked at again, for what
// only time makes true (offline for too long, an outbox grown old), by a
// sweep over every terminal at the office clock's now: every
// alertSweepEvery, and whenever the page, the API or a scrape reads the
// book, so what they show is never a sweep late. The sweep's ticker is a
// real one on purpose: a ticker for ever waiting on the office's clock
// would count among its waiters in every test that shares a fake clock
// with queued and counts them (link's redial tests). Nothing here looks at
// tickets, so its cost does not grow with the day. An alert is raised and
// cleared on transitions only: a warning in the log when it is raised, an
// info when it is cleared, naming the terminal, the device and the kind,
// never anything about visitors.

// Alert kinds.
const (
	AlertPaperNearEnd    = "paper_near_end"
	AlertPaperOut        = "paper_out"
	AlertDeviceFault     = "device_fault"
	AlertTerminalOffline = "terminal_offline"
	AlertOutboxBacklog   = "outbox_backlog"
)

// AlertKinds lists every kind, the most urgent first: the order alerts are
// listed in.
var AlertKinds = []string{AlertPaperOut, AlertDeviceFault, AlertTerminalOffline, AlertOutboxBacklog, AlertPaperNearEnd}

// Terminal states, as GET /api/v1/devices and the metrics tell them.
const (
	TerminalConnected = "connected"
	TerminalOffline   = "offline"
	// TerminalStopped is offline after a clean stop: kioskd said goodbye
	// (a close frame 1001) before its link ended.
	TerminalStopped = "stopped"
)

var terminalStates = []string{TerminalConnected, TerminalOffline, TerminalStopped}

// alertSweepEvery is how often the book looks at every terminal for
// what time alone changes.
const alertSweepEvery = 5 * time.Second

// Alert is one thing a supervisor should see to.
type Alert struct {
	Kind     string `json:"kind"`
	Terminal string `json:"terminal"`
	// Device is the device's name on its terminal; none for the
	// terminal's own alerts (offline, outbox backlog).
	Device string    `json:"device,omitempty"`
	Since  time.Time `json:"since"`
	// Detail is the device's own words (its driver's), or "stopped" for a
	// terminal offline after a clean stop, or the outbox's size.
	Detail string `json:"detail,omitempty"`
}

// deviceAlert is the alert a device's state calls for, "" for none.
func deviceAlert(d proto.DeviceState) string {
	switch {
	case d.State == "warning" && strings.HasPrefix(d.Detail, "paper_near_end"):
		return AlertPaperNearEnd
	case d.State == "fault" && strings.HasPrefix(d.Detail, "paper_out"):
		return AlertPaperOut
	case d.State == "fault":
		return AlertDeviceFault
	}
	return ""
}

// termState is what the book knows of one terminal.
type termState struct {
	id      string
	roles   []string
	version string
	// conn is the terminal's link now, nil while it has none.
	conn *terminal
	// since is when the link came up, or went down (the server's start
	// for a terminal not seen since).
	since   time.Time
	stopped bool
	// lastSeen is when the link last carried anything, as of the link's
	// end; a connected terminal's is conn.seen.
	lastSeen time.Time
	// devices as last reported, their times on the server's clock.
	devices []proto.DeviceState
	// outbox as last known (hello or report), its oldest event's time on
	// the server's clock; nil: this terminal does not say.
	outbox *proto.OutboxState
	// committed is the last of its events queued committed.
	committed uint64
	alerts    map[string]*Alert // by kind+"/"+device
}

// alertBook is every terminal's state and the alerts active now.
type alertBook struct {
	clock   clockwork.Clock
	log     *slog.Logger
	limits  func() configs.Alerts
	started time.Time

	mu     sync.Mutex
	terms  map[string]*termState
	active map[string]int    // by kind
	raised map[string]uint64 // by kind, since start
	// changed is closed and replaced at every change (tests wait on it);
	// signal wakes the page streams' sender.
	changed chan struct{}
	signal  chan struct{}
}

func newAlertBook(q *Queue, log *slog.Logger) *alertBook {
	b := &alertBook{clock: q.clock, log: log, started: q.clock.Now(),
		limits: func() configs.Alerts { return q.Config().Alerts },
		terms:  map[string]*termState{}, active: map[string]int{}, raised: map[string]uint64{},
		changed: make(chan struct{}), signal: make(chan struct{}, 1)}
	for _, d := range q.Devices() {
		ts := &termState{id: d.ID, roles: d.Roles, version: d.Version, since: d.LastSeen, lastSeen: d.LastSeen,
			committed: d.LastSeq, alerts: map[string]*Alert{}}
		if ts.since.IsZero() {
			ts.since = b.started
		}
		if d.Status != nil {
			ts.devices = serverTimes(d.Status.Devices, time.Duration(d.ClockOffsetMS)*time.Millisecond)
		}
		b.terms[d.ID] = ts
		b.evaluate(ts, b.started)
	}
	return b
}

// serverTimes copies a terminal's devices with their times moved to the
// server's clock by offset (server minus terminal).
func serverTimes(devs []proto.DeviceState, offset time.Duration) []proto.DeviceState {
	out := make([]proto.DeviceState, len(devs))
	for i, d := range devs {
		if !d.Since.IsZero() {
			d.Since = d.Since.Add(offset)
		}
		out[i] = d
	}
	return out
}

func (b *alertBook) term(id string) *termState {
	ts := b.terms[id]
	if ts == nil {
		ts = &termState{id: id, alerts: map[string]*Alert{}}
		b.terms[id] = ts
	}
	return ts
}

// connected records a terminal's hello: dev is its record after it, offset
// its clock's.
func (b *alertBook) connected(t *terminal, h *proto.Hello, dev Device, offset time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.clock.Now()
	ts := b.term(h.Device)
	ts.roles, ts.version, ts.conn, ts.since, ts.stopped = h.Roles, h.Version, t, now, false
	ts.committed = dev.LastSeq
	ts.outbox = nil
	if h.Outbox != nil {
		ts.outbox = b.outboxOf(ts, h.Outbox, offset)
	}
	b.evaluate(ts, now)
	b.notify()
}

// outboxOf is a terminal's outbox report on the server's clock; a backlog
// queued has committed already counts as none.
func (b *alertBook) outboxOf(ts *termState, st *proto.OutboxState, offset time.Duration) *proto.OutboxState {
	o := *st
	if o.Events <= 0 || o.LastSeq != 0 && o.LastSeq <= ts.committed {
		return &proto.OutboxState{}
	}
	if !o.OldestAt.IsZero() {
		o.OldestAt = o.OldestAt.Add(offset)
	}
	return &o
}

// disconnected records the end of t's link; stopped: the terminal said
// goodbye first.
func (b *alertBook) disconnected(t *terminal, stopped bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	ts := b.terms[t.device]
	if ts == nil || ts.conn != t {
		return // replaced by a newer link already
	}
	now := b.clock.Now()
	ts.conn, ts.since, ts.stopped, ts.lastSeen = nil, now, stopped, t.lastSeen()
	b.evaluate(ts, now)
	b.notify()
}

// status records a terminal's device report.
func (b *alertBook) status(device string, st *proto.DeviceStatus, offset time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	ts := b.term(device)
	ts.devices = serverTimes(st.Devices, offset)
	b.evaluate(ts, b.clock.Now())
	b.notify()
}

// committed records that queued committed a terminal's events up to seq:
// the backlog its outbox reported is delivered when seq reaches its last.
func (b *alertBook) committed(device string, seq uint64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	ts := b.terms[device]
	if ts == nil {
		return
	}
	ts.committed = seq
	if ts.outbox != nil && ts.outbox.Events > 0 && seq >= ts.outbox.LastSeq {
		ts.outbox = &proto.OutboxState{}
		b.evaluate(ts, b.clock.Now())
		b.notify()
	}
}

// outboxReport records what a connected terminal says of its outbox.
func (b *alertBook) outboxReport(t *terminal, st *proto.OutboxState, offset time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	ts := b.terms[t.device]
	if ts == nil || ts.conn != t {
		return
	}
	ts.outbox = b.outboxOf(ts, st, offset)
	b.evaluate(ts, b.clock.Now())
	b.notify()
}

// sweep looks at every terminal for what time alone has changed.
func (b *alertBook) sweep(now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.sweepLocked(now)
}

func (b *alertBook) sweepLocked(now time.Time) {
	changed := false
	for _, ts := range b.terms {
		changed = b.evaluate(ts, now) || changed
	}
	if changed {
		b.notify()
	}
}

// evaluate raises and clears ts's alerts to match its state at now, and
// reports whether any changed; b.mu is held.
func (b *alertBook) evaluate(ts *termState, now time.Time) bool {
	lim := b.limits()
	want := map[string]Alert{}
	add := func(a Alert) { want[a.Kind+"/"+a.Device] = a }
	if ts.conn == nil && now.Sub(later(ts.since, b.started)) >= lim.OfflineAfter {
		a := Alert{Kind: AlertTerminalOffline, Terminal: ts.id, Since: ts.since}
		if ts.stopped {
			a.Detail = TerminalStopped
		}
		add(a)
	}
	if o := ts.outbox; ts.conn != nil && o != nil && o.Events > 0 &&
		(o.Events > lim.BacklogEvents || !o.OldestAt.IsZero() && now.Sub(o.OldestAt) > lim.BacklogAge) {
		// The oldest's age is the terminal's outbox.oldest_at: a detail
		// that changed with the clock would change the alert at every sweep.
		add(Alert{Kind: AlertOutboxBacklog, Terminal: ts.id, Since: now, Detail: fmt.Sprintf("%d events not committed", o.Events)})
	}
	for _, d := range ts.devices {
		if kind := deviceAlert(d); kind != "" {
			since := d.Since
			if since.IsZero() {
				since = now
			}
			add(Alert{Kind: kind, Terminal: ts.id, Device: d.Name, Since: since, Detail: d.Detail})
		}
	}
	changed := false
	for key, a := range ts.alerts {
		if _, ok := want[key]; !ok {
			delete(ts.alerts, key)
			b.active[a.Kind]--
			b.log.Info("alert cleared", "kind", a.Kind, "terminal", a.Terminal, "device", a.Device,
				"lasted", now.Sub(a.Since).Round(time.Second))
			changed = true
		}
	}
	for key, a := range want {
		if old, ok := ts.alerts[key]; ok {
			if old.Detail != a.Detail {
				old.Detail = a.Detail // the same trouble, in newer words
				changed = true
			}
			continue
		}
		ts.alerts[key] = &a
		b.active[a.Kind]++
		b.raised[a.Kind]++
		b.log.Warn("alert raised", "kind", a.Kind, "terminal", a.Terminal, "device", a.Device)
		changed = true
	}
	return changed
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// notify tells the waiting tests and the page streams that something
// changed; b.mu is held.
func (b *alertBook) notify() {
	close(b.changed)
	b.changed = make(chan struct{})
	select {
	case b.signal <- struct{}{}:
	default:
	}
}

// changes is closed at the next change.
func (b *alertBook) changes() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.changed
}

// TerminalView is one terminal in GET /api/v1/devices.
type TerminalView struct {
	ID      string   `json:"id"`
	Roles   []string `json:"roles"`
	Version string   `json:"version"`
	// State is connected, offline or stopped; Since when it became so.
	State     string    `json:"state"`
	Connected bool      `json:"connected"`
	Since     time.Time `json:"since"`
	LastSeen  time.Time `json:"last_seen,omitzero"`
	// Outbox is the terminal's backlog as last known: what it buffered
	// and queued has not committed. Left out when the terminal does not
	// say.
	Outbox  *proto.OutboxState  `json:"outbox,omitempty"`
	Devices []proto.DeviceState `json:"devices"`
	Alerts  int                 `json:"alerts"`
}

// DevicesView is GET /api/v1/devices: every terminal the office has, with
// its devices, and the alerts active now.
type DevicesView struct {
	At        time.Time      `json:"at"`
	Terminals []TerminalView `json:"terminals"`
	Alerts    []Alert        `json:"alerts"`
	// States counts the terminals by state.
	States map[string]int `json:"states"`
}

func (b *alertBook) view() DevicesView {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.clock.Now()
	b.sweepLocked(now)
	v := DevicesView{At: now, Terminals: make([]TerminalView, 0, len(b.terms)), Alerts: b.alertsLocked(),
		States: map[string]int{}}
	for _, st := range terminalStates {
		v.States[st] = 0
	}
	for _, ts := range b.terms {
		tv := TerminalView{ID: ts.id, Roles: ts.roles, Version: ts.version, State: ts.state(), Connected: ts.conn != nil,
			Since: ts.since, LastSeen: ts.lastSeen, Devices: ts.devices, Alerts: len(ts.alerts)}
		if ts.conn != nil {
			tv.LastSeen = ts.conn.lastSeen()
		}
		if tv.Roles == nil {
			tv.Roles = []string{}
		}
		if tv.Devices == nil {
			tv.Devices = []proto.DeviceState{}
		}
		if ts.outbox != nil {
			o := *ts.outbox
			tv.Outbox = &o
		}
		v.States[tv.State]++
		v.Terminals = append(v.Terminals, tv)
	}
	slices.SortFunc(v.Terminals, func(a, b TerminalView) int { return strings.Compare(a.ID, b.ID) })
	return v
}

func (ts *termState) state() string {
	switch {
	case ts.conn != nil:
		return TerminalConnected
	case ts.stopped:
		return TerminalStopped
	}
	return TerminalOffline
}

// alerts lists the active alerts, the most urgent kind first, then the
// oldest first.
func (b *alertBook) alerts() []Alert {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.sweepLocked(b.clock.Now())
	return b.alertsLocked()
}

func (b *alertBook) alertsLocked() []Alert {
	out := []Alert{}
	for _, ts := range b.terms {
		for _, a := range ts.alerts {
			out = append(out, *a)
		}
	}
	slices.SortFunc(out, func(x, y Alert) int {
		if c := slices.Index(AlertKinds, x.Kind) - slices.Index(AlertKinds, y.Kind); c != 0 {
			return c
		}
		if c := x.Since.Compare(y.Since); c != 0 {
			return c
		}
		if c := strings.Compare(x.Terminal, y.Terminal); c != 0 {
			return c
		}
		return strings.Compare(x.Device, y.Device)
	})
	return out
}

// sweepAlerts runs the book's sweep until the server stops.
func (s *Server) sweepAlerts() {
	tick := time.NewTicker(alertSweepEvery)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			s.alerts.sweep(s.q.clock.Now())
		case <-s.stop:
			return
		}
	}
}

// sendDeviceChanges tells the devices pages' streams that something
// changed; changes made while it sends go out as one.
func (s *Server) sendDeviceChanges() {
	msg := sse("devices", []byte("{}"))
	for {
		select {
		case <-s.alerts.signal:
			s.deviceWatchers.mu.Lock()
			s.deviceWatchers.send(s.deviceWatchers.staff, msg)
			s.deviceWatchers.mu.Unlock()
		case <-s.stop:
			return
		}
	}
}

// Metrics of the book, read when scraped.
var (
	descAlerts = prometheus.NewDesc("cherga_queued_alerts",
		"Alerts active now, by kind.", []string{"kind"}, nil)
	descAlertsRaised = prometheus.NewDesc("cherga_queued_alerts_raised_total",
		"Alerts raised since queued started, by kind.", []string{"kind"}, nil)
	descTerminals = prometheus.NewDesc("cherga_queued_terminals",
		"Terminals the office has, by state (connected, offline, stopped: offline after a clean stop).", []string{"state"}, nil)
)

type alertCollector struct{ b *alertBook }

func (c alertCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descAlerts
	ch <- descAlertsRaised
	ch <- descTerminals
}

func (c alertCollector) Collect(ch chan<- prometheus.Metric) {
	b := c.b
	b.mu.Lock()
	b.sweepLocked(b.clock.Now())
	states := map[string]int{}
	for _, ts := range b.terms {
		states[ts.state()]++
	}
	active, raised := make([]int, len(AlertKinds)), make([]uint64, len(AlertKinds))
	for i, k := range AlertKinds {
		active[i], raised[i] = b.active[k], b.raised[k]
	}
	b.mu.Unlock()
	for i, k := range AlertKinds {
		ch <- prometheus.MustNewConstMetric(descAlerts, prometheus.GaugeValue, float64(active[i]), k)
		ch <- prometheus.MustNewConstMetric(descAlertsRaised, prometheus.CounterValue, float64(raised[i]), k)
	}
	for _, st := range terminalStates {
		ch <- prometheus.MustNewConstMetric(descTerminals, prometheus.GaugeValue, float64(states[st]), st)
	}
}
