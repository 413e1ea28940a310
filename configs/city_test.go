package configs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestOfficeCity(t *testing.T) {
	o, err := ParseOffice("o.yaml", []byte(minimalOffice))
	if err != nil {
		t.Fatal(err)
	}
	if o.City.Enabled() || o.City.Batch != 500 || o.City.AlarmAge != 15*time.Minute {
		t.Errorf("default city %+v, want off with batch 500, alarm_age 15m", o.City)
	}
	o, err = ParseOffice("o.yaml", []byte(minimalOffice+`city:
  dsn: "postgres://cherga@db1.city.local,db2.city.local:5433/city?target_session_attrs=read-write&sslmode=verify-full"
  password_file: /etc/queued/city.pass
  batch: 100
  alarm_age: 1h
`))
	if err != nil {
		t.Fatal(err)
	}
	if !o.City.Enabled() || o.City.Batch != 100 || o.City.AlarmAge != time.Hour || o.City.PasswordFile != "/etc/queued/city.pass" {
		t.Errorf("city %+v", o.City)
	}
	for _, c := range []struct{ yaml, want string }{
		{"city: {dsn: \"postgres://cherga:s3cret@db1/city\"}", "city.dsn: holds a password"},
		{"city: {dsn: \"postgres://cherga@db1/city?password=s3cret\"}", "city.dsn: holds a password"},
		{"city: {dsn: \"host=db1 dbname=city password='s 3'\"}", "city.dsn: holds a password"},
		{"city: {dsn: \"mysql://db1\"}", "city.dsn: got"},
		{"city: {password_file: /etc/x}", "city.dsn: required with"},
		{"city: {dsn: \"host=db1\", batch: 0}", "city.batch: got 0"},
		{"city: {dsn: \"host=db1\", alarm_age: 1s}", "city.alarm_age: got 1s"},
	} {
		_, err := ParseOffice("o.yaml", []byte(minimalOffice+c.yaml+"\n"))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.yaml, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%s: the error echoes the password: %v", c.yaml, err)
		}
	}
}

func TestDSNHasPassword(t *testing.T) {
	for dsn, want := range map[string]bool{
		"postgres://cherga@db1,db2/city?sslmode=verify-full": false,
		"postgres://cherga:pw@db1,db2/city":                  true,
		"postgresql://db1/city?PASSWORD=x":                   true,
		"postgres://db1/city?passfile=/x":                    false,
		"host=db1 user=cherga dbname=city":                   false,
		"host=db1 password=x":                                true,
		"host=db1 password = 'a b\\' c'":                     true,
		"host='pass word' dbname=password":                   false,
		"not a dsn password":                                 true,
	} {
		if got := DSNHasPassword(dsn); got != want {
			t.Errorf("DSNHasPassword(%q) = %v, want %v", dsn, got, want)
		}
	}
}

func FuzzDSNHasPassword(f *testing.F) {
	for _, s := range []string{"postgres://u:p@h/d", "host=h password='x\\'y'", "host='", "postgres://h?%zz", "a=b c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, dsn string) {
		has := DSNHasPassword(dsn)
		// A keyword string with password= in it is always caught.
		if kv, ok := dsnPairs(dsn); ok {
			if _, p := kv["password"]; p && !has {
				t.Errorf("%q: password pair not found", dsn)
			}
		}
		_ = dsnShaped(dsn)
	})
}

func TestPrivateFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "city.pass")
	if err := os.WriteFile(p, []byte("pw\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := PrivateFile(p, "queued's user"); err == nil || !strings.Contains(err.Error(), "run chmod 600 "+p) {
		t.Errorf("0644 password file: %v", err)
	}
	if err := UnwritableFile(p, "queued's user"); err != nil {
		t.Errorf("0644 CA file: %v", err)
	}
	os.Chmod(p, 0o600)
	if err := PrivateFile(p, "queued's user"); err != nil {
		t.Error(err)
	}
	os.Chmod(p, 0o664)
	if err := UnwritableFile(p, "queued's user"); err == nil || !strings.Contains(err.Error(), "chmod 644") {
		t.Errorf("0664 CA file: %v", err)
	}
}
