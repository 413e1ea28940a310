package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/cherga/kiosk/configs"
	"github.com/cherga/kiosk/devices"
	"github.com/cherga/kiosk/display"
	"github.com/cherga/kiosk/display/alpha"
	"github.com/cherga/kiosk/display/announce"
	"github.com/cherga/kiosk/i18n"
	"github.com/cherga/kiosk/kiosk"
	"github.com/cherga/kiosk/link"
	"github.com/cherga/kiosk/link/proto"
)

// shutdownBudget is how long kioskd may take to stop after SIGTERM before
// systemd would kill it; devices and the bbolt file are closed within it.
const shutdownBudget = 5 * time.Second

// system is every part of one kioskd, built from the configuration.
type system struct {
	cfg     *configs.Terminal
	log     *slog.Logger
	version string
	started time.Time

	store  *link.Store
	link   *link.Client
	mux    *http.ServeMux
	kiosk  *kiosk.Kiosk
	hall   *display.Hall
	window *display.Window
	boards *display.BoardsPage
	voice  *announce.Announcer
	speech *announce.Voice

	statuses []func() devices.Status // every device, for /healthz
	closers  []io.Closer             // devices to close at shutdown
	stdin    *devices.SimScanner     // a simulated scanner reading stdin
}

func newSystem(cfg *configs.Terminal, log *slog.Logger, version string) (*system, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("data_dir: %w", err)
	}
	store, err := link.OpenStore(filepath.Join(cfg.DataDir, "kioskd.db"), link.StoreOptions{
		AlarmEvents: cfg.Buffer.AlarmEvents, AlarmAge: cfg.Buffer.AlarmAge, MaxEvents: cfg.Buffer.MaxEvents, Log: log,
	})
	if err != nil {
		return nil, err
	}
	creds, err := credentials(cfg)
	if err != nil {
		store.Close()
		return nil, err
	}
	s := &system{cfg: cfg, log: log, version: version, started: time.Now(), store: store, mux: http.NewServeMux()}
	i18n.Register(s.mux)

	if cfg.Has(configs.RoleHall) || cfg.Has(configs.RoleWindow) {
		display.RegisterAssets(s.mux)
		if s.hasSimBoards() {
			s.boards = display.NewBoardsPage(log)
			s.boards.Register(s.mux)
		}
	}
	if cfg.Has(configs.RoleHall) {
		s.buildHall()
	}
	if cfg.Has(configs.RoleWindow) {
		s.buildWindow()
	}
	roles := make([]string, len(cfg.Roles))
	for i, r := range cfg.Roles {
		roles[i] = string(r)
	}
	lc := creds
	lc.URL, lc.Device, lc.Roles, lc.Version, lc.HandshakeTimeout = cfg.Server.URL, cfg.DeviceID, roles, version, cfg.Server.HandshakeTimeout
	lc.Backoff.Max = cfg.Server.ReconnectMax
	s.link = link.New(lc, store, pushes{s}, log)
	if cfg.Has(configs.RoleKiosk) {
		s.buildKiosk()
	}
	s.mux.HandleFunc("GET /healthz", s.handleHealth)
	s.mux.HandleFunc("GET /{$}", s.handleIndex)
	return s, nil
}

func (s *system) hasSimBoards() bool {
	if s.cfg.Has(configs.RoleWindow) && s.cfg.Window.Board.Driver == configs.BoardSim {
		return true
	}
	if s.cfg.Has(configs.RoleHall) {
		for _, b := range s.cfg.Hall.Boards {
			if b.Driver == configs.BoardSim {
				return true
			}
		}
	}
	return false
}

// device registers a device for /healthz and, if it has Close, shutdown.
func (s *system) device(d interface{ Status() devices.Status }) {
	s.statuses = append(s.statuses, d.Status)
	if c, ok := d.(io.Closer); ok {
		s.closers = append(s.closers, c)
	}
}

func (s *system) openBoard(b configs.Board) display.Board {
	switch b.Driver {
	case configs.BoardSim:
		board := s.boards.New(b.Name)
		s.device(board)
		return board
	case configs.BoardAlpha:
		board, err := alpha.Open(alpha.Config{Name: b.Name, Port: b.Port, Baud: b.Baud, Framing: string(b.Framing),
			Address: b.Address, Charset: alpha.Charset(b.Charset), Lines: b.Lines, Log: s.log})
		if err != nil {
			// The config check makes this unreachable; say so if not.
			s.log.Error("LED board not started", "board", b.Name, "err", err)
			return nil
		}
		s.device(board)
		return board
	}
	return nil
}

func (s *system) buildHall() {
	h := s.cfg.Hall
	out := openAudio(s.cfg)
	s.device(out)
	s.speech = announce.OpenVoice(announce.SetupFrom(s.cfg, s.log.With("device", "voice")))
	s.device(s.speech)
	var boards []display.Board
	for _, b := range h.Boards {
		if board := s.openBoard(b); board != nil {
			boards = append(boards, board)
		}
	}
	acfg, err := announce.ConfigFrom(h.Voice)
	if err != nil { // checked when the config was read
		s.log.Error("voice settings", "err", err)
	}
	// The announcer reports to the hall page (its highlight starts with
	// the voice) and, once the call was heard, to the server.
	var hall *display.Hall
	s.voice = announce.NewAnnouncer(acfg, s.speech, out, s.log, announce.Callbacks{
		Started: func(c proto.Call) { hall.Speaking(c) },
		Done: func(c proto.Call, err error) {
			hall.Announced(c, err)
			if err == nil {
				s.report(&proto.Message{Type: proto.TypeCallAnnounced, Seen: &proto.CallSeen{Call: c.ID, At: time.Now()}})
			}
		},
	})
	hall = display.NewHall(display.HallConfig{RecentCalls: h.RecentCalls, Highlight: h.Highlight, Message: proto.Text(h.Message)},
		s.voice, boards, s.log)
	s.hall = hall
	hall.Register(s.mux)
}

func (s *system) buildWindow() {
	w := s.cfg.Window
	if w.Board.Name == "" {
		w.Board.Name = fmt.Sprintf("window-%d", w.Number)
	}
	s.window = display.NewWindow(w.Number, s.openBoard(w.Board), s.log)
	s.window.Register(s.mux)
}

func (s *system) buildKiosk() {
	k := s.cfg.Kiosk
	prn, drv, simPrinter := openPrinter(s.cfg, s.log)
	s.device(prn)
	if simPrinter != nil {
		s.mux.Handle("/api/v1/sim/printer", simPrinter)
	}
	if drv != nil {
		s.mux.HandleFunc("POST /api/v1/printer/new-roll", func(w http.ResponseWriter, r *http.Request) {
			drv.NewRoll()
			w.WriteHeader(http.StatusNoContent)
		})
	}
	scanner, simScanner := openScanner(s.cfg, s.log)
	if scanner != nil {
		s.device(scanner)
	}
	if simScanner != nil {
		if k.Scanner.Source == "stdin" {
			s.stdin = simScanner
		} else {
			s.mux.Handle("POST /api/v1/sim/scan", simScanner)
		}
	}
	kcfg := kiosk.Config{Tickets: s.link, Printer: prn, Scanner: scanner, ButtonService: k.Button.Service, Log: s.log,
		Screen: kiosk.Screen{Idle: k.Screen.Idle, IdleWarning: k.Screen.IdleWarning, Ticket: k.Screen.Ticket, Popular: k.Screen.Popular}}
	if k.VoiceGuidance {
		if sp, ok := announce.FindEspeak(); ok {
			kcfg.Speech = sp
		} else {
			s.log.Warn("voice guidance not offered: espeak-ng is not installed (apt-get install espeak-ng)")
		}
	}
	if k.Button.Pin != "" || k.FaultLight != "" {
		kcfg.Button, kcfg.FaultLight = s.openPins(k.Button.Pin, k.FaultLight)
	}
	s.kiosk = kiosk.New(kcfg)
	s.kiosk.Register(s.mux)
}

// openPins finds the kiosk's button and fault light. A missing pin leaves
// that part out and shows as a gpio fault.
func (s *system) openPins(button, light string) (gpio.PinIn, gpio.PinOut) {
	pins, sim, err := openPins(s.cfg)
	if err != nil {
		m := newMissing("gpio", "gpio", string(s.cfg.GPIO.Driver), err)
		s.device(m)
		s.log.Error("gpio unavailable: button and fault light disabled", "err", err)
		return nil, nil
	}
	s.device(pins)
	if sim != nil {
		s.mux.Handle("/api/v1/sim/gpio/{pin}", sim)
		s.mux.Handle("GET /api/v1/sim/gpio", sim)
	}
	var in gpio.PinIn
	var out gpio.PinOut
	if button != "" {
		if p, err := pins.Pin(button); err != nil {
			s.log.Error("button disabled", "err", err)
		} else {
			in = p
		}
	}
	if light != "" {
		if p, err := pins.Pin(light); err != nil {
			s.log.Error("fault light disabled", "err", err)
		} else {
			out = p
		}
	}
	return in, out
}

// report commits an event for the server; failing that, it is logged.
func (s *system) report(m *proto.Message) {
	if _, err := s.link.Report(m); err != nil {
		s.log.Error("event not recorded", "type", m.Type, "err", err)
	}
}

// pushes hands what the server sends to the roles that show it, and tells
// the server a call was shown.
type pushes struct{ s *system }

func (p pushes) Welcome(w *proto.Welcome) {
	if p.s.voice != nil && w.Office.Timezone != "" {
		if loc, err := time.LoadLocation(w.Office.Timezone); err == nil {
			p.s.voice.SetLocation(loc)
		}
	}
	if p.s.hall != nil {
		p.s.hall.Welcome(w)
	}
	if p.s.window != nil {
		p.s.window.Welcome(w)
	}
}

func (p pushes) Call(c proto.Call) {
	shown := false
	if p.s.hall != nil {
		p.s.hall.Call(c)
		shown = true
	}
	if p.s.window != nil && c.Window == p.s.cfg.Window.Number {
		p.s.window.Call(c)
		shown = true
	}
	if shown {
		p.s.report(&proto.Message{Type: proto.TypeCallShown, Seen: &proto.CallSeen{Call: c.ID, At: time.Now()}})
	}
}

func (p pushes) Link(up bool) {
	if p.s.hall != nil {
		p.s.hall.Link(up)
	}
	if p.s.kiosk != nil {
		p.s.kiosk.LinkChanged(up)
	}
}

func (p pushes) Cancel(c proto.Cancel) {
	if p.s.hall != nil {
		p.s.hall.Cancel(c)
	}
	if p.s.window != nil {
		p.s.window.Cancel(c)
	}
}

func (p pushes) Queues(q []proto.QueueLen) {
	if p.s.hall != nil {
		p.s.hall.Queues(q)
	}
}

func (p pushes) HallMessage(m *proto.HallMessage) {
	if p.s.hall != nil {
		p.s.hall.HallMessage(m)
	}
}

func (p pushes) Update(u *proto.Update) {
	if p.s.hall != nil {
		p.s.hall.Update(u)
	}
}

// handleIndex sends a browser to this terminal's main page.
func (s *system) handleIndex(w http.ResponseWriter, r *http.Request) {
	page := map[configs.Role]string{configs.RoleKiosk: "/kiosk/", configs.RoleHall: "/hall/", configs.RoleWindow: "/window/"}
	http.Redirect(w, r, page[s.cfg.Roles[0]], http.StatusFound)
}

// health is the body of GET /healthz.
type health struct {
	Status         string           `json:"status"` // ok | degraded
	Device         string           `json:"device"`
	Version        string           `json:"version"`
	Roles          []configs.Role   `json:"roles"`
	Devices        []devices.Status `json:"devices"`
	Link           link.Status      `json:"link"`
	BufferedEvents int              `json:"buffered_events"`
	Outbox         link.OutboxStats `json:"outbox"`
	Numbering      *link.Numbering  `json:"numbering,omitempty"` // kiosk role
	Alarms         []string         `json:"alarms,omitempty"`
	UptimeSeconds  int64            `json:"uptime_seconds"`
}

func (s *system) handleHealth(w http.ResponseWriter, r *http.Request) {
	h := health{
		Status: "ok", Device: s.cfg.DeviceID, Version: s.version, Roles: s.cfg.Roles,
		Devices: s.deviceStates(), Link: s.link.Status(), Outbox: s.store.Outbox(),
		UptimeSeconds: int64(time.Since(s.started).Seconds()),
	}
	h.BufferedEvents = h.Outbox.Events
	for _, d := range h.Devices {
		if d.State == devices.Fault {
			h.Status = "degraded"
		}
	}
	if h.Link.State != link.StateUp {
		h.Status = "degraded"
	}
	if h.Outbox.Alarm != "" {
		h.Status = "degraded"
		h.Alarms = append(h.Alarms, "outbox: "+h.Outbox.Alarm)
	}
	if h.Link.Alarm != "" {
		h.Status = "degraded"
		h.Alarms = append(h.Alarms, "link: "+h.Link.Alarm)
	}
	if s.kiosk != nil {
		n := s.link.Numbering()
		h.Numbering = &n
		if n.Mode == link.ModeFallback {
			h.Alarms = append(h.Alarms, "numbering: leased numbers used up, offline tickets use the fallback series")
		}
	}
	// 200 whatever the state: the daemon answers, and the body says how
	// well it works. A monitor alerts on "degraded".
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(h)
}

// run serves until ctx ends, then stops everything within shutdownBudget.
func (s *system) run(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.HTTP.Listen)
	if err != nil {
		s.store.Close()
		return fmt.Errorf("http.listen: %w", err)
	}
	if s.kiosk != nil {
		if err := s.kiosk.AllowOrigin(kioskOrigin(s.cfg.Kiosk.Origin, ln.Addr())); err != nil {
			ln.Close()
			s.store.Close()
			return err
		}
	}
	hs := &http.Server{Handler: s.mux, ReadHeaderTimeout: 10 * time.Second}
	serveErr := make(chan error, 1)
	go func() { serveErr <- hs.Serve(ln) }()

	workCtx, stopWork := context.WithCancel(ctx)
	defer stopWork()
	var wg sync.WaitGroup
	wg.Go(func() { _ = s.link.Run(workCtx) })
	wg.Go(func() { s.reportDevices(workCtx) })
	if s.voice != nil {
		wg.Go(func() { s.voice.Run(workCtx) })
		if s.cfg.Hall.Voice.Build && len(s.speech.NeedsBuild()) > 0 {
			// A fresh install speaks at once: espeak-ng fills in the
			// packs while calls are spoken by text-to-speech meanwhile.
			wg.Go(func() {
				if err := s.speech.Build(workCtx); err != nil && workCtx.Err() == nil {
					s.log.Error("phrase packs not built", "err", err)
				}
			})
		}
	}
	if s.kiosk != nil {
		wg.Go(func() { s.kiosk.Run(workCtx) })
	}
	if s.stdin != nil {
		// Not waited for: a read from stdin cannot be interrupted.
		go func() {
			if err := s.stdin.ReadLines(workCtx, os.Stdin); err != nil {
				s.log.Error("scanner stdin", "err", err)
			}
		}()
	}
	s.log.Info("kioskd started", "version", s.version, "device", s.cfg.DeviceID, "roles", s.cfg.Roles,
		"listen", "http://"+ln.Addr().String())

	var runErr error
	select {
	case <-ctx.Done():
	case err := <-serveErr:
		runErr = fmt.Errorf("http: %w", err)
	}
	s.log.Info("kioskd stopping")
	deadline := time.Now().Add(shutdownBudget)
	stopWork()
	if s.hall != nil {
		s.hall.Close()
	}
	if s.window != nil {
		s.window.Close()
	}
	if s.boards != nil {
		s.boards.Close()
	}
	if s.kiosk != nil {
		s.kiosk.Close() // its page websockets, so Shutdown need not wait for them
	}
	httpCtx, cancel := context.WithDeadline(context.Background(), deadline.Add(-time.Second))
	defer cancel()
	if err := hs.Shutdown(httpCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		s.log.Warn("http shutdown", "err", err)
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Until(deadline)):
		runErr = errors.Join(runErr, fmt.Errorf("shutdown took longer than %s", shutdownBudget))
	}
	for _, c := range s.closers {
		if err := c.Close(); err != nil {
			s.log.Warn("close device", "err", err)
		}
	}
	if err := s.store.Close(); err != nil {
		runErr = errors.Join(runErr, fmt.Errorf("close store: %w", err))
	}
	if runErr == nil {
		s.log.Info("kioskd stopped")
	}
	return runErr
}

func (s *system) deviceStates() []devices.Status {
	out := []devices.Status{}
	for _, st := range s.statuses {
		out = append(out, st())
	}
	return out
}

// reportDevices tells the server whenever a device's state changes, through
// the outbox like every other event.
func (s *system) reportDevices(ctx context.Context) {
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	last := ""
	for {
		var states []proto.DeviceState
		key := ""
		for _, d := range s.deviceStates() {
			states = append(states, proto.DeviceState{Name: d.Name, Kind: d.Kind, Driver: d.Driver,
				State: string(d.State), Detail: d.Detail, Since: d.Since})
			key += d.Name + "=" + string(d.State) + ";"
		}
		if key != last {
			last = key
			s.report(&proto.Message{Type: proto.TypeDeviceStatus, Status: &proto.DeviceStatus{At: time.Now(), Devices: states}})
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// kioskOrigin is the touch page's origin: the configured one, else this
// kioskd's address, with loopback for an unspecified host (Chromium on
// the kiosk opens http://127.0.0.1:port/kiosk/).
func kioskOrigin(configured string, addr net.Addr) string {
	if configured != "" {
		return configured
	}
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return "http://" + addr.String()
	}
	ip := tcp.IP
	if ip.IsUnspecified() {
		ip = net.IPv4(127, 0, 0, 1)
	}
	return "http://" + net.JoinHostPort(ip.String(), strconv.Itoa(tcp.Port))
}
