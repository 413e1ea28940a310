package configs

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Office is the configuration of the reference queue server, queued: the
// office, its service catalogue and its windows. office.yaml is both the
// demo and the documented example.
type Office struct {
	ID       string `yaml:"id"`
	Name     Text   `yaml:"name"`
	Timezone string `yaml:"timezone"`
	Listen   string `yaml:"listen"`
	// MaxConnections caps the HTTP connections served at once; more are
	// refused at once (0: DefaultOfficeMaxConnections).
	MaxConnections int    `yaml:"max_connections"`
	DataDir        string `yaml:"data_dir"`
	Log            Log    `yaml:"log"`
	// TrackingURL is where a visitor follows a ticket, printed as its QR
	// code: {office}, {date} and {number} are filled in. Empty: no QR.
	TrackingURL string `yaml:"tracking_url"`
	// LeaseSize was the size of the number blocks older versions leased
	// to kiosks for offline tickets; it is accepted and ignored (a kiosk
	// numbers offline tickets from its own series, proto.OfflineNumber).
	LeaseSize int                  `yaml:"lease_size"`
	TLS       TLS                  `yaml:"tls"`
	Terminals []TerminalCredential `yaml:"terminals"`
	// The catalogue (catalogue.go): groups with their subgroups, services,
	// and what the information terminals show about them.
	Groups    []Group         `yaml:"groups"`
	Services  []OfficeService `yaml:"services"`
	Documents []Document      `yaml:"documents"`
	Forms     []Form          `yaml:"forms"`
	// FormsDir holds the sample forms' files; relative to the directory
	// of the office file.
	FormsDir string         `yaml:"forms_dir"`
	Windows  []OfficeWindow `yaml:"windows"`
	Bookings Bookings       `yaml:"bookings"`
	// Names are the host names queued answers to (the Host header):
	// what terminals, operators' browsers and the city website use to
	// reach it. Loopback names are always allowed. A request for any other
	// name is refused, against DNS rebinding.
	Names []string `yaml:"names"`
	// NoShowAfter is how many times a window must call a ticket again
	// before it may mark the visitor as not come; 0: at once.
	NoShowAfter int `yaml:"no_show_after"`
	// PauseReasons are why a window may pause; a paused window is closed.
	PauseReasons []Reason `yaml:"pause_reasons"`
	// Priorities staff may give a ticket by hand (a visitor with a
	// disability, a veteran); empty: none.
	Priorities []Priority `yaml:"priorities"`
	Sessions   Sessions   `yaml:"sessions"`
	// Alerts are when the supervisors' devices page, the log and the
	// metrics raise an alert about a terminal.
	Alerts Alerts `yaml:"alerts"`
	// City ships the office's record to the city's PostgreSQL (city.go);
	// off while City.DSN is empty.
	City City `yaml:"city"`
}

// Alerts bound what queued lets pass before it raises an alert.
type Alerts struct {
	// OfflineAfter is how long a terminal may be without its link
	// before it is alerted as offline (a restart takes a few seconds).
	OfflineAfter time.Duration `yaml:"offline_after"`
	// BacklogEvents and BacklogAge: a terminal's outbox holding more
	// events than this, or one older than this, that queued has not
	// committed.
	BacklogEvents int           `yaml:"backlog_events"`
	BacklogAge    time.Duration `yaml:"backlog_age"`
}

// Reason is a named reason, like a pause's.
type Reason struct {
	ID   string `yaml:"id"`
	Name Text   `yaml:"name"`
}

// Priority is a level of precedence staff may give a ticket.
type Priority struct {
	ID   string `yaml:"id"`
	Name Text   `yaml:"name"`
	// Level: higher is called first; a booked visitor has
	// bookings.priority.
	Level int `yaml:"level"`
}

// Sessions bound how long a signed-in operator stays signed in.
type Sessions struct {
	// Idle ends a session nobody used for this long.
	Idle time.Duration `yaml:"idle"`
	// MaxAge ends any session this long after sign-in.
	MaxAge time.Duration `yaml:"max_age"`
}

// Bookings are visits booked ahead (by phone or on the website) for a
// service and a time slot; the visitor checks in at a kiosk with the code.
type Bookings struct {
	Enabled bool `yaml:"enabled"`
	// KeyFile holds the secret that signs booking codes, so kiosks can
	// check a code while the server is away. Empty: data_dir/booking.key,
	// made at first start.
	KeyFile     string `yaml:"key_file"`
	SlotMinutes int    `yaml:"slot_minutes"`
	// Capacity is how many visitors may book one service's slot.
	Capacity int `yaml:"capacity"`
	// Open and Close bound the slots of a day, HH:MM office time.
	Open  string `yaml:"open"`
	Close string `yaml:"close"`
	// Early and Late bound check-in around the slot's start.
	Early     time.Duration `yaml:"early"`
	Late      time.Duration `yaml:"late"`
	DaysAhead int           `yaml:"days_ahead"`
	// Priority of a booked visitor's ticket: higher is called before
	// walk-ins waiting for the same window.
	Priority int `yaml:"priority"`
}

// Minutes of the day of an HH:MM time.
func clockMinutes(s string) (int, bool) {
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, false
	}
	return t.Hour()*60 + t.Minute(), true
}

// SlotRange is the first and last slot start, in minutes from midnight.
func (b Bookings) SlotRange() (first, last int) {
	open, _ := clockMinutes(b.Open)
	closing, _ := clockMinutes(b.Close)
	return open, closing - b.SlotMinutes
}

// TLS makes queued serve https:// and wss://.
type TLS struct {
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	// ClientCAFile enables client certificates (mTLS): a terminal whose
	// certificate this CA signed is the device named by its common name.
	ClientCAFile string `yaml:"client_ca_file"`
}

// TerminalCredential lets one terminal open the link with a bearer token.
type TerminalCredential struct {
	Device string `yaml:"device"`
	// TokenSHA256 is the hex SHA-256 of the terminal's token (kioskctl
	// token prints both); the token itself is never stored here.
	TokenSHA256 string `yaml:"token_sha256"`
}

// Text is a visitor-facing text in Ukrainian and English.
type Text struct {
	UK string `yaml:"uk"`
	EN string `yaml:"en"`
}

type OfficeWindow struct {
	Number int `yaml:"number"`
	// Serves lists the group ids this window calls; empty means every
	// group (the "single window" front office).
	Serves []string `yaml:"serves"`
}

// DefaultOfficeMaxConnections is queued's cap on connections at once: a
// link per terminal for an office of 1,000 and more terminals, each
// terminal's second connection while it reconnects, and the operators'
// pages with their event streams, with room to spare; far below the
// descriptors systemd allows (Go raises the soft limit to the hard one,
// 524,288 by default).
const DefaultOfficeMaxConnections = 4096

func DefaultOffice() Office {
	return Office{
		Timezone:       "Europe/Kyiv",
		Listen:         "127.0.0.1:8090",
		MaxConnections: DefaultOfficeMaxConnections,
		LeaseSize:      20,
		Log:            Log{Format: "text", Level: "info"},
		NoShowAfter:    2,
		Sessions:       Sessions{Idle: 2 * time.Hour, MaxAge: 12 * time.Hour},
		Alerts:         Alerts{OfflineAfter: time.Minute, BacklogEvents: 500, BacklogAge: 5 * time.Minute},
		City:           City{Batch: 500, AlarmAge: 15 * time.Minute},
		PauseReasons: []Reason{
			{ID: "break", Name: Text{UK: "Перерва", EN: "Break"}},
			{ID: "paperwork", Name: Text{UK: "Робота з документами", EN: "Paperwork"}},
			{ID: "meeting", Name: Text{UK: "Нарада", EN: "Meeting"}},
			{ID: "technical", Name: Text{UK: "Технічні проблеми", EN: "Technical problem"}},
			{ID: "other", Name: Text{UK: "Інше", EN: "Other"}},
		},
		Bookings: Bookings{SlotMinutes: 15, Capacity: 2, Open: "08:00", Close: "20:00",
			Early: 30 * time.Minute, Late: 15 * time.Minute, DaysAhead: 30, Priority: 1},
	}
}

// LoadOffice reads and checks a queued configuration file.
func LoadOffice(path string) (*Office, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return ParseOffice(path, data)
}

func ParseOffice(name string, data []byte) (*Office, error) {
	o := DefaultOffice()
	d := parseYAML(name, data, &o)
	if o.FormsDir != "" && !filepath.IsAbs(o.FormsDir) {
		o.FormsDir = filepath.Join(filepath.Dir(name), o.FormsDir)
	}
	o.check(d)
	if err := d.err(); err != nil {
		return nil, err
	}
	return &o, nil
}

// Location is the office's time zone; the day a ticket belongs to and its
// number series follow it.
func (o *Office) Location() *time.Location {
	loc, err := time.LoadLocation(o.Timezone)
	if err != nil {
		return time.UTC // unreachable after check
	}
	return loc
}

func (o *Office) check(d *decoder) {
	if !deviceIDRe.MatchString(o.ID) {
		d.errorf("id", "got %q, expected a short office id of lowercase letters, digits and dashes, like kharkiv-1", o.ID)
	}
	checkText(d, "name", o.Name)
	if _, err := time.LoadLocation(o.Timezone); err != nil {
		d.errorf("timezone", "got %q, expected an IANA time zone like Europe/Kyiv", o.Timezone)
	}
	checkListen(d, "listen", o.Listen)
	if o.MaxConnections < 0 || o.MaxConnections > 1_000_000 {
		d.errorf("max_connections", "got %d, expected 0 (the default, %d) to 1000000", o.MaxConnections, DefaultOfficeMaxConnections)
	}
	o.checkSecurity(d)
	if u := o.TrackingURL; u != "" {
		if pu, err := url.Parse(strings.NewReplacer("{office}", "x", "{date}", "x", "{number}", "x").Replace(u)); err != nil || pu.Scheme == "" || pu.Host == "" {
			d.errorf("tracking_url", "got %q, expected an address like https://office.example/t/{date}/{number}", u)
		}
	}
	if o.DataDir == "" {
		d.errorf("data_dir", "required: the directory for queued's database, like /var/lib/queued")
	}
	if o.LeaseSize < 1 || o.LeaseSize > 200 {
		d.errorf("lease_size", "got %d, expected 1 to 200 numbers per prefix and kiosk", o.LeaseSize)
	}
	groups := o.checkCatalogue(d)
	o.checkBookings(d)
	o.checkDesk(d)
	windows := map[int]bool{}
	for i, w := range o.Windows {
		p := fmt.Sprintf("windows[%d]", i)
		if w.Number < 1 || w.Number > 999 {
			d.errorf(p+".number", "got %d, expected 1 to 999", w.Number)
		} else if windows[w.Number] {
			d.errorf(p+".number", "window %d is listed twice", w.Number)
		}
		windows[w.Number] = true
		for j, g := range w.Serves {
			if !groups[g] {
				d.errorf(fmt.Sprintf("%s.serves[%d]", p, j), "got %q, expected the id of a group listed under groups", g)
			}
		}
	}
	if len(o.Windows) == 0 {
		d.errorf("windows", "required: at least one window")
	}
	o.City.check(d)
}

var hostNameRe = regexp.MustCompile(`^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?)$`)

// checkDesk checks what the operators' desks use: names, pauses,
// priorities, sessions.
func (o *Office) checkDesk(d *decoder) {
	for i, n := range o.Names {
		if !hostNameRe.MatchString(n) || strings.Contains(n, "..") {
			d.errorf(fmt.Sprintf("names[%d]", i), "got %q, expected a host name like queue.office.example or an address like 10.0.0.5 (no scheme, no port)", n)
		}
	}
	if o.NoShowAfter < 0 || o.NoShowAfter > 9 {
		d.errorf("no_show_after", "got %d, expected 0 (at once) to 9 calls again", o.NoShowAfter)
	}
	if len(o.PauseReasons) == 0 {
		d.errorf("pause_reasons", "required: at least one reason a window may pause, like {id: break, name: {uk: Перерва, en: Break}}")
	}
	seen := map[string]bool{}
	for i, r := range o.PauseReasons {
		p := fmt.Sprintf("pause_reasons[%d]", i)
		checkID(d, p+".id", r.ID, seen)
		checkText(d, p+".name", r.Name)
	}
	seen = map[string]bool{}
	for i, pr := range o.Priorities {
		p := fmt.Sprintf("priorities[%d]", i)
		checkID(d, p+".id", pr.ID, seen)
		checkText(d, p+".name", pr.Name)
		if pr.Level < 1 || pr.Level > 9 {
			d.errorf(p+".level", "got %d, expected 1 to 9 (higher is called first)", pr.Level)
		}
	}
	if o.Sessions.Idle < time.Minute || o.Sessions.Idle > 24*time.Hour {
		d.errorf("sessions.idle", "got %s, expected 1m to 24h", o.Sessions.Idle)
	}
	if o.Sessions.MaxAge < o.Sessions.Idle || o.Sessions.MaxAge > 7*24*time.Hour {
		d.errorf("sessions.max_age", "got %s, expected from sessions.idle (%s) to 168h", o.Sessions.MaxAge, o.Sessions.Idle)
	}
	if a := o.Alerts.OfflineAfter; a < 5*time.Second || a > 24*time.Hour {
		d.errorf("alerts.offline_after", "got %s, expected 5s to 24h", a)
	}
	if n := o.Alerts.BacklogEvents; n < 1 || n > 1000000 {
		d.errorf("alerts.backlog_events", "got %d, expected 1 to 1000000", n)
	}
	if a := o.Alerts.BacklogAge; a < 10*time.Second || a > 24*time.Hour {
		d.errorf("alerts.backlog_age", "got %s, expected 10s to 24h", a)
	}
}

func (o *Office) checkBookings(d *decoder) {
	b := o.Bookings
	if b.SlotMinutes < 5 || b.SlotMinutes > 240 || b.SlotMinutes%5 != 0 {
		d.errorf("bookings.slot_minutes", "got %d, expected a multiple of 5 from 5 to 240", b.SlotMinutes)
	}
	if b.Capacity < 1 || b.Capacity > 99 {
		d.errorf("bookings.capacity", "got %d, expected 1 to 99 visitors per service and slot", b.Capacity)
	}
	open, ok1 := clockMinutes(b.Open)
	closing, ok2 := clockMinutes(b.Close)
	if !ok1 || open%5 != 0 {
		d.errorf("bookings.open", "got %q, expected a time like 08:00 (minutes a multiple of 5)", b.Open)
	}
	if !ok2 || closing%5 != 0 {
		d.errorf("bookings.close", "got %q, expected a time like 20:00 (minutes a multiple of 5)", b.Close)
	}
	if ok1 && ok2 && closing-open < b.SlotMinutes {
		d.errorf("bookings.close", "got %s, expected at least one slot (%d min) after open %s", b.Close, b.SlotMinutes, b.Open)
	}
	if b.Early < 0 || b.Early > 4*time.Hour {
		d.errorf("bookings.early", "got %s, expected 0 to 4h before the slot", b.Early)
	}
	if b.Late < 0 || b.Late > 4*time.Hour {
		d.errorf("bookings.late", "got %s, expected 0 to 4h after the slot's start", b.Late)
	}
	if b.DaysAhead < 0 || b.DaysAhead > 365 {
		d.errorf("bookings.days_ahead", "got %d, expected 0 to 365 days", b.DaysAhead)
	}
	if b.Priority < 0 || b.Priority > 9 {
		d.errorf("bookings.priority", "got %d, expected 0 (none) to 9", b.Priority)
	}
}

func checkID(d *decoder, path, id string, seen map[string]bool) {
	if !deviceIDRe.MatchString(id) {
		d.errorf(path, "got %q, expected lowercase letters, digits and dashes", id)
	} else if seen[id] {
		d.errorf(path, "id %q is used twice", id)
	}
	seen[id] = true
}

func checkText(d *decoder, path string, t Text) {
	if t.UK == "" {
		d.errorf(path+".uk", "required: the Ukrainian text")
	}
	if t.EN == "" {
		d.errorf(path+".en", "required: the English text")
	}
}

// isPrefix accepts one capital Cyrillic letter; the voice announces ticket
// numbers by letter name, so Latin look-alikes are refused.
func isPrefix(s string) bool {
	r, n := utf8.DecodeRuneInString(s)
	return n == len(s) && n > 0 && unicode.Is(unicode.Cyrillic, r) && unicode.IsUpper(r)
}

var sha256Re = regexp.MustCompile(`^[0-9a-f]{64}$`)

// checkSecurity refuses a server reachable from the network without TLS
// or without a way to tell its terminals apart.
func (o *Office) checkSecurity(d *decoder) {
	if (o.TLS.CertFile == "") != (o.TLS.KeyFile == "") {
		d.errorf("tls", "set both cert_file and key_file, or neither")
	}
	if o.TLS.ClientCAFile != "" && o.TLS.CertFile == "" {
		d.errorf("tls.client_ca_file", "client certificates need TLS: set cert_file and key_file too")
	}
	seen := map[string]bool{}
	for i, t := range o.Terminals {
		p := fmt.Sprintf("terminals[%d]", i)
		if !deviceIDRe.MatchString(t.Device) {
			d.errorf(p+".device", "got %q, expected the terminal's device_id", t.Device)
		} else if seen[t.Device] {
			d.errorf(p+".device", "terminal %s is listed twice", t.Device)
		}
		seen[t.Device] = true
		if !sha256Re.MatchString(t.TokenSHA256) {
			d.errorf(p+".token_sha256", "expected 64 lowercase hex digits, as printed by kioskctl token")
		}
	}
	if isLoopbackAddr(o.Listen) {
		return
	}
	if o.TLS.CertFile == "" {
		d.errorf("tls.cert_file", "required when listen (%s) is reachable from the network: terminals connect with wss:// only", o.Listen)
	}
	if len(o.Names) == 0 {
		d.errorf("names", "required when listen (%s) is reachable from the network: the host names and addresses terminals and browsers use to reach queued, like [queue.office.example, 10.20.0.5]", o.Listen)
	}
	if len(o.Terminals) == 0 && o.TLS.ClientCAFile == "" {
		d.errorf("terminals", "required when listen (%s) is reachable from the network: list each terminal's token (kioskctl token), or set tls.client_ca_file", o.Listen)
	}
}
