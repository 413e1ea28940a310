package modbus_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/cherga/kiosk/firmware-bridge/modbus"
	"github.com/cherga/kiosk/firmware-bridge/modbus/modbustest"
)

var pollReq = modbus.ReadInput(0x0000, 6) // PROTOCOL.md's poll block

func pollBlock(ctx context.Context, m *modbus.Master, unit byte) error {
	_, err := m.DoOnce(ctx, unit, pollReq)
	return err
}

func bus32(line modbus.Line, dead ...byte) (*modbustest.Bus, *modbus.Scheduler, *modbus.Master) {
	bus := modbustest.NewBus(line)
	for u := byte(1); u <= 32; u++ {
		bus.Attach(u, windowDisplay())
	}
	for _, u := range dead {
		bus.Unit(u).Fault.Silent = true
	}
	rtu := modbus.NewRTU(bus, modbus.RTUOptions{Line: line, Clock: bus.Clock()})
	m := modbus.NewMaster(rtu, modbus.MasterOptions{})
	s := modbus.NewScheduler(m)
	for u := byte(1); u <= 32; u++ {
		s.Add(u, pollBlock)
	}
	return bus, s, m
}

// TestSchedulerLatencyBound: 32 devices, two dead. After the dead ones are
// backed off, every cycle stays within CycleBound, probes at most one of
// them, and polls every answering device, so a press waits at most one
// cycle.
func TestSchedulerLatencyBound(t *testing.T) {
	ctx := context.Background()
	line := modbus.DefaultLine
	_, s, m := bus32(line, 7, 20)
	bound := modbus.CycleBound(line, m.Options(), 32, 2, pollReq)
	opts := m.Options()
	for i := range 200 {
		rep := s.Cycle(ctx)
		if i < opts.OfflineAfter {
			continue // the dead are still being found out
		}
		if rep.Duration > bound {
			t.Fatalf("cycle %d took %v, bound %v (%+v)", i, rep.Duration, bound, rep)
		}
		if rep.Polled < 30 || rep.Polled > 31 {
			t.Fatalf("cycle %d polled %d devices, want the 30 answering (+ at most one probe)", i, rep.Polled)
		}
	}
	st := s.Stats()
	for u := byte(1); u <= 32; u++ {
		h := m.Health(u)
		dead := u == 7 || u == 20
		if h.Online == dead {
			t.Errorf("unit %d online=%v", u, h.Online)
		}
		if !dead && st.MaxGap[u] > bound {
			t.Errorf("unit %d waited %v between polls, bound %v", u, st.MaxGap[u], bound)
		}
	}
	// The dead were probed, with back-off: far fewer than one per cycle each.
	for _, u := range []byte{7, 20} {
		if h := m.Health(u); h.Requests < 4 || h.Requests > 20 {
			t.Errorf("unit %d: %d requests in 200 cycles", u, h.Requests)
		}
	}
	t.Logf("19200 8E1, 32 devices, 2 dead: longest cycle %v, bound %v, wire-time floor %v",
		st.Longest, bound, 32*modbus.WireTime(line, pollReq))
}

// TestSchedulerDeviceDies: a device dies mid-run; the cycle grows by one
// timeout for OfflineAfter cycles, then back to normal.
func TestSchedulerDeviceDies(t *testing.T) {
	ctx := context.Background()
	bus, s, m := bus32(modbus.DefaultLine)
	normal := s.Cycle(ctx).Duration
	bus.Unit(9).Fault.Silent = true
	timeout := m.RequestTimeout(pollReq)
	for i := range m.Options().OfflineAfter {
		d := s.Cycle(ctx).Duration
		if d > normal+timeout+time.Millisecond {
			t.Errorf("cycle %d with a dying device: %v, want ≤ %v", i, d, normal+timeout)
		}
	}
	if m.Health(9).Online {
		t.Fatal("unit 9 still online")
	}
	if d := s.Cycle(ctx).Duration; d > normal {
		t.Errorf("cycle after back-off %v, normal %v", d, normal)
	}
}

// BenchmarkPollCycle32 polls 32 devices (PROTOCOL.md's 6-register poll
// block) on the simulated line. ns/op is the host's CPU per cycle;
// wire-ms is the cycle's length on the line's clock with devices that
// answer 1 ms after t3.5, floor-ms the wire-time floor (frames × 11 bits
// / baud + two t3.5 per poll, devices answering at once).
func BenchmarkPollCycle32(b *testing.B) {
	for _, baud := range []int{9600, 19200, 115200} {
		line := modbus.Line{Baud: baud, Parity: modbus.ParityEven, StopBits: 1}
		b.Run(fmt.Sprint(baud), func(b *testing.B) {
			bus, s, _ := bus32(line)
			ctx := context.Background()
			start := bus.Clock().Now()
			b.ReportAllocs()
			for b.Loop() {
				if rep := s.Cycle(ctx); rep.Failed != 0 {
					b.Fatalf("%+v", rep)
				}
			}
			virt := bus.Clock().Since(start)
			b.ReportMetric(float64(virt.Microseconds())/1000/float64(b.N), "wire-ms/cycle")
			b.ReportMetric(float64((32*modbus.WireTime(line, pollReq)).Microseconds())/1000, "floor-ms/cycle")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/32, "cpu-ns/poll")
		})
	}
}

func TestSchedulerRun(t *testing.T) {
	_, s, _ := bus32(modbus.DefaultLine)
	ctx, cancel := context.WithCancel(context.Background())
	polls := 0
	s.Add(33, func(ctx context.Context, m *modbus.Master, unit byte) error {
		if polls++; polls == 5 {
			cancel()
		}
		return nil
	})
	if err := s.Run(ctx, 0); err != context.Canceled {
		t.Fatalf("Run: %v", err)
	}
	if st := s.Stats(); st.Cycles != 5 {
		t.Errorf("%d cycles, want 5", st.Cycles)
	}
	s.Remove(33)
	if rep := s.Cycle(context.Background()); rep.Polled != 32 {
		t.Errorf("after Remove: %+v", rep)
	}
}
