package devices

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/conn/v3/gpio/gpiotest"
	"periph.io/x/host/v3"

	"github.com/cherga/kiosk/httpapi"
)

// Pins finds GPIO pins by name. Buttons and sensors are periph's
// gpio.PinIn, lights and relays gpio.PinOut.
//
// A pin's Halt ends a WaitForEdge in progress: whoever waits for edges
// halts the pin when it stops, instead of waiting out its timeout.
type Pins interface {
	Pin(name string) (gpio.PinIO, error)
	Status() Status
}

// HostPins are the machine's real GPIO pins, through periph.io.
type HostPins struct {
	since time.Time
}

// OpenHostPins initialises periph's host drivers; clock, if given, is the
// terminal's (for the status's since), else the real clock.
func OpenHostPins(clock ...clockwork.Clock) (*HostPins, error) {
	if _, err := host.Init(); err != nil {
		return nil, fmt.Errorf("gpio: periph host init: %w", err)
	}
	return &HostPins{since: clockOr(clock).Now()}, nil
}

func (h *HostPins) Pin(name string) (gpio.PinIO, error) {
	p := gpioreg.ByName(name)
	if p == nil {
		return nil, fmt.Errorf("gpio: no pin named %q on this machine", name)
	}
	return p, nil
}

func (h *HostPins) Status() Status {
	return Status{Name: "gpio", Kind: "gpio", Driver: "host", State: OK, Since: h.since,
		Detail: fmt.Sprintf("%d pins known to periph", len(gpioreg.All()))}
}

// SimPins are simulated pins (periph's gpiotest), made on first use. Input
// pins idle high, as a button wired to ground with a pull-up does. Edge
// waits time out on the pins' clock, so a test's fake clock runs them.
type SimPins struct {
	clock clockwork.Clock
	since time.Time

	mu      sync.Mutex
	pins    map[string]*simPin
	changed chan struct{} // closed and made again on every change of any pin
}

// simEdges is how many edges a simulated pin holds before its reader
// takes them.
const simEdges = 16

// simPin is a gpiotest.Pin whose edge waits end on Halt and are seen by
// the tests (WaitIdle). Its fields are guarded by its SimPins' mu, which
// is always taken before the gpiotest.Pin's own lock.
type simPin struct {
	*gpiotest.Pin
	s *SimPins

	edges    chan simEdge
	queued   int           // edges sent and not yet taken by a wait
	waiting  bool          // a WaitForEdge is in progress
	deadline time.Time     // when it times out; zero: it has no timeout
	halted   chan struct{} // closed by Halt, made again by In
	forced   bool          // its level was set from outside (Set): a pull does not change it
}

// simEdge is one edge: a press's edges carry their level to the pin when
// the reader takes them; a level Set is already on the pin.
type simEdge struct {
	level gpio.Level
	apply bool
}

// NewSimPins makes simulated pins. Their edge waits time out on clock, if
// one is given, else on the real clock.
func NewSimPins(clock ...clockwork.Clock) *SimPins {
	c := clockOr(clock)
	return &SimPins{clock: c, pins: map[string]*simPin{}, since: c.Now(), changed: make(chan struct{})}
}

func (s *SimPins) Pin(name string) (gpio.PinIO, error) {
	return s.pin(name), nil
}

func (s *SimPins) pin(name string) *simPin {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pins[name]
	if p == nil {
		p = &simPin{s: s, edges: make(chan simEdge, simEdges), halted: make(chan struct{}),
			// EdgesChan only satisfies gpiotest.In: this pin's edges are its own.
			Pin: &gpiotest.Pin{N: name, Num: len(s.pins), L: gpio.High, Clock: s.clock, EdgesChan: make(chan gpio.Level)}}
		s.pins[name] = p
	}
	return p
}

// notifyLocked wakes everyone waiting for a pin to change.
func (s *SimPins) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// Press simulates a push on a button: a falling edge, then the release.
// The pin goes low when its reader takes the first edge, so no press is
// lost between two waits.
func (s *SimPins) Press(name string) error {
	p := s.pin(name)
	s.mu.Lock()
	defer s.mu.Unlock()
	if simEdges-len(p.edges) < 2 {
		return fmt.Errorf("gpio: %s: earlier presses not yet handled", name)
	}
	for _, l := range []gpio.Level{gpio.Low, gpio.High} {
		p.edges <- simEdge{level: l, apply: true}
		p.queued++
	}
	s.notifyLocked()
	return nil
}

// Set puts an input at a level and keeps it there, as a sensor's switch
// does (a paper-low lever); its reader sees an edge. It never fails: an
// edge that finds the pin's edges full is dropped, but the level holds,
// and the edges still waiting make the reader look at it.
func (s *SimPins) Set(name string, level gpio.Level) {
	p := s.pin(name)
	s.mu.Lock()
	defer s.mu.Unlock()
	p.forced = true
	if p.Pin.Read() == level {
		return
	}
	_ = p.Pin.Out(level) // gpiotest's Out only sets the level
	select {
	case p.edges <- simEdge{level: level}:
		p.queued++
	default:
	}
	s.notifyLocked()
}

// In configures the pin as an input. Edges not yet taken are dropped (as
// periph's drivers drop what came before), and a Halt is over.
func (p *simPin) In(pull gpio.Pull, edge gpio.Edge) error {
	s := p.s
	s.mu.Lock()
	defer s.mu.Unlock()
	level := p.Pin.Read()
	if err := p.Pin.In(pull, edge); err != nil {
		return err
	}
	if p.forced {
		_ = p.Pin.Out(level)
	}
	for len(p.edges) > 0 {
		<-p.edges
	}
	p.queued = 0
	select {
	case <-p.halted:
		p.halted = make(chan struct{})
	default:
	}
	s.notifyLocked()
	return nil
}

// Out sets an output's level.
func (p *simPin) Out(l gpio.Level) error {
	s := p.s
	s.mu.Lock()
	defer s.mu.Unlock()
	changed := p.Pin.Read() != l
	if err := p.Pin.Out(l); err != nil {
		return err
	}
	if changed {
		s.notifyLocked()
	}
	return nil
}

// WaitForEdge waits for the next edge, timeout on the pins' clock (a
// negative timeout: without one), or Halt.
func (p *simPin) WaitForEdge(timeout time.Duration) bool {
	s := p.s
	s.mu.Lock()
	halted := p.halted
	select {
	case <-halted:
		s.mu.Unlock()
		return false
	default:
	}
	var expired <-chan time.Time
	p.deadline = time.Time{}
	if timeout >= 0 {
		t := s.clock.NewTimer(timeout)
		defer t.Stop()
		expired = t.Chan()
		p.deadline = s.clock.Now().Add(timeout)
	}
	p.waiting = true
	s.notifyLocked()
	s.mu.Unlock()

	edge := false
	select {
	case e := <-p.edges:
		s.mu.Lock()
		p.queued = max(0, p.queued-1)
		if e.apply {
			_ = p.Pin.Out(e.level)
		}
		edge = true
	case <-expired:
		s.mu.Lock()
	case <-halted:
		s.mu.Lock()
	}
	p.waiting = false
	s.notifyLocked()
	s.mu.Unlock()
	return edge
}

// Halt ends a WaitForEdge in progress, and every later one until the pin
// is configured again (In): whoever halts a pin has stopped reading it.
func (p *simPin) Halt() error {
	s := p.s
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-p.halted:
	default:
		close(p.halted)
		s.notifyLocked()
	}
	return nil
}

// idleLocked: the pin's reader took every edge and waits for the next,
// with a timeout not yet reached on the pins' clock.
func (p *simPin) idleLocked() bool {
	return p.queued == 0 && p.waiting && (p.deadline.IsZero() || p.deadline.After(p.s.clock.Now()))
}

// waitFor waits until cond, called with s.mu held, holds.
func (s *SimPins) waitFor(ctx context.Context, cond func() bool) error {
	for {
		s.mu.Lock()
		ok, changed := cond(), s.changed
		s.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// WaitLevel waits until the pin reads level (a light lit, a relay
// switched), or ctx ends. For tests and the simulation.
func (s *SimPins) WaitLevel(ctx context.Context, name string, level gpio.Level) error {
	p := s.pin(name)
	if err := s.waitFor(ctx, func() bool { return p.Pin.Read() == level }); err != nil {
		return fmt.Errorf("gpio: %s is %s, waited for %s: %w", name, p.Pin.Read(), level, err)
	}
	return nil
}

// WaitIdle waits until the pin's reader has taken every edge sent to it
// and waits for the next, so everything those edges caused is done, or
// ctx ends. A wait that timed out on the clock is not idle: its reader
// has yet to look again. For tests.
func (s *SimPins) WaitIdle(ctx context.Context, name string) error {
	p := s.pin(name)
	if err := s.waitFor(ctx, p.idleLocked); err != nil {
		return fmt.Errorf("gpio: %s: its reader is not waiting for edges: %w", name, err)
	}
	return nil
}

// Levels reports every pin's level, for the sim page and tests.
func (s *SimPins) Levels() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]string{}
	for name, p := range s.pins {
		out[name] = p.Pin.Read().String()
	}
	return out
}

func (s *SimPins) Status() Status {
	s.mu.Lock()
	names := make([]string, 0, len(s.pins))
	for n := range s.pins {
		names = append(names, n)
	}
	s.mu.Unlock()
	sort.Strings(names)
	return Status{Name: "gpio", Kind: "gpio", Driver: "sim", State: OK, Since: s.since,
		Detail: fmt.Sprintf("simulated pins %v", names)}
}

// maxSimLevel bounds the body of a level set: {"level":"high"}.
const maxSimLevel = 256

// ServeHTTP presses a pin on POST /.../{pin} without a body, sets it with
// {"level":"low"|"high"} (a sensor), and lists levels on GET.
func (s *SimPins) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("pin")
	switch {
	case r.Method == http.MethodPost && name != "" && r.ContentLength == 0:
		if err := s.Press(name); err != nil {
			w.Header().Set("Retry-After", "1")
			httpapi.WriteError(w, http.StatusServiceUnavailable, "pin_busy", err.Error())
			return
		}
		w.WriteHeader(http.StatusAccepted)
	case r.Method == http.MethodPost && name != "":
		var req struct {
			Level string `json:"level"`
		}
		if err := httpapi.Decode(w, r, maxSimLevel, &req); err != nil {
			httpapi.Fail(w, err)
			return
		}
		var level gpio.Level
		switch strings.ToLower(req.Level) {
		case "low":
			level = gpio.Low
		case "high":
			level = gpio.High
		default:
			httpapi.WriteError(w, http.StatusBadRequest, httpapi.CodeBadField,
				fmt.Sprintf(`field "level": got %q, expected "low" or "high" (no body: a press)`, req.Level))
			return
		}
		s.Set(name, level)
		w.WriteHeader(http.StatusAccepted)
	case r.Method == http.MethodGet || r.Method == http.MethodHead:
		_ = httpapi.WriteJSON(w, http.StatusOK, s.Levels()) // a map of strings always encodes
	default:
		allow := "GET, HEAD"
		if name != "" {
			allow += ", POST"
		}
		w.Header().Set("Allow", allow)
		httpapi.WriteError(w, http.StatusMethodNotAllowed, httpapi.CodeMethodNotAllowed,
			fmt.Sprintf("method %s is not allowed for %s; allowed: %s", r.Method, r.URL.Path, allow))
	}
}
