package bus

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/cherga/kiosk/firmware-bridge/modbus"
	"github.com/cherga/kiosk/firmware-bridge/modbus/modbustest"
	"github.com/cherga/kiosk/link"
	"github.com/cherga/kiosk/link/proto"
)

// guard bounds the waits of the tests on real ports; never a measurement.
const guard = 30 * time.Second

// storeJournal is kioskd's journal in miniature: every press becomes a
// keypad or rating event in a real bbolt outbox, with its mark in the
// same transaction (link.Store.AppendMarked).
type storeJournal struct {
	store *link.Store

	mu        sync.Mutex
	committed []Event
	// commits gets every committed event, if not nil (never blocks: the
	// tests size it).
	commits chan Event
	// afterCommit, if set, runs after each commit (a crash, a lost ack).
	afterCommit func(Event)
}

func openJournal(t testing.TB, path string) *storeJournal {
	t.Helper()
	store, err := link.OpenStore(path, link.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return &storeJournal{store: store, commits: make(chan Event, 1<<16)}
}

func (j *storeJournal) Mark(key string) ([]byte, error) { return j.store.Mark(key) }

func (j *storeJournal) Commit(ev Event, key string, value []byte) error {
	m := &proto.Message{Type: proto.TypeKeypad, Keypad: &proto.Keypad{Window: ev.Window, Key: ev.Key.String(), At: ev.At}}
	if ev.Type == TypeRating {
		m = &proto.Message{Type: proto.TypeRating, Rating: &proto.Rating{Window: ev.Window, Score: int(ev.Key), At: ev.At}}
	}
	if _, err := j.store.AppendMarked(m, key, value); err != nil {
		return err
	}
	j.mu.Lock()
	j.committed = append(j.committed, ev)
	hook := j.afterCommit
	j.mu.Unlock()
	if j.commits != nil {
		j.commits <- ev
	}
	if hook != nil {
		hook(ev)
	}
	return nil
}

func (j *storeJournal) events() []Event {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]Event(nil), j.committed...)
}

// vline is a bus on a simulated line in virtual time: the tests call
// step for each poll cycle.
type vline struct {
	t      *testing.T
	line   *modbustest.Bus
	models map[byte]*model
	units  map[byte]*modbustest.Unit
	dir    string
}

func newVLine(t *testing.T) *vline {
	return &vline{t: t, line: modbustest.NewBus(modbus.DefaultLine), models: map[byte]*model{},
		units: map[byte]*modbustest.Unit{}, dir: t.TempDir()}
}

// attach puts a device of ours of type typ at unit; lose, if set, is
// asked about every request: drop the answer (the device acted on it), or
// make the device deaf to it.
func (v *vline) attach(unit byte, typ uint16, serial uint32) *model {
	m := newModel(v.line.Clock(), typ, serial)
	v.models[unit] = m
	h := &lossy{h: m}
	v.units[unit] = v.line.Attach(unit, h)
	h.unit = v.units[unit]
	return m
}

func (v *vline) setLoss(unit byte, f func(req modbus.Request) loss) {
	v.units[unit].Handler.(*lossy).lose = f
}

type loss int

const (
	keep       loss = iota
	dropAnswer      // acted on, answer lost
	deaf            // never heard
)

// lossy loses answers or requests as asked.
type lossy struct {
	h    modbus.Handler
	unit *modbustest.Unit
	lose func(req modbus.Request) loss
}

func (l *lossy) ServeModbus(unit byte, req modbus.Request) modbus.Response {
	what := keep
	if l.lose != nil && unit != modbus.BroadcastUnit {
		what = l.lose(req)
	}
	l.unit.Fault.Corrupt = what != keep
	if what == deaf {
		return modbus.ExceptionResponse(req.Function, modbus.ServerDeviceFailure)
	}
	return l.h.ServeModbus(unit, req)
}

// nopPort is a simulated line as a bus Port.
type nopPort struct{ *modbustest.Bus }

func (nopPort) Close() error { return nil }

// newBus makes a bus of devs on the line with journal j (nil: a new
// outbox in the test's directory).
func (v *vline) newBus(j Journal, devs ...DeviceConfig) *Bus {
	v.t.Helper()
	if j == nil {
		j = openJournal(v.t, filepath.Join(v.dir, "kioskd.db"))
	}
	for i := range devs {
		if devs[i].Brightness == 0 {
			devs[i].Brightness = 10
		}
	}
	b, err := New(Config{Name: "bus1", Port: "sim", Devices: devs, Journal: j, Clock: v.line.Clock(),
		LineClock: v.line.Clock(), Location: time.UTC,
		Open: func(context.Context) (Port, error) { return nopPort{v.line}, nil }})
	if err != nil {
		v.t.Fatal(err)
	}
	b.attach(nopPort{v.line})
	return b
}

// steps runs n poll cycles.
func steps(t testing.TB, b *Bus, n int) []modbus.CycleReport {
	t.Helper()
	var reps []modbus.CycleReport
	for range n {
		rep, err := b.step(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		reps = append(reps, rep)
	}
	return reps
}

// advance moves the line's clock on (the display's and profile's polls
// are spaced in time).
func (v *vline) advance(d time.Duration) { v.line.Clock().Advance(d) }

func keypadAt(unit byte, window int) DeviceConfig {
	return DeviceConfig{Name: "keypad", Type: TypeKeypad, Address: unit, Window: window, Brightness: 10}
}

func displayAt(unit byte, window int) DeviceConfig {
	return DeviceConfig{Name: "display", Type: TypeWindowDisplay, Address: unit, Window: window, Idle: IdleWindow, Brightness: 10}
}
