package terminal

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/jonboulle/clockwork"
	bolt "go.etcd.io/bbolt"

	"github.com/cherga/kiosk/httpapi"
	"github.com/cherga/kiosk/link/proto"
	"github.com/cherga/kiosk/queue/queuetest"
)

// guard bounds every wait of these tests, so a broken terminal fails the
// test instead of hanging it. It is never a measurement.
const guard = 30 * time.Second

// rig is one whole terminal (kiosk, hall and window 3, every device
// simulated, as configs/demo.yaml) against a real queued on loopback.
type rig struct {
	term   *Terminal
	office *queuetest.Office
	addr   string // the terminal's host:port
	admin  string // its admin listener's host:port
	dir    string // its data_dir
	cancel context.CancelFunc
	done   chan error
	log    *testLog

	once    sync.Once
	stopped error
}

// startTerminal builds and runs a terminal on clock with queued at office,
// and waits until its link is up. extra is YAML added to demo.yaml's.
func startTerminal(t testing.TB, clock clockwork.Clock, office *queuetest.Office, extra ...string) *rig {
	t.Helper()
	return startTerminalHTTP(t, clock, office, httpapi.Timeouts{}, extra...)
}

// startTerminalHTTP is startTerminal with the HTTP server's timeouts.
func startTerminalHTTP(t testing.TB, clock clockwork.Clock, office *queuetest.Office, timeouts httpapi.Timeouts, extra ...string) *rig {
	t.Helper()
	dir := t.TempDir()
	demo, err := os.ReadFile("../configs/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	yaml := string(demo)
	for _, r := range [][2]string{
		{"data_dir: var/demo-01", "data_dir: " + dir},
		{"url: ws://127.0.0.1:8090/api/v1/link", "url: " + office.LinkURL()},
		// The chime only: no espeak-ng at start or per call.
		{"    pack_dir: var/voice", "    pack_dir: " + filepath.Join(dir, "voice") + "\n    build: false\n    tts_fallback: false"},
	} {
		if !strings.Contains(yaml, r[0]) {
			t.Fatalf("demo.yaml has no %q", r[0])
		}
		yaml = strings.Replace(yaml, r[0], r[1], 1)
	}
	// demo.yaml's bus is the emulator of make run; a test adds its own.
	// An extra "http.key: value" goes into the http: section.
	var more []string
	for _, e := range extra {
		if k, ok := strings.CutPrefix(e, "http."); ok {
			yaml = strings.Replace(yaml, "\nhttp:\n", "\nhttp:\n  "+k+"\n", 1)
			continue
		}
		if d, ok := strings.CutPrefix(e, "data_dir: "); ok { // another data directory
			yaml = strings.Replace(yaml, "data_dir: "+dir, e, 1)
			dir = d
			continue
		}
		more = append(more, e)
	}
	yaml = withoutBuses(yaml) + strings.Join(more, "")
	cfg, err := ParseConfig("demo.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	adminLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	log := newTestLog(t)
	term, err := New(cfg, Env{Log: log.Logger, Version: "test", Clock: clock, Listener: ln, AdminListener: adminLn, HTTP: timeouts})
	if err != nil {
		ln.Close()
		adminLn.Close()
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &rig{term: term, office: office, addr: ln.Addr().String(), admin: adminLn.Addr().String(), dir: dir, cancel: cancel, done: make(chan error, 1), log: log}
	go func() { r.done <- term.Run(ctx) }()
	t.Cleanup(func() { _ = r.stop() })
	up, stop := context.WithTimeout(context.Background(), guard)
	defer stop()
	if err := term.link.WaitUp(up); err != nil {
		t.Fatalf("link not up: %v", err)
	}
	return r
}

// withoutBuses is a configuration without its top-level buses: section.
func withoutBuses(yaml string) string {
	var out []string
	in := false
	for _, l := range strings.Split(yaml, "\n") {
		switch {
		case strings.HasPrefix(l, "buses:"):
			in = true
			continue
		case in && l != "" && l[0] != ' ' && l[0] != '#':
			in = false
		}
		if !in {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// stop ends Run and returns its error.
func (r *rig) stop() error {
	r.once.Do(func() {
		r.cancel()
		r.stopped = <-r.done
	})
	return r.stopped
}

// partOf finds the terminal's part of type P.
func partOf[P part](t testing.TB, term *Terminal) P {
	t.Helper()
	for _, p := range term.parts {
		if q, ok := p.(P); ok {
			return q
		}
	}
	var none P
	t.Fatalf("no %T part", none)
	return none
}

// waitServer waits until queued has committed what cond looks for: each
// look follows an acknowledgement, and the server acknowledges an event
// after committing it.
func (r *rig) waitServer(t *testing.T, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	for {
		acked := r.term.link.Acked()
		if cond() {
			return
		}
		if err := r.term.link.WaitAck(ctx, acked+1); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
}

// The data flow of the README, through one whole terminal: a ticket taken
// on the kiosk API is printed and in queued's queue; "next" on window 3 is
// shown on the hall page and the window's, announced, and queued hears
// that it was shown and announced.
func TestWholeTerminal(t *testing.T) {
	clock := clockwork.NewFakeClockAt(time.Now())
	office := queuetest.Start(t, clock)
	r := startTerminal(t, clock, office)
	origin := "http://" + r.addr

	req, err := http.NewRequest("POST", origin+"/api/v1/tickets", strings.NewReader(`{"service":"pension-age"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", origin)
	var tk struct {
		Number  string `json:"number"`
		Offline bool   `json:"offline"`
		Printed bool   `json:"printed"`
	}
	send(t, req, http.StatusCreated, &tk)
	if tk.Number == "" || tk.Offline || !tk.Printed {
		t.Fatalf("ticket %+v", tk)
	}

	// Printed by the simulated printer, through the real driver.
	sim := partOf[*kioskPart](t, r.term).sim
	for printed := false; !printed; {
		select {
		case p := <-sim.Printed():
			if p.Headline != tk.Number {
				continue
			}
			printed = true
			if filepath.Dir(p.Path) != filepath.Join(r.dir, "tickets") {
				t.Errorf("ticket picture at %q", p.Path)
			} else if _, err := os.Stat(p.Path); err != nil {
				t.Error(err)
			}
		case <-time.After(guard):
			t.Fatalf("ticket %s never printed", tk.Number)
		}
	}
	tickets, err := office.Queue.Tickets(office.Queue.Today())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(tickets, func(q proto.Ticket) bool { return q.Number == tk.Number && q.State == "waiting" }) {
		t.Fatalf("ticket %s not waiting in queued: %+v", tk.Number, tickets)
	}

	hallPage := dialPage(t, r.addr, "/hall/ws")
	var called struct {
		Number string `json:"number"`
		Window int    `json:"window"`
	}
	send(t, office.Request("POST", "/api/v1/windows/3/next", ""), http.StatusOK, &called)
	if called.Number != tk.Number || called.Window != 3 {
		t.Fatalf("called %+v", called)
	}
	var callID string
	speaking := false
	_ = hallPage.SetReadDeadline(time.Now().Add(guard))
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
		if err := hallPage.ReadJSON(&m); err != nil {
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
		t.Error("the hall page was not told when the voice started")
	}
	if calls := partOf[*hallPart](t, r.term).hall.Calls(); len(calls) == 0 || calls[0].ID != callID || !calls[0].Announced {
		t.Errorf("hall shows %+v", calls)
	}
	var window struct {
		Call *proto.Call `json:"call"`
	}
	if err := dialPage(t, r.addr, "/window/ws").ReadJSON(&window); err != nil || window.Call == nil || window.Call.ID != callID {
		t.Errorf("window 3 shows %+v (%v)", window.Call, err)
	}
	wavs, _ := filepath.Glob(filepath.Join(r.dir, "announcements", "*-"+tk.Number+"-w3.wav"))
	if len(wavs) != 1 {
		t.Errorf("announcements %v", wavs)
	}

	r.waitServer(t, "call shown and announced", func() bool {
		log, err := office.Queue.CallLog(office.Queue.Today())
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range log {
			if c.ID == callID {
				return slices.Equal(c.ShownBy, []string{"demo-01"}) && slices.Equal(c.AnnouncedBy, []string{"demo-01"})
			}
		}
		return false
	})

	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	// The outbox was closed: it opens at once.
	db, err := bolt.Open(filepath.Join(r.dir, "kioskd.db"), 0o600, &bolt.Options{Timeout: time.Millisecond})
	if err != nil {
		t.Fatalf("kioskd.db still locked after Run: %v", err)
	}
	db.Close()
}

// Run stops when its context ends, with pages, keep-alive connections and
// a connection that never sent a request all open: none of them holds the
// stop (BenchmarkStop says how long it takes).
func TestStop(t *testing.T) {
	clock := clockwork.NewFakeClockAt(time.Now())
	r := startTerminal(t, clock, queuetest.Start(t, clock))
	openConnections(t, r.addr)
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.log.String(), "kioskd stopped") {
		t.Error("no \"kioskd stopped\" in the log")
	}
}

// BenchmarkStop is how long Run takes to return once its context ends,
// with nothing printing: the hall, window, boards and kiosk pages
// connected, an idle keep-alive connection and one that never sent a
// request. Target < 100 ms.
//
//	go test -run X -bench Stop -benchtime 10x ./terminal/
func BenchmarkStop(b *testing.B) {
	office := queuetest.Start(b, nil)
	var total time.Duration
	for b.Loop() {
		b.StopTimer()
		r := startTerminal(b, clockwork.NewRealClock(), office)
		openConnections(b, r.addr)
		b.StartTimer()
		start := time.Now()
		if err := r.stop(); err != nil {
			b.Fatal(err)
		}
		total += time.Since(start)
	}
	b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms/stop")
}

// openConnections connects every page of a demo terminal, leaves an HTTP
// connection idle after a request, and opens one that sends nothing.
func openConnections(t testing.TB, addr string) {
	t.Helper()
	for _, path := range []string{"/hall/ws", "/window/ws", "/boards/ws", "/kiosk/ws"} {
		c := dialPage(t, addr, path)
		var snapshot map[string]any
		_ = c.SetReadDeadline(time.Now().Add(guard))
		if err := c.ReadJSON(&snapshot); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	client := &http.Client{Transport: &http.Transport{}}
	resp, err := client.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	t.Cleanup(client.CloseIdleConnections)
	silent, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { silent.Close() })
}

// dialPage connects to a page's websocket as the page would.
func dialPage(t testing.TB, addr, path string) *websocket.Conn {
	t.Helper()
	c, _, err := websocket.DefaultDialer.Dial("ws://"+addr+path, http.Header{"Origin": {"http://" + addr}})
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// send does req, checks the status and decodes the JSON answer into out.
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

// testLog keeps a terminal's log, shown when the test fails.
type testLog struct {
	*slog.Logger
	mu  sync.Mutex
	buf strings.Builder
}

func newTestLog(t testing.TB) *testLog {
	l := &testLog{}
	l.Logger = slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("terminal log:\n%s", l.String())
		}
	})
	return l
}

func (l *testLog) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(b)
}

func (l *testLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}
