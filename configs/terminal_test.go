package configs

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

const minimal = `device_id: kiosk-01
data_dir: /var/lib/kioskd
roles: [kiosk]
server:
  url: ws://127.0.0.1:8090/api/v1/link
`

func TestMinimalConfigGetsDefaults(t *testing.T) {
	c, err := ParseTerminal("min.yaml", []byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultTerminal()
	want.DeviceID, want.DataDir, want.Roles = "kiosk-01", "/var/lib/kioskd", []Role{RoleKiosk}
	want.Server.URL = "ws://127.0.0.1:8090/api/v1/link"
	if !reflect.DeepEqual(*c, want) {
		t.Errorf("got\n%+v\nwant\n%+v", *c, want)
	}
}

// Every bad file names file:line:column, the key, and what was expected.
func TestTerminalErrors(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string // each error, as "line:col: key: substring"
	}{
		{"unknown key", minimal + "kiosk:\n  printr: {}\n",
			[]string{`7:3: kiosk.printr: unknown key; did you mean "printer"?`}},
		{"unknown top-level key", minimal + "colour: red\n",
			[]string{`6:1: colour: unknown key; expected one of: admin, buffer, buses, data_dir, device_id`}},
		{"wrong type", minimal + "hall:\n  recent_calls: many\n",
			[]string{`7:17: hall.recent_calls: expected a whole number, got text "many"`}},
		{"text given as number", strings.Replace(minimal, "kiosk-01", "12", 1),
			[]string{`1:12: device_id: expected text, got a whole number "12"; put it in quotes`}},
		{"mapping where a value belongs", minimal + "http:\n  listen: {a: 1}\n",
			[]string{`7:11: http.listen: expected text, got a mapping`}},
		{"list expected", strings.Replace(minimal, "roles: [kiosk]", "roles: kiosk", 1),
			[]string{`3:8: roles: expected a list`}},
		{"bad enum", minimal + "log:\n  format: xml\n",
			[]string{`7:11: log.format: got "xml", expected one of: text, json`}},
		{"missing required", "roles: [hall]\n",
			[]string{`1:1: device_id: required`, `1:1: data_dir: required`, `1:1: server.url: required`}},
		{"negative timeout", minimal + "  handshake_timeout: -5s\n",
			[]string{`6:22: server.handshake_timeout: got -5s, expected a duration above zero`}},
		{"not a duration", minimal + "  handshake_timeout: soon\n",
			[]string{`6:22: server.handshake_timeout: expected a duration like 10s`}},
		{"port that is not a device path", minimal + "kiosk:\n  printer:\n    driver: escpos\n    port: COM3\n",
			[]string{`9:11: kiosk.printer.port: got "COM3", expected a device path like /dev/usb/lp0`}},
		{"escpos without port", minimal + "kiosk:\n  printer:\n    driver: escpos\n",
			[]string{`8:5: kiosk.printer.port: required for the escpos driver`}},
		{"serial scanner with relative port", minimal + "kiosk:\n  scanner: {driver: serial, port: ttyACM0}\n",
			[]string{`7:35: kiosk.scanner.port: got "ttyACM0", expected a device path`}},
		{"window role without number", strings.Replace(minimal, "[kiosk]", "[window]", 1),
			[]string{`1:1: window.number: got 0, expected the number of this terminal's window`}},
		{"duplicate role", strings.Replace(minimal, "[kiosk]", "[hall, hall]", 1),
			[]string{`3:15: roles[1]: role hall is listed twice`}},
		{"duplicate key", minimal + "device_id: again\n",
			[]string{`6:1: device_id: key is set twice`}},
		// The printer's rules (profile, paper width, ticket blocks) are
		// terminal.CheckConfig's: terminal/config_test.go.
		{"button half set", minimal + "kiosk:\n  button: {pin: GPIO17}\n",
			[]string{`7:11: kiosk.button: set both pin and service, or neither`}},
		{"fault light under both names", minimal + "kiosk:\n  fault_light: GPIO27\n  lights: {fault: GPIO26}\n",
			[]string{`8:19: kiosk.lights.fault: kiosk.fault_light is the older name of this light`}},
		{"one pin for two uses", minimal + "kiosk:\n  button: {pin: GPIO17, service: s}\n  lights: {ready: GPIO17}\n" +
			"  paper_sensor: {pin: GPIO17, debounce: 1ms}\n",
			[]string{`8:19: kiosk.lights.ready: pin GPIO17 is already kiosk.button.pin`,
				`9:23: kiosk.paper_sensor.pin: pin GPIO17 is already kiosk.button.pin`,
				`9:41: kiosk.paper_sensor.debounce: got 1ms, expected 10ms to 1m`}},
		{"display power settings", minimal + "gpio:\n  display_power: {pin: GPIO22, on: \"7:45\", off: \"20:15\", days: [mon, mon, fry]}\n",
			[]string{`7:36: gpio.display_power.on: got "7:45", expected a time of day`,
				`7:70: gpio.display_power.days[1]: day mon is listed twice`,
				`7:75: gpio.display_power.days[2]: got "fry", expected one of: mon, tue`}},
		{"display power never switching", minimal + "gpio:\n  display_power: {pin: GPIO22, on: \"08:00\", off: \"08:00\", days: []}\n",
			[]string{`7:50: gpio.display_power.off: got "08:00", the same as on`,
				`7:65: gpio.display_power.days: required with a pin`}},
		{"display power on the bus's direction pin", minimal + "gpio:\n  display_power: {pin: GPIO17}\nbuses:\n  - {name: b1, direction: GPIO17, port: /dev/ttyUSB0, devices: [{address: 1, type: keypad, window: 3}]}\n",
			[]string{`9:27: buses[0].direction: pin GPIO17 is already gpio.display_power.pin`}},
		{"board without name", minimal + "hall:\n  boards:\n    - driver: sim\n",
			[]string{`8:7: hall.boards[0].name: required`}},
		{"alpha board settings", minimal + "hall:\n  boards:\n    - {name: b, driver: alpha, port: /dev/ttyUSB1, framing: 7N1, lines: 9}\n",
			[]string{`8:61: hall.boards[0].framing: got "7N1", expected one of: 7E1, 7E2, 8N1`, `8:73: hall.boards[0].lines: got 9, expected how many text lines`}},
		{"cyrillic sign on a 7-bit line", minimal + "window:\n  board: {driver: alpha, port: /dev/ttyUSB1, charset: cp1251}\n",
			[]string{`7:10: window.board.framing: got "7E1", but charset cp1251 needs 8 data bits`}},
		{"bad url", strings.Replace(minimal, "ws://", "http://", 1),
			[]string{`5:8: server.url: got "http://127.0.0.1:8090/api/v1/link", expected ws://`}},
		{"plain ws across the network", strings.Replace(minimal, "127.0.0.1", "10.0.0.2", 1),
			[]string{`5:8: server.url: got "ws://10.0.0.2:8090/api/v1/link": ws:// is only for a server on this machine`}},
		{"certificate without key", minimal + "  cert_file: /etc/kioskd/client.pem\n",
			[]string{`6:14: server.cert_file: set both cert_file and key_file`}},
		{"buffer alarm above the limit", minimal + "buffer: {alarm_events: 10, max_events: 5}\n",
			[]string{`6:9: buffer: got alarm_events 10 and max_events 5`}},
		{"bad listen", minimal + "http: {listen: localhost}\n",
			[]string{`6:16: http.listen: got "localhost", expected host:port`}},
		{"merge key", minimal + "log:\n  <<: {level: info}\n",
			[]string{`7:3: log.<<: YAML merge keys are not supported`}},
		{"yaml syntax", "device_id: [\n",
			[]string{`: (top level): YAML syntax:`}},
		{"empty file", "",
			[]string{`1:1: (top level): the file is empty`}},
		{"several errors at once", minimal + "log: {format: xml, level: loud}\n",
			[]string{`6:15: log.format: got "xml"`, `6:27: log.level: got "loud"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseTerminal("t.yaml", []byte(tt.yaml))
			var errs Errors
			if !errors.As(err, &errs) {
				t.Fatalf("got %v, want Errors", err)
			}
			if len(errs) != len(tt.want) {
				t.Fatalf("got %d errors, want %d:\n%v", len(errs), len(tt.want), err)
			}
			for i, w := range tt.want {
				if got := errs[i].Error(); !strings.HasPrefix(got, "t.yaml:") || !strings.Contains(got, w) {
					t.Errorf("error %d = %q, want it to contain %q", i, got, w)
				}
			}
		})
	}
}

// reference.yaml shows every key with its default: decoding it gives the
// defaults, except for the required keys, which have example values.
func TestReferenceShowsDefaults(t *testing.T) {
	c, err := LoadTerminal("reference.yaml")
	if err != nil {
		t.Fatal(err)
	}
	got := *c
	def := DefaultTerminal()
	got.DeviceID, got.DataDir, got.Roles, got.Server.URL = def.DeviceID, def.DataDir, def.Roles, def.Server.URL
	if !reflect.DeepEqual(got, def) {
		t.Errorf("reference.yaml differs from DefaultTerminal():\n%+v\n%+v", got, def)
	}
}

// Every key the code accepts is documented in reference.yaml.
func TestReferenceDocumentsEveryKey(t *testing.T) {
	ref, err := os.ReadFile("reference.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range keyPaths(reflect.TypeFor[Terminal](), "") {
		leaf := key[strings.LastIndex(key, ".")+1:]
		if !regexp.MustCompile(`(?m)^[#\s-]*` + regexp.QuoteMeta(leaf) + `:`).Match(ref) {
			t.Errorf("reference.yaml does not document %s", key)
		}
	}
}

func keyPaths(t reflect.Type, prefix string) []string {
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		path := joinPath(prefix, name)
		out = append(out, path)
		ft := f.Type
		if ft.Kind() == reflect.Slice {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct && ft != reflect.TypeFor[time.Duration]() {
			out = append(out, keyPaths(ft, path)...)
		}
	}
	return out
}

func TestShippedConfigsAreValid(t *testing.T) {
	files, err := filepath.Glob("*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			var err error
			switch f {
			case "office.yaml":
				_, err = LoadOffice(f)
			case "city.yaml":
				_, err = LoadCityServer(f)
			default:
				_, err = LoadTerminal(f)
			}
			if err != nil {
				t.Error(err)
			}
		})
	}
}

func FuzzParseTerminal(f *testing.F) {
	for _, name := range []string{"reference.yaml", "demo.yaml", "rpi-kiosk.yaml"} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(minimal + "kiosk: &a {printer: *a}\n"))
	f.Add([]byte("a: !!binary gIGC\n"))
	f.Add([]byte("roles: [kiosk, {x: 1}, [2]]\nhall: {boards: [{name: a}, null, 3]}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseTerminal("fuzz.yaml", data)
		if err == nil {
			if c.DeviceID == "" || c.DataDir == "" || len(c.Roles) == 0 {
				t.Fatalf("accepted a config without required keys: %+v", c)
			}
			return
		}
		var errs Errors
		if !errors.As(err, &errs) || len(errs) == 0 {
			t.Fatalf("error is not a list of placed errors: %v", err)
		}
		for _, e := range errs {
			if e.Line < 1 || e.Msg == "" {
				t.Fatalf("error without a line or message: %+v", e)
			}
		}
	})
}
