package emulator

import (
	"embed"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cherga/kiosk/firmware-bridge/emulator/faceweb"
	"github.com/cherga/kiosk/httpapi"
	"github.com/cherga/kiosk/i18n"
)

//go:embed web
var webFS embed.FS

// Error codes of the control API, besides httpapi's.
const (
	CodeUnknownDevice = "unknown_device" // no device answers that address
	CodeBadAddress    = "bad_address"    // the path's address is not 1–247
	CodeBadKey        = "bad_key"        // not a key of that device
	CodeDeviceOff     = "device_off"     // a press on a device without power
	CodeBadDuration   = "bad_duration"
	CodeBadChunk      = "bad_chunk"
	CodeForbidden     = "forbidden" // not from this machine's emulator page
)

// Control is the emulator's control API and page, for a technician's
// browser and kioskctl on the same machine:
//
//	GET  /api/v1/devices                   faces and health of every device
//	POST /api/v1/devices/{addr}/press      {"key": "next" | 1…7 | rating 1…5, "long": false}
//	POST /api/v1/devices/{addr}/fault      {"kind": "silent|corrupt|slow|garbage|none", "delay": "250ms", "bytes": 16, "count": 0}
//	POST /api/v1/devices/{addr}/power-cut  {"for": "2s", "after_chunk": n}
//	POST /api/v1/devices/{addr}/power-on   {}
//	GET  /                                 the page that draws the faces
//	GET  /bus-faces.js, /bus-faces.css     the faces' drawing (faceweb), which kioskd's /boards/ shares
//
// Only requests whose Host is the address served (or localhost at its
// port), with no Origin or this page's, from a loopback address, are
// answered; so another site's page in the technician's browser cannot
// press keys (DNS rebinding, cross-site POSTs). Errors are httpapi's JSON.
type Control struct {
	bus  *Bus
	link string
	host string
	log  *slog.Logger
	mux  *httpapi.Mux
}

// NewControl serves bus's control API; host is the address the listener
// is on (127.0.0.1:8095), link the path the bus is on, for the page.
func NewControl(bus *Bus, host, link string, log *slog.Logger) *Control {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Control{bus: bus, link: link, host: host, log: log, mux: httpapi.NewMux()}
	sub, err := fs.Sub(webFS, "web")
	if err != nil {
		panic(err)
	}
	c.mux.Handle("GET /", pageHeaders(httpapi.Files(sub)))
	faceweb.Register(c.mux) // the faces' drawing, shared with kioskd's /boards/
	i18n.Register(c.mux)
	c.mux.HandleFunc("GET /api/v1/devices", c.handleDevices)
	c.mux.HandleFunc("POST /api/v1/devices/{addr}/press", c.handlePress)
	c.mux.HandleFunc("POST /api/v1/devices/{addr}/fault", c.handleFault)
	c.mux.HandleFunc("POST /api/v1/devices/{addr}/power-cut", c.handlePowerCut)
	c.mux.HandleFunc("POST /api/v1/devices/{addr}/power-on", c.handlePowerOn)
	return c
}

func (c *Control) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	httpapi.Recover(http.HandlerFunc(c.guard), c.log, nil).ServeHTTP(w, r)
}

// guard keeps the API to this machine's programs and this page.
func (c *Control) guard(w http.ResponseWriter, r *http.Request) {
	if !c.hostAllowed(r.Host) {
		httpapi.WriteError(w, http.StatusForbidden, CodeForbidden, "the Host must be "+c.host)
		return
	}
	if o := r.Header.Get("Origin"); o != "" && !strings.EqualFold(o, "http://"+r.Host) {
		httpapi.WriteError(w, http.StatusForbidden, CodeForbidden, "only the emulator's own page may use this")
		return
	}
	if ip, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		if a := net.ParseIP(ip); a != nil && !a.IsLoopback() {
			httpapi.WriteError(w, http.StatusForbidden, CodeForbidden, "the emulator answers this machine only")
			return
		}
	}
	c.mux.ServeHTTP(w, r)
}

func (c *Control) hostAllowed(h string) bool {
	if strings.EqualFold(h, c.host) {
		return true
	}
	_, port, err := net.SplitHostPort(c.host)
	if err != nil {
		return false
	}
	for _, name := range []string{"localhost", "127.0.0.1", "[::1]"} {
		if strings.EqualFold(h, name+":"+port) {
			return true
		}
	}
	return false
}

// pageHeaders: the page's scripts, styles and requests come from here only.
func pageHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; connect-src 'self'; img-src 'self'; "+
			"object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "no-referrer")
		w.Header().Set("Cache-Control", "no-cache")
		h.ServeHTTP(w, r)
	})
}

// DevicesReply is the answer of GET /api/v1/devices.
type DevicesReply struct {
	Link    string   `json:"link"`
	Line    string   `json:"line"`
	Devices []Face   `json:"devices"`
	Bus     BusStats `json:"bus"`
}

// BusStats are the server's counters.
type BusStats struct {
	Frames       uint64 `json:"frames"`
	GarbageBytes uint64 `json:"garbage_bytes"`
	BadFrames    uint64 `json:"bad_frames"`
	Requests     uint64 `json:"requests"`
	Broadcasts   uint64 `json:"broadcasts"`
	Exceptions   uint64 `json:"exceptions"`
	NotOurs      uint64 `json:"not_ours"`
}

func (c *Control) handleDevices(w http.ResponseWriter, r *http.Request) {
	st := c.bus.Stats()
	_ = httpapi.WriteJSON(w, http.StatusOK, DevicesReply{
		Link: c.link, Line: c.bus.Line().String(), Devices: c.bus.Faces(),
		Bus: BusStats{
			Frames: st.Frames, GarbageBytes: st.GarbageBytes, BadFrames: st.BadFrames, Requests: st.Requests,
			Broadcasts: st.Broadcasts, Exceptions: st.Exceptions, NotOurs: st.NotOurs,
		},
	})
}

func (c *Control) device(r *http.Request) (*Device, error) {
	n, err := strconv.Atoi(r.PathValue("addr"))
	if err != nil || n < 1 || n > 247 {
		return nil, httpapi.Errorf(http.StatusBadRequest, CodeBadAddress, "the address must be 1–247, got %q", clipValue(r.PathValue("addr")))
	}
	d, err := c.bus.Device(byte(n))
	if err != nil {
		return nil, httpapi.Errorf(http.StatusNotFound, CodeUnknownDevice, "no device answers address %d", n)
	}
	return d, nil
}

func clipValue(s string) string {
	if len(s) > 20 {
		return s[:20] + "…"
	}
	return s
}

const maxBody = 4096

// PressRequest is the body of POST …/press.
type PressRequest struct {
	Key  json.RawMessage `json:"key"`
	Long bool            `json:"long"`
}

// parsePressKey reads "next", "3" or 3 as a key of t.
func parsePressKey(t Type, raw json.RawMessage) (int, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return ParseKey(t, s)
	}
	var n int
	if err := json.Unmarshal(raw, &n); err != nil {
		return 0, errBadKey(t)
	}
	return n, checkKey(t, n)
}

func (c *Control) handlePress(w http.ResponseWriter, r *http.Request) {
	d, err := c.device(r)
	if err != nil {
		httpapi.Fail(w, err)
		return
	}
	var body PressRequest
	if err := httpapi.Decode(w, r, maxBody, &body); err != nil {
		httpapi.Fail(w, err)
		return
	}
	if len(body.Key) == 0 {
		httpapi.WriteError(w, http.StatusBadRequest, CodeBadKey, "the body needs a key")
		return
	}
	key, err := parsePressKey(d.Type(), body.Key)
	if err != nil {
		httpapi.WriteError(w, http.StatusBadRequest, CodeBadKey, "no such key: "+KeyHelp(d.Type()))
		return
	}
	res, err := d.Press(key, body.Long)
	switch {
	case errors.Is(err, ErrOff):
		httpapi.WriteError(w, http.StatusConflict, CodeDeviceOff, "the device has no power or is booting")
		return
	case err != nil:
		c.log.Error("press", "device", d.Spec().String(), "err", err)
		httpapi.Fail(w, err)
		return
	}
	_ = httpapi.WriteJSON(w, http.StatusOK, res)
}

func (c *Control) handleFault(w http.ResponseWriter, r *http.Request) {
	d, err := c.device(r)
	if err != nil {
		httpapi.Fail(w, err)
		return
	}
	var f Fault
	if err := httpapi.Decode(w, r, maxBody, &f); err != nil {
		httpapi.Fail(w, err)
		return
	}
	if err := d.SetFault(f); err != nil {
		httpapi.WriteError(w, http.StatusBadRequest, httpapi.CodeBadField, err.Error())
		return
	}
	_ = httpapi.WriteJSON(w, http.StatusOK, struct {
		Addr  byte  `json:"addr"`
		Fault Fault `json:"fault"`
	}{d.Addr(), d.Fault()})
}

// PowerCutRequest is the body of POST …/power-cut.
type PowerCutRequest struct {
	For        string `json:"for"`         // default 2s
	AfterChunk *int   `json:"after_chunk"` // arm for after this chunk of an update instead of now
}

// PowerCutReply says what was done.
type PowerCutReply struct {
	Addr       byte   `json:"addr"`
	For        string `json:"for"`
	AfterChunk *int   `json:"after_chunk,omitempty"`
	Power      string `json:"power"`
}

func (c *Control) handlePowerCut(w http.ResponseWriter, r *http.Request) {
	d, err := c.device(r)
	if err != nil {
		httpapi.Fail(w, err)
		return
	}
	var body PowerCutRequest
	if err := httpapi.Decode(w, r, maxBody, &body); err != nil {
		httpapi.Fail(w, err)
		return
	}
	dur := 2 * time.Second
	if body.For != "" {
		dur, err = time.ParseDuration(body.For)
		if err != nil || dur <= 0 || dur > time.Hour {
			httpapi.WriteError(w, http.StatusBadRequest, CodeBadDuration, "for must be a duration from 1ms to 1h, like 2s")
			return
		}
	}
	reply := PowerCutReply{Addr: d.Addr(), For: dur.String(), AfterChunk: body.AfterChunk}
	if k := body.AfterChunk; k != nil {
		if *k < 0 || *k >= slotChunks {
			httpapi.WriteError(w, http.StatusBadRequest, CodeBadChunk, "after_chunk must be 0–111")
			return
		}
		d.PowerCutAfterChunk(*k, dur)
	} else {
		d.PowerCut(dur)
	}
	reply.Power = d.Face().Power
	_ = httpapi.WriteJSON(w, http.StatusOK, reply)
}

func (c *Control) handlePowerOn(w http.ResponseWriter, r *http.Request) {
	d, err := c.device(r)
	if err != nil {
		httpapi.Fail(w, err)
		return
	}
	var body struct{}
	if r.ContentLength != 0 {
		if err := httpapi.Decode(w, r, maxBody, &body); err != nil {
			httpapi.Fail(w, err)
			return
		}
	}
	d.PowerOn()
	_ = httpapi.WriteJSON(w, http.StatusOK, struct {
		Addr  byte   `json:"addr"`
		Power string `json:"power"`
	}{d.Addr(), d.Face().Power})
}
