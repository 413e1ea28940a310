package announce

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"unicode"

	"github.com/cherga/kiosk/link/proto"
)

// SampleRate of composed announcements.
const SampleRate = 22050

// QueueLen is how many calls may wait to be announced. A hall rarely has
// more than a few calls a minute; a longer queue means audio is stuck, and
// speaking calls minutes late would send visitors to the wrong window.
const QueueLen = 16

// Announcer plays calls one at a time, in the order they came.
type Announcer struct {
	out     Output
	log     *slog.Logger
	queue   chan proto.Call
	played  func(c proto.Call, err error)
	dropped atomic.Int64
}

// NewAnnouncer plays through out; played, if not nil, is told when each
// call has been played (or failed).
func NewAnnouncer(out Output, log *slog.Logger, played func(proto.Call, error)) *Announcer {
	if played == nil {
		played = func(proto.Call, error) {}
	}
	return &Announcer{out: out, log: log, queue: make(chan proto.Call, QueueLen), played: played}
}

// Announce queues c. It never blocks: when the queue is full the call is
// not spoken, which is logged and counted (the screen still shows it).
func (a *Announcer) Announce(c proto.Call) bool {
	select {
	case a.queue <- c:
		return true
	default:
		a.dropped.Add(1)
		a.log.Error("announcement queue full, call not spoken", "ticket", c.Ticket, "window", c.Window)
		return false
	}
}

// Dropped counts calls not spoken because the queue was full.
func (a *Announcer) Dropped() int64 { return a.dropped.Load() }

// Run plays queued calls until ctx ends.
func (a *Announcer) Run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case c := <-a.queue:
			err := a.out.Play(ctx, Compose(c))
			if err != nil {
				a.log.Error("announcement failed", "ticket", c.Ticket, "window", c.Window, "err", err)
			} else {
				a.log.Info("announced", "ticket", c.Ticket, "window", c.Window)
			}
			a.played(c, err)
		}
	}
}

// Compose makes the audio for a call. Spoken phrases arrive with the voice
// packs; until then a call is announced by the chime.
func Compose(c proto.Call) *Clip {
	clip := Chime(SampleRate)
	clip.Name = ClipName(c)
	return clip
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
