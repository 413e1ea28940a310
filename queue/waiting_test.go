package queue

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/cherga/kiosk/configs"
	"github.com/cherga/kiosk/link/proto"
)

// The estimates are kept as windows and lines change (waiting.go), not
// computed from every window per ticket. These tests hold them to the
// figures of the plain definition, computed here from every window and
// every line after each step of a random day: windows of several kinds
// opening, pausing, closing and changing what they serve, tickets issued,
// called, transferred, given priority, finished.

// capacityByDefinition is capacity computed from every window: each open
// window serving group counts 1 / the number of the groups it serves that
// have someone waiting (group always counted); with none open, every
// window serving group counts.
func capacityByDefinition(q *Queue, group string) (float64, int) {
	share := func(w *window) float64 {
		k := 0
		for _, g := range w.serves {
			if g == group || q.lines.count[g] > 0 {
				k++
			}
		}
		return 1 / float64(max(k, 1))
	}
	total, open := 0.0, 0
	for _, w := range q.winOrder {
		if w.state == WindowOpen && w.servesGroup(group) {
			total += share(w)
			open++
		}
	}
	if open > 0 {
		return total, open
	}
	for _, w := range q.winOrder {
		if w.servesGroup(group) {
			total += share(w)
		}
	}
	return total, 0
}

// lengthsByDefinition is the queue lengths from capacityByDefinition.
func lengthsByDefinition(q *Queue) []proto.QueueLen {
	var out []proto.QueueLen
	for _, g := range q.o.cfg.Groups {
		n := q.lines.count[g.ID]
		c, open := capacityByDefinition(q, g.ID)
		per, wait := 0.0, 0
		if c > 0 {
			per = q.perVisitor(g.ID) / c
			wait = int(math.Ceil(float64(n)*q.perVisitor(g.ID)/c - 1e-9))
		}
		out = append(out, proto.QueueLen{Group: g.ID, Waiting: n, WaitMin: wait,
			MinPerVisitor: math.Round(per*100) / 100, WindowsOpen: open})
	}
	return out
}

// checkEstimates compares the kept figures with the definition's.
func checkEstimates(t *testing.T, q *Queue, step string) {
	t.Helper()
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.stale() {
		return
	}
	for _, g := range q.o.cfg.Groups {
		got, gotOpen := q.capacity(g.ID)
		want, wantOpen := capacityByDefinition(q, g.ID)
		if math.Abs(got-want) > 1e-9 || gotOpen != wantOpen {
			t.Fatalf("%s: %s: capacity %v with %d open, by definition %v with %d", step, g.ID, got, gotOpen, want, wantOpen)
		}
	}
	got, want := q.lengthsLocked(), lengthsByDefinition(q)
	for i := range want {
		g, w := got[i], want[i]
		if g.MinPerVisitor != w.MinPerVisitor && midpoint(q, w.Group) {
			// The definition sums the windows' shares one by one (four
			// fifths make 0.7999999999999999); the kept figure divides
			// (0.8). Where minutes per visitor fall on a half hundredth,
			// 33.625, that last bit rounds it either way.
			g.MinPerVisitor = w.MinPerVisitor
		}
		if g != w {
			t.Fatalf("%s: lengths %+v, by definition %+v", step, g, w)
		}
	}
}

// midpoint reports whether group's minutes per visitor, in hundredths,
// are a half to within float rounding.
func midpoint(q *Queue, group string) bool {
	c, _ := capacityByDefinition(q, group)
	h := q.perVisitor(group) / c * 100
	return math.Abs(h-math.Floor(h)-0.5) < 1e-6
}

// kindsOffice is the day's office with windows of five kinds.
func kindsOffice(t *testing.T) *configs.Office {
	cfg := dayOffice(t)
	for i := range cfg.Windows {
		switch w := &cfg.Windows[i]; {
		case w.Number > 16: // pensions only, as dayOffice has them
		case w.Number > 14:
			w.Serves = []string{"subsidies"}
		case w.Number > 10:
			w.Serves = []string{"pensions", "assistance"}
		case w.Number > 6:
			w.Serves = []string{"subsidies", "benefits"}
		}
	}
	return cfg
}

func TestEstimatesFollowWindowsAndLines(t *testing.T) {
	c := newClock()
	cfg := kindsOffice(t)
	q, err := Open(filepath.Join(t.TempDir(), "q.db"), cfg, Options{Clock: c, Version: "kinds"})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	rng := rand.New(rand.NewPCG(7, 31))
	var services []string
	for _, s := range cfg.Services {
		services = append(services, s.ID)
	}
	var groups []string
	for _, g := range cfg.Groups {
		groups = append(groups, g.ID)
	}
	op := func(n int) Actor {
		name := fmt.Sprintf("op%02d", n)
		return Actor{Terminal: "operator", Operator: name, Name: name}
	}
	// Refusals (an empty queue, a paused window, nobody to act on) are
	// part of a day; anything else is not.
	refused := func(err error) bool {
		for _, e := range []error{ErrQueueEmpty, ErrWindowPaused, ErrNothingToCall, ErrNotWaiting, ErrBadTransfer} {
			if errors.Is(err, e) {
				return true
			}
		}
		return false
	}
	var issued []string
	version := 0
	checkEstimates(t, q, "no window open")
	day := q.Today()
	for step := range 2500 {
		if q.Today() != day { // the clock passed midnight
			day, issued = q.Today(), nil
		}
		n := 1 + rng.IntN(len(cfg.Windows))
		var what string
		var err error
		switch r := rng.IntN(100); {
		case r < 35:
			what = "issue"
			var tk proto.Ticket
			if tk, _, err = q.Issue(services[rng.IntN(len(services))], "test"); err == nil {
				issued = append(issued, tk.Number)
			}
		case r < 60:
			what = "next"
			_, err = q.NextAs(n, nil, op(n))
		case r < 66:
			what = "sign in"
			_, err = q.SignIn(n, op(n), true)
		case r < 70:
			what = "pause"
			_, err = q.Pause(n, "break", op(n))
		case r < 75:
			what = "resume"
			_, err = q.Act(n, ActResume, op(n))
		case r < 78:
			what = "sign out"
			_, err = q.Act(n, ActSignOut, op(n))
		case r < 84:
			what = "finish"
			_, err = q.Act(n, ActFinish, op(n))
		case r < 88:
			what = "transfer"
			to, toWindow := services[rng.IntN(len(services))], 0
			if rng.IntN(3) == 0 {
				to, toWindow = "", 1+rng.IntN(len(cfg.Windows))
			}
			_, err = q.Transfer(n, to, toWindow, op(n))
		case r < 92 && len(issued) > 0:
			what = "priority"
			_, _, err = q.SetPriority(day, issued[rng.IntN(len(issued))], "veteran", op(n))
		case r < 94:
			what = "reload"
			next := *cfg
			next.Windows = append([]configs.OfficeWindow(nil), cfg.Windows...)
			for i := range next.Windows {
				if rng.IntN(4) == 0 {
					next.Windows[i].Serves = []string{groups[rng.IntN(len(groups))], groups[rng.IntN(len(groups))]}
					if next.Windows[i].Serves[0] == next.Windows[i].Serves[1] {
						next.Windows[i].Serves = next.Windows[i].Serves[:1]
					}
				}
			}
			version++
			_, err = q.Reload(&next, fmt.Sprintf("kinds-%d", version))
		case r < 95 && rng.IntN(8) == 0:
			what = "next day"
			c.Advance(24 * time.Hour)
		default:
			what = "time passes"
		}
		if err != nil && !refused(err) && !errors.Is(err, ErrNotWaiting) {
			t.Fatalf("step %d, %s at window %d: %v", step, what, n, err)
		}
		c.Advance(time.Duration(rng.IntN(30)) * time.Second)
		checkEstimates(t, q, fmt.Sprintf("step %d, %s at window %d", step, what, n))
	}
	// The day's figures are not trivial: some groups wait, some windows
	// are open, some capacities are fractions.
	q.mu.Lock()
	defer q.mu.Unlock()
	fractions := 0
	for _, g := range groups {
		if c, _ := q.capacity(g); c != math.Trunc(c) {
			fractions++
		}
	}
	t.Logf("%d tickets today, %d groups with a fractional capacity at the end", len(q.tickets), fractions)
}

// TestEstimateCostIsPerGroup shows a ticket that joins a line with someone
// in it computes no capacity: the figures computed stay computed.
func TestEstimateCostIsPerGroup(t *testing.T) {
	c := newClock()
	q := openTest(t, filepath.Join(t.TempDir(), "q.db"), c)
	for range 2 {
		mustIssue(t, q, "subsidy-housing")
		mustIssue(t, q, "pension-age")
	}
	q.Lengths()
	q.mu.Lock()
	kept := len(q.lines.capacity)
	q.mu.Unlock()
	tk := mustIssue(t, q, "subsidy-housing")
	q.mu.Lock()
	defer q.mu.Unlock()
	if _, ok := q.lines.capacity["pensions"]; !ok || len(q.lines.capacity) != kept {
		t.Errorf("capacities computed %v, %d before the ticket", q.lines.capacity, kept)
	}
	if _, ok := q.lines.lengths["pensions"]; !ok {
		t.Error("pensions' length computed again for a subsidies ticket")
	}
	if _, ok := q.lines.lengths["subsidies"]; ok {
		t.Error("subsidies' length kept though a ticket joined it")
	}
	// Nobody open: the three configured windows count, window 9 serving
	// only pensions; 2 subsidies waiting ahead at 12 minutes each, over
	// windows 1 and 3, each half its time on subsidies.
	if tk.Ahead != 2 || tk.WaitMin != 24 {
		t.Errorf("ahead %d, wait %d min; want 2 and 24", tk.Ahead, tk.WaitMin)
	}
}
