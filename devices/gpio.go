package devices

import (
	"encoding/json"
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

// OpenHostPins initialises periph's host drivers.
func OpenHostPins() (*HostPins, error) {
	if _, err := host.Init(); err != nil {
		return nil, fmt.Errorf("gpio: periph host init: %w", err)
	}
	return &HostPins{since: time.Now()}, nil
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
	mu    sync.Mutex
	pins  map[string]*gpiotest.Pin
	since time.Time
}

func NewSimPins() *SimPins {
	return &SimPins{pins: map[string]*gpiotest.Pin{}, since: time.Now()}
}

func (s *SimPins) Pin(name string) (gpio.PinIO, error) {
	return s.pin(name), nil
}

func (s *SimPins) pin(name string) *gpiotest.Pin {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pins[name]
	if p == nil {
		p = &gpiotest.Pin{N: name, Num: len(s.pins), L: gpio.High, Clock: clockwork.NewRealClock(),
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
	if r.Method == http.MethodPost && name != "" {
		if err := s.Press(name); err != nil {
			writeErr(w, http.StatusServiceUnavailable, err.Error())
			return
		}
		w.WriteHeader(http.StatusAccepted)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(s.Levels())
}
