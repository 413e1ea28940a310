package devices

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"periph.io/x/conn/v3/gpio"
)

// SensorConfig is a two-state input on a GPIO pin: a switch that is
// active (closed, or open) while something holds, like a paper near-end
// lever at the roll holder.
type SensorConfig struct {
	Name string // for errors: paper-sensor
	Pin  gpio.PinIn
	// ActiveLow: the pin reads low while the sensor is active (a switch
	// to ground, with the pin's pull-up); else high (pull-down).
	ActiveLow bool
	// Debounce is how long a new level must hold, on Clock, before it
	// counts: a lever chatters as the roll turns past it.
	Debounce time.Duration
	// Changed is told each new state, from Run's goroutine.
	Changed func(active bool)
	// Clock is what the debounce runs on; nil: the real clock.
	Clock clockwork.Clock
}

// Sensor watches a SensorConfig's pin. Its pin's edges wake it; the level
// it reads Debounce after the last edge is the sensor's state.
type Sensor struct {
	cfg SensorConfig

	mu     sync.Mutex
	active bool
	since  time.Time
}

// sensorWait bounds one wait for an edge, so that a pin halted just before
// the wait began (periph's drivers forget such a Halt) still lets Run end.
const sensorWait = 500 * time.Millisecond

// NewSensor sets the pin up as an input with both edges watched, and takes
// its level now as the sensor's first state.
func NewSensor(cfg SensorConfig) (*Sensor, error) {
	if cfg.Clock == nil {
		cfg.Clock = clockwork.NewRealClock()
	}
	pull := gpio.PullDown
	if cfg.ActiveLow {
		pull = gpio.PullUp
	}
	if err := cfg.Pin.In(pull, gpio.BothEdges); err != nil {
		return nil, fmt.Errorf("gpio: %s on %s: cannot watch its edges: %w", cfg.Name, cfg.Pin, err)
	}
	s := &Sensor{cfg: cfg, since: cfg.Clock.Now()}
	s.active = s.isActive(cfg.Pin.Read())
	return s, nil
}

func (s *Sensor) isActive(l gpio.Level) bool { return l == gpio.Level(!s.cfg.ActiveLow) }

// Active reports the sensor's state and since when it holds.
func (s *Sensor) Active() (bool, time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.active, s.since
}

// Run watches the pin until ctx ends, then halts it.
func (s *Sensor) Run(ctx context.Context) {
	stop := context.AfterFunc(ctx, func() { _ = s.cfg.Pin.Halt() })
	defer stop()
	clock := s.cfg.Clock
	var due time.Time // when the level after the last edge counts; zero: none pending
	for ctx.Err() == nil {
		wait := sensorWait
		if !due.IsZero() {
			left := due.Sub(clock.Now())
			if left <= 0 {
				due = time.Time{}
				s.settle(s.cfg.Pin.Read())
				continue
			}
			wait = min(wait, left)
		}
		if s.cfg.Pin.WaitForEdge(wait) {
			due = clock.Now().Add(s.cfg.Debounce)
		}
	}
}

// settle takes the level that held through the debounce.
func (s *Sensor) settle(l gpio.Level) {
	active := s.isActive(l)
	s.mu.Lock()
	changed := active != s.active
	if changed {
		s.active, s.since = active, s.cfg.Clock.Now()
	}
	s.mu.Unlock()
	if changed && s.cfg.Changed != nil {
		s.cfg.Changed(active)
	}
}
