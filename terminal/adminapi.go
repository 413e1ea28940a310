package terminal

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"go.yaml.in/yaml/v3"

	"github.com/cherga/kiosk/configs"
	"github.com/cherga/kiosk/devices"
	"github.com/cherga/kiosk/display/announce"
	"github.com/cherga/kiosk/httpapi"
	"github.com/cherga/kiosk/i18n"
	"github.com/cherga/kiosk/link"
	"github.com/cherga/kiosk/link/proto"
	"github.com/cherga/kiosk/printer"
)

// The admin listener's JSON API, which its page reads and kioskctl
// outbox prints:
//
//	GET  /api/v1/admin/status                 devices, paper, scans, link, outbox
//	GET  /api/v1/admin/outbox?n=20            what waits in the outbox, and why
//	GET  /api/v1/admin/config                 the configuration, secrets masked
//	POST /api/v1/admin/devices/{name}/restart close and reopen a supervised device
//	POST /api/v1/admin/printer/test           print a short test ticket (409: no printer)
//	POST /api/v1/admin/speaker/test           play a test phrase in the hall (409: no audio)

func (p *adminPart) registerAPI(mux *httpapi.Mux) {
	mux.HandleFunc("GET /api/v1/admin/status", p.handleStatus)
	mux.HandleFunc("GET /api/v1/admin/outbox", p.handleOutbox)
	mux.HandleFunc("GET /api/v1/admin/config", p.handleConfig)
	mux.HandleFunc("POST /api/v1/admin/devices/{name}/restart", p.handleRestart)
	mux.HandleFunc("POST /api/v1/admin/printer/test", p.handlePrinterTest)
	mux.HandleFunc("POST /api/v1/admin/speaker/test", p.handleSpeakerTest)
}

// adminDevice is a device as the admin page shows it.
type adminDevice struct {
	devices.Status
	Restartable bool          `json:"restartable"`
	Errors      []deviceError `json:"errors"` // newest first
}

type adminPaper struct {
	UsedM float64  `json:"used_m"`           // printed since the roll was changed
	LeftM *float64 `json:"left_m,omitempty"` // with kiosk.printer.roll_m
	RollM float64  `json:"roll_m,omitempty"`
}

type adminLink struct {
	link.Status
	ConnectedSince time.Time `json:"connected_since,omitzero"` // while up
	Reconnects     int       `json:"reconnects"`
}

type adminOutbox struct {
	link.OutboxStats
	OldestAgeSeconds float64 `json:"oldest_age_seconds"`
}

// adminStatus is the body of GET /api/v1/admin/status.
type adminStatus struct {
	Device        string         `json:"device"`
	Version       string         `json:"version"`
	Roles         []configs.Role `json:"roles"`
	Now           time.Time      `json:"now"`
	UptimeSeconds int64          `json:"uptime_seconds"`
	Devices       []adminDevice  `json:"devices"`
	Printer       bool           `json:"printer"` // a test print can be asked for
	Speaker       bool           `json:"speaker"` // a speaker test can be asked for
	Paper         *adminPaper    `json:"paper,omitempty"`
	Scans         []scanEntry    `json:"scans"`
	Link          adminLink      `json:"link"`
	Outbox        adminOutbox    `json:"outbox"`
}

// restarters is every supervised device's restart, by name.
func (t *Terminal) restarters() map[string]func() bool {
	out := map[string]func() bool{}
	for _, p := range t.parts {
		if r, ok := p.(interface{ Restarters() map[string]func() bool }); ok {
			for name, f := range r.Restarters() {
				out[name] = f
			}
		}
	}
	return out
}

func (t *Terminal) kioskPart() *kioskPart {
	for _, p := range t.parts {
		if k, ok := p.(*kioskPart); ok {
			return k
		}
	}
	return nil
}

func (t *Terminal) hallPart() *hallPart {
	for _, p := range t.parts {
		if h, ok := p.(*hallPart); ok {
			return h
		}
	}
	return nil
}

func (p *adminPart) handleStatus(w http.ResponseWriter, r *http.Request) {
	t := p.t
	now := t.clock.Now()
	sts := t.deviceStates()
	p.errors.observe(sts, now)
	restart := t.restarters()
	st := adminStatus{Device: t.cfg.DeviceID, Version: t.version, Roles: t.cfg.Roles, Now: now,
		UptimeSeconds: int64(now.Sub(t.started).Seconds()), Devices: []adminDevice{}, Scans: p.scans.recent(),
		Link: p.linkState(), Outbox: p.outboxState(now)}
	for _, d := range sts {
		st.Devices = append(st.Devices, adminDevice{Status: d, Restartable: restart[d.Name] != nil, Errors: p.errors.of(d.Name)})
	}
	if k := t.kioskPart(); k != nil {
		st.Printer = true
		if pp, ok := k.prn.(papered); ok {
			used, roll := pp.Paper()
			st.Paper = &adminPaper{UsedM: float64(used) / 1000, RollM: float64(roll) / 1000}
			if roll > 0 {
				left := float64(max(0, roll-used)) / 1000
				st.Paper.LeftM = &left
			}
		}
	}
	if h := t.hallPart(); h != nil && h.out != nil {
		st.Speaker = true
	}
	_ = httpapi.WriteJSON(w, http.StatusOK, st)
}

func (p *adminPart) linkState() adminLink {
	ls := p.t.link.Status()
	out := adminLink{Status: ls, Reconnects: int(counterValue(p.t.metrics.reconnects))}
	if ls.State == link.StateUp {
		out.ConnectedSince = ls.Since
	}
	return out
}

func (p *adminPart) outboxState(now time.Time) adminOutbox {
	ob := p.t.store.Outbox()
	out := adminOutbox{OutboxStats: ob}
	if ob.Events > 0 && !ob.OldestAt.IsZero() {
		out.OldestAgeSeconds = max(0, now.Sub(ob.OldestAt).Seconds())
	}
	return out
}

// counterValue reads a Prometheus counter the terminal keeps anyway.
func counterValue(c interface{ Write(*dto.Metric) error }) float64 {
	var m dto.Metric
	if c == nil || c.Write(&m) != nil || m.Counter == nil {
		return 0
	}
	return m.Counter.GetValue()
}

// Why an event is still in the outbox.
const (
	reasonLinkDown = "link_down"    // the link to queued is not up
	reasonAwaiting = "awaiting_ack" // sent, or about to be; the server has not acknowledged it yet
	reasonRejected = "rejected"     // the server refused it for good; the next ack removes it
)

// outboxItem is one waiting event in GET /api/v1/admin/outbox.
type outboxItem struct {
	link.OutboxEvent
	AgeSeconds float64   `json:"age_seconds"`
	Reason     string    `json:"reason"`
	Since      time.Time `json:"since,omitzero"` // link_down: since when
	Detail     string    `json:"detail,omitempty"`
}

// adminOutboxAnswer is the body of GET /api/v1/admin/outbox.
type adminOutboxAnswer struct {
	adminOutbox
	Link  adminLink    `json:"link"`
	Shown int          `json:"shown"`
	Items []outboxItem `json:"items"`
}

// adminOutboxMax bounds ?n=.
const adminOutboxMax = 500

func (p *adminPart) handleOutbox(w http.ResponseWriter, r *http.Request) {
	n := 20
	if s := r.URL.Query().Get("n"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 0 || v > adminOutboxMax {
			httpapi.WriteError(w, http.StatusBadRequest, "bad_n", fmt.Sprintf("n: got %q, expected 0 to %d events", clipText(s), adminOutboxMax))
			return
		}
		n = v
	}
	now := p.t.clock.Now()
	head, err := p.t.store.Head(n)
	if err != nil {
		p.t.log.Error("admin: read outbox", "err", err)
		httpapi.WriteError(w, http.StatusInternalServerError, httpapi.CodeInternal, "the outbox could not be read; kioskd's log says why")
		return
	}
	ans := adminOutboxAnswer{adminOutbox: p.outboxState(now), Link: p.linkState(), Shown: len(head), Items: []outboxItem{}}
	for _, e := range head {
		it := outboxItem{OutboxEvent: e, AgeSeconds: max(0, now.Sub(e.At).Seconds())}
		switch {
		case e.Rejected != nil:
			it.Reason, it.Detail = reasonRejected, e.Rejected.Code+": "+e.Rejected.Message
		case ans.Link.State != link.StateUp:
			it.Reason, it.Since, it.Detail = reasonLinkDown, ans.Link.Since, ans.Link.LastError
		default:
			it.Reason = reasonAwaiting
		}
		ans.Items = append(ans.Items, it)
	}
	_ = httpapi.WriteJSON(w, http.StatusOK, ans)
}

// secretMask stands for a secret that is set.
const secretMask = "••• (set)"

// secretKey: a key whose value is a secret or names a private key file.
// server.token_file is only a path (the token is never read here).
func secretKey(key string) bool {
	k := strings.ToLower(key)
	if k == "token_file" {
		return false
	}
	return strings.Contains(k, "password") || strings.Contains(k, "token") || strings.Contains(k, "secret") ||
		k == "key_file" || k == "tls_key" || k == "key" || strings.HasSuffix(k, "_key")
}

// maskSecrets replaces every secret's value in a decoded YAML tree.
func maskSecrets(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if secretKey(k) {
				if s, ok := val.(string); ok && s == "" || val == nil {
					x[k] = ""
				} else {
					x[k] = secretMask
				}
				continue
			}
			x[k] = maskSecrets(val)
		}
	case []any:
		for i := range x {
			x[i] = maskSecrets(x[i])
		}
	}
	return v
}

// maskedConfig is the terminal's configuration as YAML would write it,
// every secret masked.
func maskedConfig(c *configs.Terminal) (map[string]any, error) {
	b, err := yaml.Marshal(c)
	if err != nil {
		return nil, err
	}
	var tree map[string]any
	if err := yaml.Unmarshal(b, &tree); err != nil {
		return nil, err
	}
	maskSecrets(tree)
	return tree, nil
}

func (p *adminPart) handleConfig(w http.ResponseWriter, r *http.Request) {
	tree, err := maskedConfig(p.t.cfg)
	if err != nil {
		p.t.log.Error("admin: configuration", "err", err)
		httpapi.WriteError(w, http.StatusInternalServerError, httpapi.CodeInternal, "the configuration could not be shown; kioskd's log says why")
		return
	}
	_ = httpapi.WriteJSON(w, http.StatusOK, map[string]any{"config": tree})
}

// tooSoon answers 429 with Retry-After.
func tooSoon(w http.ResponseWriter, wait time.Duration, what string) {
	secs := int(math.Ceil(wait.Seconds()))
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	httpapi.WriteError(w, http.StatusTooManyRequests, "too_soon", fmt.Sprintf("%s was asked for a moment ago: try again in %d s", what, secs))
}

func (p *adminPart) handleRestart(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	restart := p.t.restarters()
	f := restart[name]
	if f == nil {
		known := slices.ContainsFunc(p.t.deviceStates(), func(d devices.Status) bool { return d.Name == name })
		if known {
			httpapi.WriteError(w, http.StatusConflict, "not_restartable", fmt.Sprintf("device %q is not kept open by a supervise loop: it cannot be restarted", clipText(name)))
			return
		}
		names := make([]string, 0, len(restart))
		for n := range restart {
			names = append(names, n)
		}
		slices.Sort(names)
		httpapi.WriteError(w, http.StatusNotFound, "no_such_device", fmt.Sprintf("no device %q; restartable: %s", clipText(name), strings.Join(names, ", ")))
		return
	}
	if wait := p.tests.take("restart " + name); wait > 0 {
		tooSoon(w, wait, "a restart of "+name)
		return
	}
	if !f() {
		httpapi.WriteError(w, http.StatusConflict, "not_running", fmt.Sprintf("device %q is not running (kioskd is stopping)", clipText(name)))
		return
	}
	p.t.log.Info("admin: device restarted", "device", name)
	_ = httpapi.WriteJSON(w, http.StatusAccepted, map[string]any{"device": name, "restarting": true})
}

// adminTestTimeout bounds a test print or a speaker test.
const adminTestTimeout = 30 * time.Second

func (p *adminPart) handlePrinterTest(w http.ResponseWriter, r *http.Request) {
	k := p.t.kioskPart()
	if k == nil || k.prn == nil {
		httpapi.WriteError(w, http.StatusConflict, "no_printer", "this terminal has no ticket printer (it is not a kiosk)")
		return
	}
	if wait := p.tests.take("printer test"); wait > 0 {
		tooSoon(w, wait, "a test print")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), adminTestTimeout)
	defer cancel()
	ticket := &printer.Ticket{
		Centre:   proto.Text{UK: i18n.T("uk", "admin.test.ticket"), EN: i18n.T("en", "admin.test.ticket")},
		Number:   "000",
		Service:  proto.Text{UK: p.t.cfg.DeviceID, EN: p.t.cfg.DeviceID},
		IssuedAt: p.t.clock.Now(),
	}
	if err := k.prn.Print(ctx, ticket); err != nil {
		p.t.log.Warn("admin: test print failed", "err", err)
		httpapi.WriteError(w, http.StatusServiceUnavailable, "print_failed", "the test ticket was not printed: "+err.Error())
		return
	}
	p.t.log.Info("admin: test ticket printed")
	_ = httpapi.WriteJSON(w, http.StatusOK, map[string]any{"printed": true})
}

func (p *adminPart) handleSpeakerTest(w http.ResponseWriter, r *http.Request) {
	h := p.t.hallPart()
	if h == nil || h.out == nil {
		httpapi.WriteError(w, http.StatusConflict, "no_speaker", "this terminal has no hall audio (it is not a hall)")
		return
	}
	if wait := p.tests.take("speaker test"); wait > 0 {
		tooSoon(w, wait, "a speaker test")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), adminTestTimeout)
	defer cancel()
	// A call as the hall would say it, "ticket 000, window 1", in the
	// configured languages; the chime alone when no pack can say it.
	clip := h.speech.Compose(proto.Call{ID: "speaker-test", Ticket: "000", Window: 1, At: p.t.clock.Now()}, false)
	if clip == nil || len(clip.Samples) == 0 {
		clip = announce.Chime(22050)
	}
	test := *clip
	test.Name = "speaker-test"
	if err := h.out.Play(ctx, &test); err != nil {
		p.t.log.Warn("admin: speaker test failed", "err", err)
		httpapi.WriteError(w, http.StatusServiceUnavailable, "play_failed", "the test phrase was not played: "+err.Error())
		return
	}
	p.t.log.Info("admin: speaker test played")
	_ = httpapi.WriteJSON(w, http.StatusOK, map[string]any{"played": true, "seconds": test.Seconds()})
}
