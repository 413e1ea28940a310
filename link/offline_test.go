package link

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/cherga/kiosk/link/proto"
	"github.com/cherga/kiosk/queue/queuetest"
)

// Three kiosks, their clocks minutes apart, lose the server and go on
// issuing tickets from their own series while the reception issues more
// online; then they come back. Every number of the day is unique, each
// offline one carries its kiosk's slot, and the queue calls them all in
// the order they were really issued (each kiosk's clock corrected by the
// offset measured when it came back).
func TestOfflineKiosksUniqueNumbersInIssueOrder(t *testing.T) {
	kyiv, _ := time.LoadLocation("Europe/Kyiv")
	officeClock := clockwork.NewFakeClockAt(time.Date(2026, 11, 23, 9, 0, 0, 0, kyiv))
	office := queuetest.Start(t, officeClock)
	type kiosk struct {
		id    string
		skew  time.Duration // the kiosk's clock minus the office's
		clock *clockwork.FakeClock
		dir   string
		r     *running
		slot  int
		last  uint64 // seq of its last event
	}
	kiosks := []*kiosk{{id: "kiosk-a", skew: -3 * time.Minute}, {id: "kiosk-b"}, {id: "kiosk-c", skew: 2*time.Minute + 170*time.Millisecond}}
	for _, k := range kiosks {
		k.clock = clockwork.NewFakeClockAt(officeClock.Now().Add(k.skew))
		k.dir = t.TempDir()
	}
	// Time passes alike everywhere; only the settings of the clocks differ.
	advance := func(d time.Duration) {
		officeClock.Advance(d)
		for _, k := range kiosks {
			k.clock.Advance(d)
		}
	}
	run := func(k *kiosk, url string) {
		k.r = start(t, url, k.dir, []string{"kiosk"}, func(c *Config) { c.Device, c.Clock = k.id, k.clock })
	}
	stopAll := func() {
		for _, k := range kiosks {
			k.r.stop()
		}
	}

	// Each kiosk reaches the server once: its slot and the catalogue.
	for _, k := range kiosks {
		run(k, office.LinkURL())
		k.slot = receive(t, k.r.rec.welcomes, "welcome").Slot
	}
	stopAll()

	// The server is away for the kiosks (their network is down); the
	// reception still issues online.
	for _, k := range kiosks {
		run(k, "ws://127.0.0.1:1/api/v1/link")
		receive(t, k.r.rec.welcomes, "saved welcome")
	}
	type issued struct{ number, kiosk string }
	var order []issued
	numbers := map[string]int{}
	rng := rand.New(rand.NewPCG(14, 7))
	services := []string{"pension-age", "subsidy-housing"}
	for i := range 40 {
		if i%6 == 5 {
			tk, _, err := office.Queue.Issue(services[rng.IntN(2)], "reception")
			if err != nil {
				t.Fatal(err)
			}
			order = append(order, issued{tk.Number, "reception"})
		} else {
			k := kiosks[rng.IntN(len(kiosks))]
			is, err := k.r.c.IssueTicket(context.Background(), services[rng.IntN(2)])
			if err != nil {
				t.Fatal(err)
			}
			if !is.Offline || is.Mode != ModeOffline {
				t.Fatalf("%s issued %s online", k.id, is.Number)
			}
			prefix := map[string]string{"pensions": "П", "subsidies": "А"}[is.Group]
			if slot, _, ok := proto.ParseOfflineNumber(is.Number, prefix); !ok || slot != k.slot {
				t.Fatalf("%s (slot %d) numbered %s", k.id, k.slot, is.Number)
			}
			k.last = is.Seq
			order = append(order, issued{is.Number, k.id})
		}
		numbers[order[len(order)-1].number]++
		advance(time.Duration(1+rng.IntN(20)) * time.Second)
	}
	stopAll()

	// They come back, one after the other, and deliver what they issued.
	for _, k := range kiosks {
		run(k, office.LinkURL())
		defer k.r.stop()
	}
	for _, k := range kiosks {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second) // a guard, never a measurement
		if err := k.r.c.WaitAck(ctx, k.last); err != nil {
			t.Fatalf("%s: its tickets did not arrive: %v", k.id, err)
		}
		cancel()
	}
	for n, c := range numbers {
		if c != 1 {
			t.Errorf("%s given %d times", n, c)
		}
	}
	held, err := office.Queue.Tickets(office.Queue.Today())
	if err != nil {
		t.Fatal(err)
	}
	if len(held) != len(order) {
		t.Fatalf("the server holds %d tickets, %d were issued", len(held), len(order))
	}
	// Window 1 serves every group: it calls them in issue order.
	for i, want := range order {
		called, _, err := office.Queue.Next(1)
		if err != nil {
			t.Fatalf("call %d: %v (want %s of %s)", i, err, want.number, want.kiosk)
		}
		if called.Number != want.number {
			t.Fatalf("call %d is %s, want %s of %s", i, called.Number, want.number, want.kiosk)
		}
	}
	if tk, _, err := office.Queue.Next(1); err == nil {
		t.Errorf("more tickets than were issued: %s", tk.Number)
	}
}
