package emulator_test

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
	"github.com/cherga/kiosk/firmware-bridge/modbus"
	"github.com/cherga/kiosk/httpapi/apitest"
)

func newControl(t *testing.T) (*emulator.Bus, *httptest.Server, *clockwork.FakeClock) {
	t.Helper()
	clock := newFakeClock()
	specs, _ := emulator.ParseSpecs("1:window-display,2:keypad,3:rating")
	bus, err := emulator.NewBus(specs, emulator.Options{Clock: clock, Line: modbus.PTYLine})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(emulator.NewControl(bus, ln.Addr().String(), "/run/cherga/bus0", nil))
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return bus, srv, clock
}

type answer struct {
	status int
	header http.Header
	body   string
}

func do(t *testing.T, method, url, body string, hdr map[string]string) answer {
	t.Helper()
	a := apitest.Do(t, method, url, body, hdr)
	return answer{a.Status, a.Header, a.Body}
}

func TestControlAPI(t *testing.T) {
	bus, srv, clock := newControl(t)
	u := srv.URL

	a := do(t, "GET", u+"/api/v1/devices", "", nil)
	var reply emulator.DevicesReply
	if err := json.Unmarshal([]byte(a.body), &reply); a.status != 200 || err != nil {
		t.Fatalf("devices: %d %v %s", a.status, err, a.body)
	}
	if len(reply.Devices) != 3 || reply.Link != "/run/cherga/bus0" || reply.Line != "19200 8N2" ||
		reply.Devices[1].Keypad == nil || reply.Devices[0].Display == nil || reply.Devices[2].Rating == nil {
		t.Fatalf("devices: %+v", reply)
	}

	for _, c := range []struct {
		path, body string
		status     int
		code       string
	}{
		{"/api/v1/devices/2/press", `{"key":"next"}`, 200, ""},
		{"/api/v1/devices/2/press", `{"key":3,"long":true}`, 200, ""},
		{"/api/v1/devices/2/press", `{"key":"7"}`, 200, ""},
		{"/api/v1/devices/2/press", `{"key":"sing"}`, 400, emulator.CodeBadKey},
		{"/api/v1/devices/2/press", `{"key":8}`, 400, emulator.CodeBadKey},
		{"/api/v1/devices/2/press", `{"key":true}`, 400, emulator.CodeBadKey},
		{"/api/v1/devices/2/press", `{}`, 400, emulator.CodeBadKey},
		{"/api/v1/devices/2/press", `{"key":1,"hard":true}`, 400, "bad_field"},
		{"/api/v1/devices/2/press", `[1]`, 400, "bad_json"},
		{"/api/v1/devices/1/press", `{"key":1}`, 400, emulator.CodeBadKey},
		{"/api/v1/devices/3/press", `{"key":6}`, 400, emulator.CodeBadKey},
		{"/api/v1/devices/3/press", `{"key":5}`, 200, ""},
		{"/api/v1/devices/9/press", `{"key":1}`, 404, emulator.CodeUnknownDevice},
		{"/api/v1/devices/abc/press", `{"key":1}`, 400, emulator.CodeBadAddress},
		{"/api/v1/devices/2/fault", `{"kind":"slow","delay":"300ms","count":2}`, 200, ""},
		{"/api/v1/devices/2/fault", `{"kind":"loud"}`, 400, "bad_field"},
		{"/api/v1/devices/2/fault", `{"kind":"slow","delay":"soon"}`, 400, "bad_field"},
		{"/api/v1/devices/2/fault", `{"kind":"slow","wait":"1s"}`, 400, "bad_field"},
		{"/api/v1/devices/1/power-cut", `{"for":"soon"}`, 400, emulator.CodeBadDuration},
		{"/api/v1/devices/1/power-cut", `{"after_chunk":112}`, 400, emulator.CodeBadChunk},
		{"/api/v1/devices/1/power-cut", `{"for":"5s","after_chunk":3}`, 200, ""},
		{"/api/v1/devices/2/power-cut", `{}`, 200, ""},
		{"/api/v1/devices/2/press", `{"key":1}`, 409, emulator.CodeDeviceOff},
		{"/api/v1/devices/2/power-on", `{}`, 200, ""},
	} {
		a := do(t, "POST", u+c.path, c.body, nil)
		var e struct{ Code, Error string }
		json.Unmarshal([]byte(a.body), &e)
		if a.status != c.status || (c.code != "" && e.Code != c.code) {
			t.Errorf("POST %s %s: %d %s, want %d %s", c.path, c.body, a.status, a.body, c.status, c.code)
		}
		if !strings.HasPrefix(a.header.Get("Content-Type"), "application/json") {
			t.Errorf("POST %s: Content-Type %q", c.path, a.header.Get("Content-Type"))
		}
	}
	if f := bus.Faces()[1]; f.Health.EvPending != 3 || f.Health.Fault.Kind != emulator.FaultSlow || f.Health.Fault.Delay != 300*time.Millisecond {
		t.Errorf("keypad after the API: %+v", f.Health)
	}
	a = do(t, "POST", u+"/api/v1/devices/2/press", "key=1", map[string]string{"Content-Type": "text/plain"})
	if a.status != 415 {
		t.Errorf("text/plain: %d", a.status)
	}
	clock.Advance(time.Second) // booted after the power-on
	var res emulator.PressResult
	a = do(t, "POST", u+"/api/v1/devices/2/press", `{"key":"finish"}`, nil)
	json.Unmarshal([]byte(a.body), &res)
	if res.Outcome != emulator.Queued || res.Seq != 4 || res.Name != "finish" || res.Addr != 2 {
		t.Errorf("press reply %s", a.body)
	}
	a = do(t, "POST", u+"/api/v1/devices/1/power-cut", `{"for":"2s"}`, nil)
	if !strings.Contains(a.body, `"power":"off"`) {
		t.Errorf("power-cut reply %s", a.body)
	}
	if a := do(t, "GET", u+"/api/v1/nothing", "", nil); a.status != 404 || !strings.Contains(a.body, `"not_found"`) {
		t.Errorf("unknown route: %d %s", a.status, a.body)
	}
}

func TestControlGuard(t *testing.T) {
	_, srv, _ := newControl(t)
	u := srv.URL
	host := strings.TrimPrefix(u, "http://")
	_, port, _ := net.SplitHostPort(host)
	for _, c := range []struct {
		hdr    map[string]string
		status int
	}{
		{nil, 200},
		{map[string]string{"Host": "localhost:" + port}, 200},
		{map[string]string{"Origin": "http://" + host}, 200},
		{map[string]string{"Host": "evil.example:" + port}, 403},
		{map[string]string{"Host": "127.0.0.1:1"}, 403},
		{map[string]string{"Origin": "http://evil.example"}, 403},
		{map[string]string{"Origin": "null"}, 403},
	} {
		if a := do(t, "POST", u+"/api/v1/devices/2/press", `{"key":1}`, c.hdr); a.status != c.status {
			t.Errorf("%v: %d %s, want %d", c.hdr, a.status, a.body, c.status)
		}
	}
	page := do(t, "GET", u+"/", "", nil)
	csp := page.header.Get("Content-Security-Policy")
	if page.status != 200 || !strings.Contains(page.body, `data-i18n="emu.title"`) ||
		!strings.Contains(csp, "default-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("page: %d, CSP %q", page.status, csp)
	}
	for _, p := range []string{"/emulator.js", "/emulator.css", "/bus-faces.js", "/bus-faces.css", "/i18n.json", "/i18n.js"} {
		if a := do(t, "GET", u+p, "", nil); a.status != 200 {
			t.Errorf("GET %s: %d", p, a.status)
		}
	}
	if a := do(t, "GET", u+"/i18n.json", "", nil); !strings.Contains(a.body, "Емулятор пристроїв шини") {
		t.Error("the catalogue lacks the emulator's texts")
	}
}
