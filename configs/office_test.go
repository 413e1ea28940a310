package configs

import (
	"errors"
	"os"
	"strings"
	"testing"
)

const minimalOffice = `id: test-office
name: {uk: Офіс, en: Office}
data_dir: /tmp/q
groups:
  - {id: pensions, name: {uk: Пенсії, en: Pensions}, prefix: П}
services:
  - {id: pension-age, group: pensions, name: {uk: Пенсія за віком, en: Old-age pension}}
windows:
  - {number: 1}
`

func TestOfficeDemo(t *testing.T) {
	o, err := LoadOffice("office.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Groups) != 10 {
		t.Errorf("demo office has %d groups, want the ten of a Transparent Office", len(o.Groups))
	}
	if o.Location().String() != "Europe/Kyiv" {
		t.Errorf("location %s", o.Location())
	}
	if o.Groups[0].Minutes != 12 || o.Listen != "127.0.0.1:8090" {
		t.Errorf("unexpected values %+v", o.Groups[0])
	}
}

func TestOfficeErrors(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string
	}{
		{"minimal is fine", minimalOffice, nil},
		{"latin prefix", strings.Replace(minimalOffice, "prefix: П", "prefix: P", 1),
			[]string{`5:62: groups[0].prefix: got "P", expected one capital Ukrainian letter`}},
		{"missing translation", strings.Replace(minimalOffice, ", en: Old-age pension", "", 1),
			[]string{`7:46: services[0].name.en: required: the English text`}},
		{"unknown group", strings.Replace(minimalOffice, "group: pensions", "group: pension", 1),
			[]string{`7:30: services[0].group: got "pension"`}},
		{"window serves unknown group", strings.Replace(minimalOffice, "{number: 1}", "{number: 1, serves: [x]}", 1),
			[]string{`9:26: windows[0].serves[0]: got "x"`}},
		{"bad time zone", minimalOffice + "timezone: Mars/Base\n",
			[]string{`10:11: timezone: got "Mars/Base"`}},
		{"network without TLS or credentials", strings.Replace(minimalOffice, "data_dir: /tmp/q", "data_dir: /tmp/q\nlisten: 0.0.0.0:8090", 1),
			[]string{`1:1: tls.cert_file: required when listen`, `1:1: names: required when listen`, `1:1: terminals: required when listen`}},
		{"bad token hash", minimalOffice + "terminals: [{device: kiosk-01, token_sha256: abc}]\n",
			[]string{`10:46: terminals[0].token_sha256: expected 64 lowercase hex digits`}},
		{"lease size", minimalOffice + "lease_size: 0\n",
			[]string{`10:13: lease_size: got 0`}},
		{"duplicate window", minimalOffice + "  - {number: 1}\n",
			[]string{`10:14: windows[1].number: window 1 is listed twice`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseOffice("o.yaml", []byte(tt.yaml))
			if tt.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var errs Errors
			if !errors.As(err, &errs) || len(errs) != len(tt.want) {
				t.Fatalf("got %v, want %d errors", err, len(tt.want))
			}
			for i, w := range tt.want {
				if !strings.Contains(errs[i].Error(), w) {
					t.Errorf("error %d = %q, want %q", i, errs[i], w)
				}
			}
		})
	}
}

func FuzzParseOffice(f *testing.F) {
	b, err := os.ReadFile("office.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(minimalOffice))
	f.Fuzz(func(t *testing.T, data []byte) {
		o, err := ParseOffice("fuzz.yaml", data)
		if err == nil && (len(o.Groups) == 0 || len(o.Windows) == 0) {
			t.Fatalf("accepted an office without groups or windows")
		}
	})
}
