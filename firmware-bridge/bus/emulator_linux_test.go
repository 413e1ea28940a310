package bus

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cherga/kiosk/firmware-bridge/emulator"
	"github.com/cherga/kiosk/firmware-bridge/modbus"
)

// eventually waits until cond holds, looking every few milliseconds: the
// emulator on the other side of a pseudo-terminal says nothing when its
// face changes.
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

func faceOf(t *testing.T, eb *emulator.Bus, addr byte) emulator.Face {
	t.Helper()
	d, err := eb.Device(addr)
	if err != nil {
		t.Fatal(err)
	}
	return d.Face()
}

// End to end against the device emulator (firmware-bridge/emulator, what
// kioskctl bridge emulate runs) over a pseudo-terminal at 8N2: a call on
// the display, the keypad's LCD, a press, a rating for a prompt, and power
// cuts of the display and the keypad, after which the call is back on
// the face and no press is lost or doubled.
func TestAgainstEmulator(t *testing.T) {
	specs, err := emulator.ParseSpecs("1:window-display,2:keypad,3:rating")
	if err != nil {
		t.Fatal(err)
	}
	eb, err := emulator.NewBus(specs, emulator.Options{Line: modbus.PTYLine, StateDir: t.TempDir()})
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

	j := openJournal(t, filepath.Join(t.TempDir(), "kioskd.db"))
	b := runBus(t, Config{Name: "bus1", Port: link, Line: modbus.PTYLine, Journal: j, Master: ptyOptions,
		Backoff: supervisedFast, Location: time.UTC,
		Devices: []DeviceConfig{displayAt(1, 3), keypadAt(2, 3),
			{Name: "rating", Type: TypeRating, Address: 3, Window: 3, Brightness: 10}}})
	d, k, r := b.Displays()[0], b.Keypads()[0], b.Ratings()[0]
	k.SetText("А123 НА ПРИЙОМІ", "ЧЕКАЮТЬ: 7")
	k.SetLEDs(LEDServing, 0)
	eventually(t, "display set up", func() bool { f := faceOf(t, eb, 1); return f.Display.Window == 3 })
	eventually(t, "the call shown", func() bool { return d.Show(context.Background(), Call{Text: "А123"}) == nil })
	if f := faceOf(t, eb, 1).Display; f.Text != "А123" || !f.Blinking {
		t.Fatalf("display face %+v", f)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, f := range eb.Faces() {
				t.Logf("emulator: %+v %+v %+v %+v", f, f.Display, f.Keypad, f.Rating)
			}
		}
	})
	eventually(t, "keypad LCD", func() bool {
		f := faceOf(t, eb, 2).Keypad
		return strings.TrimRight(f.Lines[0], " ") == "А123 НА ПРИЙОМІ" && strings.TrimRight(f.Lines[1], " ") == "ЧЕКАЮТЬ: 7" && f.LEDs[1].On
	})

	if _, err := eb.Press(2, int(KeyNext), false); err != nil {
		t.Fatal(err)
	}
	if ev := receive(t, j.commits, "next committed"); ev.Key != KeyNext || ev.Type != TypeKeypad || ev.Window != 3 {
		t.Fatalf("committed %+v", ev)
	}

	// A press without a prompt makes no event; with one, exactly one.
	if res, _ := eb.Press(3, 5, false); res.Outcome != emulator.NoPrompt {
		t.Fatalf("rating without a prompt: %+v", res)
	}
	r.Prompt(30 * time.Second)
	eventually(t, "rating prompt", func() bool { return faceOf(t, eb, 3).Rating.Prompt })
	if _, err := eb.Press(3, 4, false); err != nil {
		t.Fatal(err)
	}
	if ev := receive(t, j.commits, "rating committed"); ev.Key != 4 || ev.Type != TypeRating {
		t.Fatalf("committed %+v", ev)
	}
	eventually(t, "prompt over", func() bool { return !r.Prompting() && !faceOf(t, eb, 3).Rating.Prompt })

	// The display loses power: blank, then the call again.
	if err := eb.PowerCut(1, 100*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the call back after the power cut", func() bool {
		f := faceOf(t, eb, 1)
		return f.Power == "on" && f.Display.Text == "А123" && f.Display.Window == 3
	})

	// The keypad loses power with a press just made: it is offered again
	// after power-on, and taken once.
	if _, err := eb.Press(2, int(KeyFinish), false); err != nil {
		t.Fatal(err)
	}
	if err := eb.PowerCut(2, 100*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if ev := receive(t, j.commits, "finish committed"); ev.Key != KeyFinish {
		t.Fatalf("committed %+v", ev)
	}
	eventually(t, "keypad set up again", func() bool {
		f := faceOf(t, eb, 2)
		return f.Power == "on" && f.Health.EvPending == 0 && strings.TrimRight(f.Keypad.Lines[0], " ") == "А123 НА ПРИЙОМІ"
	})
	if _, err := eb.Press(2, int(KeyRecall), false); err != nil {
		t.Fatal(err)
	}
	if ev := receive(t, j.commits, "recall committed"); ev.Key != KeyRecall {
		t.Fatalf("committed %+v (a repeat?)", ev)
	}
	if n := j.store.Outbox().Events; n != 4 {
		t.Errorf("outbox %d events, want next, rating, finish, recall", n)
	}
	for _, st := range b.Devices() {
		if s := st(); s.State != "ok" {
			t.Errorf("%s: %s %s", s.Name, s.State, s.Detail)
		}
	}
}
