package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/cherga/kiosk/configs"
	"github.com/cherga/kiosk/devices"
	"github.com/cherga/kiosk/i18n"
	"github.com/cherga/kiosk/printer"
	"github.com/cherga/kiosk/printer/escpos"
)

// printerTarget is the printer a command talks to: kiosk.printer of the
// configuration, with the command's flags laid over it.
type printerTarget struct {
	Port    string
	Baud    int
	Profile string // "" when neither the configuration nor -profile names one
	PaperMM int
	Pace    int
}

// printerFlags are the flags every printer command takes.
type printerFlags struct {
	config, port, profile *string
	baud, paper           *int
}

func addPrinterFlags(fs *flag.FlagSet) printerFlags {
	return printerFlags{
		config:  fs.String("config", "", "kioskd's configuration `file`: the printer's port, speed and profile (default "+defaultConfig+" when -port is not given)"),
		port:    fs.String("port", "", "the printer: /dev/usb/lp0 (USB), /dev/ttyUSB0 (serial) or `host:9100` (network)"),
		baud:    fs.Int("baud", 0, "serial line speed; default the configuration's, else 19200"),
		profile: fs.String("profile", "", "printer profile `id` (kioskctl printer profiles)"),
		paper:   fs.Int("paper", 0, "paper width in `mm`; default the configuration's, else the profile's widest"),
	}
}

// target resolves the flags over the configuration's printer.
func (f printerFlags) target() (printerTarget, error) {
	cfg, err := deviceConfig(*f.config, *f.port == "")
	if err != nil {
		return printerTarget{}, err
	}
	t := printerTarget{Baud: 19200}
	if cfg != nil {
		p := cfg.Kiosk.Printer
		if p.Driver == configs.PrinterESCPOS {
			t.Port = p.Port
		}
		t.Profile, t.PaperMM, t.Pace = p.Profile, p.PaperMM, p.Pace
		if p.Baud != 0 {
			t.Baud = p.Baud
		}
	}
	if *f.port != "" {
		t.Port = *f.port
	}
	if *f.baud != 0 {
		t.Baud = *f.baud
	}
	if *f.profile != "" {
		t.Profile = *f.profile
	}
	if *f.paper != 0 {
		t.PaperMM = *f.paper
	}
	if t.Port == "" {
		return t, errors.New("no printer port: kiosk.printer.driver is not escpos in the configuration; give -port")
	}
	return t, nil
}

func (t printerTarget) port() printer.Port { return printer.PortAt(t.Port, t.Baud) }

// serial reports whether the printer is on a serial line, where the time
// of a job is its bytes at the line speed.
func (t printerTarget) serial() bool {
	_, ok := t.port().(printer.SerialPort)
	return ok
}

// probeClock times the probe's waits for answers; tests run it by hand.
var probeClock = clockwork.NewRealClock()

// probeAnswer is one question of the probe and what the printer said.
type probeAnswer struct {
	Question string `json:"question"` // "DLE EOT 1", "GS I 67"
	Answered bool   `json:"answered"`
	Raw      string `json:"raw,omitempty"`   // the answer's bytes, in hex
	Value    string `json:"value,omitempty"` // a text answer
	Meaning  string `json:"meaning,omitempty"`
}

// probeReport is everything the probe learnt.
type probeReport struct {
	Port      string         `json:"port"`
	Answers   []probeAnswer  `json:"answers"`
	Status    *escpos.Status `json:"-"`                // nil: no status question answered
	State     *probeState    `json:"status,omitempty"` // Status, for scripts
	Maker     string         `json:"maker,omitempty"`
	Model     string         `json:"model,omitempty"`
	Firmware  string         `json:"firmware,omitempty"`
	Serial    string         `json:"serial,omitempty"`
	Matches   []string       `json:"matches"` // profiles whose names match
	Suggest   string         `json:"suggested_profile"`
	PaperMM   int            `json:"suggested_paper_mm"`
	Matched   bool           `json:"matched"`
	Unmatched string         `json:"advice,omitempty"` // what to try when nothing matched
}

// probeState is the printer's status in the JSON report.
type probeState struct {
	Online       bool   `json:"online"`
	CoverOpen    bool   `json:"cover_open"`
	PaperNearEnd bool   `json:"paper_near_end"`
	PaperOut     bool   `json:"paper_out"`
	Fault        string `json:"fault,omitempty"` // what stops it printing, as /healthz words it
}

// The identity questions, in the order asked.
var probeIDs = []int{escpos.IDModel, escpos.IDType, escpos.IDROM, escpos.IDFirmware, escpos.IDMaker, escpos.IDModelName, escpos.IDSerial}

// probe asks the printer on conn its four status bytes and its identity,
// one question at a time, each waited for timeout on clock. It only asks:
// it changes no setting of the printer.
func probe(ctx context.Context, conn io.ReadWriter, clock clockwork.Clock, timeout time.Duration) ([]probeAnswer, *escpos.Status, map[int][]byte, error) {
	in := make(chan []byte, 16)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		defer close(in)
		buf := make([]byte, 256)
		for {
			n, err := conn.Read(buf)
			if n > 0 {
				select {
				case in <- append([]byte(nil), buf[:n]...):
				case <-stop:
					return
				}
			}
			if err != nil && !errors.Is(err, printer.ErrReadTimeout) {
				return
			}
		}
	}()
	// ask sends q and feeds what comes back to take, which says when the
	// answer is complete, until timeout.
	ask := func(q []byte, take func(b []byte) bool) (bool, error) {
		if _, err := conn.Write(q); err != nil {
			return false, fmt.Errorf("printer: write: %w", err)
		}
		t := clock.NewTimer(timeout)
		defer t.Stop()
		for {
			select {
			case b, ok := <-in:
				if !ok {
					return false, errors.New("printer: the port closed")
				}
				if take(b) {
					return true, nil
				}
			case <-t.Chan():
				return false, nil
			case <-ctx.Done():
				return false, ctx.Err()
			}
		}
	}
	var answers []probeAnswer
	var st escpos.Status
	statusAnswered := false
	for n := escpos.QueryPrinter; n <= escpos.QueryPaper; n++ {
		a := probeAnswer{Question: fmt.Sprintf("DLE EOT %d", n)}
		ok, err := ask(escpos.Query(n), func(b []byte) bool {
			for _, c := range b {
				// Anything else (an automatic status block kioskd asked
				// for) is not this answer.
				if escpos.ApplyRealtime(&st, n, c) == nil {
					a.Raw = fmt.Sprintf("%02x", c)
					return true
				}
			}
			return false
		})
		if err != nil {
			return answers, nil, nil, err
		}
		a.Answered = ok
		statusAnswered = statusAnswered || ok
		if ok {
			a.Meaning = statusMeaning(n, st)
		}
		answers = append(answers, a)
	}
	ids := map[int][]byte{}
	for _, n := range probeIDs {
		a := probeAnswer{Question: fmt.Sprintf("GS I %d", n)}
		var pending []byte
		ok, err := ask(escpos.IDQuery(n), func(b []byte) bool {
			pending = append(pending, b...)
			for len(pending) > 0 {
				v, used, err := escpos.ParseID(n, pending)
				if used == 0 {
					return false
				}
				raw := pending[:used]
				pending = pending[used:]
				if err == nil {
					a.Raw = fmt.Sprintf("% x", raw)
					ids[n] = v
					return true
				}
			}
			return false
		})
		if err != nil {
			return answers, nil, nil, err
		}
		a.Answered = ok
		if ok {
			a.Value, a.Meaning = idMeaning(n, ids[n])
		}
		answers = append(answers, a)
	}
	if !statusAnswered {
		return answers, nil, ids, nil
	}
	return answers, &st, ids, nil
}

func statusMeaning(n int, st escpos.Status) string {
	switch n {
	case escpos.QueryPrinter:
		if st.Offline {
			return "offline"
		}
		return "online"
	case escpos.QueryOffline:
		var out []string
		if st.CoverOpen {
			out = append(out, "cover open")
		}
		if st.FeedButton {
			out = append(out, "feed button pressed")
		}
		if st.PaperOut {
			out = append(out, "stopped: paper out")
		}
		if len(out) == 0 {
			return "cover closed"
		}
		return strings.Join(out, ", ")
	case escpos.QueryError:
		switch {
		case st.CutterError:
			return "cutter error"
		case st.Unrecoverable:
			return "unrecoverable error: switch it off and on"
		case st.Overheat:
			return "head too hot: it recovers by itself"
		}
		return "no error"
	case escpos.QueryPaper:
		switch {
		case st.PaperOut:
			return "paper out"
		case st.PaperNearEnd:
			return "paper near its end"
		}
		return "paper in"
	}
	return ""
}

func idMeaning(n int, v []byte) (value, meaning string) {
	switch n {
	case escpos.IDModel:
		return "", fmt.Sprintf("model ID %#02x", v[0])
	case escpos.IDROM:
		return "", fmt.Sprintf("ROM version ID %#02x", v[0])
	case escpos.IDType:
		var f []string
		if v[0]&escpos.IDTypeMultiByte != 0 {
			f = append(f, "two-byte characters")
		}
		if v[0]&escpos.IDTypeAutocutter != 0 {
			f = append(f, "autocutter")
		} else {
			f = append(f, "no autocutter")
		}
		return "", "type: " + strings.Join(f, ", ")
	case escpos.IDFirmware:
		return string(v), "firmware"
	case escpos.IDMaker:
		return string(v), "manufacturer"
	case escpos.IDModelName:
		return string(v), "model"
	case escpos.IDSerial:
		return string(v), "serial number"
	}
	return string(v), ""
}

// suggest matches what the printer said against the profiles.
func suggest(r *probeReport, configuredMM int) {
	r.Matches = []string{}
	var prof *printer.Profile
	if name := strings.TrimSpace(r.Maker + " " + r.Model); name != "" {
		for _, p := range printer.MatchProfiles(name) {
			r.Matches = append(r.Matches, p.ID)
		}
		if m := printer.MatchProfiles(name); len(m) > 0 {
			prof = m[0]
		}
	}
	r.Matched = prof != nil
	if prof == nil {
		id := "generic"
		if r.Status == nil {
			id = "generic-oneway" // it answers no status: paper is counted against the roll
		}
		prof, _ = printer.LookupProfile(id)
		r.Unmatched = i18n.Both("ctl.probe.no_match", "profile", id)
	}
	r.Suggest = prof.ID
	r.PaperMM = suggestPaper(prof, configuredMM)
}

// suggestPaper is the paper width for prof: its only one, the configured
// one if it takes it, else its widest.
func suggestPaper(prof *printer.Profile, configuredMM int) int {
	if _, err := prof.Width(configuredMM); err == nil {
		return configuredMM
	}
	best := 0
	for _, w := range prof.PaperWidths() {
		if mm, _ := strconv.Atoi(w); mm > best {
			best = mm
		}
	}
	return best
}

// printerProbe asks a printer who it is and how it is, and suggests a
// profile.
func printerProbe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("printer probe", "printer probe [-config FILE | -port P [-baud N]] [-timeout 500ms] [-json]", stderr)
	pf := addPrinterFlags(fs)
	timeout := fs.Duration("timeout", 500*time.Millisecond, "how long to wait for each answer")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usageError(fs, "unexpected %q", fs.Arg(0))
	}
	t, err := pf.target()
	if err != nil {
		return err
	}
	r, err := probePort(ctx, t, probeClock, *timeout)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			return err
		}
	} else {
		writeProbe(stdout, r)
	}
	if !slices.ContainsFunc(r.Answers, func(a probeAnswer) bool { return a.Answered }) {
		return errors.New(i18n.Both("ctl.probe.silent", "port", r.Port))
	}
	return nil
}

// probePort opens the printer's port and probes it.
func probePort(ctx context.Context, t printerTarget, clock clockwork.Clock, timeout time.Duration) (*probeReport, error) {
	if err := checkDevice(t.Port, "kiosk.printer.port"); err != nil {
		return nil, err
	}
	port := t.port()
	conn, err := port.Open(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	answers, st, ids, err := probe(ctx, conn, clock, timeout)
	if err != nil {
		return nil, err
	}
	r := &probeReport{Port: port.String(), Answers: answers, Status: st, Maker: string(ids[escpos.IDMaker]),
		Model: string(ids[escpos.IDModelName]), Firmware: string(ids[escpos.IDFirmware]), Serial: string(ids[escpos.IDSerial])}
	if st != nil {
		r.State = &probeState{Online: !st.Offline, CoverOpen: st.CoverOpen, PaperNearEnd: st.PaperNearEnd, PaperOut: st.PaperOut, Fault: st.Fault()}
	}
	suggest(r, t.PaperMM)
	return r, nil
}

func writeProbe(w io.Writer, r *probeReport) {
	fmt.Fprintf(w, "printer on %s\n", r.Port)
	answered := 0
	for _, a := range r.Answers {
		switch {
		case !a.Answered:
			fmt.Fprintf(w, "  %-10s no answer\n", a.Question)
		case a.Value != "":
			answered++
			fmt.Fprintf(w, "  %-10s %-20s %q\n", a.Question, a.Meaning, a.Value)
		default:
			answered++
			fmt.Fprintf(w, "  %-10s %-20s (%s)\n", a.Question, a.Meaning, a.Raw)
		}
	}
	fmt.Fprintf(w, "answered %d of %d questions\n", answered, len(r.Answers))
	if r.Status != nil && !r.Status.CanPrint() {
		fmt.Fprintf(w, "it cannot print now: %s\n", r.Status.Fault())
	}
	if answered == 0 {
		return
	}
	if len(r.Matches) > 1 {
		fmt.Fprintf(w, "profiles that match: %s\n", strings.Join(r.Matches, ", "))
	}
	if !r.Matched {
		fmt.Fprintln(w, r.Unmatched)
		return
	}
	fmt.Fprintln(w, i18n.Both("ctl.probe.suggest", "profile", r.Suggest, "mm", r.PaperMM))
}

// printerTest prints the test page on the real printer through kioskd's
// own driver.
func printerTest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("printer test", "printer test [-config FILE | -port P [-baud N] -profile NAME [-paper MM]] [-number А123]", stderr)
	pf := addPrinterFlags(fs)
	number := fs.String("number", "А123", "the ticket `number` to print large")
	wait := fs.Duration("wait", 10*time.Second, "how long to wait for the printer to connect and answer")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usageError(fs, "unexpected %q", fs.Arg(0))
	}
	t, err := pf.target()
	if err != nil {
		return err
	}
	if t.Profile == "" {
		return usageError(fs, "no profile: give -profile (kioskctl printer probe suggests one)")
	}
	prof, err := printer.LookupProfile(t.Profile)
	if err != nil {
		return err
	}
	if t.PaperMM == 0 {
		t.PaperMM = suggestPaper(prof, 0)
	}
	if _, err := prof.Width(t.PaperMM); err != nil {
		return err
	}
	if err := checkDevice(t.Port, "kiosk.printer.port"); err != nil {
		return err
	}
	page := &printer.TestPage{Number: *number, Version: "kioskctl " + version, At: time.Now()}
	job, err := printer.EncodeTestPage(page, prof, t.PaperMM)
	if err != nil {
		return err
	}
	port := t.port()
	drv := printer.Open(printer.Config{Port: port, Driver: "escpos", Profile: prof, PaperMM: t.PaperMM, Pace: t.Pace})
	defer drv.Close()
	if err := waitConnected(ctx, drv, *wait); err != nil {
		return err
	}
	start := time.Now()
	if err := drv.PrintTestPage(ctx, page); err != nil {
		return err
	}
	took := time.Since(start)
	fmt.Fprintf(stdout, "%s (%s), %d mm, code page table %s; %d bytes (%d of them images), %.0f mm of paper, sent in %s\n",
		prof.ID, prof.Name, t.PaperMM, prof.TablePage(), len(job.Bytes), job.RasterBytes, job.LengthMM, took.Round(time.Millisecond))
	if t.serial() {
		fmt.Fprintln(stdout, i18n.Both("ctl.printer_test.done", "port", t.Port, "bytes", len(job.Bytes),
			"seconds", fmt.Sprintf("%.1f", float64(len(job.Bytes))*10/float64(t.Baud)), "baud", t.Baud))
	} else {
		fmt.Fprintf(stdout, "sent to %s: %d bytes\n", port, len(job.Bytes))
	}
	return nil
}

// waitConnected waits until the driver has its printer connected and
// knows how it is, or says why not once wait is over.
func waitConnected(ctx context.Context, drv *printer.ESCPOS, wait time.Duration) error {
	guard := time.NewTimer(wait)
	defer guard.Stop()
	for {
		changes := drv.Changes()
		st := drv.Status()
		if st.State != devices.Starting && st.Detail != "connected, asking the printer how it is" {
			if st.State == devices.Fault {
				return fmt.Errorf("printer: %s", st.Detail)
			}
			return nil
		}
		select {
		case <-changes:
		case <-guard.C:
			return fmt.Errorf("printer: not ready after %s: %s", wait, st.Detail)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
