package terminal

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/cherga/kiosk/configs"
	"github.com/cherga/kiosk/devices"
	"github.com/cherga/kiosk/firmware-bridge/bus"
	"github.com/cherga/kiosk/firmware-bridge/emulator"
	"github.com/cherga/kiosk/firmware-bridge/modbus"
	"github.com/cherga/kiosk/i18n"
	"github.com/cherga/kiosk/link/proto"
	"github.com/cherga/kiosk/queue/queuetest"
)

// emulate plays window 3's display (1), keypad (2) and rating panel (3)
// with the device emulator on a pseudo-terminal, and returns the bus and
// the link to the pseudo-terminal.
func emulate(t *testing.T) (*emulator.Bus, string) {
	t.Helper()
	specs, err := emulator.ParseSpecs("1:window-display,2:keypad,3:rating")
	if err != nil {
		t.Fatal(err)
	}
	eb, err := emulator.NewBus(specs, emulator.Options{Line: modbus.PTYLine})
	if err != nil {
		t.Fatal(err)
	}
	p, err := modbus.OpenPTY()
	if err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "bus1")
	if err := p.Link(link); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- eb.Serve(ctx, p) }()
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("emulator: %v", err)
		}
		p.Close()
	})
	return eb, link
}

// busYAML is window 3's devices on the emulator's line. The timeout gives
// room to a peer that is a goroutine on shared cores.
func busYAML(link string) string {
	return fmt.Sprintf(`
buses:
  - port: %s
    line: 19200 8N2
    timeout: 500ms
    devices:
      - {address: 1, type: window-display, window: 3}
      - {address: 2, type: keypad, window: 3}
      - {address: 3, type: rating, window: 3}
`, link)
}

// eventually waits until cond holds, looking every few milliseconds: the
// emulator says nothing when its face changes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(guard)
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("%s: not within %s", what, guard)
		}
	}
}

func face(t *testing.T, eb *emulator.Bus, addr byte) emulator.Face {
	t.Helper()
	d, err := eb.Device(addr)
	if err != nil {
		t.Fatal(err)
	}
	return d.Face()
}

func lcd(f emulator.Face) [2]string {
	return [2]string{strings.TrimRight(f.Keypad.Lines[0], " "), strings.TrimRight(f.Keypad.Lines[1], " ")}
}

// markOf is the sequence number committed last for a device's instance.
func markOf(t *testing.T, term *Terminal, serial string) uint16 {
	t.Helper()
	b, err := term.link.Mark("bus/" + strings.ToLower(serial))
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 2 {
		return 0
	}
	return binary.BigEndian.Uint16(b)
}

// The whole demo terminal with window 3's bus devices on the emulator,
// against a real queued: a call to window 3 appears on the bus display;
// the hello names window 3, so queued sends its state, which the keypad
// shows; a press on the keypad is committed to the outbox with its
// sequence number, and queued acts on it; /healthz lists every bus device.
func TestBusInWholeTerminal(t *testing.T) {
	eb, link := emulate(t)
	clock := clockwork.NewFakeClockAt(time.Now())
	office := queuetest.Start(t, clock)
	r := startTerminal(t, clock, office, busYAML(link))
	if got := r.term.link.Status(); got.State != "up" {
		t.Fatalf("link %+v", got)
	}
	eventually(t, "display set up", func() bool { return face(t, eb, 1).Display.Window == 3 })

	origin := "http://" + r.addr
	req, err := http.NewRequest("POST", origin+"/api/v1/tickets", strings.NewReader(`{"service":"pension-age"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", origin)
	var tk struct {
		Number string `json:"number"`
	}
	send(t, req, http.StatusCreated, &tk)
	send(t, office.Request("POST", "/api/v1/windows/3/next", ""), http.StatusOK, nil)
	eventually(t, "the call on the bus display", func() bool {
		f := face(t, eb, 1).Display
		return f.Text == tk.Number && f.Window == 3
	})
	// The server sends window 3's state to this terminal, which named the
	// window in hello, and the keypad shows it.
	eventually(t, "window 3's state on the keypad", func() bool {
		l := lcd(face(t, eb, 2))
		return l[0] == i18n.T("uk", "keypad.calling", "ticket", tk.Number)
	})

	kp := face(t, eb, 2)
	res, err := eb.Press(2, int(bus.KeyCame), false)
	if err != nil || res.Outcome != emulator.Queued {
		t.Fatalf("press: %+v %v", res, err)
	}
	eventually(t, "the press in the outbox", func() bool { return markOf(t, r.term, kp.Serial) == res.Seq })
	eventually(t, "the press acknowledged on the keypad", func() bool { return face(t, eb, 2).Health.EvPending == 0 })
	// queued acts on it and says so: service starts, or, with nobody
	// signed in to window 3, the key is refused, which the keypad says
	// with a beep.
	eventually(t, "queued's answer to the press, on the keypad", func() bool {
		f := face(t, eb, 2)
		l := lcd(f)
		return l[0] == i18n.T("uk", "keypad.serving", "ticket", tk.Number) ||
			l[1] == i18n.T("uk", "keypad.refused.not_signed_in") && f.Keypad.Beep != nil
	})

	var h health
	resp, err := http.Get(origin + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"bus1": false, "window-display-3": false, "keypad-3": false, "rating-3": false}
	for _, d := range h.Devices {
		if _, ok := want[d.Name]; ok {
			want[d.Name] = true
			if d.State != devices.OK {
				t.Errorf("%s: %s %s", d.Name, d.State, d.Detail)
			}
			if d.Name == "keypad-3" && (d.Model != "CHG-KP1" || d.Serial != kp.Serial || d.Address != "bus1:2") {
				t.Errorf("keypad in /healthz: %+v", d)
			}
		}
	}
	for name, seen := range want {
		if !seen {
			t.Errorf("/healthz lacks %s", name)
		}
	}
}

// A bare terminal whose link never comes up by itself: what the bus part
// makes of the link's state and of window states is driven by hand.
func newBusTerminal(t *testing.T, link string) (*Terminal, *busPart, context.CancelFunc) {
	t.Helper()
	term := newBareTerminal(t)
	cfg, err := ParseConfig("t.yaml", []byte("device_id: t\ndata_dir: "+t.TempDir()+
		"\nroles: [kiosk]\nserver: {url: \"ws://127.0.0.1:1/api/v1/link\"}\n"+busYAML(link)))
	if err != nil {
		t.Fatal(err)
	}
	term.cfg = cfg
	pt, err := newBusPart(&build{Terminal: term})
	if err != nil {
		t.Fatal(err)
	}
	p := pt.(*busPart)
	term.parts = append(term.parts, p)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = p.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; p.Close() })
	return term, p, cancel
}

// With the link down the keypad says so, and a press is still taken:
// into the outbox, counted on the LCD. Back up, the window's state in
// Ukrainian; a refused key says why and beeps; a finished visit invites
// a rating, which goes out for that ticket.
func TestBusKeypadAndRating(t *testing.T) {
	eb, link := emulate(t)
	term, p, _ := newBusTerminal(t, link)
	f := fanout{term}
	t3 := func(key string, args ...any) string { return i18n.T("uk", key, args...) }

	eventually(t, "keypad says the link is down", func() bool {
		return lcd(face(t, eb, 2)) == [2]string{t3("keypad.offline"), t3("keypad.window", "n", 3)} && face(t, eb, 2).Keypad.LEDs[3].On
	})
	before := term.store.Outbox().Events
	if _, err := eb.Press(2, int(bus.KeyNext), false); err != nil {
		t.Fatal(err)
	}
	eventually(t, "press kept and counted", func() bool {
		return lcd(face(t, eb, 2))[1] == t3("keypad.saved", "n", 1)
	})
	if got := term.store.Outbox().Events; got != before+1 {
		t.Fatalf("outbox %d events, want %d", got, before+1)
	}

	f.Link(true)
	now := term.clock.Now()
	f.Window(proto.WindowState{Window: 3, State: proto.WindowServing, Ticket: "А123", Waiting: 7, Since: now})
	eventually(t, "the state on the keypad", func() bool {
		fc := face(t, eb, 2)
		return lcd(fc) == [2]string{"А123 НА ПРИЙОМІ", "ЧЕКАЮТЬ: 7"} && fc.Keypad.LEDs[1].On && !fc.Keypad.LEDs[3].On
	})
	eventually(t, "the ticket at the window on the display", func() bool { return face(t, eb, 1).Display.Text == "А123" })

	// "next" with nobody waiting: the server says why.
	if _, err := eb.Press(2, int(bus.KeyNext), false); err != nil {
		t.Fatal(err)
	}
	eventually(t, "second press in the outbox", func() bool { return term.store.Outbox().Events == before+2 })
	f.Window(proto.WindowState{Window: 3, State: proto.WindowIdle, Waiting: 0, Since: now, Key: proto.KeyNext,
		Refused: "nobody_waiting", Finished: "А123", FinishedAt: now})
	eventually(t, "the refusal on the keypad, with a beep", func() bool {
		fc := face(t, eb, 2)
		return lcd(fc) == [2]string{"ВІКНО 3 ВІЛЬНЕ", "НІКОГО НЕМАЄ"} && fc.Keypad.Beep != nil && fc.Keypad.Beep.Kind == "beep"
	})
	eventually(t, "the display cleared", func() bool { return face(t, eb, 1).Display.Text == "" })

	// The finish invited a rating for А123.
	eventually(t, "the rating panel invites", func() bool { return face(t, eb, 3).Rating.Prompt })
	if _, err := eb.Press(3, 5, false); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the rating in the outbox", func() bool { return term.store.Outbox().Events == before+3 })
	p.mu.Lock()
	prompted := p.prompted[3]
	p.mu.Unlock()
	if prompted != "А123" {
		t.Errorf("prompted for %q", prompted)
	}

	// A call to window 3 is shown, one to window 4 is not ours.
	if !p.Call(proto.Call{ID: "c1", Ticket: "Б007", Window: 3}) || p.Call(proto.Call{ID: "c2", Ticket: "В001", Window: 4}) {
		t.Error("window 3's call not shown, or window 4's shown")
	}
	if fc := face(t, eb, 1).Display; fc.Text != "Б007" || !fc.Blinking {
		t.Errorf("display %+v", fc)
	}
	p.Cancel(proto.Cancel{Call: "c1", Ticket: "Б007", Window: 3})
	if fc := face(t, eb, 1).Display; fc.Text != "" {
		t.Errorf("after the cancel the display shows %q", fc.Text)
	}
}

// Every text a keypad shows fits its LCD as written: 20 characters a
// line and at most 8 characters its ROM lacks, for any ticket prefix.
func TestKeypadFaceFitsTheLCD(t *testing.T) {
	states := []proto.WindowState{{State: proto.WindowClosed}, {State: proto.WindowIdle, Waiting: 123},
		{State: proto.WindowPaused, Waiting: 5}}
	for _, pfx := range []rune("АБВГҐДЕЄЖЗИІЇЙКЛМНОПРСТУФХЦЧШЩЮЯ") {
		for _, st := range []string{proto.WindowCalling, proto.WindowServing} {
			states = append(states, proto.WindowState{State: st, Ticket: string(pfx) + "-123", Waiting: 999})
		}
	}
	var refusals []string
	for _, code := range []string{"", "nobody_waiting", "not_signed_in", "paused", "nothing_to_do", "too_old", "brand_new"} {
		refusals = append(refusals, code)
	}
	check := func(l1, l2 string) {
		a, b := bus.FitLCD(l1, l2)
		if bus.DecodeCHG1(a) != l1 || bus.DecodeCHG1(b) != l2 {
			t.Errorf("%q / %q does not fit the LCD: it would show %q / %q", l1, l2, bus.DecodeCHG1(a), bus.DecodeCHG1(b))
		}
	}
	for _, ws := range states {
		for _, code := range refusals {
			ws.Refused = code
			l1, l2, _, _ := keypadFace(999, ws, true, true, 0, "")
			check(l1, l2)
		}
		l1, l2, _, _ := keypadFace(999, ws, true, true, 0, "12")
		check(l1, l2)
	}
	for _, saved := range []int{0, 1, 12345} {
		l1, l2, on, _ := keypadFace(999, proto.WindowState{}, false, false, saved, "")
		check(l1, l2)
		if on != bus.LEDOffline {
			t.Errorf("offline LEDs %b", on)
		}
	}
	if _, l2, _, _ := keypadFace(3, proto.WindowState{State: proto.WindowIdle, Refused: "brand_new"}, true, true, 0, ""); l2 != i18n.T("uk", "keypad.refused.other") {
		t.Errorf("an unknown refusal shows %q", l2)
	}
}

// The hello names the windows of the terminal's bus devices, each once.
func TestBusWindows(t *testing.T) {
	c := configs.Terminal{Buses: []configs.Bus{{Devices: []configs.BusDevice{{Window: 7}, {Window: 3}, {Window: 7}}}}}
	if got := c.BusWindows(); fmt.Sprint(got) != "[3 7]" {
		t.Errorf("windows %v", got)
	}
}
