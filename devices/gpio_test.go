package devices

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"periph.io/x/conn/v3/gpio"
)

// guard bounds every wait of these tests, so a broken loop fails the test
// instead of hanging it; it is never a measurement.
const guard = 30 * time.Second

func guarded(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	t.Cleanup(cancel)
	return ctx
}

var monday = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC) // a Monday

// run starts f in a goroutine; the returned stop ends its context and
// waits for it.
func run(t *testing.T, f func(ctx context.Context)) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); f(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case <-done:
			case <-time.After(guard):
				t.Fatal("did not stop with its context")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// A simulated pin's wait ends on Halt at once, whatever its timeout on the
// clock (nobody moves this one), and every later wait too until In.
func TestSimPinHaltEndsWait(t *testing.T) {
	clock := clockwork.NewFakeClockAt(monday)
	pins := NewSimPins(clock)
	p, _ := pins.Pin("BUTTON")
	if err := p.In(gpio.PullUp, gpio.FallingEdge); err != nil {
		t.Fatal(err)
	}
	got := make(chan bool)
	go func() { got <- p.WaitForEdge(time.Hour) }()
	if err := pins.WaitIdle(guarded(t), "BUTTON"); err != nil {
		t.Fatal(err)
	}
	if err := p.Halt(); err != nil {
		t.Fatal(err)
	}
	if <-got {
		t.Fatal("a halted wait reported an edge")
	}
	if p.WaitForEdge(time.Hour) {
		t.Fatal("a wait after Halt reported an edge")
	}
	if err := p.In(gpio.PullUp, gpio.FallingEdge); err != nil {
		t.Fatal(err)
	}
	if err := pins.Press("BUTTON"); err != nil {
		t.Fatal(err)
	}
	if !p.WaitForEdge(time.Hour) || p.Read() != gpio.Low {
		t.Fatal("no press after In")
	}
	// A timeout is on the pins' clock.
	go func() { got <- p.WaitForEdge(time.Second) }() // takes the release
	if !<-got {
		t.Fatal("no release")
	}
	go func() { got <- p.WaitForEdge(time.Second) }()
	if err := pins.WaitIdle(guarded(t), "BUTTON"); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Second)
	if <-got {
		t.Fatal("a timed-out wait reported an edge")
	}
}

// A sensor's state is the level that held for the debounce after the last
// edge: a pulse shorter than the debounce is no change; the level at start
// counts at once.
func TestSensorDebounce(t *testing.T) {
	clock := clockwork.NewFakeClockAt(monday)
	pins := NewSimPins(clock)
	pin, _ := pins.Pin("PAPER_LOW")
	changes := make(chan bool, 8)
	s, err := NewSensor(SensorConfig{Name: "paper sensor", Pin: pin, ActiveLow: true, Debounce: 2 * time.Second,
		Clock: clock, Changed: func(active bool) { changes <- active }})
	if err != nil {
		t.Fatal(err)
	}
	if active, _ := s.Active(); active {
		t.Fatal("active at start on a pin pulled up")
	}
	run(t, s.Run)
	ctx := guarded(t)
	idle := func() {
		t.Helper()
		if err := pins.WaitIdle(ctx, "PAPER_LOW"); err != nil {
			t.Fatal(err)
		}
	}
	idle()

	// A bounce: low for less than the debounce.
	pins.Set("PAPER_LOW", gpio.Low)
	idle()
	clock.Advance(time.Second)
	pins.Set("PAPER_LOW", gpio.High)
	idle()
	clock.Advance(3 * time.Second)
	idle()
	if active, _ := s.Active(); active || len(changes) != 0 {
		t.Fatalf("a 1 s pulse counted (active %v, %d changes)", active, len(changes))
	}

	// Low for good: active once the debounce is over, not before.
	pins.Set("PAPER_LOW", gpio.Low)
	idle()
	clock.Advance(2*time.Second - time.Millisecond)
	idle()
	if active, _ := s.Active(); active || len(changes) != 0 {
		t.Fatal("active before the debounce was over")
	}
	clock.Advance(time.Millisecond)
	if !<-changes {
		t.Fatal("changed to inactive")
	}
	if active, since := s.Active(); !active || !since.Equal(monday.Add(6*time.Second)) {
		t.Errorf("active %v since %s", active, since)
	}

	// Back high: inactive after the debounce.
	pins.Set("PAPER_LOW", gpio.High)
	idle()
	clock.Advance(2 * time.Second)
	if <-changes {
		t.Fatal("changed to active")
	}

	// A sensor that starts active says so at once.
	pins.Set("OTHER", gpio.High)
	other, _ := pins.Pin("OTHER")
	s2, err := NewSensor(SensorConfig{Name: "high sensor", Pin: other, Debounce: time.Second, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	if active, _ := s2.Active(); !active {
		t.Error("an active-high sensor held high is not active at start")
	}
}

// A sensor's Run ends at once with its context, its pin halted.
func TestSensorStops(t *testing.T) {
	clock := clockwork.NewFakeClockAt(monday) // never moved
	pins := NewSimPins(clock)
	pin, _ := pins.Pin("S")
	s, err := NewSensor(SensorConfig{Name: "s", Pin: pin, Debounce: time.Second, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	stop := run(t, s.Run)
	if err := pins.WaitIdle(guarded(t), "S"); err != nil {
		t.Fatal(err)
	}
	stop()
}

// The lights show their patterns on the clock: steady lit, blinking half
// a second each way, off dark, active-low inverted; dark once stopped.
func TestLights(t *testing.T) {
	clock := clockwork.NewFakeClockAt(monday)
	pins := NewSimPins(clock)
	green, _ := pins.Pin("GREEN")
	yellow, _ := pins.Pin("YELLOW")
	red, _ := pins.Pin("RED")
	l := NewLights(LightsConfig{Name: "lights", Driver: "sim", Clock: clock, Lamps: []Lamp{{Name: "ready", Pin: green},
		{Name: "attention", Pin: yellow}, {Name: "fault", Pin: red, ActiveLow: true}, {Name: "not fitted"}}})
	if lv := pins.Levels(); lv["GREEN"] != "Low" || lv["YELLOW"] != "Low" || lv["RED"] != "High" {
		t.Fatalf("not all dark before Run: %v", lv)
	}
	var mu sync.Mutex
	show := []Pattern{Steady, Blink, Off, Blink}
	stop := run(t, func(ctx context.Context) {
		l.Run(ctx, func() []Pattern { mu.Lock(); defer mu.Unlock(); return append([]Pattern(nil), show...) })
	})
	ctx := guarded(t)
	want := func(name string, level gpio.Level) {
		t.Helper()
		if err := pins.WaitLevel(ctx, name, level); err != nil {
			t.Fatal(err)
		}
	}
	want("GREEN", gpio.High)
	want("YELLOW", gpio.High)
	for range 3 {
		clock.Advance(BlinkEvery)
		want("YELLOW", gpio.Low)
		clock.Advance(BlinkEvery)
		want("YELLOW", gpio.High)
	}
	if lv := pins.Levels(); lv["GREEN"] != "High" || lv["RED"] != "High" {
		t.Errorf("steady and off lights moved: %v", lv)
	}
	if st := l.Status(); st.State != OK || st.Detail != "ready steady, attention blink, fault off" {
		t.Errorf("status %+v", st)
	}
	mu.Lock()
	show = []Pattern{Off, Off, Steady}
	mu.Unlock()
	l.Refresh()
	want("RED", gpio.Low) // lit, active low
	want("GREEN", gpio.Low)
	want("YELLOW", gpio.Low)
	stop()
	want("RED", gpio.High)
}

func TestHoursAt(t *testing.T) {
	kyiv, err := time.LoadLocation("Europe/Kyiv")
	if err != nil {
		t.Fatal(err)
	}
	office, err := ParseHours("07:45", "20:15", []string{"mon", "tue", "wed", "thu", "fri", "sat"})
	if err != nil {
		t.Fatal(err)
	}
	night, err := ParseHours("22:00", "06:00", []string{"fri"})
	if err != nil {
		t.Fatal(err)
	}
	at := func(s string) time.Time {
		tm, err := time.ParseInLocation("2006-01-02 15:04", s, kyiv)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	tests := []struct {
		h        Hours
		now      string
		on       bool
		nextWant string
	}{
		{office, "2026-11-23 07:44", false, "2026-11-23 07:45"}, // Monday morning
		{office, "2026-11-23 07:45", true, "2026-11-23 20:15"},
		{office, "2026-11-23 20:15", false, "2026-11-24 07:45"},
		{office, "2026-11-28 21:00", false, "2026-11-30 07:45"}, // Saturday night: Sunday is off
		{office, "2026-11-29 12:00", false, "2026-11-30 07:45"},
		{night, "2026-11-27 23:00", true, "2026-11-28 06:00"},   // Friday night
		{night, "2026-11-28 05:59", true, "2026-11-28 06:00"},   // into Saturday
		{night, "2026-11-28 06:00", false, "2026-12-04 22:00"},  // a week on
		{office, "2026-03-28 20:00", true, "2026-03-28 20:15"},  // the Saturday before the clocks go forward
		{office, "2026-03-30 07:50", true, "2026-03-30 20:15"},  // wall time after it
		{office, "2026-10-24 23:00", false, "2026-10-26 07:45"}, // and back
	}
	for _, tt := range tests {
		on, next := tt.h.At(at(tt.now))
		if on != tt.on || !next.Equal(at(tt.nextWant)) {
			t.Errorf("%s at %s: on %v until %s, want %v until %s", tt.h, tt.now, on, next.In(kyiv).Format("2006-01-02 15:04"),
				tt.on, tt.nextWant)
		}
	}
	if on, next := (Hours{On: time.Hour, Off: 2 * time.Hour}).At(monday); on || !next.IsZero() {
		t.Errorf("no days: on %v next %s", on, next)
	}
	for _, bad := range [][3]string{{"7:45", "20:15", "mon"}, {"07:45", "24:00", "mon"}, {"08:00", "08:00", "mon"}, {"07:45", "20:15", "monday"}} {
		if _, err := ParseHours(bad[0], bad[1], []string{bad[2]}); err == nil {
			t.Errorf("ParseHours%q accepted", bad)
		}
	}
	if s := office.String(); s != "07:45–20:15 mon tue wed thu fri sat" {
		t.Errorf("String %q", s)
	}
}

// FuzzHoursAt: any schedule ParseHours takes answers for any moment, and
// its next change is after that moment, within eight days.
func FuzzHoursAt(f *testing.F) {
	f.Add("07:45", "20:15", "mon,sat", int64(1795420800))
	f.Add("22:00", "06:00", "fri", int64(0))
	f.Add("23:59", "00:00", "sun,mon,tue,wed,thu,fri,sat", int64(-1))
	kyiv, err := time.LoadLocation("Europe/Kyiv")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, on, off, days string, unix int64) {
		h, err := ParseHours(on, off, strings.Split(days, ","))
		if err != nil {
			return
		}
		now := time.Unix(unix%(1<<40), 0).In(kyiv)
		_, next := h.At(now)
		if next.IsZero() {
			return
		}
		if !next.After(now) || next.Sub(now) > 8*24*time.Hour+2*time.Hour {
			t.Fatalf("%s at %s: next %s", h, now, next)
		}
	})
}

// The relay follows the schedule on the clock, in the time zone it is
// given, and says so in its status and state.
func TestPowerSchedule(t *testing.T) {
	kyiv, err := time.LoadLocation("Europe/Kyiv")
	if err != nil {
		t.Fatal(err)
	}
	clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 23, 7, 44, 0, 0, kyiv)) // Monday
	pins := NewSimPins(clock)
	relay, _ := pins.Pin("DISPLAY_POWER")
	hours, err := ParseHours("07:45", "20:15", []string{"mon", "tue", "wed", "thu", "fri", "sat"})
	if err != nil {
		t.Fatal(err)
	}
	p := NewPower(PowerConfig{Name: "display-power", Driver: "sim", Pin: relay, Hours: hours, Location: kyiv, Clock: clock})
	if st := p.State(); st.On || relay.Read() != gpio.Low {
		t.Fatalf("on before hours: %+v", st)
	}
	run(t, p.Run)
	ctx := guarded(t)
	// Run's only timer on this clock: waiting for it means Run looked.
	step := func(d time.Duration, level gpio.Level) {
		t.Helper()
		if err := clock.BlockUntilContext(ctx, 1); err != nil {
			t.Fatal(err)
		}
		clock.Advance(d)
		if err := pins.WaitLevel(ctx, "DISPLAY_POWER", level); err != nil {
			t.Fatal(err)
		}
	}
	step(time.Minute, gpio.High)
	if st := p.Status(); st.State != OK || st.Detail != "on until Mon 20:15 (07:45–20:15 mon tue wed thu fri sat, Europe/Kyiv)" {
		t.Errorf("status %+v", st)
	}
	step(12*time.Hour+30*time.Minute, gpio.Low)
	st := p.State()
	if st.On || !st.Since.Equal(time.Date(2026, 11, 23, 20, 15, 0, 0, kyiv)) ||
		!st.Next.Equal(time.Date(2026, 11, 24, 7, 45, 0, 0, kyiv)) || st.Timezone != "Europe/Kyiv" {
		t.Errorf("state %+v", st)
	}
	// Tuesday 08:00 in Kyiv is 06:00 in UTC: told the office is in UTC,
	// the relay goes off again.
	step(11*time.Hour+45*time.Minute, gpio.High)
	if err := clock.BlockUntilContext(ctx, 1); err != nil {
		t.Fatal(err)
	}
	p.SetLocation(time.UTC)
	if err := pins.WaitLevel(ctx, "DISPLAY_POWER", gpio.Low); err != nil {
		t.Fatal(err)
	}
	if st := p.State(); st.Timezone != "UTC" || !st.Next.Equal(time.Date(2026, 11, 24, 7, 45, 0, 0, time.UTC)) {
		t.Errorf("state in UTC %+v", st)
	}
}

// An active-low relay is closed by a low level.
func TestPowerActiveLow(t *testing.T) {
	clock := clockwork.NewFakeClockAt(monday)
	pins := NewSimPins(clock)
	relay, _ := pins.Pin("R")
	hours, _ := ParseHours("08:00", "18:00", []string{"mon"})
	p := NewPower(PowerConfig{Pin: relay, ActiveLow: true, Hours: hours, Location: time.UTC, Clock: clock})
	if !p.State().On || relay.Read() != gpio.Low {
		t.Errorf("on at 10:00 Monday: %+v, pin %s", p.State(), relay.Read())
	}
}

// POST with {"level":...} holds a simulated input; a wrong level or body
// is refused in JSON.
func TestSimPinsSetByHTTP(t *testing.T) {
	pins := NewSimPins()
	mux := http.NewServeMux()
	mux.Handle("/gpio/{pin}", pins)
	ts := httptest.NewServer(mux)
	defer ts.Close()
	post := func(ctype, body string, want int) {
		t.Helper()
		req, _ := http.NewRequest("POST", ts.URL+"/gpio/PAPER_LOW", strings.NewReader(body))
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("POST %s %q: %s, want %d", ctype, body, resp.Status, want)
		}
	}
	post("application/json", `{"level":"low"}`, http.StatusAccepted)
	if lv := pins.Levels(); lv["PAPER_LOW"] != "Low" {
		t.Errorf("levels %v", lv)
	}
	post("application/json", `{"level":"middle"}`, http.StatusBadRequest)
	post("application/json", `{"lvl":"low"}`, http.StatusBadRequest)
	post("text/plain", `low`, http.StatusUnsupportedMediaType)
	post("application/json", `{"level":"HIGH"}`, http.StatusAccepted)
	if lv := pins.Levels(); lv["PAPER_LOW"] != "High" {
		t.Errorf("levels %v", lv)
	}
}

// brokenPin is an output whose every write fails (a line another program
// holds).
type brokenPin struct{ gpio.PinIO }

func (brokenPin) Out(gpio.Level) error { return errors.New("gpio: line busy") }
func (brokenPin) String() string       { return "GPIO5" }

// A light whose pin cannot be set is a fault in the lights' status; the
// others carry on.
func TestLightsBrokenPin(t *testing.T) {
	clock := clockwork.NewFakeClockAt(monday)
	pins := NewSimPins(clock)
	red, _ := pins.Pin("RED")
	l := NewLights(LightsConfig{Name: "lights", Driver: "sim", Clock: clock,
		Lamps: []Lamp{{Name: "ready", Pin: brokenPin{}}, {Name: "fault", Pin: red}}})
	stop := run(t, func(ctx context.Context) { l.Run(ctx, func() []Pattern { return []Pattern{Steady, Steady} }) })
	if err := pins.WaitLevel(guarded(t), "RED", gpio.High); err != nil {
		t.Fatal(err)
	}
	stop()
	if st := l.Status(); st.State != Fault || !strings.Contains(st.Detail, "ready: gpio: line busy") {
		t.Errorf("status %+v", st)
	}
}
