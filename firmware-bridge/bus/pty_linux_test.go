package bus

import (
	"context"
	"errors"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/cherga/kiosk/devices"
	"github.com/cherga/kiosk/devices/supervise"
	"github.com/cherga/kiosk/firmware-bridge/modbus"
)

// ptyLine is a bus line on a pseudo-terminal: a modbus.Server answering
// for the models, reached at a symbolic link as kioskd reaches an
// adapter at /dev/serial/by-id/….
type ptyLine struct {
	t      testing.TB
	link   string
	models map[byte]*model
	pty    *modbus.PTY
	cancel context.CancelFunc
	done   chan error
}

func newPTYLine(t testing.TB, models map[byte]*model) *ptyLine {
	l := &ptyLine{t: t, link: filepath.Join(t.TempDir(), "bus1"), models: models}
	l.plug()
	t.Cleanup(l.unplug)
	return l
}

// plug makes a new pseudo-terminal at the link and serves the models.
func (l *ptyLine) plug() {
	p, err := modbus.OpenPTY()
	if err != nil {
		l.t.Fatal(err)
	}
	if err := p.Link(l.link); err != nil {
		l.t.Fatal(err)
	}
	srv := &modbus.Server{Port: p, Line: modbus.PTYLine,
		Handler: modbus.HandlerFunc(func(unit byte, req modbus.Request) modbus.Response {
			if unit == modbus.BroadcastUnit {
				for _, m := range l.models {
					m.ServeModbus(unit, req)
				}
				return modbus.Response{}
			}
			return l.models[unit].ServeModbus(unit, req)
		}),
		Units: func(u byte) bool { return l.models[u] != nil }}
	ctx, cancel := context.WithCancel(context.Background())
	l.pty, l.cancel, l.done = p, cancel, make(chan error, 1)
	go func() { l.done <- srv.Serve(ctx) }()
}

// unplug stops serving and closes the pseudo-terminal: the master's side
// reads EIO, as from a USB adapter pulled out.
func (l *ptyLine) unplug() {
	if l.pty == nil {
		return
	}
	l.cancel()
	if err := <-l.done; err != nil && !errors.Is(err, context.Canceled) {
		l.t.Errorf("server: %v", err)
	}
	l.pty.Close()
	l.pty = nil
}

// syncs signals each write of SYNC to the model.
func syncs(m *model) <-chan uint16 {
	ch := make(chan uint16, 64)
	m.mu.Lock()
	m.onWrite = func(req modbus.Request) {
		if req.Address == regSync {
			select {
			case ch <- req.Values[0]:
			default:
			}
		}
	}
	m.mu.Unlock()
	return ch
}

func receive[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(guard):
		t.Fatalf("no %s within %s", what, guard)
		panic("unreachable")
	}
}

// ptyOptions: the peer is a goroutine on shared cores, not a
// microcontroller with a 10 ms turnaround; the tests are about bytes.
var ptyOptions = modbus.MasterOptions{Slack: 500 * time.Millisecond}

func runBus(t testing.TB, cfg Config) *Bus {
	t.Helper()
	b, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { b.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return b
}

// Over a real pseudo-terminal through go.bug.st/serial: the display
// shows a call, a press is committed, and when the "adapter" is pulled
// out and plugged back the bus reopens it, sets the devices up again, and
// the press made meanwhile is committed once.
func TestOverPTY(t *testing.T) {
	clock := clockwork.NewRealClock()
	kp, wd := newModel(clock, 2, 0xA1), newModel(clock, 1, 0xA2)
	line := newPTYLine(t, map[byte]*model{1: wd, 2: kp})
	kpSync, wdSync := syncs(kp), syncs(wd)
	j := openJournal(t, filepath.Join(t.TempDir(), "kioskd.db"))
	b := runBus(t, Config{Name: "bus1", Port: line.link, Line: modbus.PTYLine, Journal: j, Master: ptyOptions,
		Backoff:  supervisedFast,
		Devices:  []DeviceConfig{displayAt(1, 3), keypadAt(2, 3)},
		Location: time.UTC})
	receive(t, wdSync, "display set up")
	receive(t, kpSync, "keypad set up")
	d := b.Displays()[0]
	if err := d.Show(context.Background(), Call{Text: "А123"}); err != nil {
		t.Fatal(err)
	}
	if text, window, _ := wd.face(); text != "А123" || window != 3 {
		t.Fatalf("face %q window %d", text, window)
	}
	kp.press(uint16(KeyNext))
	if ev := receive(t, j.commits, "press committed"); ev.Key != KeyNext || ev.Window != 3 {
		t.Fatalf("committed %+v", ev)
	}

	line.unplug()
	kp.press(uint16(KeyFinish)) // made while the adapter is out
	line.plug()
	receive(t, wdSync, "display set up again")
	receive(t, kpSync, "keypad set up again")
	if ev := receive(t, j.commits, "press committed after the replug"); ev.Key != KeyFinish || ev.Seq != 2 {
		t.Fatalf("committed %+v", ev)
	}
	if st := b.Status(); st.Reopens < 1 || st.State != devices.OK {
		t.Errorf("bus status %+v", st)
	}
	select {
	case ev := <-j.commits:
		t.Fatalf("committed again: %+v", ev)
	default:
	}
	if got := j.store.Outbox().Events; got != 2 {
		t.Errorf("outbox %d events, want 2", got)
	}
}

var supervisedFast = supervise.Backoff{Min: 5 * time.Millisecond, Max: 20 * time.Millisecond}

// BenchmarkPressToOutbox: a key press on a keypad over a pseudo-terminal
// at 19200 8N2, until its event is committed in a real bbolt outbox, with
// the Master's default timeouts. Reported: the median and 99th percentile
// of that latency, and beside them PROTOCOL.md section 11's bound on the
// wait (a press waits at most one cycle: here max(CycleMin, one poll's
// CycleBound)) and the poll's wire-time floor. A pseudo-terminal moves
// bytes at once, so the figures are the host's side: silences, timeouts,
// scheduling and the bbolt commit (fsync). Each press comes at a random
// moment of the cycle (the wait before it is not timed).
//
//	go test -run X -bench PressToOutbox -benchtime 300x ./firmware-bridge/bus/
func BenchmarkPressToOutbox(b *testing.B) {
	clock := clockwork.NewRealClock()
	kp := newModel(clock, 2, 0xB1)
	line := newPTYLine(b, map[byte]*model{2: kp})
	kpSync := syncs(kp)
	j := openJournal(b, filepath.Join(b.TempDir(), "kioskd.db"))
	bus := runBus(b, Config{Name: "bus1", Port: line.link, Line: modbus.PTYLine, Journal: j,
		Devices: []DeviceConfig{keypadAt(2, 3)}, Location: time.UTC})
	receive(b, kpSync, "keypad set up")
	var lat []time.Duration
	for b.Loop() {
		// A press comes at any moment of the cycle, not just after the
		// last commit.
		b.StopTimer()
		time.Sleep(rand.N(bus.cfg.CycleMin + 5*time.Millisecond))
		b.StartTimer()
		start := time.Now()
		kp.press(uint16(KeyNext))
		receive(b, j.commits, "press committed")
		lat = append(lat, time.Since(start))
	}
	sort.Slice(lat, func(i, k int) bool { return lat[i] < lat[k] })
	pct := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	poll := modbus.ReadInput(inPoll, pollQty)
	bound := max(bus.cfg.CycleMin, modbus.CycleBound(modbus.PTYLine, bus.Master().Options(), 1, 0, poll))
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(pct(0.50)), "p50-ms")
	b.ReportMetric(ms(pct(0.99)), "p99-ms")
	b.ReportMetric(ms(bound), "bound-ms")
	b.ReportMetric(ms(modbus.WireTime(modbus.PTYLine, poll)), "wire-ms")
	if got := j.store.Outbox().Events; got != len(lat) {
		b.Fatalf("%d events for %d presses", got, len(lat))
	}
}

// A port that is not there at start (the adapter not plugged in yet) is
// reported and tried again; once it appears the bus opens it.
func TestPortMissingAtStart(t *testing.T) {
	clock := clockwork.NewRealClock()
	kp := newModel(clock, 2, 0xC1)
	link := filepath.Join(t.TempDir(), "bus1")
	j := openJournal(t, filepath.Join(t.TempDir(), "kioskd.db"))
	b := runBus(t, Config{Name: "bus1", Port: link, Line: modbus.PTYLine, Journal: j, Master: ptyOptions,
		Backoff: supervisedFast, Devices: []DeviceConfig{keypadAt(2, 3)}, Location: time.UTC})
	for b.loop.Status().Failures == 0 {
		receive(t, b.loop.Changes(), "the failed open")
	}
	if st := b.Status(); st.State != devices.Fault || !strings.Contains(st.Detail, "cannot open "+link) {
		t.Fatalf("bus %+v", st)
	}
	if st := b.Keypads()[0].Status(); st.State != devices.Fault || !strings.Contains(st.Detail, "bus port not open") {
		t.Fatalf("keypad %+v", st)
	}
	kpSync := syncs(kp)
	line := &ptyLine{t: t, link: link, models: map[byte]*model{2: kp}}
	line.plug()
	t.Cleanup(line.unplug)
	receive(t, kpSync, "keypad set up")
	kp.press(uint16(KeyNext))
	receive(t, j.commits, "press committed")
}
