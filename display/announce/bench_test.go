package announce

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/cherga/kiosk/devices"
	"github.com/cherga/kiosk/link/proto"
)

func tonePack(b *testing.B) *Voice {
	dir := filepath.Join(b.TempDir(), "uk")
	writePack(b, dir, DefaultPauses)
	p, err := LoadPack(dir)
	if err != nil {
		b.Fatal(err)
	}
	return NewVoice([]*Pack{p, p}, nil, quiet) // two languages' worth
}

// BenchmarkCompose: the whole announcement of a call, in two languages.
func BenchmarkCompose(b *testing.B) {
	v := tonePack(b)
	c := proto.Call{Ticket: "Д987", Window: 12}
	b.ReportAllocs()
	for b.Loop() {
		v.Compose(c, false)
	}
}

// handoff is an output that says when a clip reaches it.
type handoff chan time.Time

func (h handoff) Play(ctx context.Context, c *Clip) error { h <- time.Now(); return nil }
func (h handoff) Status() devices.Status                  { return devices.Status{} }

// BenchmarkCallToAudio: a call handed to the announcer until its audio is
// handed to the output (composition included), with p50 and p99.
func BenchmarkCallToAudio(b *testing.B) {
	v := tonePack(b)
	out := make(handoff)
	a := NewAnnouncer(Config{}, v, out, quiet, Callbacks{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go a.Run(ctx)
	var lat []time.Duration
	i := 0
	for b.Loop() {
		i++
		start := time.Now()
		a.Announce(proto.Call{ID: fmt.Sprint(i), Ticket: "Д987", Window: 12, At: start})
		lat = append(lat, (<-out).Sub(start))
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}
