package configs

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Terminal is the configuration of one kioskd. reference.yaml documents
// every key with its default; a test keeps the two in step.
type Terminal struct {
	DeviceID string    `yaml:"device_id"`
	DataDir  string    `yaml:"data_dir"`
	Roles    []Role    `yaml:"roles"`
	Log      Log       `yaml:"log"`
	HTTP     HTTP      `yaml:"http"`
	Admin    Admin     `yaml:"admin"`
	Server   Server    `yaml:"server"`
	Buffer   Buffer    `yaml:"buffer"`
	Kiosk    KioskRole `yaml:"kiosk"`
	Hall     HallRole  `yaml:"hall"`
	Window   Window    `yaml:"window"`
	GPIO     GPIO      `yaml:"gpio"`
	// Buses are the RS-485 (Modbus RTU) lines of queue hardware this
	// terminal drives, whatever its roles (configs/bus.go).
	Buses []Bus `yaml:"buses"`
	// FirmwareKeys are the ed25519 public keys (files written by kioskctl
	// firmware keygen) that device firmware packages must be signed with.
	FirmwareKeys []string `yaml:"firmware_keys"`
}

// Role is a job a terminal does; one terminal may do several.
type Role string

const (
	RoleKiosk  Role = "kiosk"  // touch UI, ticket printer, scanner
	RoleHall   Role = "hall"   // hall display pages, LED boards, voice
	RoleWindow Role = "window" // per-window display
)

func (r *Role) UnmarshalText(b []byte) error {
	s, err := oneOf(b, string(RoleKiosk), string(RoleHall), string(RoleWindow))
	*r = Role(s)
	return err
}

// Has reports whether the terminal plays role r.
func (c *Terminal) Has(r Role) bool {
	for _, x := range c.Roles {
		if x == r {
			return true
		}
	}
	return false
}

type Log struct {
	Format LogFormat `yaml:"format"`
	Level  LogLevel  `yaml:"level"`
}

type LogFormat string

func (f *LogFormat) UnmarshalText(b []byte) error {
	s, err := oneOf(b, "text", "json")
	*f = LogFormat(s)
	return err
}

type LogLevel string

func (l *LogLevel) UnmarshalText(b []byte) error {
	s, err := oneOf(b, "debug", "info", "warn", "error")
	*l = LogLevel(s)
	return err
}

type HTTP struct {
	Listen string `yaml:"listen"`
	// Names are host names the pages may be opened by besides loopback
	// ones and the listen address (or, on 0.0.0.0, the machine's own
	// addresses): kiosk-1.office.local.
	Names []string `yaml:"names"`
	// MaxConnections caps the connections served at once; more are
	// refused with a 503 (0: DefaultMaxConnections).
	MaxConnections int `yaml:"max_connections"`
}

// DefaultMaxConnections is a terminal's cap on connections at once: the
// kiosk page, its browser's parallel fetches, a few hall TVs, kioskctl,
// a scraper, with room to spare (about 50 clients at most).
const DefaultMaxConnections = 64

// Admin is the technician's listener: /admin/, its JSON API and /metrics.
type Admin struct {
	// Listen is host:port, or "off" for no admin listener.
	Listen string `yaml:"listen"`
	// PasswordHash is the argon2id PHC string of the admin password
	// (kioskctl admin hash-password); required off loopback.
	PasswordHash string `yaml:"password_hash"`
	// TLSCert and TLSKey are the listener's certificate and key files;
	// required off loopback. The key must be private to kioskd's user.
	TLSCert string `yaml:"tls_cert"`
	TLSKey  string `yaml:"tls_key"`
}

// AdminOff is Admin.Listen for no admin listener.
const AdminOff = "off"

// Loopback reports whether the admin listener is on this machine only,
// where whoever is at the terminal is its technician.
func (a Admin) Loopback() bool { return isLoopbackAddr(a.Listen) }

type Server struct {
	URL              string        `yaml:"url"`
	HandshakeTimeout time.Duration `yaml:"handshake_timeout"`
	// ReconnectMax caps the wait between attempts to reach the server.
	ReconnectMax time.Duration `yaml:"reconnect_max"`
	// TokenFile holds this terminal's bearer token (one line, mode 0600).
	TokenFile string `yaml:"token_file"`
	// CAFile verifies the server's certificate for wss:// instead of the
	// system's roots: a closed network's own CA.
	CAFile string `yaml:"ca_file"`
	// CertFile and KeyFile are a client certificate for mTLS, the
	// alternative to a token; its common name must be device_id.
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

// Buffer bounds the outbox of events waiting for the server.
type Buffer struct {
	AlarmEvents int           `yaml:"alarm_events"`
	AlarmAge    time.Duration `yaml:"alarm_age"`
	MaxEvents   int           `yaml:"max_events"`
}

type KioskRole struct {
	Printer Printer `yaml:"printer"`
	Ticket  Ticket  `yaml:"ticket"`
	Scanner Scanner `yaml:"scanner"`
	Button  Button  `yaml:"button"`
	// FaultLight is the older name of Lights.Fault (configs/gpio.go).
	FaultLight  string      `yaml:"fault_light"`
	Lights      Lights      `yaml:"lights"`
	PaperSensor PaperSensor `yaml:"paper_sensor"`
	Screen      Screen      `yaml:"screen"`
	// Origin is the touch page's exact origin; empty: http:// and
	// http.listen (127.0.0.1 for an unspecified host).
	Origin string `yaml:"origin"`
	// VoiceGuidance offers the page's voice guidance mode (espeak-ng).
	VoiceGuidance bool `yaml:"voice_guidance"`
}

// Screen is the touch page's timing.
type Screen struct {
	Idle        time.Duration `yaml:"idle"`
	IdleWarning time.Duration `yaml:"idle_warning"`
	Ticket      time.Duration `yaml:"ticket"`
	Popular     []string      `yaml:"popular"`
}

type Printer struct {
	Driver  PrinterDriver `yaml:"driver"`
	Port    string        `yaml:"port"`
	Profile string        `yaml:"profile"`
	PaperMM int           `yaml:"paper_mm"`
	// Baud is the serial line speed; serial ports only.
	Baud int `yaml:"baud"`
	// Pace limits bytes per second for serial printers without flow
	// control; 0 sends at full speed.
	Pace int `yaml:"pace"`
	// RollM is the paper roll's length in metres, for printers that cannot
	// report their paper: tickets are counted against it. 0: not counted.
	RollM float64 `yaml:"roll_m"`
}

// Ticket is the printed ticket's layout.
type Ticket struct {
	Blocks []string `yaml:"blocks"`
	Logo   int      `yaml:"logo"`
	Footer Text     `yaml:"footer"`
}

type PrinterDriver string

const (
	PrinterSim    PrinterDriver = "sim"
	PrinterESCPOS PrinterDriver = "escpos"
)

func (d *PrinterDriver) UnmarshalText(b []byte) error {
	s, err := oneOf(b, string(PrinterSim), string(PrinterESCPOS))
	*d = PrinterDriver(s)
	return err
}

type Scanner struct {
	Driver ScannerDriver `yaml:"driver"`
	Port   string        `yaml:"port"`
	Source ScanSource    `yaml:"source"`
	// serial only: line speed (CDC-ACM scanners ignore it).
	Baud int `yaml:"baud"`
	// Symbologies accepted when the scanner sends AIM identifiers, by
	// their letter (Q QR Code, C Code 128, d Data Matrix); empty: all.
	Symbologies []string `yaml:"symbologies"`
}

type ScannerDriver string

const (
	ScannerNone   ScannerDriver = "none"
	ScannerSim    ScannerDriver = "sim"
	ScannerSerial ScannerDriver = "serial"
	ScannerEvdev  ScannerDriver = "evdev"
)

func (d *ScannerDriver) UnmarshalText(b []byte) error {
	s, err := oneOf(b, string(ScannerNone), string(ScannerSim), string(ScannerSerial), string(ScannerEvdev))
	*d = ScannerDriver(s)
	return err
}

// ScanSource is where the simulated scanner reads codes from.
type ScanSource string

func (s *ScanSource) UnmarshalText(b []byte) error {
	v, err := oneOf(b, "http", "stdin")
	*s = ScanSource(v)
	return err
}

// Button is a hardware "take a ticket" button on a GPIO pin.
type Button struct {
	Pin     string `yaml:"pin"`
	Service string `yaml:"service"`
}

type HallRole struct {
	RecentCalls int           `yaml:"recent_calls"`
	Highlight   time.Duration `yaml:"highlight"`
	// Message is the running line at the bottom of the hall page, until
	// the server sets one.
	Message Text    `yaml:"message"`
	Audio   Audio   `yaml:"audio"`
	Voice   Voice   `yaml:"voice"`
	Boards  []Board `yaml:"boards"`
}

// Voice is how calls are spoken.
type Voice struct {
	// Languages are spoken one after the other: uk, en.
	Languages []string `yaml:"languages"`
	// PackDir holds a phrase pack per language, in PackDir/<lang>; empty
	// means data_dir/voice.
	PackDir string `yaml:"pack_dir"`
	// Build makes a missing pack with espeak-ng when kioskd starts.
	Build bool `yaml:"build"`
	// TTSFallback says segments a pack lacks with espeak-ng.
	TTSFallback bool `yaml:"tts_fallback"`
	// MaxAge: calls older than this are shown, not spoken.
	MaxAge time.Duration `yaml:"max_age"`
	// Repeat is how many times a call is spoken.
	Repeat int `yaml:"repeat"`
	// Volume by time of day.
	Volume []VolumeSlot `yaml:"volume"`
	// Quiet hours: the chime only.
	Quiet ClockRange `yaml:"quiet"`
}

// ClockRange is a time of day range, "HH:MM"; empty for none.
type ClockRange struct {
	From string `yaml:"from"`
	To   string `yaml:"to"`
}

// VolumeSlot is a volume (0 to 1) for a time of day.
type VolumeSlot struct {
	From   string  `yaml:"from"`
	To     string  `yaml:"to"`
	Volume float64 `yaml:"volume"`
}

type Audio struct {
	Driver AudioDriver `yaml:"driver"`
	Device string      `yaml:"device"`
}

type AudioDriver string

const (
	AudioWAV   AudioDriver = "wav"
	AudioAplay AudioDriver = "aplay"
)

func (d *AudioDriver) UnmarshalText(b []byte) error {
	s, err := oneOf(b, string(AudioWAV), string(AudioAplay))
	*d = AudioDriver(s)
	return err
}

type Board struct {
	Name   string      `yaml:"name"`
	Driver BoardDriver `yaml:"driver"`
	// alpha only: the serial port, line speed and framing, sign address
	// (two hex digits, "00" all signs), what the sign's font holds and how
	// many lines it shows at once.
	Port    string  `yaml:"port"`
	Baud    int     `yaml:"baud"`
	Framing Framing `yaml:"framing"`
	Address string  `yaml:"address"`
	Charset string  `yaml:"charset"`
	Lines   int     `yaml:"lines"`
}

func (b *Board) setDefaults() {
	b.Driver, b.Baud, b.Framing, b.Address, b.Charset, b.Lines = BoardSim, 9600, "7E1", "00", "latin", 1
}

// Framing is a serial line's data bits, parity and stop bits. It is
// text even when written bare (YAML would read 7E1 as a number).
type Framing string

func (f *Framing) UnmarshalText(b []byte) error {
	s, err := oneOf([]byte(strings.ToUpper(string(b))), "7E1", "7E2", "8N1")
	*f = Framing(s)
	return err
}

type BoardDriver string

const (
	BoardNone  BoardDriver = "none"
	BoardSim   BoardDriver = "sim"
	BoardAlpha BoardDriver = "alpha"
)

func (d *BoardDriver) UnmarshalText(b []byte) error {
	s, err := oneOf(b, string(BoardNone), string(BoardSim), string(BoardAlpha))
	*d = BoardDriver(s)
	return err
}

type Window struct {
	Number int   `yaml:"number"`
	Board  Board `yaml:"board"`
}

type GPIO struct {
	Driver GPIODriver `yaml:"driver"`
	// DisplayPower switches the hall's displays on a schedule (configs/gpio.go).
	DisplayPower DisplayPower `yaml:"display_power"`
}

type GPIODriver string

const (
	GPIOSim  GPIODriver = "sim"
	GPIOHost GPIODriver = "host"
)

func (d *GPIODriver) UnmarshalText(b []byte) error {
	s, err := oneOf(b, string(GPIOSim), string(GPIOHost))
	*d = GPIODriver(s)
	return err
}

// DefaultTerminal is the configuration before the file is laid over it.
// reference.yaml shows the same values.
func DefaultTerminal() Terminal {
	return Terminal{
		Log:    Log{Format: "text", Level: "info"},
		HTTP:   HTTP{Listen: "127.0.0.1:8080", MaxConnections: DefaultMaxConnections},
		Admin:  Admin{Listen: "127.0.0.1:8081"},
		Server: Server{HandshakeTimeout: 10 * time.Second, ReconnectMax: 30 * time.Second},
		Buffer: Buffer{AlarmEvents: 5000, AlarmAge: 30 * time.Minute, MaxEvents: 200_000},
		Kiosk: KioskRole{
			Printer:       Printer{Driver: PrinterSim, Profile: "generic", PaperMM: 80, Baud: 19200},
			Ticket:        Ticket{Blocks: DefaultTicketBlocks()},
			Scanner:       Scanner{Driver: ScannerNone, Source: "http", Baud: 9600},
			PaperSensor:   PaperSensor{ActiveLow: true, Debounce: time.Second},
			Screen:        Screen{Idle: 60 * time.Second, IdleWarning: 30 * time.Second, Ticket: 15 * time.Second},
			VoiceGuidance: true,
		},
		Hall: HallRole{
			RecentCalls: 6,
			Highlight:   10 * time.Second,
			Audio:       Audio{Driver: AudioWAV},
			Voice: Voice{Languages: []string{"uk"}, Build: true, TTSFallback: true, MaxAge: 2 * time.Minute,
				Repeat: 1},
		},
		Window: Window{Board: Board{Driver: BoardNone, Baud: 9600, Framing: "7E1", Address: "00", Charset: "latin", Lines: 1}},
		GPIO: GPIO{Driver: GPIOSim, DisplayPower: DisplayPower{On: "07:45", Off: "20:15",
			Days: []Weekday{"mon", "tue", "wed", "thu", "fri", "sat"}}},
	}
}

// DefaultTicketBlocks is the printer's default ticket layout
// (printer.DefaultTemplate; a test in terminal keeps the two in step).
func DefaultTicketBlocks() []string {
	return []string{"centre", "rule", "caption", "number", "service", "window", "rule",
		"wait", "when", "offline", "qr", "footer"}
}

// A TerminalCheck is a rule that belongs to a package configs must not
// import, because queued links configs and must not link the terminal's
// drivers: the printer's profiles, paper widths and ticket blocks are
// checked by terminal.CheckConfig. It reports each problem by the key's
// dotted path (kiosk.printer.profile), and the error names that key's
// file, line and column like every other.
type TerminalCheck func(c *Terminal, report func(key, format string, args ...any))

// LoadTerminal reads and checks a kioskd configuration file, with configs'
// own rules and then checks. The error, if any, is an Errors listing every
// problem with its file:line.
func LoadTerminal(path string, checks ...TerminalCheck) (*Terminal, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return ParseTerminal(path, data, checks...)
}

// ParseTerminal is LoadTerminal for bytes already read; name is used in
// error messages.
func ParseTerminal(name string, data []byte, checks ...TerminalCheck) (*Terminal, error) {
	c := DefaultTerminal()
	d := parseYAML(name, data, &c)
	c.check(d)
	for _, check := range checks {
		check(&c, d.errorf)
	}
	if err := d.err(); err != nil {
		return nil, err
	}
	return &c, nil
}

var deviceIDRe = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

func (c *Terminal) check(d *decoder) {
	if c.DeviceID == "" {
		d.errorf("device_id", "required: a unique name for this terminal, like kiosk-01")
	} else if !deviceIDRe.MatchString(c.DeviceID) {
		d.errorf("device_id", "got %q, expected lowercase letters, digits and dashes, at most 63 characters", c.DeviceID)
	}
	if c.DataDir == "" {
		d.errorf("data_dir", "required: the one directory kioskd may write, like /var/lib/kioskd")
	}
	if len(c.Roles) == 0 {
		d.errorf("roles", "required: a list of at least one of kiosk, hall, window")
	}
	seen := map[Role]bool{}
	for i, r := range c.Roles {
		if seen[r] {
			d.errorf(fmt.Sprintf("roles[%d]", i), "role %s is listed twice", r)
		}
		seen[r] = true
	}
	checkListen(d, "http.listen", c.HTTP.Listen)
	c.checkAdmin(d)
	for i, n := range c.HTTP.Names {
		if ip := net.ParseIP(strings.Trim(n, "[]")); ip == nil && (n == "" || strings.ContainsAny(n, "/:@ []") || len(n) > 253) {
			d.errorf(fmt.Sprintf("http.names[%d]", i), "got %q, expected a host name or address, like kiosk-1.office.local", n)
		}
	}
	if c.HTTP.MaxConnections < 0 || c.HTTP.MaxConnections > 100000 {
		d.errorf("http.max_connections", "got %d, expected 0 (the default, %d) to 100000", c.HTTP.MaxConnections, DefaultMaxConnections)
	}
	c.checkServer(d)
	c.checkKiosk(d)
	c.checkHall(d)
	if c.Has(RoleWindow) && (c.Window.Number < 1 || c.Window.Number > 999) {
		d.errorf("window.number", "got %d, expected the number of this terminal's window, 1 to 999", c.Window.Number)
	}
	checkBoard(d, "window.board", c.Window.Board)
	c.checkBuses(d) // configs/bus.go
}

func (c *Terminal) checkAdmin(d *decoder) {
	a := c.Admin
	if a.Listen == AdminOff {
		return
	}
	if !isHostPort(a.Listen) {
		d.errorf("admin.listen", "got %q, expected host:port, like 127.0.0.1:8081, or off", a.Listen)
		return
	}
	if a.Listen == c.HTTP.Listen && !strings.HasSuffix(a.Listen, ":0") { // :0, any free port, twice is two ports
		d.errorf("admin.listen", "got %q, the same as http.listen: the admin listener needs its own port", a.Listen)
	}
	if (a.TLSCert == "") != (a.TLSKey == "") {
		d.errorf("admin.tls_cert", "set both tls_cert and tls_key, or neither")
	}
	if a.Loopback() {
		return
	}
	// Off this machine the page restarts devices and shows the outbox:
	// a password, and TLS so that the password and the session cookie
	// never cross the network in the clear.
	if a.PasswordHash == "" {
		d.errorf("admin.password_hash", "required when admin.listen (%s) is not a loopback address: make one with kioskctl admin hash-password", a.Listen)
	}
	if a.TLSCert == "" || a.TLSKey == "" {
		d.errorf("admin.tls_cert", "tls_cert and tls_key are required when admin.listen (%s) is not a loopback address", a.Listen)
	}
}

func (c *Terminal) checkServer(d *decoder) {
	if c.Server.URL == "" {
		d.errorf("server.url", "required: the queue server's link address, like ws://10.0.0.2:8090/api/v1/link")
	} else if credentialInURL(c.Server.URL) {
		// The URL is logged and shown in /healthz: never echo it here.
		d.errorf("server.url", "holds a credential (user:password@ or a token parameter): remove it and put the token in the file named by server.token_file (mode 0600)")
	} else if u, err := url.Parse(c.Server.URL); err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
		d.errorf("server.url", "got %q, expected ws://host:port/path or wss://host:port/path", c.Server.URL)
	} else if u.Scheme == "ws" && !isLoopbackHost(u.Hostname()) {
		d.errorf("server.url", "got %q: ws:// is only for a server on this machine; use wss:// across the network", c.Server.URL)
	}
	positive(d, "server.handshake_timeout", c.Server.HandshakeTimeout)
	positive(d, "server.reconnect_max", c.Server.ReconnectMax)
	if (c.Server.CertFile == "") != (c.Server.KeyFile == "") {
		d.errorf("server.cert_file", "set both cert_file and key_file, or neither")
	}
	b := c.Buffer
	if b.AlarmEvents < 1 || b.MaxEvents < b.AlarmEvents {
		d.errorf("buffer", "got alarm_events %d and max_events %d, expected 1 <= alarm_events <= max_events", b.AlarmEvents, b.MaxEvents)
	}
	positive(d, "buffer.alarm_age", b.AlarmAge)
}

func (c *Terminal) checkKiosk(d *decoder) {
	k := &c.Kiosk
	if k.Printer.Driver == PrinterESCPOS {
		if k.Printer.Port == "" {
			d.errorf("kiosk.printer.port", "required for the escpos driver: a device path like /dev/usb/lp0 or /dev/ttyUSB0, or host:9100 for a network printer")
		} else if !isDevicePath(k.Printer.Port) && !isHostPort(k.Printer.Port) {
			d.errorf("kiosk.printer.port", "got %q, expected a device path like /dev/usb/lp0 or /dev/ttyUSB0, or host:9100 for a network printer", k.Printer.Port)
		}
	}
	switch k.Printer.Baud {
	case 9600, 19200, 38400, 57600, 115200:
	default:
		d.errorf("kiosk.printer.baud", "got %d, expected 9600, 19200, 38400, 57600 or 115200", k.Printer.Baud)
	}
	if k.Printer.Pace < 0 {
		d.errorf("kiosk.printer.pace", "got %d, expected bytes per second, 0 for no limit", k.Printer.Pace)
	}
	if k.Printer.RollM < 0 || k.Printer.RollM > 500 {
		d.errorf("kiosk.printer.roll_m", "got %g, expected the roll length in metres (0 to 500)", k.Printer.RollM)
	}
	if k.Ticket.Logo < 0 || k.Ticket.Logo > 255 {
		d.errorf("kiosk.ticket.logo", "got %d, expected the key of a logo stored in the printer, 1 to 255, or 0 for none", k.Ticket.Logo)
	}
	switch k.Scanner.Driver {
	case ScannerSerial, ScannerEvdev:
		if !isDevicePath(k.Scanner.Port) {
			d.errorf("kiosk.scanner.port", "got %q, expected a device path like /dev/ttyACM0 or /dev/input/by-id/...-event-kbd", k.Scanner.Port)
		}
	}
	if k.Scanner.Baud < 1200 || k.Scanner.Baud > 115200 {
		d.errorf("kiosk.scanner.baud", "got %d, expected 1200 to 115200", k.Scanner.Baud)
	}
	for i, sym := range k.Scanner.Symbologies {
		if len(sym) != 1 {
			d.errorf(fmt.Sprintf("kiosk.scanner.symbologies[%d]", i), "got %q, expected one AIM letter like Q (QR Code)", sym)
		}
	}
	c.checkGPIO(d) // the button, lights, paper sensor and display power: configs/gpio.go
	if k.Screen.Idle < 10*time.Second || k.Screen.Idle > time.Hour {
		d.errorf("kiosk.screen.idle", "got %s, expected 10s to 1h", k.Screen.Idle)
	}
	if k.Screen.IdleWarning < 20*time.Second || k.Screen.IdleWarning > 10*time.Minute {
		d.errorf("kiosk.screen.idle_warning", "got %s, expected 20s to 10m: a visitor needs at least 20 s to answer (EN 301 549)", k.Screen.IdleWarning)
	}
	if k.Screen.Ticket < 3*time.Second || k.Screen.Ticket > 10*time.Minute {
		d.errorf("kiosk.screen.ticket", "got %s, expected 3s to 10m", k.Screen.Ticket)
	}
	if k.Origin != "" {
		if u, err := url.Parse(k.Origin); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			d.errorf("kiosk.origin", "got %q, expected scheme://host:port of the kiosk page, like http://127.0.0.1:8080", k.Origin)
		}
	}
}

func (c *Terminal) checkHall(d *decoder) {
	h := &c.Hall
	if h.RecentCalls < 1 || h.RecentCalls > 20 {
		d.errorf("hall.recent_calls", "got %d, expected 1 to 20", h.RecentCalls)
	}
	positive(d, "hall.highlight", h.Highlight)
	names := map[string]bool{}
	for i, b := range h.Boards {
		p := fmt.Sprintf("hall.boards[%d]", i)
		if b.Name == "" {
			d.errorf(p+".name", "required: a name for this board, like hall-entrance")
		} else if names[b.Name] {
			d.errorf(p+".name", "board name %q is used twice", b.Name)
		}
		names[b.Name] = true
		checkBoard(d, p, b)
	}
	v := h.Voice
	if len(v.Languages) == 0 {
		d.errorf("hall.voice.languages", "required: at least one of uk, en")
	}
	for i, l := range v.Languages {
		if l != "uk" && l != "en" {
			d.errorf(fmt.Sprintf("hall.voice.languages[%d]", i), "got %q, expected uk or en", l)
		}
	}
	positive(d, "hall.voice.max_age", v.MaxAge)
	if v.Repeat < 1 || v.Repeat > 5 {
		d.errorf("hall.voice.repeat", "got %d, expected 1 to 5", v.Repeat)
	}
	for i, s := range v.Volume {
		p := fmt.Sprintf("hall.voice.volume[%d]", i)
		checkClock(d, p+".from", s.From)
		checkClock(d, p+".to", s.To)
		if s.Volume < 0 || s.Volume > 1 {
			d.errorf(p+".volume", "got %g, expected 0 to 1", s.Volume)
		}
	}
	if (v.Quiet.From == "") != (v.Quiet.To == "") {
		d.errorf("hall.voice.quiet", "set both from and to, or neither")
	} else if v.Quiet.From != "" {
		checkClock(d, "hall.voice.quiet.from", v.Quiet.From)
		checkClock(d, "hall.voice.quiet.to", v.Quiet.To)
	}
}

var clockRe = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$`)

func checkClock(d *decoder, path, s string) {
	if !clockRe.MatchString(s) {
		d.errorf(path, "got %q, expected a time of day like 08:30", s)
	}
}

var addressRe = regexp.MustCompile(`^[0-9A-Fa-f]{2}$`)

func checkBoard(d *decoder, p string, b Board) {
	if b.Driver != BoardAlpha {
		return
	}
	if !isDevicePath(b.Port) {
		d.errorf(p+".port", "got %q, expected the board's serial port, like /dev/ttyUSB1", b.Port)
	}
	switch b.Baud {
	case 1200, 2400, 4800, 9600, 19200, 38400:
	default:
		d.errorf(p+".baud", "got %d, expected 1200 to 38400", b.Baud)
	}
	if !addressRe.MatchString(b.Address) {
		d.errorf(p+".address", "got %q, expected two hex digits, 00 for every sign on the line", b.Address)
	}
	if b.Charset != "latin" && b.Charset != "cp1251" {
		d.errorf(p+".charset", "got %q, expected latin (Ukrainian transliterated) or cp1251 (a sign with a Cyrillic font)", b.Charset)
	}
	if b.Charset == "cp1251" && b.Framing != "8N1" {
		d.errorf(p+".framing", "got %q, but charset cp1251 needs 8 data bits: set framing: 8N1 (and the sign to match)", b.Framing)
	}
	if b.Lines < 1 || b.Lines > 4 {
		d.errorf(p+".lines", "got %d, expected how many text lines the sign shows at once, 1 to 4", b.Lines)
	}
}

// credentialInURL reports whether raw carries user information or a query
// parameter that looks like a secret; a URL that does not parse is
// searched as text.
func credentialInURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return strings.Contains(raw, "@") || strings.Contains(strings.ToLower(raw), "token=")
	}
	if u.User != nil {
		return true
	}
	for k := range u.Query() {
		switch strings.ToLower(k) {
		case "token", "access_token", "auth", "key", "password", "pass", "secret":
			return true
		}
	}
	return false
}

func positive(d *decoder, path string, v time.Duration) {
	if v <= 0 {
		d.errorf(path, "got %s, expected a duration above zero, like 10s", v)
	}
}

func checkListen(d *decoder, path, addr string) {
	if !isHostPort(addr) {
		d.errorf(path, "got %q, expected host:port, like 127.0.0.1:8080", addr)
	}
}

var pinRe = regexp.MustCompile(`^[A-Za-z0-9_]{1,32}$`)

func checkPin(d *decoder, path, pin string) {
	if pin != "" && !pinRe.MatchString(pin) {
		d.errorf(path, "got %q, expected a GPIO pin name like GPIO17", pin)
	}
}

func isDevicePath(p string) bool {
	return strings.HasPrefix(p, "/dev/") && len(p) > len("/dev/") && !strings.Contains(p, "..")
}

func isHostPort(s string) bool {
	_, port, err := net.SplitHostPort(s)
	if err != nil {
		return false
	}
	n, err := strconv.Atoi(port)
	return err == nil && n >= 0 && n <= 65535
}

// isLoopbackAddr reports whether a host:port listens only on this machine.
func isLoopbackAddr(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	return err == nil && isLoopbackHost(host)
}

func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
