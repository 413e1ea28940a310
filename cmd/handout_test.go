package cmd_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// eventually polls cond until it holds, failing after 30 s: the state of
// another process, which says nothing when it changes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 30 s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stateOf is a ticket's state at queued today, "" if queued has none.
func stateOf(t *testing.T, o *office, number string) string {
	t.Helper()
	_, tickets := serverTickets(t, o)
	for _, tk := range tickets {
		if tk.Number == number {
			return tk.State
		}
	}
	return ""
}

// kioskd is killed with SIGKILL while a ticket prints, five times: the
// printer is paced to 150 bytes a second, so each ticket takes seconds on
// the wire, and the kill lands after the outbox commit and before the
// paper is out. Every time, the restarted kioskd withdraws the ticket:
// queued no longer has it in the queue, a call of it (the operator was
// quicker than the restart, every second time) comes off the window, and
// the operator's next call is a real ticket. The statistics count the five
// as cancelled, none as a visitor or a no-show.
func TestKillNineWhilePrinting(t *testing.T) {
	o := startOffice(t, "    paper_mm: 80\n", "    paper_mm: 80\n    pace: 150\n")
	var ghosts []string
	for round := range 5 {
		// A visitor taps; the ticket is committed and starts printing.
		answered := make(chan bool, 1)
		go func() {
			_, _, ok := takeTicket(o.kAddr, "pension-age")
			answered <- ok
		}()
		line := o.kioskd.waitLog("printing ticket")
		_, rest, _ := strings.Cut(line, "number=")
		ghost, _, _ := strings.Cut(rest, " ")
		ghosts = append(ghosts, ghost)
		calledFirst := round%2 == 1
		if calledFirst {
			// queued has the ticket (the kiosk sent it at once) and an
			// operator calls it while the kiosk is dying.
			eventually(t, ghost+" waiting at queued", func() bool { return stateOf(t, o, ghost) == "waiting" })
			var called struct{ Number string }
			o.call(t, "POST", "/api/v1/windows/1/next", "", http.StatusOK, &called)
			if called.Number != ghost {
				t.Fatalf("round %d: called %s, want %s", round, called.Number, ghost)
			}
		}
		o.kioskd.kill()
		if <-answered {
			t.Fatalf("round %d: %s was answered before the kill", round, ghost)
		}
		o.startKioskd(t)
		if !strings.Contains(o.kioskd.log.String(), "ticket not handed out before kioskd stopped: withdrawn") ||
			!strings.Contains(o.kioskd.log.String(), ghost) {
			t.Fatalf("round %d: kioskd did not withdraw %s:\n%s", round, ghost, o.kioskd.log.String())
		}
		waitDelivered(t, o)
		if st := stateOf(t, o, ghost); st != "cancelled" {
			t.Fatalf("round %d: %s is %q at queued, want cancelled", round, ghost, st)
		}
		var win struct {
			Waiting int `json:"waiting"`
			Ticket  *struct {
				Number string `json:"number"`
			} `json:"ticket"`
		}
		o.call(t, "GET", "/api/v1/windows/1", "", http.StatusOK, &win)
		if win.Ticket != nil && win.Ticket.Number == ghost {
			t.Fatalf("round %d: window 1 still calls %s", round, ghost)
		}
		// A real visitor: printed, handed out; the next call is theirs.
		real, _, ok := takeTicket(o.kAddr, "pension-age")
		if !ok {
			t.Fatalf("round %d: no ticket after the restart", round)
		}
		o.kioskd.waitLog(`msg="printing ticket" number=` + real) // read past it: the next round waits for its own
		var called struct{ Number string }
		o.call(t, "POST", "/api/v1/windows/1/next", "", http.StatusOK, &called)
		if called.Number != real {
			t.Fatalf("round %d: the next call is %s, want the real %s (ghost %s)", round, called.Number, real, ghost)
		}
	}
	// Not one ghost reached the paper.
	for _, n := range printed(t, o.dataDir) {
		if slices.Contains(ghosts, n) {
			t.Errorf("%s was printed and withdrawn", n)
		}
	}
	kyiv, err := time.LoadLocation("Europe/Kyiv")
	if err != nil {
		t.Fatal(err)
	}
	day := time.Now().In(kyiv).Format(time.DateOnly)
	var report struct {
		Total struct {
			Tickets   int `json:"tickets"`
			Cancelled int `json:"cancelled"`
			NoShows   int `json:"no_shows"`
			Visitors  int `json:"visitors"`
		} `json:"total"`
	}
	o.call(t, "GET", "/api/v1/stats?from="+day+"&to="+day+"&by=group", "", http.StatusOK, &report)
	// Ten tickets: five ghosts, cancelled; five real, four finished by the
	// next call, the last still at the window.
	if tot := report.Total; tot.Tickets != 10 || tot.Cancelled != 5 || tot.NoShows != 0 || tot.Visitors != 4 {
		t.Errorf("statistics %+v", tot)
	}
	t.Logf("ghosts %v withdrawn", ghosts)
}
