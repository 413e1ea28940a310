package terminal

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cherga/kiosk/configs"
	"github.com/cherga/kiosk/firmware-bridge/emulator/faceweb"
	"github.com/cherga/kiosk/httpapi"
)

// busSim is the /boards/ page's view of the buses the device emulator
// plays (kioskctl bridge emulate, buses[].emulator: the demo's and the
// tests'): kioskd reads the devices' faces from the emulator's control
// API and presses their keys through it, server side, on loopback. The
// page draws the faces with the emulator's own drawing (faceweb):
//
//	GET  /api/v1/sim/bus                     {"buses":[{"name","port","line","emulator","error","devices":[{"name","type","address","window","face"}]}]}
//	POST /api/v1/sim/bus/{bus}/{addr}/press  {"key":"next"|1…7|1…5,"long":false}: the emulator's answer
//	GET  /bus-faces.js, /bus-faces.css       the faces' drawing
//
// face is the emulator's (emulator.Face), null when it has no device at a
// configured address; a device the emulator has and the configuration
// lacks is listed with window 0. A press is answered as the emulator
// answered it (400 bad_key, 404 unknown_device, 409 device_off), 404
// unknown_bus for a bus with no emulator, 502 emulator_unreachable when
// it does not answer.
//
// A press moves an operator's key, so, as for the other pages' sockets and
// the kiosk's API, a browser may press only from this kioskd's own pages
// (Sec-Fetch-Site and Origin: 403 forbidden_origin), and only at an
// address, not a name another site could rebind to this machine (the Host
// is an IP address or localhost: 403 bad_host). Programs that send no
// Origin (curl) are let through.
type busSim struct {
	buses  []*simBus
	client *http.Client
	log    *slog.Logger
}

// simBus is one emulated bus and the devices the configuration puts on it.
type simBus struct {
	name, port, line, emulator string
	devices                    []configs.BusDevice
}

// Error codes of the simulated bus's API, besides httpapi's and the
// emulator's.
const (
	codeUnknownBus          = "unknown_bus"
	codeEmulatorUnreachable = "emulator_unreachable"
	codeBadAddress          = "bad_address"
	codeBadKey              = "bad_key"
)

// Bounds of a request to the emulator: how long it may take, how much of
// its answer is read, how large a press's body may be.
const (
	emulatorTimeout = 2 * time.Second
	maxEmulatorBody = 1 << 20
	maxPressBody    = 4096
)

// busEmulated: a bus of c is played by the emulator, so the /boards/
// page shows it.
func busEmulated(c *configs.Terminal) bool {
	for _, b := range c.Buses {
		if b.Emulator != "" {
			return true
		}
	}
	return false
}

// newBusSim is the view of c's emulated buses; nil when none is.
func newBusSim(c *configs.Terminal, log *slog.Logger) *busSim {
	s := &busSim{log: log, client: &http.Client{
		Timeout: emulatorTimeout,
		// The emulator is on this machine: never through a proxy.
		Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 2, IdleConnTimeout: 30 * time.Second},
	}}
	for i, b := range c.Buses {
		if b.Emulator == "" {
			continue
		}
		s.buses = append(s.buses, &simBus{name: c.BusName(i), port: b.Port, line: b.Line, emulator: b.Emulator, devices: b.Devices})
	}
	if len(s.buses) == 0 {
		return nil
	}
	return s
}

func (s *busSim) Register(mux httpapi.Routes) {
	faceweb.Register(mux)
	mux.Handle("GET /api/v1/sim/bus", guardSim(http.HandlerFunc(s.handleBus)))
	mux.Handle("POST /api/v1/sim/bus/{bus}/{addr}/press", guardSim(http.HandlerFunc(s.handlePress)))
}

// guardSim lets the simulated devices' routes be used from this kioskd's
// own pages (same origin), at an address rather than a name (see busSim),
// and by programs on this machine (kioskctl press); errors are httpapi's
// JSON.
func guardSim(h http.Handler) http.Handler {
	inner := httpapi.RequireOrigin(h, httpapi.PageOrLocal, "this kioskd's own pages")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !addressHost(r.Host) {
			httpapi.WriteError(w, http.StatusForbidden, "bad_host",
				"the simulated devices answer at an IP address or localhost only, not "+strconv.Quote(clipText(r.Host)))
			return
		}
		inner.ServeHTTP(w, r)
	})
}

// addressHost: the Host names this machine by an IP address or as
// localhost, which no other site's page can be served from.
func addressHost(host string) bool {
	h, _, err := net.SplitHostPort(host)
	if err != nil {
		h = host
	}
	h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	return strings.EqualFold(h, "localhost") || net.ParseIP(h) != nil
}

func clipText(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

// simBusReply is the answer of GET /api/v1/sim/bus.
type simBusReply struct {
	Buses []simBusState `json:"buses"`
}

type simBusState struct {
	Name     string `json:"name"`
	Port     string `json:"port"`
	Line     string `json:"line"`
	Emulator string `json:"emulator"`
	// Error says why the emulator's devices could not be read; the
	// devices are then listed without faces.
	Error   string           `json:"error,omitempty"`
	Devices []simDeviceState `json:"devices"`
}

type simDeviceState struct {
	Name    string          `json:"name,omitempty"`
	Type    string          `json:"type"`
	Address int             `json:"address"`
	Window  int             `json:"window"`
	Face    json.RawMessage `json:"face"` // the emulator's emulator.Face; null: none there
}

func (s *busSim) handleBus(w http.ResponseWriter, r *http.Request) {
	reply := simBusReply{Buses: []simBusState{}}
	for _, b := range s.buses {
		reply.Buses = append(reply.Buses, s.state(r.Context(), b))
	}
	_ = httpapi.WriteJSON(w, http.StatusOK, reply)
}

// state is bus b's configured devices with the emulator's faces.
func (s *busSim) state(ctx context.Context, b *simBus) simBusState {
	st := simBusState{Name: b.name, Port: b.port, Line: b.line, Emulator: b.emulator, Devices: []simDeviceState{}}
	var answer struct {
		Devices []json.RawMessage `json:"devices"`
	}
	faces := map[int]json.RawMessage{}
	types := map[int]string{}
	var order []int
	if err := s.call(ctx, b, http.MethodGet, "/api/v1/devices", nil, &answer); err != nil {
		st.Error = err.Error()
		if e := (*httpapi.Error)(nil); errors.As(err, &e) {
			st.Error = e.Message
		}
	}
	for _, raw := range answer.Devices {
		var f struct {
			Addr int    `json:"addr"`
			Type string `json:"type"`
		}
		if json.Unmarshal(raw, &f) != nil || faces[f.Addr] != nil {
			continue
		}
		faces[f.Addr], types[f.Addr] = raw, f.Type
		order = append(order, f.Addr)
	}
	listed := map[int]bool{}
	for _, d := range b.devices {
		ds := simDeviceState{Name: d.BusDeviceName(), Type: string(d.Type), Address: d.Address, Window: d.Window, Face: faces[d.Address]}
		if ds.Face != nil {
			ds.Type = types[d.Address] // the face drawn is the one the emulator plays there
		} else {
			ds.Face = json.RawMessage("null")
		}
		listed[d.Address] = true
		st.Devices = append(st.Devices, ds)
	}
	for _, a := range order {
		if !listed[a] {
			st.Devices = append(st.Devices, simDeviceState{Type: types[a], Address: a, Face: faces[a]})
		}
	}
	return st
}

// pressRequest is the body of a press, passed on to the emulator.
type pressRequest struct {
	Key  json.RawMessage `json:"key"`
	Long bool            `json:"long"`
}

func (s *busSim) handlePress(w http.ResponseWriter, r *http.Request) {
	var b *simBus
	for _, sb := range s.buses {
		if sb.name == r.PathValue("bus") {
			b = sb
		}
	}
	if b == nil {
		httpapi.WriteError(w, http.StatusNotFound, codeUnknownBus, fmt.Sprintf("no emulated bus %q on this terminal", clipText(r.PathValue("bus"))))
		return
	}
	addr, err := strconv.Atoi(r.PathValue("addr"))
	if err != nil || addr < 1 || addr > 247 {
		httpapi.WriteError(w, http.StatusBadRequest, codeBadAddress, fmt.Sprintf("the address must be 1–247, got %q", clipText(r.PathValue("addr"))))
		return
	}
	var body pressRequest
	if err := httpapi.Decode(w, r, maxPressBody, &body); err != nil {
		httpapi.Fail(w, err)
		return
	}
	if len(body.Key) == 0 || string(body.Key) == "null" {
		httpapi.WriteError(w, http.StatusBadRequest, codeBadKey, `the body needs a key: {"key":"next"} (a keypad's name or 1–7, a rating panel's 1–5)`)
		return
	}
	var answer json.RawMessage
	if err := s.call(r.Context(), b, http.MethodPost, fmt.Sprintf("/api/v1/devices/%d/press", addr), body, &answer); err != nil {
		httpapi.Fail(w, err)
		return
	}
	s.log.Info("key pressed on an emulated device", "bus", b.name, "address", addr, "key", strings.Trim(string(body.Key), `"`), "long", body.Long)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(answer)
}

// call sends a request to b's emulator and decodes its JSON answer into
// reply. The error is an *httpapi.Error: the emulator's own refusal (its
// status and code), or 502 emulator_unreachable.
func (s *busSim) call(ctx context.Context, b *simBus, method, path string, body, reply any) error {
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("emulator request: %w", err)
		}
		rd = bytes.NewReader(data)
	}
	ctx, cancel := context.WithTimeout(ctx, emulatorTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, "http://"+b.emulator+path, rd)
	if err != nil {
		return unreachable(b, err)
	}
	// The emulator answers only to its own address: the one configured.
	req.Host = b.emulator
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return unreachable(b, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxEmulatorBody))
	if err != nil {
		return unreachable(b, err)
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Code  string `json:"code"`
			Error string `json:"error"`
		}
		if json.Unmarshal(data, &e) != nil || e.Code == "" || resp.StatusCode >= 500 {
			return httpapi.Errorf(http.StatusBadGateway, codeEmulatorUnreachable, "the emulator of %s at %s answered %s", b.name, b.emulator, resp.Status)
		}
		return httpapi.Errorf(resp.StatusCode, e.Code, "the emulator of %s: %s", b.name, e.Error)
	}
	if err := json.Unmarshal(data, reply); err != nil {
		return httpapi.Errorf(http.StatusBadGateway, codeEmulatorUnreachable, "the emulator of %s at %s: its answer is not JSON", b.name, b.emulator)
	}
	return nil
}

func unreachable(b *simBus, err error) error {
	msg := err.Error()
	if ue := (*url.Error)(nil); errors.As(err, &ue) {
		msg = ue.Err.Error() // without the method and URL, said already
	}
	return httpapi.Errorf(http.StatusBadGateway, codeEmulatorUnreachable, "the emulator of %s at %s does not answer: %s", b.name, b.emulator, msg)
}
