package link

import (
	"context"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cherga/kiosk/link/proto"
	"github.com/cherga/kiosk/queue/queuetest"
)

// chaosProxy is a TCP proxy on loopback between a terminal and the server
// that, while chaos is on, delays data, drops connections mid-stream at
// random, and cuts every connection on demand: an office network on a bad
// day.
type chaosProxy struct {
	ln     net.Listener
	target string
	chaos  atomic.Bool
	dropP  float64 // chance per chunk of dropping the connection

	mu    sync.Mutex
	rng   *rand.Rand
	conns map[net.Conn]bool
	drops int
}

func newChaosProxy(t testing.TB, target string, seed uint64) *chaosProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &chaosProxy{ln: ln, target: target, rng: rand.New(rand.NewPCG(seed, seed)), conns: map[net.Conn]bool{}, dropP: 0.05}
	t.Cleanup(func() { ln.Close(); p.cut() })
	go p.accept()
	return p
}

func (p *chaosProxy) Addr() string { return p.ln.Addr().String() }

func (p *chaosProxy) accept() {
	for {
		in, err := p.ln.Accept()
		if err != nil {
			return
		}
		out, err := net.Dial("tcp", p.target)
		if err != nil {
			in.Close()
			continue
		}
		p.mu.Lock()
		p.conns[in], p.conns[out] = true, true
		p.mu.Unlock()
		go p.pipe(out, in)
		go p.pipe(in, out)
	}
}

func (p *chaosProxy) roll() (delay time.Duration, drop bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return time.Duration(p.rng.IntN(15)) * time.Millisecond, p.rng.Float64() < p.dropP
}

func (p *chaosProxy) pipe(dst, src net.Conn) {
	defer func() { dst.Close(); src.Close() }()
	buf := make([]byte, 16<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && p.chaos.Load() {
			delay, drop := p.roll()
			if drop {
				p.mu.Lock()
				p.drops++
				p.mu.Unlock()
				return
			}
			<-time.After(delay) // the network's latency, not a test's wait
		}
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// chance is true with probability p, from the proxy's seeded generator.
func (p *chaosProxy) chance(prob float64) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rng.Float64() < prob
}

// cut closes every connection through the proxy.
func (p *chaosProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
	}
	p.conns = map[net.Conn]bool{}
}

// Through a network that delays, drops and cuts, a kiosk issues tickets
// from several taps at once; when the network calms down the server holds
// every ticket that was handed out exactly once, and nothing else in the
// queue.
func TestChaosNothingLostNothingDoubled(t *testing.T) {
	office := queuetest.Start(t, nil)
	proxy := newChaosProxy(t, office.Addr(), 42)
	r := start(t, "ws://"+proxy.Addr()+"/api/v1/link", t.TempDir(), kioskHall, func(c *Config) {
		c.ReserveTimeout, c.HandshakeTimeout = 300*time.Millisecond, time.Second
		c.Backoff = Backoff{Min: 10 * time.Millisecond, Max: 100 * time.Millisecond}
	})
	defer r.stop()
	receive(t, r.rec.welcomes, "welcome")
	proxy.chaos.Store(true)

	services := []string{"pension-age", "subsidy-housing", "certificate-income", "assist-birth"}
	const perWorker = 60
	var mu sync.Mutex
	issued := map[string]int{}
	modes := map[string]int{}
	var lastSeq uint64
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range perWorker {
				// Two workers tap only while the link is up, so the chaos
				// hits online requests; the others tap regardless.
				if w < 2 {
					if err := r.c.WaitUp(context.Background()); err != nil {
						t.Error(err)
						return
					}
				}
				is, err := r.c.IssueTicket(context.Background(), services[w])
				if err != nil {
					t.Errorf("worker %d ticket %d: %v", w, i, err)
					return
				}
				mu.Lock()
				issued[is.Number]++
				modes[is.Mode]++
				lastSeq = max(lastSeq, is.Seq)
				mu.Unlock()
				if w == 0 && proxy.chance(1.0/15) {
					proxy.cut()
				}
			}
		})
	}
	wg.Wait()
	proxy.chaos.Store(false)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := r.c.WaitAck(ctx, lastSeq); err != nil {
		t.Fatalf("outbox not delivered after the network calmed: %v (acked %d of %d)", err, r.c.Acked(), lastSeq)
	}

	tickets, err := office.Queue.Tickets(office.Queue.Today())
	if err != nil {
		t.Fatal(err)
	}
	atServer := map[string]int{}
	for _, tk := range tickets {
		if tk.State == proto.StateReserved {
			// Numbered for a request whose answer the network lost; the
			// kiosk numbered that ticket itself. Never in the queue.
			if issued[tk.Number] != 0 {
				t.Errorf("%s was handed out but is still only reserved", tk.Number)
			}
			continue
		}
		atServer[tk.Number]++
	}
	for n, c := range issued {
		if c != 1 {
			t.Errorf("%s was issued %d times", n, c)
		}
		if atServer[n] != 1 {
			t.Errorf("%s is at the server %d times", n, atServer[n])
		}
	}
	if len(atServer) != len(issued) || len(issued) != 4*perWorker {
		t.Errorf("issued %d, server has %d in the queue, want %d", len(issued), len(atServer), 4*perWorker)
	}
	proxy.mu.Lock()
	drops := proxy.drops
	proxy.mu.Unlock()
	t.Logf("modes %v, %d random drops, %d tickets", modes, drops, len(issued))
}

// A server that sends garbage cannot stop a kiosk from issuing tickets.
func TestGarbageServer(t *testing.T) {
	srv := newGarbageServer(t)
	r := start(t, srv.url, t.TempDir(), kioskHall, func(c *Config) { c.ReserveTimeout = 200 * time.Millisecond })
	defer r.stop()
	receive(t, r.rec.welcomes, "welcome")
	for range 3 {
		is := issue(t, r.c, "pension-age")
		if !is.Offline {
			t.Fatalf("garbage server numbered %+v", is)
		}
	}
	if st := r.c.Status(); st.State != StateUp {
		t.Errorf("garbage took the link down: %+v", st)
	}
}
