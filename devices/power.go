package devices

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"periph.io/x/conn/v3/gpio"
)

// Hours is a weekly schedule: on at On and off at Off (times of day) on
// each of Days. An Off before On runs past midnight: the day it is
// switched on is the day listed.
type Hours struct {
	On, Off time.Duration // since midnight, whole minutes
	Days    [7]bool       // by time.Weekday
}

var weekdays = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// ParseHours reads "07:45", "20:15" and days by their first three letters
// (mon … sun).
func ParseHours(on, off string, days []string) (Hours, error) {
	var h Hours
	var err error
	if h.On, err = parseClock(on); err != nil {
		return Hours{}, fmt.Errorf("gpio: on: %w", err)
	}
	if h.Off, err = parseClock(off); err != nil {
		return Hours{}, fmt.Errorf("gpio: off: %w", err)
	}
	if h.On == h.Off {
		return Hours{}, fmt.Errorf("gpio: on and off are both %s", on)
	}
	for _, d := range days {
		i := indexOf(weekdays[:], strings.ToLower(d))
		if i < 0 {
			return Hours{}, fmt.Errorf("gpio: day %q: expected mon, tue, wed, thu, fri, sat or sun", d)
		}
		h.Days[i] = true
	}
	return h, nil
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

func parseClock(s string) (time.Duration, error) {
	t, err := time.Parse("15:04", s)
	if err != nil || len(s) != len("15:04") {
		return 0, fmt.Errorf("got %q, expected a time of day like 07:45", s)
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
}

// String is the schedule as the status says it: 07:45–20:15 mon–sat.
func (h Hours) String() string {
	var days []string
	for i := 1; i <= 7; i++ { // from Monday
		if h.Days[i%7] {
			days = append(days, weekdays[i%7])
		}
	}
	clock := func(d time.Duration) string { return fmt.Sprintf("%02d:%02d", int(d.Hours()), int(d.Minutes())%60) }
	return fmt.Sprintf("%s–%s %s", clock(h.On), clock(h.Off), strings.Join(days, " "))
}

// At says whether the schedule is on at t, in t's time zone, and when it
// next changes (zero: never, for a schedule without days). The times of
// day are wall-clock times, so a day the clocks change on keeps them.
func (h Hours) At(t time.Time) (on bool, next time.Time) {
	y, m, d := t.Date()
	loc := t.Location()
	at := func(day int, since time.Duration) time.Time {
		return time.Date(y, m, day, int(since/time.Hour), int(since%time.Hour/time.Minute), 0, 0, loc)
	}
	// A period that began yesterday may still run; the next change is at
	// most a week and a day away.
	for day := d - 1; day <= d+8; day++ {
		start := at(day, h.On)
		if !h.Days[start.Weekday()] {
			continue
		}
		end := at(day, h.Off)
		if h.Off < h.On {
			end = at(day+1, h.Off)
		}
		if t.Before(start) {
			return false, start
		}
		if t.Before(end) {
			return true, end
		}
	}
	return false, time.Time{}
}

// PowerConfig is a relay on a GPIO output that switches mains power on a
// schedule: the hall's TVs and LED boards, on in office hours.
type PowerConfig struct {
	Name      string // display-power
	Driver    string // the pins' driver, for /healthz
	Pin       gpio.PinOut
	ActiveLow bool // the relay closes on a low level (most relay boards)
	Hours     Hours
	// Location is the time zone of Hours; nil: the machine's.
	Location *time.Location
	Clock    clockwork.Clock
	Log      *slog.Logger
}

// Power switches a PowerConfig's relay. It looks at the schedule when it
// changes and at least every minute, so a clock set at boot (a Raspberry
// Pi without a battery clock learns the time from the network) or a time
// zone learnt late takes effect within a minute.
type Power struct {
	cfg  PowerConfig
	kick chan struct{}

	mu    sync.Mutex
	loc   *time.Location
	state PowerState
	err   error
}

// PowerState is a relay's state, as GET /api/v1/display-power shows it.
type PowerState struct {
	Pin      string    `json:"pin"`
	On       bool      `json:"on"`
	Since    time.Time `json:"since"`
	Next     time.Time `json:"next,omitzero"` // the next switch
	Schedule string    `json:"schedule"`
	Timezone string    `json:"timezone"`
}

// powerLook is the longest the relay goes without looking at the schedule.
const powerLook = time.Minute

// NewPower switches the relay as the schedule says now.
func NewPower(cfg PowerConfig) *Power {
	if cfg.Clock == nil {
		cfg.Clock = clockwork.NewRealClock()
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Location == nil {
		cfg.Location = time.Local
	}
	p := &Power{cfg: cfg, kick: make(chan struct{}, 1), loc: cfg.Location}
	p.state = PowerState{Pin: cfg.Pin.String(), Schedule: cfg.Hours.String(), Since: cfg.Clock.Now()}
	p.apply(true)
	return p
}

// SetLocation sets the schedule's time zone (the office's, once the server
// says it).
func (p *Power) SetLocation(loc *time.Location) {
	p.mu.Lock()
	changed := loc.String() != p.loc.String()
	p.loc = loc
	p.mu.Unlock()
	if changed {
		select {
		case p.kick <- struct{}{}:
		default:
		}
	}
}

// Run keeps the relay on its schedule until ctx ends. The relay keeps its
// state when kioskd stops: a restart does not blink the hall's screens.
func (p *Power) Run(ctx context.Context) {
	for {
		next := p.apply(false)
		wait := powerLook
		if !next.IsZero() {
			wait = max(min(wait, next.Sub(p.cfg.Clock.Now())), time.Millisecond)
		}
		t := p.cfg.Clock.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.Chan():
		case <-p.kick:
			t.Stop()
		}
	}
}

// apply sets the relay as the schedule says now (always, if force), and
// returns when that next changes.
func (p *Power) apply(force bool) time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.cfg.Clock.Now()
	on, next := p.cfg.Hours.At(now.In(p.loc))
	p.state.Next, p.state.Timezone = next, p.loc.String()
	if on == p.state.On && !force && p.err == nil {
		return next
	}
	err := p.cfg.Pin.Out(gpio.Level(on != p.cfg.ActiveLow))
	if err != nil {
		if p.err == nil || p.err.Error() != err.Error() {
			p.cfg.Log.Error("display power relay cannot be switched", "pin", p.state.Pin, "on", on, "err", err)
		}
		p.err = err
		return next
	}
	if on != p.state.On || p.err != nil {
		p.state.Since = now
		p.cfg.Log.Info("display power", "on", on, "next", next.In(p.loc).Format("Mon 15:04"), "timezone", p.loc.String())
	}
	p.state.On, p.err = on, nil
	return next
}

// State is the relay now.
func (p *Power) State() PowerState {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.state
}

// Status is the relay as /healthz shows it.
func (p *Power) Status() Status {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := Status{Name: p.cfg.Name, Kind: "gpio", Driver: p.cfg.Driver, State: OK, Since: p.state.Since}
	word := map[bool]string{true: "on", false: "off"}
	st.Detail = fmt.Sprintf("%s (%s, %s)", word[p.state.On], p.state.Schedule, p.loc)
	if !p.state.Next.IsZero() {
		st.Detail = fmt.Sprintf("%s until %s (%s, %s)", word[p.state.On], p.state.Next.In(p.loc).Format("Mon 15:04"),
			p.state.Schedule, p.loc)
	}
	if p.err != nil {
		st.State, st.Detail = Fault, fmt.Sprintf("should be %s: %v", word[!p.state.On], p.err)
	}
	return st
}
