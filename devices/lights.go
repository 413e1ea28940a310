package devices

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"periph.io/x/conn/v3/gpio"
)

// Pattern is what a status light shows.
type Pattern uint8

const (
	Off    Pattern = iota
	Steady         // lit
	Blink          // BlinkEvery on, BlinkEvery off, lit first
)

func (p Pattern) String() string {
	switch p {
	case Steady:
		return "steady"
	case Blink:
		return "blink"
	}
	return "off"
}

// BlinkEvery is half a blink: a blinking light is lit this long, then dark
// this long.
const BlinkEvery = 500 * time.Millisecond

// Lamp is one status light on a GPIO output.
type Lamp struct {
	Name string      // for the log: ready, attention, fault
	Pin  gpio.PinOut // nil: not fitted
	// ActiveLow: the light is lit by a low level (a relay board, an LED
	// wired from the supply to the pin).
	ActiveLow bool
}

// LightsConfig is a set of status lights.
type LightsConfig struct {
	Name   string // for /healthz: lights
	Driver string // the pins' driver
	Lamps  []Lamp
	Clock  clockwork.Clock // nil: the real clock
	Log    *slog.Logger    // nil: discarded
}

// Lights drives a set of status lights: one goroutine (Run) that asks what
// each shows, and blinks them, on one clock.
type Lights struct {
	cfg   LightsConfig
	since time.Time
	kick  chan struct{}

	// Only Run's goroutine (and NewLights, before it) touch these.
	lit   []bool
	known []bool

	mu      sync.Mutex
	failed  []string      // each lamp's last error, logged once
	shown   []Pattern     // what Run shows now
	shownCh chan struct{} // closed and made again when shown changes
}

// NewLights takes the lamps and turns them off: a light is dark until
// Run knows what it shows.
func NewLights(cfg LightsConfig) *Lights {
	if cfg.Clock == nil {
		cfg.Clock = clockwork.NewRealClock()
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	n := len(cfg.Lamps)
	l := &Lights{cfg: cfg, since: cfg.Clock.Now(), kick: make(chan struct{}, 1),
		lit: make([]bool, n), known: make([]bool, n), failed: make([]string, n),
		shown: make([]Pattern, n), shownCh: make(chan struct{})}
	for i := range cfg.Lamps {
		l.light(i, false)
	}
	return l
}

// Shown is what the lights show now, in the lamps' order, and a channel
// closed when that changes.
func (l *Lights) Shown() ([]Pattern, <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Pattern(nil), l.shown...), l.shownCh
}

// Status says what each fitted light shows, for /healthz; a light whose
// pin cannot be set is a fault.
func (l *Lights) Status() Status {
	l.mu.Lock()
	defer l.mu.Unlock()
	st := Status{Name: l.cfg.Name, Kind: "gpio", Driver: l.cfg.Driver, State: OK, Since: l.since}
	var shows, faults []string
	for i, lamp := range l.cfg.Lamps {
		if lamp.Pin == nil {
			continue
		}
		shows = append(shows, lamp.Name+" "+l.shown[i].String())
		if l.failed[i] != "" {
			faults = append(faults, lamp.Name+": "+l.failed[i])
		}
	}
	st.Detail = strings.Join(shows, ", ")
	if len(faults) > 0 {
		st.State, st.Detail = Fault, strings.Join(faults, "; ")+"; "+st.Detail
	}
	return st
}

// Refresh makes Run look at once at what the lights show, instead of at
// the next blink.
func (l *Lights) Refresh() {
	select {
	case l.kick <- struct{}{}:
	default:
	}
}

// Run keeps the lights showing what show says, in the lamps' order, until
// ctx ends; then it turns them off (a dark kiosk is a kiosk not running).
// show is asked every BlinkEvery and on Refresh; it must not block. A
// light that starts blinking is lit at once.
func (l *Lights) Run(ctx context.Context, show func() []Pattern) {
	tick := l.cfg.Clock.NewTicker(BlinkEvery)
	defer tick.Stop()
	n := len(l.cfg.Lamps)
	was := make([]Pattern, n)
	phase := make([]bool, n) // a blinking light is lit now
	for {
		patterns := show()
		for i := range n {
			p := Off
			if i < len(patterns) {
				p = patterns[i]
			}
			if p == Blink && was[i] != Blink {
				phase[i] = true
			}
			was[i] = p
			l.show(i, p)
			l.light(i, p == Steady || p == Blink && phase[i])
		}
		select {
		case <-ctx.Done():
			for i := range n {
				l.show(i, Off)
				l.light(i, false)
			}
			return
		case <-tick.Chan():
			for i := range phase {
				phase[i] = !phase[i]
			}
		case <-l.kick:
		}
	}
}

// show records that lamp i shows p.
func (l *Lights) show(i int, p Pattern) {
	if l.cfg.Lamps[i].Pin == nil {
		p = Off
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.shown[i] != p {
		l.shown[i] = p
		close(l.shownCh)
		l.shownCh = make(chan struct{})
	}
}

// light sets lamp i if it is not already so.
func (l *Lights) light(i int, lit bool) {
	lamp := l.cfg.Lamps[i]
	if lamp.Pin == nil || l.known[i] && l.lit[i] == lit {
		return
	}
	level := gpio.Level(lit != lamp.ActiveLow)
	if err := lamp.Pin.Out(level); err != nil {
		l.mu.Lock()
		if msg := err.Error(); msg != l.failed[i] {
			l.failed[i] = msg
			l.cfg.Log.Error("status light cannot be set", "light", lamp.Name, "pin", lamp.Pin.String(), "err", err)
		}
		l.mu.Unlock()
		l.known[i] = false
		return
	}
	l.mu.Lock()
	l.failed[i] = ""
	l.mu.Unlock()
	l.lit[i], l.known[i] = lit, true
}
