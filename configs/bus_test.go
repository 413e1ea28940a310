package configs

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

const withBus = minimal + `buses:
  - port: /dev/ttyUSB0
    devices:
      - {address: 1, type: window-display, window: 3}
      - {address: 2, type: keypad, window: 3}
`

func TestBusDefaults(t *testing.T) {
	c, err := ParseTerminal("t.yaml", []byte(withBus))
	if err != nil {
		t.Fatal(err)
	}
	b := c.Buses[0]
	if c.BusName(0) != "bus1" || b.Line != "19200 8E1" || b.Timeout != 0 {
		t.Errorf("bus %+v", b)
	}
	d := b.Devices[0]
	if *d.Brightness != 10 || d.Idle != "window" || d.BusDeviceName() != "window-display-3" || d.Profile != nil {
		t.Errorf("device %+v", d)
	}
	if b.Devices[1].BusDeviceName() != "keypad-3" {
		t.Errorf("keypad named %q", b.Devices[1].BusDeviceName())
	}
	if !reflect.DeepEqual(c.BusWindows(), []int{3}) {
		t.Errorf("windows %v", c.BusWindows())
	}
	c, err = ParseTerminal("t.yaml", []byte(minimal+`buses:
  - {name: lobby, port: var/bus1, line: 9600 8N2, timeout: 200ms, emulator: "127.0.0.1:8091",
     devices: [{address: 9, type: display-profile, window: 12, brightness: 0,
                profile: {register: 100, length: 3, window_register: 103}}]}
`))
	if err != nil {
		t.Fatal(err)
	}
	p := c.Buses[0].Devices[0].Profile
	if p.CharsPerRegister != 2 || p.Encoding != "ascii" || p.Function != 16 || *p.WindowRegister != 103 || *c.Buses[0].Devices[0].Brightness != 0 {
		t.Errorf("profile %+v", p)
	}
}

// Every mistake in a bus is placed at its key: buses[0].devices[1].address.
func TestBusErrors(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string
	}{
		{"no port, no devices", minimal + "buses:\n  - name: bus1\n",
			[]string{`7:5: buses[0].port: required`, `7:5: buses[0].devices: required`}},
		{"two buses on one port", withBus + "  - {port: /dev/ttyUSB0, devices: [{address: 1, type: keypad, window: 4}]}\n",
			[]string{`11:12: buses[1].port: port /dev/ttyUSB0 is already buses[0]'s`}},
		{"addresses", minimal + "buses:\n  - port: /dev/ttyUSB0\n    devices:\n      - {address: 0, type: keypad, window: 3}\n" +
			"      - {address: 5, type: keypad, window: 4}\n      - {address: 5, type: rating, window: 4}\n      - {address: 248, type: rating, window: 5}\n",
			[]string{`9:19: buses[0].devices[0].address: got 0, expected the device's Modbus address, 1 to 247`,
				`11:19: buses[0].devices[2].address: address 5 is already buses[0].devices[1]'s on this bus`,
				`12:19: buses[0].devices[3].address: got 248`}},
		{"window and brightness", minimal + "buses:\n  - port: /dev/ttyUSB0\n    devices:\n      - {address: 1, type: keypad, window: 1000, brightness: 16}\n",
			[]string{`9:44: buses[0].devices[0].window: got 1000, expected the number of the device's window, 1 to 999`,
				`9:62: buses[0].devices[0].brightness: got 16, expected 0 (dark) to 15`}},
		{"same default name twice", minimal + "buses:\n  - port: /dev/ttyUSB0\n    devices:\n      - {address: 1, type: window-display, window: 3}\n" +
			"  - port: /dev/ttyUSB1\n    devices:\n      - {address: 1, type: window-display, window: 3}\n",
			[]string{`12:9: buses[1].devices[0].name: device name "window-display-3" is already buses[0].devices[0]'s: give the devices names`}},
		{"bad line", minimal + "buses:\n  - {port: /dev/ttyUSB0, line: fast, devices: [{address: 1, type: keypad, window: 3}]}\n",
			[]string{`7:32: buses[0].line: got "fast", expected a speed and format like "19200 8E1"`}},
		{"profile missing", minimal + "buses:\n  - {port: /dev/ttyUSB0, devices: [{address: 1, type: display-profile, window: 3}]}\n",
			[]string{`7:36: buses[0].devices[0].profile: required for a display-profile device`}},
		{"profile where none belongs", minimal + "buses:\n  - {port: /dev/ttyUSB0, devices: [{address: 1, type: keypad, window: 3, profile: {length: 2}}]}\n",
			[]string{`7:83: buses[0].devices[0].profile: only a display-profile device takes a profile`}},
		{"profile values", minimal + "buses:\n  - port: /dev/ttyUSB0\n    devices:\n      - address: 1\n        type: display-profile\n        window: 3\n" +
			"        profile: {register: 10, length: 0, chars_per_register: 3, encoding: koi8, function: 3, window_register: 10}\n",
			[]string{`12:41: buses[0].devices[0].profile.length: got 0`,
				`12:64: buses[0].devices[0].profile.chars_per_register: got 3`,
				`12:77: buses[0].devices[0].profile.encoding: got "koi8"`,
				`12:93: buses[0].devices[0].profile.function: got 3`}},
		{"idle on a keypad", minimal + "buses:\n  - {port: /dev/ttyUSB0, devices: [{address: 1, type: keypad, window: 3, idle: clock}]}\n",
			[]string{`7:80: buses[0].devices[0].idle: only a window-display has an idle face`}},
		{"unknown type", minimal + "buses:\n  - {port: /dev/ttyUSB0, devices: [{address: 1, type: modbus, window: 3}]}\n",
			[]string{`7:55: buses[0].devices[0].type: got "modbus", expected one of: window-display, keypad, rating, display-profile`}},
		{"empty firmware key", minimal + "firmware_keys: [\"\"]\n",
			[]string{`6:17: firmware_keys[0]: empty`}},
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
				if got := errs[i].Error(); !strings.Contains(got, w) {
					t.Errorf("error %d = %q, want it to contain %q", i, got, w)
				}
			}
		})
	}
}
