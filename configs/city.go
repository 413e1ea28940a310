package configs

import (
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"
)

// City is where queued ships its record (the append-only event log) for
// the city's statistics and status page: a PostgreSQL database shared by
// every office (package city). Off while DSN is empty. The office's id,
// name and time zone come from the office itself.
type City struct {
	// DSN is the database, as a libpq URL or key=value string; several
	// hosts with target_session_attrs=read-write follow a fail-over. It
	// never holds the password: that is in PasswordFile.
	DSN string `yaml:"dsn"`
	// PasswordFile holds the database password (one line, mode 0600);
	// empty: none (a client certificate, trust, or ~/.pgpass).
	PasswordFile string `yaml:"password_file"`
	// CAFile is the root certificate the database's TLS certificate is
	// checked against; empty: the DSN's sslrootcert, or the system's.
	CAFile string `yaml:"ca_file"`
	// Batch is how many events go in one transaction.
	Batch int `yaml:"batch"`
	// AlarmAge: an event not shipped for this long raises the city
	// alarm in /healthz and the metrics.
	AlarmAge time.Duration `yaml:"alarm_age"`
}

// Enabled reports whether the office ships to a city database.
func (c City) Enabled() bool { return c.DSN != "" }

func (c City) check(d *decoder) {
	if !c.Enabled() {
		if c.PasswordFile != "" || c.CAFile != "" {
			d.errorf("city.dsn", "required with city.password_file or city.ca_file: the city database, like postgres://cherga@db1.city.local/city?sslmode=verify-full")
		}
		return
	}
	switch {
	case DSNHasPassword(c.DSN):
		// The DSN is logged and shown in /healthz: never echo it here.
		d.errorf("city.dsn", "holds a password: remove it and put the password in the file named by city.password_file (mode 0600)")
	case !dsnShaped(c.DSN):
		d.errorf("city.dsn", "got %q, expected postgres://user@host[,host2]/dbname?… or key=value pairs like host=db1 dbname=city user=cherga", c.DSN)
	}
	if c.Batch < 1 || c.Batch > 10000 {
		d.errorf("city.batch", "got %d, expected 1 to 10000 events per transaction", c.Batch)
	}
	if c.AlarmAge < time.Minute || c.AlarmAge > 7*24*time.Hour {
		d.errorf("city.alarm_age", "got %s, expected 1m to 168h", c.AlarmAge)
	}
}

// dsnShaped reports whether dsn looks like a libpq URL or keyword string;
// the driver checks the rest when it connects.
func dsnShaped(dsn string) bool {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		return true
	}
	kv, ok := dsnPairs(dsn)
	return ok && len(kv) > 0
}

// DSNHasPassword reports whether a libpq URL or keyword string carries a
// password (user:password@, ?password=, password=); a string that does
// not parse is searched as text.
func DSNHasPassword(dsn string) bool {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		// Several hosts (h1,h2:5433) are not a Go URL host; only the
		// user information and the query matter here.
		rest := dsn[strings.Index(dsn, "://")+3:]
		authority, query := rest, ""
		if i := strings.IndexAny(rest, "/?"); i >= 0 {
			authority = rest[:i]
			if j := strings.IndexByte(rest, '?'); j >= 0 {
				query = rest[j+1:]
			}
		}
		if at := strings.LastIndexByte(authority, '@'); at >= 0 && strings.Contains(authority[:at], ":") {
			return true
		}
		q, err := url.ParseQuery(query)
		if err != nil {
			return strings.Contains(strings.ToLower(query), "password")
		}
		for k := range q {
			if strings.EqualFold(k, "password") {
				return true
			}
		}
		return false
	}
	kv, ok := dsnPairs(dsn)
	if !ok {
		return strings.Contains(strings.ToLower(dsn), "password")
	}
	_, has := kv["password"]
	return has
}

// dsnPairs splits a libpq keyword string: key=value pairs separated by
// spaces, values optionally single-quoted with backslash escapes.
func dsnPairs(s string) (map[string]string, bool) {
	out := map[string]string{}
	for {
		s = strings.TrimLeft(s, " \t\n\r")
		if s == "" {
			return out, true
		}
		eq := strings.IndexByte(s, '=')
		if eq <= 0 {
			return nil, false
		}
		key := strings.TrimSpace(s[:eq])
		if key == "" || strings.ContainsAny(key, " \t'") {
			return nil, false
		}
		s = strings.TrimLeft(s[eq+1:], " \t")
		var val strings.Builder
		if strings.HasPrefix(s, "'") {
			s = s[1:]
			closed := false
			for len(s) > 0 {
				c := s[0]
				s = s[1:]
				if c == '\\' && len(s) > 0 {
					val.WriteByte(s[0])
					s = s[1:]
					continue
				}
				if c == '\'' {
					closed = true
					break
				}
				val.WriteByte(c)
			}
			if !closed {
				return nil, false
			}
		} else {
			end := strings.IndexAny(s, " \t\n\r")
			if end < 0 {
				end = len(s)
			}
			val.WriteString(s[:end])
			s = s[end:]
		}
		out[strings.ToLower(key)] = val.String()
	}
}

// PrivateFile refuses a secret that the file's group or others may read
// or write, naming the chmod that fixes it; owner is whose it should be
// ("queued's user").
func PrivateFile(path, owner string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("%s has mode %04o: the group or others may read it; run chmod 600 %s (owned by %s)", path, perm, path, owner)
	}
	return nil
}

// UnwritableFile refuses a file others could change (a CA certificate is
// public, but whoever may rewrite it may impersonate the server).
func UnwritableFile(path, owner string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if perm := fi.Mode().Perm(); perm&0o022 != 0 {
		return fmt.Errorf("%s has mode %04o: the group or others may change it; run chmod 644 %s (owned by %s or root)", path, perm, path, owner)
	}
	return nil
}
