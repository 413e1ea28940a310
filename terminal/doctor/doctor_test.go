package doctor

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
)

// A check that stops at its deadline is heard; one that ignores it is
// reported as not finished, and the others' results still come, in order.
func TestRunChecksBounded(t *testing.T) {
	stuck := make(chan struct{})
	defer close(stuck)
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the deadline has passed
	rs := runChecks(ctx, time.Hour, []check{
		{"quick", func(context.Context) []Result { return []Result{{Check: "quick", State: OK}} }},
		{"stuck", func(context.Context) []Result { <-stuck; return nil }},
		{"polite", func(ctx context.Context) []Result {
			<-ctx.Done()
			return []Result{{Check: "polite", State: Warn, Detail: ctx.Err().Error()}}
		}},
	})
	if len(rs) != 3 || rs[0].Check != "quick" || rs[1].Check != "stuck" || rs[1].State != Fail ||
		!strings.Contains(rs[1].Detail, "did not finish") || rs[1].Fix == "" || rs[2].Check != "polite" {
		t.Fatalf("%+v", rs)
	}
	if !Failed(rs) || Failed(rs[:1]) {
		t.Error("Failed")
	}
}

// The clock fails more than 2 s from the server's Date (whole seconds),
// and an unsynchronised kernel clock is a warning with the NTP fix.
func TestClockSkew(t *testing.T) {
	server := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		off    time.Duration
		synced bool
		want   State
	}{
		{0, true, OK}, {2900 * time.Millisecond, true, OK}, {4 * time.Second, true, Fail},
		{-3 * time.Second, true, Fail}, {0, false, Warn},
	} {
		d := &doctor{env: Env{Clock: clockwork.NewFakeClockAt(server.Add(c.off)),
			ClockSynced: func() (bool, error) { return c.synced, nil }}}
		r := d.clock(&server)
		if r.State != c.want || (r.State != OK && r.Fix != fixNTP) {
			t.Errorf("offset %s synced %v: %+v, want %s", c.off, c.synced, r, c.want)
		}
	}
}

func TestALSAHW(t *testing.T) {
	for dev, want := range map[string][3]int{"hw:1,0": {1, 0, 1}, "plughw:2": {2, 0, 1}, "default": {}, "hw:CARD=USB": {}, "xhw:1": {}} {
		c, p, ok := alsaHW(dev)
		n := 0
		if ok {
			n = 1
		}
		if [3]int{c, p, n} != want {
			t.Errorf("%q: %d %d %v", dev, c, p, ok)
		}
	}
}
