package cmd_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/cherga/kiosk/configs"
	"github.com/cherga/kiosk/link/proto"
	"github.com/cherga/kiosk/queue"
	"github.com/cherga/kiosk/queue/access"
)

// BenchmarkFanout is the figure for a large office: the real
// queued (built by TestMain) with hundreds of hall and window terminals on
// its link, calls made through the API at 4 a second. Every terminal gets
// every call and answers as kioskd's link does: call_shown (a hall also
// call_announced) as numbered events, acknowledged by queued after its
// commit. Under windows-confirm=every-call each window terminal gets and
// confirms every call, as the issue puts it; under windows=as-kioskd a
// window terminal names its window in hello, as kioskd does, and queued
// sends it only that window's calls, which it confirms; halls get and
// confirm every call in both.
//
// It reports, per call, the time from just before the POST until the last
// terminal had it (p50-all-ms, p99-all-ms) and every single delivery
// (p50-delivery-ms, p99-delivery-ms); queued's CPU per call, from
// /proc/PID/stat over the calls until every confirmation was acknowledged
// (cpu-ms/call); and queued's resident memory per connected terminal
// (rss-KiB/terminal). Targets: 320 terminals p99 < 50 ms and < 5 ms CPU
// per call; 1,000 terminals p99 < 200 ms.
//
//	go test -run XXX -bench '^BenchmarkFanout$' -benchtime 60x ./cmd/
//
// Without -race: the figures are the binary's, not the race detector's.
func BenchmarkFanout(b *testing.B) {
	if raceEnabled {
		b.Skip("BenchmarkFanout measures queued's own speed: run it without -race")
	}
	raiseFileLimit(b)
	fanoutCases(b, func(b *testing.B, c fanoutCase) { fanout(b, startBenchQueued(b), c) })
}

// BenchmarkFanoutInProcess is the same with queue's Server in this
// process, served as queued serves it, so that go test -cpuprofile sees
// where queued's time goes. The terminals and the load run under the
// profiler label side=load: leave them out with
//
//	go test -run XXX -bench 'BenchmarkFanoutInProcess/terminals=320/' -benchtime 60x -cpuprofile cpu.out ./cmd/
//	go tool pprof -tagignore side=load cmd.test cpu.out
//
// queued's CPU and memory are not reported: this process holds the
// terminals too.
func BenchmarkFanoutInProcess(b *testing.B) {
	raiseFileLimit(b)
	fanoutCases(b, func(b *testing.B, c fanoutCase) {
		q := startInProcessQueued(b) // unlabelled: its goroutines are queued's
		pprof.Do(context.Background(), pprof.Labels("side", "load"), func(context.Context) { fanout(b, q, c) })
	})
}

// fanoutCase is an office's terminals and how its windows confirm calls.
type fanoutCase struct {
	windows, halls int
	ownWindowOnly  bool
}

func fanoutCases(b *testing.B, run func(*testing.B, fanoutCase)) {
	for _, size := range []struct{ windows, halls int }{{300, 20}, {950, 50}} {
		b.Run(fmt.Sprintf("terminals=%d", size.windows+size.halls), func(b *testing.B) {
			for _, own := range []bool{false, true} {
				name := "windows-confirm=every-call"
				if own {
					name = "windows=as-kioskd"
				}
				b.Run(name, func(b *testing.B) { run(b, fanoutCase{size.windows, size.halls, own}) })
			}
		})
	}
}

// callEvery is the pace of the calls: 4 a second, a busy office's peak.
const callEvery = 250 * time.Millisecond

func fanout(b *testing.B, q *benchQueued, c fanoutCase) {
	// Twice as many tickets as calls, every other one a pension, so
	// windows 9 and 10 (pensions only) always find someone.
	services := []string{"subsidy-housing", "benefit-utilities", "assist-birth", "certificate-income", "veteran-status"}
	for i := range 2*b.N + 20 {
		svc := "pension-age"
		if i%2 == 1 {
			svc = services[i%len(services)]
		}
		q.post(b, "/api/v1/tickets", `{"service":"`+svc+`"}`, http.StatusCreated)
	}

	rssBefore := q.rssKiB(b)
	terms := connectTerminals(b, q.addr, c, b.N)
	time.Sleep(time.Second) // let queued's connection goroutines settle before reading its memory
	rssAfter := q.rssKiB(b)

	started := make([]time.Time, b.N)
	callOf := map[string]int{} // ticket number → call index
	tick := time.NewTicker(callEvery)
	defer tick.Stop()
	cpuBefore := q.cpu(b)
	var commitsBefore int64
	if q.commits != nil {
		commitsBefore = q.commits()
	}
	b.ResetTimer()
	for i := range b.N {
		<-tick.C
		started[i] = time.Now()
		var called struct {
			Number string `json:"number"`
			State  string `json:"state"`
		}
		body := q.post(b, fmt.Sprintf("/api/v1/windows/%d/next", 1+i%10), "", http.StatusOK)
		if err := json.Unmarshal(body, &called); err != nil || called.State != "called" {
			b.Fatalf("next: %s %v", body, err)
		}
		if _, dup := callOf[called.Number]; dup {
			b.Fatalf("ticket %s called twice", called.Number)
		}
		callOf[called.Number] = i
	}
	// Every terminal has every call and queued acknowledged every
	// confirmation: that much work the calls cost.
	timeout := time.After(60 * time.Second)
	for _, t := range terms {
		select {
		case <-t.complete:
		case <-t.done:
			b.Fatalf("%s: link lost: %v", t.device, t.err)
		case <-timeout:
			b.Fatalf("%s: %d of %d calls, %d of %d events acknowledged after 60 s",
				t.device, t.received.Load(), t.want, t.acked.Load(), t.sent.Load())
		}
	}
	b.StopTimer()
	cpu := q.cpu(b) - cpuBefore
	if q.commits != nil {
		b.ReportMetric(float64(q.commits()-commitsBefore)/float64(b.N), "commits/call")
	}

	for _, t := range terms {
		t.close()
	}
	var all, each []time.Duration
	last := make([]time.Duration, b.N)
	for _, t := range terms {
		if t.err != nil {
			b.Fatalf("%s: %v", t.device, t.err)
		}
		seen := map[string]bool{}
		for _, d := range t.got {
			i, ok := callOf[d.ticket]
			if !ok || seen[d.call] {
				b.Fatalf("%s got call %s (ticket %s) that was not made, or twice", t.device, d.call, d.ticket)
			}
			seen[d.call] = true
			lat := d.at.Sub(started[i])
			each = append(each, lat)
			last[i] = max(last[i], lat)
		}
		if len(seen) != t.want {
			b.Fatalf("%s got %d of %d calls", t.device, len(seen), t.want)
		}
	}
	all = last
	b.ReportMetric(ms(percentile(all, 50)), "p50-all-ms")
	b.ReportMetric(ms(percentile(all, 99)), "p99-all-ms")
	b.ReportMetric(ms(percentile(each, 50)), "p50-delivery-ms")
	b.ReportMetric(ms(percentile(each, 99)), "p99-delivery-ms")
	if q.cmd != nil {
		b.ReportMetric(ms(cpu)/float64(b.N), "cpu-ms/call")
		b.ReportMetric(float64(rssAfter-rssBefore)/float64(len(terms)), "rss-KiB/terminal")
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// percentile is the nearest-rank p-th percentile of ds.
func percentile(ds []time.Duration, p int) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(math.Ceil(float64(p)/100*float64(len(s)))) - 1
	return s[max(i, 0)]
}

// raiseFileLimit lifts the soft limit on open files to the hard one: a
// thousand terminals are a thousand sockets here and another thousand in
// queued, which inherits the limit.
func raiseFileLimit(b *testing.B) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		b.Fatal(err)
	}
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		b.Fatal(err)
	}
	if lim.Cur < 2*1000+500 {
		b.Skipf("open files limited to %d: not enough for 1,000 terminals", lim.Cur)
	}
}

// benchQueued is the real queued on a free loopback port, with the demo
// office and its data in a temporary directory. The shared proc helper
// (office_test.go) takes a *testing.T and stops reading the log after
// waitLog; a thousand terminals' connection lines would then fill the pipe
// and stall queued, so this one reads its log to the end.
type benchQueued struct {
	cmd     *exec.Cmd // nil: in this process
	addr    string
	token   string
	commits func() int64 // in this process: the queue's commits so far

	mu   sync.Mutex
	tail []string // the last lines of its log, shown if the benchmark fails
}

func startBenchQueued(b *testing.B) *benchQueued {
	b.Helper()
	dir := b.TempDir()
	config, data := filepath.Join(dir, "office.yaml"), filepath.Join(dir, "queued")
	src, err := os.ReadFile("../configs/office.yaml")
	if err != nil {
		b.Fatal(err)
	}
	yaml := string(src)
	for _, r := range [][2]string{{"listen: 127.0.0.1:8090", "listen: 127.0.0.1:0"}, {"data_dir: var/queued", "data_dir: " + data},
		{"forms_dir: forms", "forms_dir: " + absPath(b, "../configs/forms")}} {
		if !strings.Contains(yaml, r[0]) {
			b.Fatalf("configs/office.yaml has no %q", r[0])
		}
		yaml = strings.Replace(yaml, r[0], r[1], 1)
	}
	if err := os.WriteFile(config, []byte(yaml), 0o600); err != nil {
		b.Fatal(err)
	}
	if err := os.MkdirAll(data, 0o750); err != nil {
		b.Fatal(err)
	}
	q := &benchQueued{}
	out, err := exec.Command(filepath.Join(binDir, "queued"), "token", "-name", "bench", "-scope", "windows,tickets", "-config", config).Output()
	if q.token = strings.TrimSpace(string(out)); err != nil || q.token == "" {
		b.Fatalf("queued token: %v", err)
	}

	q.cmd = exec.Command(filepath.Join(binDir, "queued"), "-config", config)
	stderr, err := q.cmd.StderrPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := q.cmd.Start(); err != nil {
		b.Fatal(err)
	}
	listening := make(chan string, 1)
	logDone := make(chan struct{})
	go func() {
		defer close(logDone)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			l := sc.Text()
			if m := listenRe.FindStringSubmatch(l); m != nil && strings.Contains(l, "queued started") {
				listening <- m[1]
			}
			q.mu.Lock()
			q.tail = append(q.tail, l)
			if len(q.tail) > 200 {
				q.tail = q.tail[100:]
			}
			q.mu.Unlock()
		}
	}()
	b.Cleanup(func() {
		_ = q.cmd.Process.Signal(os.Interrupt)
		exited := make(chan struct{})
		go func() { <-logDone; _ = q.cmd.Wait(); close(exited) }()
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			_ = q.cmd.Process.Kill()
			<-exited
		}
		if b.Failed() {
			q.mu.Lock()
			b.Logf("queued's log ends:\n%s", strings.Join(q.tail, "\n"))
			q.mu.Unlock()
		}
	})
	select {
	case q.addr = <-listening:
	case <-logDone:
		b.Fatal("queued exited before it listened")
	case <-time.After(30 * time.Second):
		b.Fatal("queued did not start within 30 s")
	}
	return q
}

// startInProcessQueued serves the demo office from this process as
// cmd/queued's run does: queue.Open, queue.NewServer, an http.Server on a
// free loopback port, and a text log at info level (written nowhere).
func startInProcessQueued(b *testing.B) *benchQueued {
	b.Helper()
	dir := b.TempDir()
	cfg, err := configs.LoadOffice("../configs/office.yaml")
	if err != nil {
		b.Fatal(err)
	}
	log := cfg.Log.NewLogger(io.Discard, false)
	qu, err := queue.Open(filepath.Join(dir, "queued.db"), cfg, queue.Options{Log: log, Version: "bench",
		BookingKey: []byte("fan-out benchmark booking key 32")})
	if err != nil {
		b.Fatal(err)
	}
	accessFile := filepath.Join(dir, "access.json")
	store, err := access.OpenStore(accessFile, access.StoreOptions{})
	if err != nil {
		b.Fatal(err)
	}
	q := &benchQueued{commits: qu.Commits}
	if q.token, err = store.AddToken("bench", []string{access.ScopeWindows, access.ScopeTickets}); err != nil {
		b.Fatal(err)
	}
	srv, err := queue.NewServer(qu, queue.ServerOptions{Log: log, AccessFile: accessFile})
	if err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	q.addr = ln.Addr().String()
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute}
	go func() { _ = hs.Serve(ln) }()
	b.Cleanup(func() {
		srv.Close()
		_ = hs.Close()
		qu.Close()
	})
	return q
}

// post sends an API request with the bench token and returns the body.
func (q *benchQueued) post(b *testing.B, path, body string, want int) []byte {
	b.Helper()
	req, err := http.NewRequest("POST", "http://"+q.addr+path, strings.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+q.token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		b.Fatalf("POST %s: %s %s, want %d", path, resp.Status, out, want)
	}
	return out
}

// cpu is the CPU time queued has used so far (user + system).
func (q *benchQueued) cpu(b *testing.B) time.Duration {
	b.Helper()
	if q.cmd == nil {
		return 0
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", q.cmd.Process.Pid))
	if err != nil {
		b.Fatal(err)
	}
	// The fields after the command name, which may hold spaces: state is
	// the first, utime the 12th and stime the 13th.
	f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		b.Fatalf("/proc/PID/stat: %q", stat)
	}
	const ticksPerSecond = 100 // USER_HZ, the same on every Linux architecture Go supports
	return time.Duration(utime+stime) * time.Second / ticksPerSecond
}

// rssKiB is queued's resident memory now.
func (q *benchQueued) rssKiB(b *testing.B) int64 {
	b.Helper()
	if q.cmd == nil {
		return 0
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", q.cmd.Process.Pid))
	if err != nil {
		b.Fatal(err)
	}
	for l := range strings.Lines(string(status)) {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				b.Fatalf("VmRSS %q", v)
			}
			return n
		}
	}
	b.Fatal("no VmRSS in /proc/PID/status")
	return 0
}

// benchTerminal is a hall or window terminal reduced to its link: it says
// hello, and for a call it is pushed sends call_shown (a hall then
// call_announced) as the next numbered event, as kioskd's link does, and
// reads the acknowledgements. Its one goroutine reads and writes.
type benchTerminal struct {
	device        string
	hall          bool
	window        int  // a window terminal's window
	ownWindowOnly bool // confirm only the calls to window, as kioskd
	conn          *websocket.Conn
	want          int // calls to receive

	got      []delivery // written by the terminal's goroutine until done
	received atomic.Int64
	sent     atomic.Uint64 // events sent: the last seq
	acked    atomic.Uint64
	complete chan struct{} // every call received and every event acknowledged
	done     chan struct{} // the goroutine has ended
	closing  atomic.Bool
	started  atomic.Bool // run was started: done will be closed
	err      error
}

type delivery struct {
	ticket, call string
	at           time.Time
}

// connectTerminals connects windows + halls terminals, a few dozen at a
// time, and returns once each has its welcome.
func connectTerminals(b *testing.B, addr string, c fanoutCase, want int) []*benchTerminal {
	b.Helper()
	terms := make([]*benchTerminal, 0, c.windows+c.halls)
	for i := range c.windows + c.halls {
		// The demo office's windows are 1 to 10.
		t := &benchTerminal{device: fmt.Sprintf("bench-window-%04d", i), window: 1 + i%10, ownWindowOnly: c.ownWindowOnly,
			want: want, complete: make(chan struct{}), done: make(chan struct{})}
		if i >= c.windows {
			t.device, t.hall, t.window = fmt.Sprintf("bench-hall-%03d", i-c.windows), true, 0
		} else if c.ownWindowOnly {
			// Calls go to windows 1 to 10 in turn: call k to window 1+k%10.
			t.want = (want - (t.window - 1) + 9) / 10
		}
		terms = append(terms, t)
	}
	epoch := strconv.FormatInt(time.Now().UnixNano(), 36)
	dialer := websocket.Dialer{Subprotocols: []string{proto.Subprotocol}, HandshakeTimeout: 30 * time.Second}
	var wg sync.WaitGroup
	errs := make(chan error, len(terms))
	gate := make(chan struct{}, 32)
	for _, t := range terms {
		wg.Go(func() {
			gate <- struct{}{}
			defer func() { <-gate }()
			if err := t.connect(&dialer, "ws://"+addr+"/api/v1/link", epoch); err != nil {
				errs <- fmt.Errorf("%s: %w", t.device, err)
				return
			}
			t.started.Store(true)
			go t.run()
		})
	}
	wg.Wait()
	b.Cleanup(func() {
		for _, t := range terms {
			t.close()
		}
	})
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	return terms
}

func (t *benchTerminal) connect(dialer *websocket.Dialer, url, epoch string) error {
	conn, _, err := dialer.Dial(url, nil)
	if err != nil {
		return err
	}
	if conn.Subprotocol() != proto.Subprotocol {
		conn.Close()
		return fmt.Errorf("server does not speak %s", proto.Subprotocol)
	}
	conn.SetReadLimit(proto.MaxMessageBytes)
	t.conn = conn
	roles := []string{"window"}
	if t.hall {
		roles = []string{"hall"}
	}
	window := 0
	if t.ownWindowOnly && !t.hall {
		window = t.window
	}
	if err := t.write(&proto.Message{Type: proto.TypeHello, Hello: &proto.Hello{Device: t.device, Roles: roles, Window: window,
		Version: "bench", Time: time.Now(), Epoch: epoch + "-" + t.device}}); err != nil {
		conn.Close()
		return err
	}
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	m, err := t.read()
	if err == nil && m.Type != proto.TypeWelcome {
		err = fmt.Errorf("hello answered with %s", m.Type)
	}
	if err != nil {
		conn.Close()
		return err
	}
	_ = conn.SetReadDeadline(time.Time{})
	return nil
}

func (t *benchTerminal) read() (*proto.Message, error) {
	typ, data, err := t.conn.ReadMessage()
	if err != nil {
		return nil, err
	}
	if typ != websocket.TextMessage {
		return nil, fmt.Errorf("binary frame from the server")
	}
	return proto.Decode(data)
}

func (t *benchTerminal) write(m *proto.Message) error {
	data, err := proto.Encode(m)
	if err != nil {
		return err
	}
	_ = t.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return t.conn.WriteMessage(websocket.TextMessage, data)
}

// report sends one event with the next seq.
func (t *benchTerminal) report(typ, call string) error {
	seq := t.sent.Load() + 1
	err := t.write(&proto.Message{Type: typ, Seq: seq, Seen: &proto.CallSeen{Call: call, At: time.Now()}})
	t.sent.Store(seq)
	return err
}

func (t *benchTerminal) run() {
	defer close(t.done)
	fail := func(err error) {
		if !t.closing.Load() {
			t.err = err
		}
	}
	isComplete := t.want == 0 // a window no call goes to
	if isComplete {
		close(t.complete)
	}
	for {
		m, err := t.read()
		if err != nil {
			fail(err)
			return
		}
		switch m.Type {
		case proto.TypeCall, proto.TypeRecall:
			t.got = append(t.got, delivery{ticket: m.Call.Ticket, call: m.Call.ID, at: time.Now()})
			t.received.Add(1)
			if t.hall || !t.ownWindowOnly || m.Call.Window == t.window {
				if err := t.report(proto.TypeCallShown, m.Call.ID); err != nil {
					fail(err)
					return
				}
			}
			if t.hall {
				if err := t.report(proto.TypeCallAnnounced, m.Call.ID); err != nil {
					fail(err)
					return
				}
			}
		case proto.TypeAck:
			if m.Seq > t.sent.Load() || m.Seq < t.acked.Load() {
				fail(fmt.Errorf("ack %d: sent %d, acknowledged before %d", m.Seq, t.sent.Load(), t.acked.Load()))
				return
			}
			t.acked.Store(m.Seq)
		case proto.TypeRejected:
			fail(fmt.Errorf("event %d rejected: %v", m.Seq, m.Error))
			return
		}
		if !isComplete && int(t.received.Load()) == t.want && t.acked.Load() == t.sent.Load() {
			isComplete = true
			close(t.complete)
		}
	}
}

// close ends the terminal's connection; it is not an error any more.
func (t *benchTerminal) close() {
	if t.closing.Swap(true) || !t.started.Load() {
		return // never connected, or its connection closed already
	}
	_ = t.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "bench done"),
		time.Now().Add(time.Second))
	t.conn.Close()
	<-t.done
}
