package configs

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestCityServerExample(t *testing.T) {
	c, err := LoadCityServer(filepath.Join("city.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Retention != 3*365*24*time.Hour || c.StaleAfter != time.Minute || c.Listen != "127.0.0.1:8100" || c.Name.UK != "Київ" {
		t.Errorf("%+v", c)
	}
}

func TestCityServerErrors(t *testing.T) {
	for _, c := range []struct{ yaml, want string }{
		{"data_dir: x\n", "database.dsn: required"},
		{"database: {dsn: 'postgres://u:pw@h/city'}\ndata_dir: x\n", "holds a password"},
		{"database: {dsn: 'host=h'}\n", "data_dir: required"},
		{"database: {dsn: 'host=h'}\ndata_dir: x\nlisten: 0.0.0.0:443\n", "tls.cert_file: required"},
		{"database: {dsn: 'host=h'}\ndata_dir: x\nretention: 24h\n", "retention: got 24h0m0s"},
		{"database: {dsn: 'host=h'}\ndata_dir: x\noffices: [a, a]\n", "listed twice"},
		{"database: {dsn: 'host=h'}\ndata_dir: x\ntimezone: Mars/Olympus\n", "timezone: got"},
		{"database: {dsn: 'host=h'}\ndata_dir: x\nstale_after: 1s\n", "stale_after: got 1s"},
		{"database: {dsn: 'host=h'}\ndata_dir: x\nlisten_typo: 1\n", "listen_typo"},
	} {
		_, err := ParseCityServer("city.yaml", []byte(c.yaml))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.yaml, err, c.want)
		}
	}
	if _, err := ParseCityServer("city.yaml", []byte("database: {dsn: 'host=h'}\ndata_dir: x\nretention: 0s\n")); err != nil {
		t.Errorf("retention 0 (keep all): %v", err)
	}
}

func FuzzParseCityServer(f *testing.F) {
	f.Add([]byte("database: {dsn: 'host=h'}\ndata_dir: x\n"))
	f.Add([]byte("names: [a, b]\noffices: [x]\nretention: 8760h\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = ParseCityServer("city.yaml", b)
	})
}
