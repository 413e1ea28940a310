package terminal

import (
	"context"
	"encoding/json"
	"github.com/cherga/kiosk/httpapi"
	"net/http"
	"strings"
	"time"

	"github.com/cherga/kiosk/configs"
	"github.com/cherga/kiosk/devices"
	"github.com/cherga/kiosk/kiosk"
	"github.com/cherga/kiosk/link"
	"github.com/cherga/kiosk/link/proto"
)

// healthPart answers GET /healthz with every part's devices, the link and
// the outbox, sends a browser at / to the terminal's main page, and tells
// the server whenever a device's state changes.
type healthPart struct{ t *Terminal }

func newHealthPart(b *build) (part, error) { return healthPart{b.Terminal}, nil }

func (healthPart) Name() string { return "health" }
func (healthPart) Close() error { return nil }

func (p healthPart) Register(mux httpapi.Routes) {
	mux.HandleFunc("GET /healthz", p.handleHealth)
	mux.HandleFunc("GET /{$}", p.handleIndex)
}

// deviceStates is every part's devices, in the order of the parts.
func (t *Terminal) deviceStates() []devices.Status {
	out := []devices.Status{}
	for _, p := range t.parts {
		if d, ok := p.(devicer); ok {
			for _, st := range d.Devices() {
				out = append(out, st())
			}
		}
	}
	return out
}

// handleIndex sends a browser to this terminal's main page.
func (p healthPart) handleIndex(w http.ResponseWriter, r *http.Request) {
	page := map[configs.Role]string{configs.RoleKiosk: "/kiosk/", configs.RoleHall: "/hall/", configs.RoleWindow: "/window/"}
	http.Redirect(w, r, page[p.t.cfg.Roles[0]], http.StatusFound)
}

// health is the body of GET /healthz.
type health struct {
	Status         string           `json:"status"` // ok | degraded
	Device         string           `json:"device"`
	Version        string           `json:"version"`
	Roles          []configs.Role   `json:"roles"`
	Devices        []devices.Status `json:"devices"`
	Link           link.Status      `json:"link"`
	BufferedEvents int              `json:"buffered_events"`
	Outbox         link.OutboxStats `json:"outbox"`
	Numbering      *link.Numbering  `json:"numbering,omitempty"` // kiosk role
	Alarms         []string         `json:"alarms,omitempty"`
	UptimeSeconds  int64            `json:"uptime_seconds"`

	// Forms: the sample forms kept on a kiosk (kiosk role).
	Forms *kiosk.FormsStatus `json:"forms,omitempty"`
}

func (p healthPart) handleHealth(w http.ResponseWriter, r *http.Request) {
	t := p.t
	h := health{
		Status: "ok", Device: t.cfg.DeviceID, Version: t.version, Roles: t.cfg.Roles,
		Devices: t.deviceStates(), Link: t.link.Status(), Outbox: t.store.Outbox(),
		UptimeSeconds: int64(t.clock.Since(t.started).Seconds()),
	}
	h.BufferedEvents = h.Outbox.Events
	for _, d := range h.Devices {
		if d.State == devices.Fault {
			h.Status = "degraded"
		}
	}
	if h.Link.State != link.StateUp {
		h.Status = "degraded"
	}
	if h.Outbox.Alarm != "" {
		h.Status = "degraded"
		h.Alarms = append(h.Alarms, "outbox: "+h.Outbox.Alarm)
	}
	if h.Link.Alarm != "" {
		h.Status = "degraded"
		h.Alarms = append(h.Alarms, "link: "+h.Link.Alarm)
	}
	for _, part := range t.parts {
		if r, ok := part.(healthReporter); ok {
			r.addHealth(&h)
		}
	}
	// 200 whatever the state: the daemon answers, and the body says how
	// well it works. A monitor alerts on "degraded".
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(h)
}

// deviceReportEvery is how often the devices are looked at for a change
// to report; a change between looks waits for the next.
const deviceReportEvery = 5 * time.Second

// Run tells the server whenever a device's state changes, through the
// outbox like every other event.
func (p healthPart) Run(ctx context.Context) error {
	t := p.t
	tick := t.clock.NewTicker(deviceReportEvery)
	defer tick.Stop()
	last := ""
	for {
		var states []proto.DeviceState
		key := ""
		for _, d := range t.deviceStates() {
			states = append(states, proto.DeviceState{Name: d.Name, Kind: d.Kind, Driver: d.Driver,
				State: string(d.State), Detail: d.Detail, Since: d.Since, LastError: d.LastError})
			key += d.Name + "=" + string(d.State) + reportedCondition(d) + ";"
		}
		if key != last {
			last = key
			t.report(&proto.Message{Type: proto.TypeDeviceStatus, Status: &proto.DeviceStatus{At: t.clock.Now(), Devices: states}})
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.Chan():
		}
	}
}

// reportedCondition is what of a device's detail makes a new report: the
// first word of a warning's or a fault's ("paper_near_end", "paper_out",
// "offline"), which says what is wrong, so that the server's alerts follow
// a printer from one trouble to another. Not an OK device's detail, which
// counts the tickets printed and would make a report per ticket.
func reportedCondition(d devices.Status) string {
	if d.State != devices.Warning && d.State != devices.Fault {
		return ""
	}
	word, _, _ := strings.Cut(d.Detail, " ")
	return ":" + strings.TrimRight(word, ",;:")
}
