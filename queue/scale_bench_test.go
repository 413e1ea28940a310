package queue

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/jonboulle/clockwork"
	bolt "go.etcd.io/bbolt"

	"github.com/cherga/kiosk/configs"
	"github.com/cherga/kiosk/link/proto"
	"github.com/cherga/kiosk/queue/access"
)

// The scale benchmarks run the demo office of configs/office.yaml (ten
// groups, forty services, ten windows) on a real bbolt file in the
// benchmark's temporary directory. The issue's figures: issuing, "next"
// and the tracking page within 2× of each other at 100 and at 50,000
// tickets in the day; issuing with 8 clients at ≥ 50 % of the disk's
// commit rate, measured beside it (BenchmarkDiskCommit).

// scaleOffice is configs/office.yaml, parsed here: package queue may not
// import queuetest, which imports it.
func scaleOffice(b *testing.B) *configs.Office {
	b.Helper()
	cfg, err := configs.LoadOffice(filepath.Join("..", "configs", "office.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	return cfg
}

func openScale(b *testing.B, c *clockwork.FakeClock) *Queue {
	b.Helper()
	q, err := Open(filepath.Join(b.TempDir(), "queued.db"), scaleOffice(b),
		Options{Clock: c, Version: "bench", BookingKey: []byte("scale benchmark booking key, 32b")})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { q.Close() })
	return q
}

// scaleServer serves q as queued does, built the way newAuthServer builds
// the test server; token has scope tickets.
func scaleServer(b *testing.B, q *Queue) (ts *httptest.Server, token string) {
	b.Helper()
	file := filepath.Join(b.TempDir(), "access.json")
	store, err := access.OpenStore(file, access.StoreOptions{})
	if err != nil {
		b.Fatal(err)
	}
	if token, err = store.AddToken("bench", []string{access.ScopeTickets, access.ScopeWindows}); err != nil {
		b.Fatal(err)
	}
	s, err := NewServer(q, ServerOptions{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), AccessFile: file})
	if err != nil {
		b.Fatal(err)
	}
	ts = httptest.NewServer(s)
	b.Cleanup(func() { s.Close(); ts.Close() })
	return ts, token
}

// serviceIDs is the office's services in catalogue order; tickets are
// issued round-robin over them, so every group has a line.
func serviceIDs(q *Queue) []string {
	var out []string
	for _, s := range q.Config().Services {
		out = append(out, s.ID)
	}
	return out
}

// startDay moves the clock to the next day and fills it with n waiting
// tickets. Issuing them one at a time through Issue would take minutes at
// 50,000; they are issued by issueTx, the body of Issue, in changes of
// prefillChunk tickets each, so the day's memory and buckets are what
// Issue builds. It returns the numbers in issue order.
func startDay(b *testing.B, q *Queue, c *clockwork.FakeClock, n int) (day string, numbers []string) {
	b.Helper()
	const prefillChunk = 5000
	c.Advance(24 * time.Hour)
	services := serviceIDs(q)
	numbers = make([]string, 0, n)
	for len(numbers) < n {
		k := min(prefillChunk, n-len(numbers))
		_, err := q.update(false, func(tx *bolt.Tx, w *work) error {
			if err := q.rollDay(tx); err != nil {
				return err
			}
			for range k {
				t, err := q.issueTx(tx, w, services[len(numbers)%len(services)], "bench", proto.StateWaiting, "", 0)
				if err != nil {
					return err
				}
				numbers = append(numbers, t.Number)
				c.Advance(100 * time.Microsecond)
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	return q.Today(), numbers
}

var daySizes = []int{100, 50_000}

// BenchmarkDaySize is issuing, "next" and the tracking page at 100 and at
// 50,000 tickets in the day; the target is within 2× of each other.
// Issue and Next change the day: each runs in rounds on a fresh day (the
// same database, as a real office's holds its earlier days), so the day
// stays within 10 % of its size and, for Next, at least half the day is
// waiting. The rounds' preparation is not timed.
func BenchmarkDaySize(b *testing.B) {
	b.Run("Issue", func(b *testing.B) {
		for _, n := range daySizes {
			b.Run(fmt.Sprintf("tickets-in-day=%d", n), func(b *testing.B) {
				c := newClock()
				q := openScale(b, c)
				services := serviceIDs(q)
				round := max(n/10, 10)
				cpu := meterCPU(b)
				b.ResetTimer()
				for i := range b.N {
					if i%round == 0 {
						cpu.pause(func() { startDay(b, q, c, n) })
					}
					if _, _, err := q.Issue(services[i%len(services)], "bench"); err != nil {
						b.Fatal(err)
					}
					c.Advance(time.Millisecond)
				}
				cpu.report()
			})
		}
	})
	b.Run("Next", func(b *testing.B) {
		for _, n := range daySizes {
			b.Run(fmt.Sprintf("tickets-in-day=%d", n), func(b *testing.B) {
				c := newClock()
				q := openScale(b, c)
				round := n / 2
				cpu := meterCPU(b)
				b.ResetTimer()
				for i := range b.N {
					if i%round == 0 {
						cpu.pause(func() { startDay(b, q, c, n) })
					}
					// Windows 1 to 8 call every group (9 and 10 only pensions).
					r, err := q.NextAs(1+i%8, nil, Actor{Terminal: "bench"})
					if err != nil || r.Ticket.State != proto.StateCalled {
						b.Fatalf("next: %+v %v", r.Ticket, err)
					}
					c.Advance(time.Second)
				}
				cpu.report()
			})
		}
	})
	b.Run("Track", func(b *testing.B) {
		for _, n := range daySizes {
			b.Run(fmt.Sprintf("tickets-in-day=%d", n), func(b *testing.B) {
				c := newClock()
				q := openScale(b, c)
				day, numbers := startDay(b, q, c, n)
				number := numbers[n/2] // in the middle of its line
				b.ResetTimer()
				for b.Loop() {
					t, ahead, err := q.Track(day, number)
					if err != nil || t.State != proto.StateWaiting || ahead == 0 {
						b.Fatalf("track %s: %+v ahead %d: %v", number, t, ahead, err)
					}
				}
			})
		}
	})
	b.Run("TrackPage", func(b *testing.B) {
		for _, n := range daySizes {
			b.Run(fmt.Sprintf("tickets-in-day=%d", n), func(b *testing.B) {
				c := newClock()
				q := openScale(b, c)
				day, numbers := startDay(b, q, c, n)
				ts, _ := scaleServer(b, q)
				page := ts.URL + "/t/" + day + "/" + url.PathEscape(numbers[n/2])
				client := ts.Client()
				b.ResetTimer()
				for b.Loop() {
					resp, err := client.Get(page)
					if err != nil {
						b.Fatal(err)
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						b.Fatalf("GET %s: %s", page, resp.Status)
					}
				}
			})
		}
	})
}

// issuers is how many clients issue at once in the parallel benchmarks.
const issuers = 8

// issueConcurrently runs issue from issuers goroutines until b.N tickets
// are issued, and reports the rate and how many tickets shared a commit.
func issueConcurrently(b *testing.B, q *Queue, issue func(i int) error) {
	b.Helper()
	var next atomic.Int64
	var wg sync.WaitGroup
	before := q.Commits()
	b.ResetTimer()
	for range issuers {
		wg.Go(func() {
			for {
				i := int(next.Add(1))
				if i > b.N {
					return
				}
				if err := issue(i); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tickets/s")
	b.ReportMetric(float64(b.N)/float64(max(q.Commits()-before, 1)), "tickets/commit")
}

// BenchmarkIssueParallel is 8 clients issuing through Issue at once;
// compare its tickets/s with BenchmarkDiskCommit's commits/s.
func BenchmarkIssueParallel(b *testing.B) {
	c := newClock()
	q := openScale(b, c)
	services := serviceIDs(q)
	issueConcurrently(b, q, func(i int) error {
		_, _, err := q.Issue(services[i%len(services)], "bench")
		c.Advance(time.Millisecond)
		return err
	})
}

// BenchmarkIssueHTTP8 is the same through the API: 8 clients, each with
// its own kept-alive connection, POST /api/v1/tickets.
func BenchmarkIssueHTTP8(b *testing.B) {
	c := newClock()
	q := openScale(b, c)
	ts, token := scaleServer(b, q)
	services := serviceIDs(q)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: issuers}}
	defer client.CloseIdleConnections()
	issueConcurrently(b, q, func(i int) error {
		req, err := http.NewRequest("POST", ts.URL+"/api/v1/tickets",
			strings.NewReader(`{"service":"`+services[i%len(services)]+`"}`))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		c.Advance(time.Millisecond)
		if resp.StatusCode != http.StatusCreated {
			return fmt.Errorf("POST /api/v1/tickets: %s", resp.Status)
		}
		return nil
	})
}

// BenchmarkDiskCommit is the disk's commit rate as bbolt sees it: one
// Update with one Put, one after another, on a file in the benchmark's
// temporary directory (the same file system as the queues above).
func BenchmarkDiskCommit(b *testing.B) {
	db, err := bolt.Open(filepath.Join(b.TempDir(), "commit.db"), 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	value := make([]byte, 300) // about one ticket's JSON
	i := uint64(0)
	for b.Loop() {
		i++
		err := db.Update(func(tx *bolt.Tx) error {
			bk, err := tx.CreateBucketIfNotExists([]byte("bench"))
			if err != nil {
				return err
			}
			return bk.Put(u64(i), value)
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "commits/s")
}

// windowTerminals connects n window terminals to ts over loopback, one per
// window 1..n, each reading (and counting the window states) until the
// connection closes. It returns the count of window messages received.
func windowTerminals(b *testing.B, ts *httptest.Server, n int) *atomic.Int64 {
	b.Helper()
	var states atomic.Int64
	for i := 1; i <= n; i++ {
		conn := dialTerminal(b, ts, &proto.Hello{Device: fmt.Sprintf("window-%03d", i), Roles: []string{"window"}, Window: i})
		go func() {
			for {
				_, m, err := conn.ReadMessage()
				if err != nil {
					return
				}
				if strings.HasPrefix(string(m), `{"type":"window"`) {
					states.Add(1)
				}
			}
		}()
	}
	return &states
}

// dialTerminal connects a terminal saying hello to ts's link and reads its
// welcome.
func dialTerminal(b *testing.B, ts *httptest.Server, h *proto.Hello) *websocket.Conn {
	b.Helper()
	d := websocket.Dialer{Subprotocols: []string{proto.Subprotocol}}
	conn, _, err := d.Dial("ws"+strings.TrimPrefix(ts.URL, "http")+"/api/v1/link", nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { conn.Close() })
	h.Epoch, h.Time = "e", time.Now()
	hello, _ := proto.Encode(&proto.Message{Type: proto.TypeHello, Hello: h})
	if err := conn.WriteMessage(websocket.TextMessage, hello); err != nil {
		b.Fatal(err)
	}
	if _, first, err := conn.ReadMessage(); err != nil || !strings.Contains(string(first), `"welcome"`) {
		b.Fatalf("terminal %s: %.80s %v", h.Device, first, err)
	}
	return conn
}

// regionalOffice is office.yaml's windows made 320 (windows 11 to 320
// serving every group), on a real bbolt file.
func regionalOffice(b *testing.B, c *clockwork.FakeClock) *Queue {
	b.Helper()
	cfg := scaleOffice(b)
	for w := len(cfg.Windows) + 1; w <= 320; w++ {
		cfg.Windows = append(cfg.Windows, configs.OfficeWindow{Number: w})
	}
	q, err := Open(filepath.Join(b.TempDir(), "queued.db"), cfg, Options{Clock: c, Version: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { q.Close() })
	return q
}

// BenchmarkIssueWindowTerminals is issuing with 0 and with 320 window
// terminals connected (office.yaml's ten windows made 320, each serving
// every group, so every ticket changes every window's waiting count):
// what an issue costs must not grow with the terminals. Each ticket is 1
// ms after the one before on the office's clock (1,000 tickets a second),
// so waiting counts, sent at most once a second a window, go out once per
// thousand tickets.
func BenchmarkIssueWindowTerminals(b *testing.B) {
	for _, n := range []int{0, 320} {
		b.Run(fmt.Sprintf("window-terminals=%d", n), func(b *testing.B) {
			c := newClock()
			q := regionalOffice(b, c)
			ts, _ := scaleServer(b, q)
			states := windowTerminals(b, ts, n)
			services := serviceIDs(q)
			before := states.Load()
			b.ReportAllocs()
			cpu := cpuTime(b)
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				if _, _, err := q.Issue(services[i%len(services)], "bench"); err != nil {
					b.Fatal(err)
				}
				c.Advance(time.Millisecond)
			}
			b.StopTimer()
			b.ReportMetric(float64(states.Load()-before)/float64(b.N), "window-msgs/op")
			// The process's CPU (queued and the terminals' readers): on a
			// shared machine steadier than ns/op, which waits on fsync.
			b.ReportMetric(float64(cpuTime(b)-cpu)/float64(b.N)/1e3, "cpu-µs/op")
		})
	}
}

// BenchmarkNextWindowTerminals is calls ("next", POST
// /api/v1/windows/{n}/next) in a regional centre: 320 windows, all open,
// each with its window terminal (which takes its own window's calls and
// state), and a hall, which takes every call and the queue lengths. The
// calls go round the windows at 4 a second on the office's clock (a busy
// office's peak, cmd's BenchmarkFanout's pace), so the windows' waiting
// counts, which every call changes, go out once a second: a quarter of
// 320 a call. The day holds twice as many tickets as calls, issued before
// the timer starts. What a call costs must not grow with the windows
// beyond those waiting counts; cpu-µs/op is the process's CPU (queued,
// the HTTP client and the terminals' readers) per call.
func BenchmarkNextWindowTerminals(b *testing.B) {
	c := newClock()
	q := regionalOffice(b, c)
	ts, token := scaleServer(b, q)
	states := windowTerminals(b, ts, 320)
	calls := make(chan struct{}, b.N)
	var queues atomic.Int64
	hall := dialTerminal(b, ts, &proto.Hello{Device: "hall-01", Roles: []string{"hall"}})
	go func() {
		for {
			_, m, err := hall.ReadMessage()
			if err != nil {
				return
			}
			switch {
			case strings.HasPrefix(string(m), `{"type":"call"`):
				calls <- struct{}{}
			case strings.HasPrefix(string(m), `{"type":"queues"`):
				queues.Add(1)
			}
		}
	}()
	startDay(b, q, c, 2*b.N+100)
	for n := 1; n <= 320; n++ {
		op := fmt.Sprintf("op%03d", n)
		if _, err := q.SignIn(n, Actor{Terminal: "bench", Operator: op, Name: op}, false); err != nil {
			b.Fatal(err)
		}
	}
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	beforeStates, beforeQueues := states.Load(), queues.Load()
	b.ReportAllocs()
	cpu := cpuTime(b)
	b.ResetTimer()
	for i := range b.N {
		req, err := http.NewRequest("POST", fmt.Sprintf("%s/api/v1/windows/%d/next", ts.URL, 1+i%320), nil)
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("call %d at window %d: %s %s", i, 1+i%320, resp.Status, body)
		}
		c.Advance(250 * time.Millisecond)
	}
	timeout := time.After(time.Minute)
	for range b.N {
		select {
		case <-calls:
		case <-timeout:
			b.Fatal("the hall did not get every call")
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(states.Load()-beforeStates)/float64(b.N), "window-msgs/op")
	b.ReportMetric(float64(queues.Load()-beforeQueues)/float64(b.N), "hall-queues/op")
	b.ReportMetric(float64(cpuTime(b)-cpu)/float64(b.N)/1e3, "cpu-µs/op")
}

// cpuMeter adds up the process's CPU while a benchmark's timer runs.
type cpuMeter struct {
	b           *testing.B
	spent, mark time.Duration
}

// meterCPU starts a meter; call it just before the timer is reset.
func meterCPU(b *testing.B) *cpuMeter { return &cpuMeter{b: b, mark: cpuTime(b)} }

// pause runs f with the timer and the meter stopped.
func (m *cpuMeter) pause(f func()) {
	m.spent += cpuTime(m.b) - m.mark
	m.b.StopTimer()
	f()
	m.b.StartTimer()
	m.mark = cpuTime(m.b)
}

// report gives the CPU per op as cpu-µs/op.
func (m *cpuMeter) report() {
	m.spent += cpuTime(m.b) - m.mark
	m.b.ReportMetric(float64(m.spent)/float64(m.b.N)/1e3, "cpu-µs/op")
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
