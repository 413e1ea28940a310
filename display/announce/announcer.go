package announce

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/jonboulle/clockwork"

	"github.com/cherga/kiosk/link/proto"
)

// SampleRate of composed announcements.
const SampleRate = 22050

// QueueLen is how many calls may wait to be announced. A hall rarely has
// more than a few calls a minute; a longer queue means audio is stuck.
const QueueLen = 16

// Config is how calls are spoken.
type Config struct {
	// MaxAge: a call older than this when its turn comes is shown, not
	// spoken; speaking it late would send people to the wrong window.
	MaxAge time.Duration // default 2 minutes
	// Repeat is how many times each call is spoken, one after the other.
	Repeat int // default 1
	// Volume by time of day; outside every slot the volume is 1.
	Volume []VolumeSlot
	// Quiet hours: only the chime, no speech.
	Quiet *Period
	// Location is the office's time zone for the schedule.
	Location *time.Location
	// Clock is the time the announcer's rules run on (a call's age, the
	// volume and quiet hours); nil: the real clock.
	Clock clockwork.Clock
}

// Period is a time of day range; To before From wraps past midnight.
type Period struct {
	From, To time.Duration // since midnight
}

// Contains reports whether t's time of day is in the period.
func (p Period) Contains(t time.Time) bool {
	d := time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute + time.Duration(t.Second())*time.Second
	if p.From <= p.To {
		return d >= p.From && d < p.To
	}
	return d >= p.From || d < p.To
}

// VolumeSlot is a volume, 0 to 1, for a period of the day.
type VolumeSlot struct {
	Period
	Volume float64
}

// ParseClock reads "HH:MM" as a time of day.
func ParseClock(s string) (time.Duration, error) {
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, fmt.Errorf("announce: %q is not a time of day like 08:30", s)
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
}

// Announcer plays calls one at a time, in the order they came, each whole:
// never two at once, never one cut off by the next.
type Announcer struct {
	cfg   Config
	voice *Voice
	out   Output
	log   *slog.Logger
	queue chan queued
	// Started is told when a call's audio goes to the output (the hall page
	// starts its highlight then); Done when it has played, or failed, or
	// was dropped (err says why).
	started func(c proto.Call)
	done    func(c proto.Call, err error)

	mu      sync.Mutex
	seen    map[string]bool // call ids queued, so a call is spoken once
	order   []string
	dropped int
}

type queued struct {
	call proto.Call
	at   time.Time
}

// Callbacks are told about each call's audio; either may be nil.
type Callbacks struct {
	Started func(c proto.Call)
	Done    func(c proto.Call, err error)
}

// NewAnnouncer speaks with voice through out.
func NewAnnouncer(cfg Config, voice *Voice, out Output, log *slog.Logger, cb Callbacks) *Announcer {
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = 2 * time.Minute
	}
	if cfg.Repeat < 1 {
		cfg.Repeat = 1
	}
	if cfg.Location == nil {
		cfg.Location = time.Local
	}
	if cfg.Clock == nil {
		cfg.Clock = clockwork.NewRealClock()
	}
	if voice == nil {
		voice = NewVoice(nil, nil, log, cfg.Clock)
	}
	if cb.Started == nil {
		cb.Started = func(proto.Call) {}
	}
	if cb.Done == nil {
		cb.Done = func(proto.Call, error) {}
	}
	return &Announcer{cfg: cfg, voice: voice, out: out, log: log, queue: make(chan queued, QueueLen),
		started: cb.Started, done: cb.Done, seen: map[string]bool{}}
}

// ErrStale and ErrQueueFull say why a call was not spoken.
var (
	ErrStale     = fmt.Errorf("announce: call too old to speak")
	ErrQueueFull = fmt.Errorf("announce: announcement queue full")
)

// Announce queues c. It never blocks. A call already queued (the same id)
// is not queued again; when the queue is full the call is not spoken,
// which is logged and counted: the screen still shows it.
func (a *Announcer) Announce(c proto.Call) bool {
	a.mu.Lock()
	if a.seen[c.ID] {
		a.mu.Unlock()
		return false
	}
	a.seen[c.ID] = true
	a.order = append(a.order, c.ID)
	if len(a.order) > 256 {
		delete(a.seen, a.order[0])
		a.order = a.order[1:]
	}
	a.mu.Unlock()
	select {
	case a.queue <- queued{call: c, at: a.cfg.Clock.Now()}:
		return true
	default:
		a.mu.Lock()
		a.dropped++
		a.mu.Unlock()
		a.log.Error("announcement queue full, call not spoken", "ticket", c.Ticket, "window", c.Window)
		a.done(c, ErrQueueFull)
		return false
	}
}

// Dropped counts calls not spoken because the queue was full.
func (a *Announcer) Dropped() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.dropped
}

// Run plays queued calls until ctx ends.
func (a *Announcer) Run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case q := <-a.queue:
			a.play(ctx, q)
		}
	}
}

func (a *Announcer) play(ctx context.Context, q queued) {
	now := a.cfg.Clock.Now()
	c := q.call
	// The call's own time is the server's; the time it reached this
	// terminal is ours. Either too old means too late.
	if age := max(now.Sub(q.at), now.Sub(c.At)); !c.At.IsZero() && age > a.cfg.MaxAge {
		a.log.Warn("call too old to speak, shown only", "ticket", c.Ticket, "window", c.Window, "age", age.Round(time.Second))
		a.done(c, ErrStale)
		return
	}
	clip, quiet := a.Render(c, now)
	a.started(c)
	err := a.out.Play(ctx, clip)
	if err != nil {
		a.log.Error("announcement failed", "ticket", c.Ticket, "window", c.Window, "err", err)
	} else {
		a.log.Info("announced", "ticket", c.Ticket, "window", c.Window, "seconds", fmt.Sprintf("%.1f", clip.Seconds()), "quiet", quiet)
	}
	a.done(c, err)
}

// Render is the audio of c as the announcer plays it at now: the voice's
// composition, at the volume of that time of day, repeated as configured;
// in quiet hours the chime only.
func (a *Announcer) Render(c proto.Call, now time.Time) (clip *Clip, quiet bool) {
	a.mu.Lock()
	loc := a.cfg.Location
	a.mu.Unlock()
	local := now.In(loc)
	quiet = a.cfg.Quiet != nil && a.cfg.Quiet.Contains(local)
	clip = a.voice.Compose(c, quiet)
	volume := 1.0
	for _, s := range a.cfg.Volume {
		if s.Contains(local) {
			volume = s.Volume
		}
	}
	clip = clip.Scaled(volume)
	if a.cfg.Repeat > 1 {
		clip = clip.Repeated(a.cfg.Repeat, SampleRate)
	}
	return clip, quiet
}

// SetLocation sets the time zone of the volume schedule and quiet hours:
// the office's, once the server has said which it is.
func (a *Announcer) SetLocation(loc *time.Location) {
	a.mu.Lock()
	a.cfg.Location = loc
	a.mu.Unlock()
}

// Scaled is the clip at volume (0 to 1).
func (c *Clip) Scaled(volume float64) *Clip {
	if volume >= 1 {
		return c
	}
	volume = max(0, volume)
	out := &Clip{Name: c.Name, Rate: c.Rate, Samples: make([]int16, len(c.Samples))}
	for i, v := range c.Samples {
		out.Samples[i] = int16(float64(v) * volume)
	}
	return out
}

// Repeated is the clip n times, a second of quiet between.
func (c *Clip) Repeated(n, rate int) *Clip {
	out := &Clip{Name: c.Name, Rate: c.Rate}
	for i := range n {
		if i > 0 {
			out.Samples = append(out.Samples, make([]int16, rate)...)
		}
		out.Samples = append(out.Samples, c.Samples...)
	}
	return out
}

// ClipName names a call's audio: time, ticket and window, so a technician
// finds the announcement of a given call.
func ClipName(c proto.Call) string {
	// The ticket comes from the network: keep letters and digits only, so
	// it can never name a path outside the output directory.
	ticket := strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return r
		}
		return -1
	}, c.Ticket)
	name := fmt.Sprintf("%s-%s-w%d", c.At.Format("20060102T150405"), ticket, c.Window)
	if c.Recall {
		name += "-again"
	}
	return name
}

// Compose is the announcement of c with no phrase pack: the chime. It is
// what a hall without voice packs plays.
func Compose(c proto.Call) *Clip {
	return NewVoice(nil, nil, nil).Compose(c, true)
}
