// Package cmd_test runs the real binaries, as `make run` does: queued and
// kioskd as separate processes over loopback, stopped by signals.
package cmd_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	bolt "go.etcd.io/bbolt"

	"github.com/cherga/kiosk/display/announce"
)

var binDir string

// TestMain builds the three commands once, with the race detector when the
// tests run with it.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "cherga-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	args := []string{"build", "-o", dir + "/"}
	if raceEnabled {
		args = append(args, "-race")
	}
	cmd := exec.Command("go", append(args, "./kioskd", "./queued", "./kioskctl")...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build:", err)
		os.Exit(1)
	}
	// The phrase packs every hall shares, built once as a technician would.
	for _, lang := range []string{"uk", "en"} {
		cmd := exec.Command(filepath.Join(dir, "kioskctl"), "voice", "build", "-lang", lang, "-out", filepath.Join(dir, "voice", lang))
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "voice build:", err)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

var sourcesOnce sync.Once

// readSources reads every file the binaries are built from. go test caches
// a package's result until a file the tests read changes; the binaries are
// built by a command it does not watch, so without this a changed daemon
// would not rerun these tests.
func readSources(t *testing.T) {
	sourcesOnce.Do(func() {
		err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && path != ".." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "var" || d.Name() == "bin") {
				return filepath.SkipDir
			}
			switch filepath.Ext(path) {
			case ".go", ".html", ".js", ".css", ".json", ".yaml", ".mod", ".sum":
				_, err = os.ReadFile(path)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// proc is a running binary whose log lines (stderr, and stdout, where
// kioskctl prints) the test reads as they come.
type proc struct {
	t     *testing.T
	name  string
	cmd   *exec.Cmd
	lines chan string
	exit  chan error
	log   strings.Builder
}

func start(t *testing.T, name string, args ...string) *proc {
	t.Helper()
	return startCmd(t, name, exec.Command(filepath.Join(binDir, name), args...))
}

// startCmd is start with the command made by the caller: its environment,
// a wrapper around the binary (see watchdog_test.go).
func startCmd(t *testing.T, name string, cmd *exec.Cmd) *proc {
	t.Helper()
	readSources(t)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{t: t, name: name, cmd: cmd, lines: make(chan string, 1024), exit: make(chan error, 1)}
	var read sync.WaitGroup
	for _, r := range []io.Reader{stderr, stdout} {
		read.Go(func() {
			sc := bufio.NewScanner(r)
			for sc.Scan() {
				p.lines <- sc.Text()
			}
		})
	}
	go func() {
		read.Wait()
		close(p.lines)
		p.exit <- cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill() // already gone after a clean stop; that error is fine
		if t.Failed() {
			t.Logf("%s log:\n%s", name, p.log.String())
		}
	})
	return p
}

// waitLog reads log lines until one contains s, and returns it.
func (p *proc) waitLog(s string) string {
	p.t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				p.t.Fatalf("%s exited before logging %q", p.name, s)
			}
			p.log.WriteString(l + "\n")
			if strings.Contains(l, s) {
				return l
			}
		case <-timeout:
			p.t.Fatalf("%s did not log %q within 30 s", p.name, s)
		}
	}
}

// stop sends sig and returns the exit code; it fails the test if the
// process takes longer than kioskd's 5 s shutdown budget (with slack for a
// loaded machine running the race detector).
func (p *proc) stop(sig os.Signal) int {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatal(err)
	}
	// The log ends when the process has exited.
	timeout := time.After(15 * time.Second)
	for done := false; !done; {
		select {
		case l, ok := <-p.lines:
			if !ok {
				done = true
				break
			}
			p.log.WriteString(l + "\n")
		case <-timeout:
			p.t.Fatalf("%s still running 15 s after %v", p.name, sig)
		}
	}
	err := <-p.exit
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode() // -1 when a signal killed it
	}
	if err != nil {
		p.t.Fatal(err)
	}
	return 0
}

var listenRe = regexp.MustCompile(`listen=(?:http://)?([0-9.]+:[0-9]+)`)

func listenAddr(t *testing.T, line string) string {
	t.Helper()
	m := listenRe.FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("no address in %q", line)
	}
	return m[1]
}

// writeConfig copies a shipped config with some lines replaced.
func writeConfig(t *testing.T, src, dst string, replace ...string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for i := 0; i < len(replace); i += 2 {
		if !strings.Contains(s, replace[i]) {
			t.Fatalf("%s has no %q", src, replace[i])
		}
		s = strings.ReplaceAll(s, replace[i], replace[i+1])
	}
	if err := os.WriteFile(dst, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

// office is queued and a kioskd with the demo configuration, and the
// device emulator playing the demo's bus, on free ports and in temporary
// directories.
type office struct {
	queued, kioskd *proc
	qAddr, kAddr   string
	emulator       *proc
	busLink        string // the emulator's pseudo-terminal, kioskd's bus port
	emuAddr        string // the emulator's control API
	dataDir        string
	kioskConfig    string
	officeConfig   string
	// token is an API token with every scope, made with queued token
	// before queued first started; call sends it.
	token string
}

// startOffice starts queued, the bus emulator and kioskd; replace holds
// pairs of old and new text for the kioskd configuration.
func startOffice(t *testing.T, replace ...string) *office {
	t.Helper()
	o := newOffice(t)
	o.startQueued(t)
	o.startDemo(t, replace...)
	return o
}

// demoBus is the emulator's devices as scripts/run-demo.sh starts them
// for configs/demo.yaml's bus.
const demoBus = "1:window-display,2:keypad,3:rating,4:window-display,5:keypad"

// startDemo starts the bus emulator as make run does, then kioskd with
// the demo configuration (and replace) on it, and waits until kioskd
// says every device works.
func (o *office) startDemo(t *testing.T, replace ...string) {
	t.Helper()
	dir := filepath.Dir(o.kioskConfig)
	o.busLink = filepath.Join(dir, "bus1")
	o.emulator = start(t, "kioskctl", "bridge", "emulate", "-link", o.busLink, "-state", filepath.Join(dir, "bus1-state"),
		"-http", "127.0.0.1:0", "-devices", demoBus)
	// It prints its control address once the link is made.
	m := regexp.MustCompile(`control: http://([0-9.]+:[0-9]+)/`).FindStringSubmatch(o.emulator.waitLog("control: http://"))
	if m == nil {
		t.Fatal("the emulator printed no control address")
	}
	o.emuAddr = m[1]
	// The admin listener on any free port, not the default 8081 (quoted, so
	// that the main listener's rewrite in startKioskd leaves it alone).
	writeConfig(t, "../configs/demo.yaml", o.kioskConfig,
		"http:\n  listen: 127.0.0.1:8080", "admin:\n  listen: \"127.0.0.1:0\"\nhttp:\n  listen: 127.0.0.1:0", "data_dir: var/demo-01", "data_dir: "+o.dataDir,
		"127.0.0.1:8090", o.qAddr, "pack_dir: var/voice", "pack_dir: "+filepath.Join(binDir, "voice"),
		// A restarted queued is found within a second, not half a minute.
		"  url: ws://", "  reconnect_max: 1s\n  url: ws://",
		"port: var/bus1", "port: "+o.busLink, "emulator: 127.0.0.1:8095", "emulator: "+o.emuAddr,
		// Room for an emulator built with the race detector on shared cores.
		"line: 19200 8N2", "line: 19200 8N2\n    timeout: 500ms")
	writeConfig(t, o.kioskConfig, o.kioskConfig, replace...)
	o.startKioskd(t)
	o.waitHealthy(t)
}

// waitHealthy polls kioskd's /healthz until it says ok (every device
// working, the bus's among them), for at most 30 s.
func (o *office) waitHealthy(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var h struct {
			Status  string `json:"status"`
			Devices []struct{ Name, State, Detail string }
		}
		do(t, "GET", "http://"+o.kAddr+"/healthz", "", http.StatusOK, &h)
		if h.Status == "ok" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("kioskd not healthy within 30 s: %+v", h)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// newOffice writes queued's configuration into a temporary directory and
// makes the tests' API token with queued token, as an installer would;
// nothing runs yet.
func newOffice(t *testing.T) *office {
	t.Helper()
	dir := t.TempDir()
	o := &office{dataDir: filepath.Join(dir, "kiosk"), kioskConfig: filepath.Join(dir, "demo.yaml"),
		officeConfig: filepath.Join(dir, "office.yaml")}
	writeConfig(t, "../configs/office.yaml", o.officeConfig,
		"listen: 127.0.0.1:8090", "listen: 127.0.0.1:0", "data_dir: var/queued", "data_dir: "+filepath.Join(dir, "queued"),
		"forms_dir: forms", "forms_dir: "+absPath(t, "../configs/forms"))
	o.token = strings.TrimSpace(o.queuedCommand(t, "", "token", "-name", "tests", "-scope", "admin"))
	if o.token == "" {
		t.Fatal("queued token printed no token")
	}
	return o
}

// absPath is path made absolute (a config copied elsewhere names the
// shipped files by their absolute paths).
func absPath(t testing.TB, path string) string {
	t.Helper()
	p, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// queuedCommand runs queued's command line (user …, token …) on the
// office's configuration with stdin, and returns what it printed on stdout.
func (o *office) queuedCommand(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	readSources(t)
	cmd := exec.Command(filepath.Join(binDir, "queued"), append(args, "-config", o.officeConfig)...)
	cmd.Stdin = strings.NewReader(stdin)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("queued %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

// startKioskd starts (or starts again) kioskd and waits for its link.
func (o *office) startKioskd(t *testing.T) {
	t.Helper()
	o.kioskd = start(t, "kioskd", "-config", o.kioskConfig)
	addr := listenAddr(t, o.kioskd.waitLog("kioskd started"))
	o.kioskd.waitLog("link up")
	if o.kAddr == "" {
		// From now on the same port, for a kioskd started again.
		o.kAddr = addr
		writeConfig(t, o.kioskConfig, o.kioskConfig, "listen: 127.0.0.1:0", "listen: "+o.kAddr)
	}
}

// startQueued starts (or starts again) queued and waits until it listens.
func (o *office) startQueued(t *testing.T) {
	t.Helper()
	o.queued = start(t, "queued", "-config", o.officeConfig)
	addr := listenAddr(t, o.queued.waitLog("queued started"))
	if o.qAddr == "" {
		// From now on the same port, so a restarted queued is found again.
		o.qAddr = addr
		writeConfig(t, o.officeConfig, o.officeConfig, "listen: 127.0.0.1:0", "listen: "+o.qAddr)
	}
}

// do sends a request without credentials (kioskd's API, queued's public
// routes), JSON when there is a body, and checks the status.
func do(t *testing.T, method, url, body string, want int, out any) {
	t.Helper()
	send(t, newRequest(t, method, url, body), want, out)
}

// call sends a request to queued with the tests' API token.
func (o *office) call(t *testing.T, method, path, body string, want int, out any) {
	t.Helper()
	req := newRequest(t, method, "http://"+o.qAddr+path, body)
	req.Header.Set("Authorization", "Bearer "+o.token)
	send(t, req, want, out)
}

func newRequest(t *testing.T, method, url, body string) *http.Request {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return req
}

// send does req and checks the status; out, if not nil, receives the
// JSON answer.
func send(t *testing.T, req *http.Request, want int, out any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %s %s, want %d", req.Method, req.URL, resp.Status, b, want)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v in %s", req.Method, req.URL, err, b)
		}
	}
}

// The contract of the foundation issue, end to end: a ticket taken at the
// kiosk comes from queued; "next" on window 3 shows on the hall page and
// writes the announcement; SIGINT stops both with status 0.
func TestWholeOffice(t *testing.T) {
	o := startOffice(t)
	k := "http://" + o.kAddr

	var health struct {
		Status  string   `json:"status"`
		Roles   []string `json:"roles"`
		Devices []struct {
			Kind, State string
		} `json:"devices"`
		Link struct {
			State string `json:"state"`
		} `json:"link"`
		BufferedEvents *int `json:"buffered_events"`
	}
	do(t, "GET", k+"/healthz", "", http.StatusOK, &health)
	if health.Status != "ok" || health.Link.State != "up" || len(health.Roles) != 3 || len(health.Devices) < 5 || health.BufferedEvents == nil {
		t.Fatalf("healthz %+v", health)
	}

	var cat struct {
		Services []struct {
			ID string `json:"id"`
		} `json:"services"`
	}
	do(t, "GET", k+"/api/v1/services", "", http.StatusOK, &cat)
	if len(cat.Services) < 30 {
		t.Fatalf("catalogue has %d services", len(cat.Services))
	}
	var tk struct {
		Number   string    `json:"number"`
		Service  string    `json:"service"`
		Ahead    *int      `json:"ahead"`
		WaitMin  *int      `json:"wait_min"`
		Offline  *bool     `json:"offline"`
		IssuedAt time.Time `json:"issued_at"`
	}
	do(t, "POST", k+"/api/v1/tickets", `{"service":"`+cat.Services[0].ID+`"}`, http.StatusCreated, &tk)
	if !regexp.MustCompile(`^\p{Lu}\d{3}$`).MatchString(tk.Number) || tk.Service != cat.Services[0].ID ||
		tk.Ahead == nil || tk.WaitMin == nil || tk.Offline == nil || *tk.Offline {
		t.Fatalf("ticket %+v", tk)
	}

	hall, _, err := websocket.DefaultDialer.Dial("ws://"+o.kAddr+"/hall/ws", http.Header{"Origin": {k}})
	if err != nil {
		t.Fatal(err)
	}
	defer hall.Close()

	var called struct {
		Number string `json:"number"`
		Window int    `json:"window"`
		State  string `json:"state"`
	}
	o.call(t, "POST", "/api/v1/windows/3/next", "", http.StatusOK, &called)
	if called.Number != tk.Number || called.Window != 3 || called.State != "called" {
		t.Fatalf("called %+v", called)
	}
	var callID string
	speaking := false
	_ = hall.SetReadDeadline(time.Now().Add(30 * time.Second))
	for {
		var m struct {
			Type string `json:"type"`
			ID   string `json:"id"`
			Call struct {
				ID     string `json:"id"`
				Ticket string `json:"ticket"`
				Window int    `json:"window"`
			} `json:"call"`
		}
		if err := hall.ReadJSON(&m); err != nil {
			t.Fatalf("hall page: %v", err)
		}
		if m.Type == "call" && m.Call.Ticket == tk.Number && m.Call.Window == 3 {
			callID = m.Call.ID
		}
		speaking = speaking || m.Type == "speaking" && m.ID == callID && callID != ""
		if m.Type == "announced" && m.ID == callID && callID != "" {
			break
		}
	}
	if !speaking {
		t.Error("the page was not told when the voice started")
	}
	wavs, _ := filepath.Glob(filepath.Join(o.dataDir, "announcements", "*-"+tk.Number+"-w3.wav"))
	pngs, _ := filepath.Glob(filepath.Join(o.dataDir, "tickets", "*-"+tk.Number+".png"))
	if len(wavs) != 1 || len(pngs) != 1 {
		t.Fatalf("announcements %v, tickets %v", wavs, pngs)
	}
	// The call was spoken in both languages, not just chimed.
	if f, err := os.Open(wavs[0]); err != nil {
		t.Error(err)
	} else {
		clip, err := announce.ReadWAV(f)
		f.Close()
		if err != nil || clip.Seconds() < announce.Chime(announce.SampleRate).Seconds()+5 {
			t.Errorf("announcement %s: %v", wavs[0], err)
		}
	}
	o.call(t, "POST", "/api/v1/windows/3/next", "", http.StatusNotFound, nil)

	var day struct {
		Tickets []struct {
			Number, State string
		} `json:"tickets"`
	}
	kyiv, _ := time.LoadLocation("Europe/Kyiv")
	o.call(t, "GET", "/api/v1/tickets?date="+tk.IssuedAt.In(kyiv).Format(time.DateOnly), "", http.StatusOK, &day)
	if len(day.Tickets) != 1 || day.Tickets[0].Number != tk.Number || day.Tickets[0].State != "done" {
		t.Errorf("tickets of the day %+v", day)
	}

	// The technician's tool against the running daemon.
	ctl := func(args ...string) string {
		out, err := exec.Command(filepath.Join(binDir, "kioskctl"), args...).CombinedOutput()
		if err != nil {
			t.Fatalf("kioskctl %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	if out := ctl("health", "-addr", o.kAddr); !strings.Contains(out, "link     up") || !strings.Contains(out, "printer") {
		t.Errorf("kioskctl health:\n%s", out)
	}
	ctl("scan", "-addr", o.kAddr, "BK-7Q4M")
	// A booking code is a visitor's credential: kioskd says it read one,
	// never which.
	if l := o.kioskd.waitLog("code scanned"); strings.Contains(l, "BK-7Q4M") {
		t.Errorf("kioskd logged the booking code: %s", l)
	}
	ctl("press", "-addr", o.kAddr, "BUTTON")
	o.kioskd.waitLog("number=Г001")

	if code := o.kioskd.stop(os.Interrupt); code != 0 {
		t.Errorf("kioskd exited %d after SIGINT", code)
	}
	o.kioskd.waitLogged("kioskd stopped")
	if code := o.queued.stop(os.Interrupt); code != 0 {
		t.Errorf("queued exited %d after SIGINT", code)
	}
	// The bbolt file was closed: it opens at once.
	db, err := bolt.Open(filepath.Join(o.dataDir, "kioskd.db"), 0o600, &bolt.Options{Timeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatalf("kioskd.db still locked after shutdown: %v", err)
	}
	db.Close()
}

// kill ends the process with SIGKILL, as a power cut or a crash would.
func (p *proc) kill() {
	p.t.Helper()
	if code := p.stop(syscall.SIGKILL); code != -1 {
		p.t.Fatalf("%s survived SIGKILL (exit %d)", p.name, code)
	}
}

// waitLogged checks the collected log of a stopped process.
func (p *proc) waitLogged(s string) {
	p.t.Helper()
	if !strings.Contains(p.log.String(), s) {
		p.t.Errorf("%s never logged %q", p.name, s)
	}
}

// A second kioskd on the same data directory stops at once and says why.
func TestSecondKioskdRefused(t *testing.T) {
	o := startOffice(t)
	second := exec.Command(filepath.Join(binDir, "kioskd"), "-config", o.kioskConfig)
	out, err := second.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(string(out), "locked by another process") {
		t.Errorf("second kioskd: %v\n%s", err, out)
	}
	o.kioskd.stop(syscall.SIGTERM)
}

func TestCheck(t *testing.T) {
	readSources(t)
	run := func(bin string, args ...string) (int, string) {
		out, err := exec.Command(filepath.Join(binDir, bin), args...).CombinedOutput()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode(), string(out)
		} else if err != nil {
			t.Fatal(err)
		}
		return 0, string(out)
	}
	for _, f := range []string{"demo.yaml", "reference.yaml"} {
		if code, out := run("kioskd", "-check", "-config", "../configs/"+f); code != 0 {
			t.Errorf("%s: exit %d\n%s", f, code, out)
		}
	}
	// rpi-kiosk.yaml is valid, but names a printer at /dev/usb/lp0: where
	// that is missing, -check says so and exits 1 instead of "ok".
	if _, err := os.Stat("/dev/usb/lp0"); err != nil {
		code, out := run("kioskd", "-check", "-config", "../configs/rpi-kiosk.yaml")
		if code != 1 || !strings.Contains(out, "kiosk.printer.port: printer /dev/usb/lp0 is not there") || strings.Contains(out, ": ok") {
			t.Errorf("rpi-kiosk.yaml without its printer: exit %d\n%s", code, out)
		}
	}
	if code, out := run("queued", "-check", "-config", "../configs/office.yaml"); code != 0 {
		t.Errorf("office.yaml: exit %d\n%s", code, out)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	writeConfig(t, "../configs/demo.yaml", bad, "  highlight: 10s", "  highlight: 10s\n  hilight: 5s")
	b, _ := os.ReadFile(bad)
	line := 1 + strings.Count(string(b[:strings.Index(string(b), "  hilight")]), "\n")
	code, out := run("kioskd", "-check", "-config", bad)
	if code == 0 || !strings.Contains(out, fmt.Sprintf("%s:%d:3: hall.hilight: unknown key", bad, line)) {
		t.Errorf("unknown key: exit %d\n%s", code, out)
	}
}
