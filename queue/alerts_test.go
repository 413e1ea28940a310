package queue

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/jonboulle/clockwork"

	"github.com/cherga/kiosk/httpapi/apitest"
	"github.com/cherga/kiosk/link/proto"
	"github.com/cherga/kiosk/queue/access"
)

// logBuffer is a log the test reads back.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// logAlerts makes the server's alert book log into a buffer.
func logAlerts(s *Server) *logBuffer {
	lb := &logBuffer{}
	s.alerts.mu.Lock()
	s.alerts.log = slog.New(slog.NewTextHandler(lb, nil))
	s.alerts.mu.Unlock()
	return lb
}

// waitBook waits until cond holds of the server's book, waking at each of
// its changes; 10 s guard against hanging.
func waitBook(t *testing.T, s *Server, what string, cond func(v DevicesView) bool) DevicesView {
	t.Helper()
	guard := time.After(10 * time.Second)
	for {
		ch := s.alerts.changes()
		v := s.alerts.view()
		if cond(v) {
			return v
		}
		select {
		case <-ch:
		case <-guard:
			b, _ := json.Marshal(v)
			t.Fatalf("%s: not within 10 s; the book has %s", what, b)
		}
	}
}

func statusEvent(seq uint64, at time.Time, devs ...proto.DeviceState) *proto.Message {
	return &proto.Message{Type: proto.TypeDeviceStatus, Seq: seq, Status: &proto.DeviceStatus{At: at, Devices: devs}}
}

func alertKinds(as []Alert) string {
	var out []string
	for _, a := range as {
		s := a.Kind + ":" + a.Terminal
		if a.Device != "" {
			s += "/" + a.Device
		}
		out = append(out, s)
	}
	return strings.Join(out, ",")
}

// getJSON is an authorised GET into out.
func getAlerts(t *testing.T, url string) []Alert {
	t.Helper()
	var body struct {
		Alerts []Alert `json:"alerts"`
	}
	call(t, "GET", url+"/api/v1/alerts", "", http.StatusOK, &body)
	return body.Alerts
}

// A kiosk's printer reports paper near end: the alert is raised (logged at
// warn, counted, in the API), cleared when the printer is OK again; a
// terminal whose link breaks is offline at once and alerted after the
// grace on the office's clock, one that stopped cleanly is "stopped".
func TestDeviceAlerts(t *testing.T) {
	ts, s := newTestServer(t)
	clock := s.q.clock.(*clockwork.FakeClock)
	lb := logAlerts(s)

	kiosk := dialPeer(t, ts)
	// On the office's clock: the devices' times need no correction.
	kiosk.send(&proto.Message{Type: proto.TypeHello, Hello: &proto.Hello{Device: "kiosk-01", Roles: []string{"kiosk"}, Epoch: "e1", Time: clock.Now()}})
	kiosk.next(proto.TypeWelcome)
	at := clock.Now()
	kiosk.send(statusEvent(1, at,
		proto.DeviceState{Name: "printer", Kind: "printer", Driver: "escpos", State: "warning", Detail: "paper_near_end", Since: at.Add(-time.Second),
			LastError: "write /dev/usb/lp0: no such device"},
		proto.DeviceState{Name: "scanner", Kind: "scanner", Driver: "serial", State: "ok", Since: at.Add(-time.Hour)}))
	kiosk.next(proto.TypeAck) // the alert is in the book before the ack

	as := getAlerts(t, ts.URL)
	if alertKinds(as) != "paper_near_end:kiosk-01/printer" || as[0].Detail != "paper_near_end" || !as[0].Since.Equal(at.Add(-time.Second)) {
		t.Fatalf("alerts %+v", as)
	}
	var v DevicesView
	call(t, "GET", ts.URL+"/api/v1/devices", "", http.StatusOK, &v)
	if len(v.Terminals) != 1 || v.Alerts[0].Kind != AlertPaperNearEnd || v.States[TerminalConnected] != 1 {
		t.Fatalf("devices %+v", v)
	}
	k := v.Terminals[0]
	if k.ID != "kiosk-01" || k.State != TerminalConnected || !k.Connected || k.Alerts != 1 || len(k.Devices) != 2 ||
		k.Devices[0].State != "warning" || k.Devices[0].LastError != "write /dev/usb/lp0: no such device" || k.Roles[0] != "kiosk" {
		t.Fatalf("kiosk %+v", k)
	}
	if log := lb.String(); !strings.Contains(log, `level=WARN msg="alert raised" kind=paper_near_end terminal=kiosk-01 device=printer`) {
		t.Errorf("log:\n%s", log)
	}
	text := string(scrape(t, ts.URL+"/metrics", apiToken, http.StatusOK))
	for _, want := range []string{`cherga_queued_alerts{kind="paper_near_end"} 1`, `cherga_queued_alerts_raised_total{kind="paper_near_end"} 1`,
		`cherga_queued_alerts{kind="terminal_offline"} 0`, `cherga_queued_terminals{state="connected"} 1`, `cherga_queued_terminals{state="offline"} 0`} {
		if !strings.Contains(text, want+"\n") {
			t.Errorf("no %s in\n%s", want, apitest.ChergaLines(text))
		}
	}
	apitest.Promtool(t, []byte(text))

	// From near end to out: one cleared, the other raised; then OK.
	kiosk.send(statusEvent(2, at, proto.DeviceState{Name: "printer", Kind: "printer", State: "fault", Detail: "paper_out", Since: at}))
	kiosk.next(proto.TypeAck)
	if as := getAlerts(t, ts.URL); alertKinds(as) != "paper_out:kiosk-01/printer" {
		t.Fatalf("after paper out: %+v", as)
	}
	kiosk.send(statusEvent(3, at, proto.DeviceState{Name: "printer", Kind: "printer", State: "ok", Detail: "12 tickets printed", Since: at},
		proto.DeviceState{Name: "scanner", Kind: "scanner", State: "fault", Detail: "unplugged", Since: at}))
	kiosk.next(proto.TypeAck)
	if as := getAlerts(t, ts.URL); alertKinds(as) != "device_fault:kiosk-01/scanner" {
		t.Fatalf("after a new roll: %+v", as)
	}
	kiosk.send(statusEvent(4, at, proto.DeviceState{Name: "printer", Kind: "printer", State: "ok", Since: at}))
	kiosk.next(proto.TypeAck)
	if as := getAlerts(t, ts.URL); len(as) != 0 {
		t.Fatalf("all OK: %+v", as)
	}
	if log := lb.String(); !strings.Contains(log, `level=INFO msg="alert cleared" kind=paper_near_end terminal=kiosk-01 device=printer`) {
		t.Errorf("log:\n%s", log)
	}
	text = string(scrape(t, ts.URL+"/metrics", apiToken, http.StatusOK))
	for _, want := range []string{`cherga_queued_alerts{kind="paper_near_end"} 0`, `cherga_queued_alerts_raised_total{kind="paper_near_end"} 1`,
		`cherga_queued_alerts_raised_total{kind="paper_out"} 1`, `cherga_queued_alerts_raised_total{kind="device_fault"} 1`} {
		if !strings.Contains(text, want+"\n") {
			t.Errorf("no %s in\n%s", want, apitest.ChergaLines(text))
		}
	}

	// The link breaks without a goodbye: offline at once, alerted after
	// the grace (a minute) on the office's clock.
	kiosk.conn.Close()
	v = waitBook(t, s, "kiosk offline", func(v DevicesView) bool { return v.States[TerminalOffline] == 1 })
	if k := v.Terminals[0]; k.State != TerminalOffline || k.Connected || !k.Since.Equal(clock.Now()) || len(v.Alerts) != 0 {
		t.Fatalf("right after the break: %+v", v)
	}
	clock.Advance(30 * time.Second)
	if as := getAlerts(t, ts.URL); len(as) != 0 { // reading sweeps at the clock's now
		t.Fatalf("within the grace: %+v", as)
	}
	clock.Advance(31 * time.Second)
	changed := s.alerts.changes()
	s.alerts.sweep(clock.Now()) // as the sweep's ticker does
	<-changed
	v = s.alerts.view()
	if len(v.Alerts) != 1 {
		t.Fatalf("after the grace: %+v", v.Alerts)
	}
	if a := v.Alerts[0]; a.Kind != AlertTerminalOffline || a.Terminal != "kiosk-01" || a.Device != "" || a.Detail != "" ||
		!a.Since.Equal(clock.Now().Add(-61*time.Second)) {
		t.Fatalf("offline alert %+v", a)
	}
	if log := lb.String(); !strings.Contains(log, `level=WARN msg="alert raised" kind=terminal_offline terminal=kiosk-01 device=""`) {
		t.Errorf("log:\n%s", log)
	}
	text = string(scrape(t, ts.URL+"/metrics", apiToken, http.StatusOK))
	for _, want := range []string{`cherga_queued_alerts{kind="terminal_offline"} 1`, `cherga_queued_terminals{state="offline"} 1`} {
		if !strings.Contains(text, want+"\n") {
			t.Errorf("no %s in\n%s", want, apitest.ChergaLines(text))
		}
	}

	// Back: cleared. Then a clean stop: "stopped", alerted after the grace.
	again := dialPeer(t, ts)
	again.send(&proto.Message{Type: proto.TypeHello, Hello: &proto.Hello{Device: "kiosk-01", Roles: []string{"kiosk"}, Epoch: "e1", LastAck: 4, Time: clock.Now()}})
	again.next(proto.TypeWelcome)
	waitBook(t, s, "kiosk back", func(v DevicesView) bool { return v.States[TerminalConnected] == 1 && len(v.Alerts) == 0 })
	_ = again.conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "terminal shutting down"))
	waitBook(t, s, "kiosk stopped", func(v DevicesView) bool { return v.States[TerminalStopped] == 1 })
	clock.Advance(61 * time.Second)
	if as := getAlerts(t, ts.URL); len(as) != 1 || as[0].Kind != AlertTerminalOffline || as[0].Detail != TerminalStopped {
		t.Fatalf("stopped alert %+v", as)
	}
}

// A terminal that comes back with an old backlog is alerted until queued
// has committed it; one whose outbox grows while connected (its events
// are not acknowledged) is alerted from its report, and cleared by the
// next.
func TestOutboxBacklogAlert(t *testing.T) {
	ts, s := newTestServer(t)
	clock := s.q.clock.(*clockwork.FakeClock)
	lb := logAlerts(s)

	hall := dialPeer(t, ts)
	hall.send(&proto.Message{Type: proto.TypeHello, Hello: &proto.Hello{Device: "hall-01", Roles: []string{"hall"}, Epoch: "e1", Time: clock.Now(),
		Outbox: &proto.OutboxState{Events: 2, OldestAt: clock.Now().Add(-10 * time.Minute), LastSeq: 2}}})
	hall.next(proto.TypeWelcome)
	v := waitBook(t, s, "the backlog alert", func(v DevicesView) bool { return len(v.Alerts) == 1 })
	if a := v.Alerts[0]; a.Kind != AlertOutboxBacklog || a.Terminal != "hall-01" || a.Detail != "2 events not committed" {
		t.Fatalf("alert %+v", a)
	}
	if o := v.Terminals[0].Outbox; o == nil || o.Events != 2 || !o.OldestAt.Equal(clock.Now().Add(-10*time.Minute)) {
		t.Fatalf("outbox %+v", o)
	}
	hall.send(statusEvent(1, clock.Now(), proto.DeviceState{Name: "audio", Kind: "audio", State: "ok"}))
	hall.next(proto.TypeAck)
	if as := getAlerts(t, ts.URL); len(as) != 1 {
		t.Fatalf("one of two committed: %+v", as)
	}
	hall.send(statusEvent(2, clock.Now(), proto.DeviceState{Name: "audio", Kind: "audio", State: "ok"}))
	hall.next(proto.TypeAck)
	if as := getAlerts(t, ts.URL); len(as) != 0 {
		t.Fatalf("backlog committed: %+v", as)
	}

	// Connected, and its outbox grows past the limit (500).
	hall.send(&proto.Message{Type: proto.TypeOutbox, Outbox: &proto.OutboxState{Events: 600, OldestAt: clock.Now(), LastSeq: 602}})
	v = waitBook(t, s, "the backlog reported", func(v DevicesView) bool { return len(v.Alerts) == 1 })
	if a := v.Alerts[0]; a.Kind != AlertOutboxBacklog || a.Detail != "600 events not committed" {
		t.Fatalf("alert %+v", a)
	}
	hall.send(&proto.Message{Type: proto.TypeOutbox, Outbox: &proto.OutboxState{Events: 0}})
	waitBook(t, s, "the backlog gone", func(v DevicesView) bool { return len(v.Alerts) == 0 })

	// A few events, but the oldest stays unacknowledged past the limit (5
	// minutes): raised by the sweep as it ages.
	hall.send(&proto.Message{Type: proto.TypeOutbox, Outbox: &proto.OutboxState{Events: 3, OldestAt: clock.Now(), LastSeq: 5}})
	waitBook(t, s, "the small backlog known", func(v DevicesView) bool { return v.Terminals[0].Outbox.Events == 3 })
	if as := getAlerts(t, ts.URL); len(as) != 0 {
		t.Fatalf("a young backlog: %+v", as)
	}
	clock.Advance(5*time.Minute + time.Second)
	if as := getAlerts(t, ts.URL); alertKinds(as) != "outbox_backlog:hall-01" {
		t.Fatalf("an old backlog: %+v", as)
	}
	if log := lb.String(); strings.Count(log, `msg="alert raised" kind=outbox_backlog terminal=hall-01`) != 3 {
		t.Errorf("log:\n%s", log)
	}
	text := string(scrape(t, ts.URL+"/metrics", apiToken, http.StatusOK))
	if want := `cherga_queued_alerts_raised_total{kind="outbox_backlog"} 3`; !strings.Contains(text, want+"\n") {
		t.Errorf("no %s in\n%s", want, apitest.ChergaLines(text))
	}
}

// The devices and alerts are for supervisors, admins and tokens with the
// terminals scope; others get a JSON refusal.
func TestDevicesAccess(t *testing.T) {
	ts, s := newTestServer(t)
	stats, err := s.store.AddToken("stats-only", []string{access.ScopeStats})
	if err != nil {
		t.Fatal(err)
	}
	terminals, err := s.store.AddToken("monitor", []string{access.ScopeTerminals})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path, token string
		status      int
		code        string
	}{
		{"/api/v1/devices", "", http.StatusUnauthorized, "unauthorized"},
		{"/api/v1/alerts", "", http.StatusUnauthorized, "unauthorized"},
		{"/api/v1/devices/stream", "", http.StatusUnauthorized, "unauthorized"},
		{"/api/v1/devices", "not a token", http.StatusUnauthorized, "unauthorized"},
		{"/api/v1/devices", stats, http.StatusForbidden, "forbidden"},
		{"/api/v1/alerts", stats, http.StatusForbidden, "forbidden"},
		{"/api/v1/devices", terminals, http.StatusOK, ""},
		{"/api/v1/alerts", terminals, http.StatusOK, ""},
	} {
		req, _ := http.NewRequest("GET", ts.URL+c.path, nil)
		if c.token != "" {
			req.Header.Set("Authorization", "Bearer "+c.token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.status || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			t.Errorf("GET %s with %q: %s %s", c.path, c.token, resp.Status, b)
			continue
		}
		if c.code != "" {
			var e apiError
			if err := json.Unmarshal(b, &e); err != nil || e.Code != c.code || e.Error == "" {
				t.Errorf("GET %s with %q: %s", c.path, c.token, b)
			}
		}
	}
}
