package devices

import (
	"fmt"
	"net/http"
	"sort"
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
// gpio.PinIn, lights are gpio.PinOut.
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
// pins idle high, as a button wired to ground with a pull-up does.
type SimPins struct {
	clock clockwork.Clock
	mu    sync.Mutex
	pins  map[string]*gpiotest.Pin
	since time.Time
}

// NewSimPins makes simulated pins. Their edge waits time out on clock, if
// one is given, else on the real clock.
func NewSimPins(clock ...clockwork.Clock) *SimPins {
	c := clockOr(clock)
	return &SimPins{clock: c, pins: map[string]*gpiotest.Pin{}, since: c.Now()}
}

func (s *SimPins) Pin(name string) (gpio.PinIO, error) {
	return s.pin(name), nil
}

func (s *SimPins) pin(name string) *gpiotest.Pin {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pins[name]
	if p == nil {
		p = &gpiotest.Pin{N: name, Num: len(s.pins), L: gpio.High, Clock: s.clock,
			EdgesChan: make(chan gpio.Level, 16)}
		s.pins[name] = p
	}
	return p
}

// Press simulates a push on a button: a falling edge, then the release.
func (s *SimPins) Press(name string) error {
	p := s.pin(name)
	for _, l := range []gpio.Level{gpio.Low, gpio.High} {
		select {
		case p.EdgesChan <- l:
		default:
			return fmt.Errorf("gpio: %s: presses not yet handled", name)
		}
	}
	return nil
}

// Levels reports every pin's level, for the sim page and tests.
func (s *SimPins) Levels() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]string{}
	for name, p := range s.pins {
		out[name] = p.Read().String()
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

// ServeHTTP presses a pin on POST /.../{pin} and lists levels on GET.
func (s *SimPins) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("pin")
	switch {
	case r.Method == http.MethodPost && name != "":
		if err := s.Press(name); err != nil {
			w.Header().Set("Retry-After", "1")
			httpapi.WriteError(w, http.StatusServiceUnavailable, "pin_busy", err.Error())
			return
		}
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
