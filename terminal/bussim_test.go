package terminal

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/cherga/kiosk/firmware-bridge/emulator"
	"github.com/cherga/kiosk/httpapi/apitest"
	"github.com/cherga/kiosk/queue/queuetest"
)

// emulatorControl serves eb's control API and page on loopback, as
// kioskctl bridge emulate does, and returns its address.
func emulatorControl(t testing.TB, eb *emulator.Bus, link string) (string, *httptest.Server) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(emulator.NewControl(eb, ln.Addr().String(), link, nil))
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return ln.Addr().String(), srv
}

// emulated is a whole terminal driving window 3's devices on the
// emulator, whose control API it knows (buses[].emulator), against a real
// queued.
type emulated struct {
	*rig
	eb   *emulator.Bus
	emu  *httptest.Server // the emulator's control API
	base string           // http://terminal
}

func startEmulated(t *testing.T) emulated {
	t.Helper()
	eb, link := emulate(t)
	control, emu := emulatorControl(t, eb, link)
	clock := clockwork.NewFakeClockAt(time.Now())
	r := startTerminal(t, clock, queuetest.Start(t, clock), emulatedYAML(link, control))
	return emulated{rig: r, eb: eb, emu: emu, base: "http://" + r.addr}
}

// takeTicket takes a ticket on the kiosk's API, as its page does.
func (r *rig) takeTicket(t *testing.T) string {
	t.Helper()
	code, body, _ := request(t, "POST", "http://"+r.addr+"/api/v1/tickets", `{"service":"pension-age"}`, map[string]string{"Origin": "http://" + r.addr})
	var tk struct {
		Number string `json:"number"`
	}
	if code != http.StatusCreated || json.Unmarshal([]byte(body), &tk) != nil || tk.Number == "" {
		t.Fatalf("take a ticket: %d %s", code, body)
	}
	return tk.Number
}

// emulatedYAML is busYAML with the emulator's control address.
func emulatedYAML(link, control string) string {
	return strings.Replace(busYAML(link), "    timeout: 500ms\n", "    timeout: 500ms\n    emulator: "+control+"\n", 1)
}

// simBusAnswer is GET /api/v1/sim/bus as a page reads it.
type simBusAnswer struct {
	Buses []struct {
		Name     string `json:"name"`
		Emulator string `json:"emulator"`
		Error    string `json:"error"`
		Devices  []struct {
			Name    string         `json:"name"`
			Type    string         `json:"type"`
			Address int            `json:"address"`
			Window  int            `json:"window"`
			Face    *emulator.Face `json:"face"`
		} `json:"devices"`
	} `json:"buses"`
}

// request is an HTTP request to the terminal with extra headers (Host
// among them).
func request(t *testing.T, method, url, body string, hdr map[string]string) (int, string, http.Header) {
	t.Helper()
	a := apitest.Do(t, method, url, body, hdr)
	return a.Status, a.Body, a.Header
}

func errCode(body string) string {
	var e struct {
		Code string `json:"code"`
	}
	_ = json.Unmarshal([]byte(body), &e)
	return e.Code
}

// The emulated bus through kioskd's simulated-bus API, as the /boards/
// page uses it: each configured device with the emulator's face, by
// window; a key pressed through kioskd is pressed on the emulated keypad
// and committed to the outbox; refusals are the emulator's, in JSON; a
// page of another site, or a name rebound to this machine, cannot press;
// an emulator that went away is said per bus, and a press then is 502.
func TestBusSimAPI(t *testing.T) {
	e := startEmulated(t)
	eb, base := e.eb, e.base

	var a simBusAnswer
	eventually(t, "the keypad's face through kioskd", func() bool {
		code, body, _ := request(t, "GET", base+"/api/v1/sim/bus", "", nil)
		a = simBusAnswer{}
		if code != http.StatusOK || json.Unmarshal([]byte(body), &a) != nil || len(a.Buses) != 1 || len(a.Buses[0].Devices) != 3 {
			t.Fatalf("GET /api/v1/sim/bus: %d %s", code, body)
		}
		kp := a.Buses[0].Devices[1].Face
		return kp != nil && kp.Keypad != nil && strings.TrimRight(kp.Keypad.Lines[0], " ") != ""
	})
	b := a.Buses[0]
	if b.Name != "bus1" || b.Emulator != e.emu.Listener.Addr().String() || b.Error != "" {
		t.Errorf("bus %+v", b)
	}
	for i, want := range []struct {
		name, typ string
		addr      int
	}{{"window-display-3", "window-display", 1}, {"keypad-3", "keypad", 2}, {"rating-3", "rating", 3}} {
		d := b.Devices[i]
		if d.Name != want.name || d.Type != want.typ || d.Address != want.addr || d.Window != 3 || d.Face == nil || d.Face.Addr != byte(want.addr) {
			t.Errorf("device %d: %+v", i, d)
		}
	}

	// A press through kioskd is the emulated keypad's, and kioskd commits it.
	kp := face(t, eb, 2)
	code, body, _ := request(t, "POST", base+"/api/v1/sim/bus/bus1/2/press", `{"key":"next"}`, map[string]string{"Origin": base})
	var res emulator.PressResult
	if code != http.StatusOK || json.Unmarshal([]byte(body), &res) != nil || res.Outcome != emulator.Queued || res.Name != "next" {
		t.Fatalf("press: %d %s", code, body)
	}
	eventually(t, "the press in the outbox", func() bool { return markOf(t, e.term, kp.Serial) == res.Seq })

	for _, c := range []struct {
		what, path, body string
		hdr              map[string]string
		status           int
		code             string
	}{
		{"another site's page", "/api/v1/sim/bus/bus1/2/press", `{"key":"next"}`, map[string]string{"Origin": "http://evil.example"}, 403, "forbidden_origin"},
		{"a cross-site fetch", "/api/v1/sim/bus/bus1/2/press", `{"key":"next"}`, map[string]string{"Sec-Fetch-Site": "cross-site"}, 403, "forbidden_origin"},
		{"a rebound name", "/api/v1/sim/bus/bus1/2/press", `{"key":"next"}`, map[string]string{"Host": "evil.example:8080"}, 421, "misdirected_request"},
		{"an unknown bus", "/api/v1/sim/bus/bus9/2/press", `{"key":"next"}`, nil, 404, "unknown_bus"},
		{"address 0", "/api/v1/sim/bus/bus1/0/press", `{"key":"next"}`, nil, 400, "bad_address"},
		{"no key", "/api/v1/sim/bus/bus1/2/press", `{}`, nil, 400, "bad_key"},
		{"a key the keypad lacks", "/api/v1/sim/bus/bus1/2/press", `{"key":"explode"}`, nil, 400, "bad_key"},
		{"a rating panel's 6", "/api/v1/sim/bus/bus1/3/press", `{"key":6}`, nil, 400, "bad_key"},
		{"no device there", "/api/v1/sim/bus/bus1/9/press", `{"key":1}`, nil, 404, "unknown_device"},
		{"garbage after the body", "/api/v1/sim/bus/bus1/2/press", `{"key":"next"}x`, nil, 400, "bad_json"},
	} {
		if code, body, _ := request(t, "POST", base+c.path, c.body, c.hdr); code != c.status || errCode(body) != c.code {
			t.Errorf("%s: %d %s, want %d %s", c.what, code, body, c.status, c.code)
		}
	}
	if code, body, _ := request(t, "GET", base+"/api/v1/sim/bus", "", map[string]string{"Host": "evil.example"}); code != 421 || errCode(body) != "misdirected_request" {
		t.Errorf("GET with a rebound name: %d %s", code, body)
	}

	// The page and the faces' drawing, under a CSP.
	code, body, hdr := request(t, "GET", base+"/boards/", "", nil)
	if csp := hdr.Get("Content-Security-Policy"); code != 200 || !strings.Contains(csp, "default-src 'self'") || !strings.Contains(body, `id="bus"`) {
		t.Errorf("/boards/: %d, CSP %q", code, csp)
	}
	for _, p := range []string{"/bus-faces.js", "/bus-faces.css", "/boards/boards.js"} {
		if code, _, _ := request(t, "GET", base+p, "", nil); code != 200 {
			t.Errorf("GET %s: %d", p, code)
		}
	}

	// The emulator goes away: the devices are listed without faces, and
	// a press says why it was not made.
	e.emu.Close()
	code, body, _ = request(t, "GET", base+"/api/v1/sim/bus", "", nil)
	a = simBusAnswer{}
	if code != 200 || json.Unmarshal([]byte(body), &a) != nil || a.Buses[0].Error == "" || len(a.Buses[0].Devices) != 3 || a.Buses[0].Devices[0].Face != nil {
		t.Errorf("without the emulator: %d %s", code, body)
	}
	if code, body, _ := request(t, "POST", base+"/api/v1/sim/bus/bus1/2/press", `{"key":"next"}`, nil); code != 502 || errCode(body) != "emulator_unreachable" {
		t.Errorf("press without the emulator: %d %s", code, body)
	}
}

// A terminal whose buses have no emulator has no simulated-bus API, and
// the boards page then shows no bus.
func TestNoBusSimWithoutEmulator(t *testing.T) {
	_, link := emulate(t)
	clock := clockwork.NewFakeClockAt(time.Now())
	office := queuetest.Start(t, clock)
	r := startTerminal(t, clock, office, busYAML(link))
	for _, p := range []string{"/api/v1/sim/bus", "/bus-faces.js"} {
		if code, body, _ := request(t, "GET", "http://"+r.addr+p, "", nil); code != 404 || errCode(body) != "not_found" {
			t.Errorf("GET %s: %d %s", p, code, body)
		}
	}
}
