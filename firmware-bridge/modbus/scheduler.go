package modbus

import (
	"context"
	"sync"
	"time"
)

// PollFunc polls one device: typically one DoOnce of its poll block, then
// whatever that answer asks for (read events, acknowledge, resync). It
// should stop at its first error, so a device that has just died costs
// one timeout.
type PollFunc func(ctx context.Context, m *Master, unit byte) error

// Scheduler runs the poll cycle of one bus.
//
// Each cycle polls every device in turn, except devices that are backed
// off; of those, at most one whose probe is due is polled (round robin).
// So with N devices answering, the cycle, and with it every device's
// latency (a press waits at most one cycle to be read), is bounded by
//
//	Σ over answering devices of their poll's bus time
//	  + Σ over devices failing right now (not yet backed off) of attempts × RequestTimeout
//	  + one RequestTimeout for the probe of a backed-off device
//
// A device is backed off after Options().OfflineAfter failures, so a dead
// device costs at most OfflineAfter cycles one timeout each, then at most
// one timeout per cycle shared by every dead device. CycleBound computes
// the bound for uniform polls.
type Scheduler struct {
	m *Master

	mu      sync.Mutex
	entries []*pollEntry
	probe   int
	cycles  uint64
	longest time.Duration
}

type pollEntry struct {
	unit   byte
	poll   PollFunc
	last   time.Time
	maxGap time.Duration
	errors uint64
}

// NewScheduler returns a scheduler for the master's bus.
func NewScheduler(m *Master) *Scheduler {
	return &Scheduler{m: m}
}

// Add puts a device in the cycle (replacing its poll if present).
func (s *Scheduler) Add(unit byte, poll PollFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range s.entries {
		if e.unit == unit {
			e.poll = poll
			return
		}
	}
	s.entries = append(s.entries, &pollEntry{unit: unit, poll: poll})
}

// Remove takes a device out of the cycle.
func (s *Scheduler) Remove(unit byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, e := range s.entries {
		if e.unit == unit {
			s.entries = append(s.entries[:i], s.entries[i+1:]...)
			return
		}
	}
}

// CycleReport says what one cycle did.
type CycleReport struct {
	Start    time.Time
	Duration time.Duration
	Polled   int  // devices polled (answering or not)
	Failed   int  // polls that returned an error
	Probed   byte // the backed-off device probed, 0 if none
	Skipped  int  // backed-off devices not polled
}

// Cycle runs one poll cycle.
func (s *Scheduler) Cycle(ctx context.Context) CycleReport {
	clock := s.m.rtu.clock
	s.mu.Lock()
	entries := append([]*pollEntry(nil), s.entries...)
	probeStart := s.probe
	s.mu.Unlock()

	rep := CycleReport{Start: clock.Now()}
	// Pick the one probe of this cycle, round robin from where the last
	// cycle's search ended.
	probe := -1
	for k := range entries {
		i := (probeStart + k) % len(entries)
		if s.m.ProbeDue(entries[i].unit) {
			probe = i
			break
		}
	}
	for i, e := range entries {
		if ctx.Err() != nil {
			break
		}
		if (s.m.BackedOff(e.unit) || s.m.ProbeDue(e.unit)) && i != probe {
			rep.Skipped++
			continue
		}
		if i == probe {
			rep.Probed = e.unit
		}
		err := e.poll(ctx, s.m, e.unit)
		now := clock.Now()
		s.mu.Lock()
		if !e.last.IsZero() {
			e.maxGap = max(e.maxGap, now.Sub(e.last))
		}
		e.last = now
		if err != nil {
			e.errors++
		}
		s.mu.Unlock()
		rep.Polled++
		if err != nil {
			rep.Failed++
		}
	}
	rep.Duration = clock.Since(rep.Start)
	s.mu.Lock()
	if probe >= 0 {
		s.probe = probe + 1
	}
	s.cycles++
	s.longest = max(s.longest, rep.Duration)
	s.mu.Unlock()
	return rep
}

// Run polls cycle after cycle until ctx ends, starting cycles at least
// period apart (0: back to back).
func (s *Scheduler) Run(ctx context.Context, period time.Duration) error {
	clock := s.m.rtu.clock
	for {
		rep := s.Cycle(ctx)
		if err := ctx.Err(); err != nil {
			return err
		}
		if rest := period - rep.Duration; rest > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-clock.After(rest):
			}
		} else if rep.Polled == 0 {
			// Nothing to poll (every device backed off): wait for the
			// earliest probe rather than spin.
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-clock.After(s.m.opts.BackoffMin / 4):
			}
		}
	}
}

// SchedulerStats are the scheduler's measurements.
type SchedulerStats struct {
	Cycles  uint64
	Longest time.Duration          // the longest cycle so far
	MaxGap  map[byte]time.Duration // per device: the longest time between two of its polls
}

// Stats returns the scheduler's measurements.
func (s *Scheduler) Stats() SchedulerStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := SchedulerStats{Cycles: s.cycles, Longest: s.longest, MaxGap: map[byte]time.Duration{}}
	for _, e := range s.entries {
		st.MaxGap[e.unit] = e.maxGap
	}
	return st
}

// CycleBound is the longest cycle for devices devices each polled with
// one attempt of poll, dead devices of them backed off: the bound of the
// Scheduler's documentation for uniform polls with every device answering
// within its turnaround budget.
func CycleBound(line Line, o MasterOptions, devices, dead int, poll Request) time.Duration {
	o = o.normal()
	m := &Master{rtu: &RTU{line: line.normal()}, opts: o}
	first, whole := m.Timeouts(poll)
	answering := line.T35() + line.WireTime(RequestSize(poll)) + first + whole
	d := time.Duration(devices-dead) * answering
	if dead > 0 {
		d += m.RequestTimeout(poll)
	}
	return d
}

// WireTime is the least time one poll of poll takes on the line: the
// request, the answer and the two silences, with a device that answers at
// once.
func WireTime(line Line, poll Request) time.Duration {
	return 2*line.T35() + line.WireTime(RequestSize(poll)+ResponseSize(poll))
}
