package announce

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cherga/kiosk/devices"
	"github.com/cherga/kiosk/link/proto"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestWAVHeader(t *testing.T) {
	c := &Clip{Rate: 22050, Samples: []int16{0, 1000, -1000, 0}}
	var b bytes.Buffer
	if err := c.WriteWAV(&b); err != nil {
		t.Fatal(err)
	}
	h := b.Bytes()
	if len(h) != 44+8 || string(h[0:4]) != "RIFF" || string(h[8:12]) != "WAVE" || string(h[36:40]) != "data" {
		t.Fatalf("header % x", h[:44])
	}
	le := binary.LittleEndian
	if le.Uint32(h[4:]) != 36+8 || le.Uint16(h[20:]) != 1 || le.Uint16(h[22:]) != 1 ||
		le.Uint32(h[24:]) != 22050 || le.Uint16(h[34:]) != 16 || le.Uint32(h[40:]) != 8 {
		t.Errorf("header fields % x", h[:44])
	}
}

// The chime starts and ends silent (no click) and never clips.
func TestChimeIsClean(t *testing.T) {
	c := Chime(SampleRate)
	if s := c.Seconds(); s < 1 || s > 2 {
		t.Errorf("chime lasts %.2f s", s)
	}
	peak := 0
	for _, v := range c.Samples {
		peak = max(peak, abs(int(v)))
	}
	if peak < 10000 || peak > 32000 {
		t.Errorf("peak %d", peak)
	}
	if a, z := abs(int(c.Samples[0])), abs(int(c.Samples[len(c.Samples)-1])); a > 100 || z > 1500 {
		t.Errorf("edges %d and %d: would click", a, z)
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func TestClipNameIsSafe(t *testing.T) {
	at := time.Date(2026, 11, 23, 10, 15, 0, 0, time.UTC)
	if got := ClipName(proto.Call{Ticket: "А012", Window: 3, At: at}); got != "20261123T101500-А012-w3" {
		t.Errorf("got %q", got)
	}
	got := ClipName(proto.Call{Ticket: "../../etc/passwd", Window: 1, At: at, Recall: true})
	if strings.ContainsAny(got, "/.") || !strings.HasSuffix(got, "-again") {
		t.Errorf("unsafe name %q", got)
	}
}

// playlog is an Output that records what it plays and lets the test decide
// when each clip finishes.
type playlog struct {
	mu      sync.Mutex
	playing int
	overlap bool
	started chan string
	release chan struct{}
}

func (p *playlog) Play(ctx context.Context, c *Clip) error {
	p.mu.Lock()
	p.playing++
	if p.playing > 1 {
		p.overlap = true
	}
	p.mu.Unlock()
	p.started <- c.Name
	<-p.release
	p.mu.Lock()
	p.playing--
	p.mu.Unlock()
	return nil
}

func (p *playlog) Status() devices.Status { return devices.Status{} }

func TestAnnouncerPlaysInOrderOneAtATime(t *testing.T) {
	out := &playlog{started: make(chan string), release: make(chan struct{})}
	played := make(chan string, 8)
	a := NewAnnouncer(out, quiet, func(c proto.Call, err error) { played <- c.Ticket })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go a.Run(ctx)
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	for i, tk := range []string{"А001", "Б002", "В003"} {
		a.Announce(proto.Call{ID: tk, Ticket: tk, Window: i + 1, At: at})
	}
	for _, want := range []string{"А001", "Б002", "В003"} {
		name := <-out.started
		if !strings.Contains(name, want) {
			t.Fatalf("playing %s, want %s", name, want)
		}
		out.release <- struct{}{}
		if got := <-played; got != want {
			t.Fatalf("played %s, want %s", got, want)
		}
	}
	if out.overlap {
		t.Error("two announcements played at once")
	}
}

// A full queue drops the newest call, counts it, and never blocks.
func TestAnnouncerQueueFull(t *testing.T) {
	out := &playlog{started: make(chan string, 1), release: make(chan struct{})}
	a := NewAnnouncer(out, quiet, nil)
	for i := range QueueLen {
		if !a.Announce(proto.Call{ID: string(rune('a' + i))}) {
			t.Fatalf("call %d refused below the limit", i)
		}
	}
	if a.Announce(proto.Call{ID: "over"}) || a.Dropped() != 1 {
		t.Errorf("over the limit: dropped %d", a.Dropped())
	}
}

func TestWAVDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "announcements")
	out, err := NewWAVDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	c := Compose(proto.Call{Ticket: "А012", Window: 5, At: time.Date(2026, 11, 23, 10, 15, 0, 0, time.UTC)})
	if err := out.Play(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "20261123T101500-А012-w5.wav"))
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 44+2*len(c.Samples) || out.Status().State != devices.OK {
		t.Errorf("file %d bytes, status %+v", len(b), out.Status())
	}
}
