package configs

import (
	"fmt"
	"os"
	"time"
)

// CityServer is cityd's configuration (configs/city.yaml): the city's
// service that shows every centre's queues to the public and compares the
// centres for their supervisors, over the city's PostgreSQL database
// (package city) that the offices' queued ship to.
type CityServer struct {
	// Name is the city's, shown on the pages' titles.
	Name Text `yaml:"name"`
	// Timezone is the city's: "today" of the reports, the times on the
	// pages. Each office's hour of day is its own zone's.
	Timezone string `yaml:"timezone"`
	Listen   string `yaml:"listen"`
	// Names are the host names and addresses cityd answers to (Host
	// check); loopback is always allowed.
	Names []string `yaml:"names"`
	TLS   TLS      `yaml:"tls"`
	// MaxConnections served at once; more are refused with 503. 0: 4096.
	MaxConnections int `yaml:"max_connections"`
	// DataDir is cityd's only writable directory: access.json (accounts
	// and tokens, edited by cityd user/token) and cityd.db (sessions).
	DataDir  string   `yaml:"data_dir"`
	Log      Log      `yaml:"log"`
	Database CityDB   `yaml:"database"`
	Sessions Sessions `yaml:"sessions"`
	// Retention keeps the events this long; older months are dropped
	// once a day. 0: keep everything.
	Retention time.Duration `yaml:"retention"`
	// StaleAfter: a centre whose last status is older than this is shown
	// as without fresh data.
	StaleAfter time.Duration `yaml:"stale_after"`
	// Offices are office ids in the order the pages show them; offices
	// not listed follow by id. Empty: by id.
	Offices []string `yaml:"offices"`
}

// CityDB is the city's database as cityd reaches it.
type CityDB struct {
	// DSN as in an office's city.dsn: libpq URL or key=value, several
	// hosts with target_session_attrs=read-write; never a password.
	DSN string `yaml:"dsn"`
	// PasswordFile holds the password (mode 0600); empty: none.
	PasswordFile string `yaml:"password_file"`
	// CAFile is the database's TLS root; empty: the DSN's or the system's.
	CAFile string `yaml:"ca_file"`
}

// DefaultCityMaxConnections is cityd's max_connections when 0.
const DefaultCityMaxConnections = 4096

// DefaultCityServer is cityd's configuration before the file is read.
func DefaultCityServer() CityServer {
	return CityServer{
		Name:           Text{UK: "Місто", EN: "The city"},
		Timezone:       "Europe/Kyiv",
		Listen:         "127.0.0.1:8100",
		MaxConnections: DefaultCityMaxConnections,
		Log:            Log{Format: "text", Level: "info"},
		Sessions:       Sessions{Idle: 2 * time.Hour, MaxAge: 12 * time.Hour},
		Retention:      3 * 365 * 24 * time.Hour,
		StaleAfter:     time.Minute,
	}
}

// LoadCityServer reads and checks a cityd configuration file.
func LoadCityServer(path string) (*CityServer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return ParseCityServer(path, data)
}

// ParseCityServer checks a cityd configuration; name is the file's, for
// the messages.
func ParseCityServer(name string, data []byte) (*CityServer, error) {
	c := DefaultCityServer()
	d := parseYAML(name, data, &c)
	c.check(d)
	if err := d.err(); err != nil {
		return nil, err
	}
	return &c, nil
}

// Location is the city's time zone.
func (c *CityServer) Location() *time.Location {
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil {
		return time.UTC // unreachable after check
	}
	return loc
}

func (c *CityServer) check(d *decoder) {
	checkText(d, "name", c.Name)
	if _, err := time.LoadLocation(c.Timezone); err != nil {
		d.errorf("timezone", "got %q, expected an IANA time zone like Europe/Kyiv", c.Timezone)
	}
	checkListen(d, "listen", c.Listen)
	if c.MaxConnections < 0 || c.MaxConnections > 1_000_000 {
		d.errorf("max_connections", "got %d, expected 0 (the default, %d) to 1000000", c.MaxConnections, DefaultCityMaxConnections)
	}
	if c.DataDir == "" {
		d.errorf("data_dir", "required: the directory for cityd's accounts and sessions, like /var/lib/cityd")
	}
	for i, n := range c.Names {
		if !hostNameRe.MatchString(n) {
			d.errorf(fmt.Sprintf("names[%d]", i), "got %q, expected a host name or address, like city.example or 10.20.0.5", n)
		}
	}
	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		d.errorf("tls", "set both cert_file and key_file, or neither")
	}
	if c.TLS.ClientCAFile != "" {
		d.errorf("tls.client_ca_file", "cityd takes no client certificates: accounts sign in, programs bring a token")
	}
	if !isLoopbackAddr(c.Listen) {
		if c.TLS.CertFile == "" {
			d.errorf("tls.cert_file", "required when listen (%s) is reachable from the network: passwords and tokens go over it", c.Listen)
		}
		if len(c.Names) == 0 {
			d.errorf("names", "required when listen (%s) is reachable from the network: the host names browsers use to reach cityd, like [city.example]", c.Listen)
		}
	}
	switch db := c.Database; {
	case db.DSN == "":
		d.errorf("database.dsn", "required: the city's database, like postgres://cityd@db1.city.local,db2.city.local/city?target_session_attrs=read-write&sslmode=verify-full")
	case DSNHasPassword(db.DSN):
		d.errorf("database.dsn", "holds a password: remove it and put the password in the file named by database.password_file (mode 0600)")
	case !dsnShaped(db.DSN):
		d.errorf("database.dsn", "got %q, expected postgres://user@host[,host2]/dbname?… or key=value pairs like host=db1 dbname=city user=cityd", db.DSN)
	}
	if c.Sessions.Idle < time.Minute || c.Sessions.MaxAge < c.Sessions.Idle {
		d.errorf("sessions", "expected idle of 1m or more and max_age no shorter than idle")
	}
	if c.Retention != 0 && c.Retention < 31*24*time.Hour {
		d.errorf("retention", "got %s, expected 0 (keep everything) or at least 744h (a month): events are dropped by whole months", c.Retention)
	}
	if c.StaleAfter < 5*time.Second || c.StaleAfter > 24*time.Hour {
		d.errorf("stale_after", "got %s, expected 5s to 24h", c.StaleAfter)
	}
	seen := map[string]bool{}
	for i, id := range c.Offices {
		p := fmt.Sprintf("offices[%d]", i)
		if !deviceIDRe.MatchString(id) {
			d.errorf(p, "got %q, expected an office id like kharkiv-1", id)
		} else if seen[id] {
			d.errorf(p, "office %s is listed twice", id)
		}
		seen[id] = true
	}
}
