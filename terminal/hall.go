package terminal

import (
	"context"
	"github.com/cherga/kiosk/httpapi"
	"path/filepath"
	"sync"
	"time"

	"github.com/cherga/kiosk/configs"
	"github.com/cherga/kiosk/display"
	"github.com/cherga/kiosk/display/announce"
	"github.com/cherga/kiosk/link/proto"
)

// hallPart is the hall role: the hall page at /hall/, its LED boards, and
// the voice (phrase packs, the announcer, the audio output). A call is
// shown at once; its highlight starts when its announcement plays, and the
// server is told once it was heard.
type hallPart struct {
	deviceSet
	t      *Terminal
	cfg    configs.HallRole
	hall   *display.Hall
	voice  *announce.Announcer
	speech *announce.Voice
	out    announce.Output // the audio, for the admin page's speaker test
}

func newHallPart(b *build) (part, error) {
	if !b.cfg.Has(configs.RoleHall) {
		return nil, nil
	}
	h := b.cfg.Hall
	p := &hallPart{t: b.Terminal, cfg: h}
	out := openAudio(b.cfg, b.clock.Now())
	p.add(out)
	p.out = out
	p.speech = announce.OpenVoice(VoiceSetup(b.cfg, b.log.With("device", "voice")))
	p.add(p.speech)
	var boards []display.Board
	for _, bc := range h.Boards {
		if board := b.display.openBoard(&p.deviceSet, bc); board != nil {
			boards = append(boards, board)
		}
	}
	acfg, err := AnnouncerConfig(h.Voice)
	if err != nil { // checked when the config was read
		b.log.Error("voice settings", "err", err)
	}
	acfg.Clock = b.clock
	// The announcer reports to the hall page through the part, whose hall
	// is set before anything runs.
	p.voice = announce.NewAnnouncer(acfg, p.speech, out, b.log, announce.Callbacks{Started: p.speaking, Done: p.announced})
	p.hall = display.NewHall(display.HallConfig{RecentCalls: h.RecentCalls, Highlight: h.Highlight, Message: proto.Text(h.Message), Clock: b.clock},
		p.voice, boards, b.log)
	return p, nil
}

func (*hallPart) Name() string                  { return "hall" }
func (p *hallPart) Register(mux httpapi.Routes) { p.hall.Register(mux) }

// Run plays the announcements and, on a fresh install, builds the phrase
// packs; when the terminal stops it disconnects the hall pages at once.
func (p *hallPart) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Go(func() { p.voice.Run(ctx) })
	if p.cfg.Voice.Build && len(p.speech.NeedsBuild()) > 0 {
		// A fresh install speaks at once: espeak-ng fills in the packs
		// while calls are spoken by text-to-speech meanwhile.
		wg.Go(func() {
			if err := p.speech.Build(ctx); err != nil && ctx.Err() == nil {
				p.t.log.Error("phrase packs not built", "err", err)
			}
		})
	}
	<-ctx.Done()
	p.hall.Close()
	wg.Wait()
	return nil
}

// speaking: the call's audio started; its highlight starts on the page.
func (p *hallPart) speaking(c proto.Call) { p.hall.Speaking(c) }

// announced: the call was spoken (or could not be); once heard, the
// server is told.
func (p *hallPart) announced(c proto.Call, err error) {
	p.t.metrics.callAnnounced(c, err, p.t.clock.Now())
	p.hall.Announced(c, err)
	if err == nil {
		p.t.report(&proto.Message{Type: proto.TypeCallAnnounced, Seen: &proto.CallSeen{Call: c.ID, At: p.t.clock.Now()}})
	}
}

// Welcome takes the server's snapshot; the office's time zone is the one
// the volume schedule and quiet hours follow.
func (p *hallPart) Welcome(w *proto.Welcome) {
	if w.Office.Timezone != "" {
		if loc, err := time.LoadLocation(w.Office.Timezone); err == nil {
			p.voice.SetLocation(loc)
		}
	}
	p.hall.Welcome(w)
}

func (p *hallPart) Call(c proto.Call) bool {
	p.t.metrics.callReached(c, p.t.clock.Now())
	p.hall.Call(c)
	return true
}
func (p *hallPart) Cancel(c proto.Cancel)            { p.hall.Cancel(c) }
func (p *hallPart) Link(up bool)                     { p.hall.Link(up) }
func (p *hallPart) Queues(q []proto.QueueLen)        { p.hall.Queues(q) }
func (p *hallPart) HallMessage(m *proto.HallMessage) { p.hall.HallMessage(m) }
func (p *hallPart) Update(u *proto.Update)           { p.hall.Update(u) }

// openAudio opens the hall's audio output: WAV files (demo, tests) or
// aplay.
func openAudio(c *configs.Terminal, now time.Time) announce.Output {
	switch d := c.Hall.Audio.Driver; d {
	case configs.AudioWAV:
		out, err := announce.NewWAVDir(filepath.Join(c.DataDir, "announcements"))
		if err != nil {
			return newMissing("audio", "audio", string(d), err, now)
		}
		return out
	default:
		out, err := announce.FindAplay(c.Hall.Audio.Device)
		if err != nil {
			return newMissing("audio", "audio", string(d), err, now)
		}
		return out
	}
}
