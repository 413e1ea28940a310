package cmd_test

import (
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// takeTicket asks kioskd for a ticket; ok is false if kioskd did not answer
// (it was killed), in which case nobody holds a ticket from this request.
func takeTicket(addr, service string) (number string, offline, ok bool) {
	resp, err := http.Post("http://"+addr+"/api/v1/tickets", "application/json", strings.NewReader(`{"service":"`+service+`"}`))
	if err != nil {
		return "", false, false
	}
	defer resp.Body.Close()
	var tk struct {
		Number  string `json:"number"`
		Offline bool   `json:"offline"`
		Printed bool   `json:"printed"`
	}
	if resp.StatusCode != http.StatusCreated || json.NewDecoder(resp.Body).Decode(&tk) != nil {
		return "", false, false
	}
	return tk.Number, tk.Offline, true
}

// printed lists the ticket numbers the simulated printer finished, one
// entry per printed ticket.
func printed(t *testing.T, dataDir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dataDir, "tickets", "*.png"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".png")
		_, number, _ := strings.Cut(name, "-") // 20261123T101500-А012
		out = append(out, number)
	}
	return out
}

type serverTicket struct {
	Number   string    `json:"number"`
	State    string    `json:"state"`
	IssuedAt time.Time `json:"issued_at"`
	Offline  bool      `json:"offline"`
}

// serverTickets is every ticket queued holds for today, by number; tickets
// it only reserved (a kiosk died before handing them out) are left out.
func serverTickets(t *testing.T, o *office) (map[string]int, []serverTicket) {
	t.Helper()
	var day struct {
		Tickets []serverTicket `json:"tickets"`
	}
	o.call(t, "GET", "/api/v1/tickets", "", http.StatusOK, &day)
	count := map[string]int{}
	var queued []serverTicket
	for _, tk := range day.Tickets {
		if tk.State != "reserved" {
			count[tk.Number]++
			queued = append(queued, tk)
		}
	}
	return count, queued
}

// kioskd is killed with SIGKILL at random moments during bursts of
// tickets, 20 times, and queued too every fifth time. Afterwards the server
// holds every ticket handed out exactly once, and no number was ever
// printed twice.
func TestKillNineDuringBursts(t *testing.T) {
	o := startOffice(t)
	rng := rand.New(rand.NewPCG(7, 7))
	services := []string{"pension-age", "subsidy-housing", "certificate-income", "assist-birth"}
	answered := map[string]int{}
	var mu sync.Mutex
	for round := range 20 {
		killAfter := 1 + rng.IntN(12)
		done := make(chan struct{})
		var completed sync.WaitGroup
		var count int
		var once sync.Once
		for w := range 4 {
			completed.Go(func() {
				for {
					select {
					case <-done:
						return
					default:
					}
					number, _, ok := takeTicket(o.kAddr, services[w])
					if !ok {
						continue // kioskd is gone; the request never completed
					}
					mu.Lock()
					answered[number]++
					count++
					if count >= killAfter {
						once.Do(func() { close(done) })
					}
					mu.Unlock()
				}
			})
		}
		<-done
		// Requests of the other taps are still in flight: kill now.
		o.kioskd.kill()
		completed.Wait()
		if round%5 == 4 {
			o.queued.kill()
			o.startQueued(t)
		}
		o.startKioskd(t)
		mu.Lock()
		count = 0
		mu.Unlock()
	}

	// Let the last kioskd deliver its backlog, then compare.
	last, _, ok := takeTicket(o.kAddr, "pension-age")
	if !ok {
		t.Fatal("no ticket after the last restart")
	}
	answered[last]++
	if n := waitDelivered(t, o); n != 0 {
		t.Fatalf("outbox still holds %d events", n)
	}
	atServer, _ := serverTickets(t, o)
	prints := map[string]int{}
	for _, n := range printed(t, o.dataDir) {
		prints[n]++
	}
	for n, c := range prints {
		if c != 1 {
			t.Errorf("%s was printed %d times", n, c)
		}
		if atServer[n] != 1 {
			t.Errorf("%s was printed but is at the server %d times", n, atServer[n])
		}
	}
	for n, c := range answered {
		if c != 1 || prints[n] != 1 {
			t.Errorf("%s answered %d times, printed %d times", n, c, prints[n])
		}
	}
	for n, c := range atServer {
		if c != 1 {
			t.Errorf("%s is at the server %d times", n, c)
		}
	}
	t.Logf("%d tickets answered, %d printed, %d at the server", len(answered), len(prints), len(atServer))
	o.kioskd.stop(syscall.SIGTERM)
	o.queued.stop(syscall.SIGTERM)
}

// waitDelivered waits until kioskd's outbox is empty, watching its log for
// the backlog being delivered; it returns the events left.
func waitDelivered(t *testing.T, o *office) int {
	t.Helper()
	var h struct {
		Outbox struct {
			Events int `json:"events"`
		} `json:"outbox"`
	}
	do(t, "GET", "http://"+o.kAddr+"/healthz", "", http.StatusOK, &h)
	if h.Outbox.Events > 0 {
		o.kioskd.waitLog("outbox backlog delivered")
		do(t, "GET", "http://"+o.kAddr+"/healthz", "", http.StatusOK, &h)
	}
	return h.Outbox.Events
}

// queued stops while tickets are issued, and starts again: every ticket
// arrives, once, in issue order.
func TestQueuedRestart(t *testing.T) {
	o := startOffice(t)
	var order []string
	for i := range 60 {
		if i == 20 {
			if code := o.queued.stop(syscall.SIGTERM); code != 0 {
				t.Fatalf("queued exited %d", code)
			}
			o.kioskd.waitLog("link down")
		}
		number, offline, ok := takeTicket(o.kAddr, "pension-age")
		if !ok {
			t.Fatalf("ticket %d refused", i)
		}
		if offline != (i >= 20) {
			t.Errorf("ticket %d (%s) offline=%v", i, number, offline)
		}
		order = append(order, number)
	}
	var health struct {
		Status    string `json:"status"`
		Numbering struct {
			Mode string `json:"mode"`
		} `json:"numbering"`
	}
	do(t, "GET", "http://"+o.kAddr+"/healthz", "", http.StatusOK, &health)
	if health.Status != "degraded" || health.Numbering.Mode != "offline" {
		t.Errorf("healthz while the server is away: %+v", health)
	}

	o.startQueued(t)
	o.kioskd.waitLog("outbox backlog delivered")
	count, queued := serverTickets(t, o)
	var got []string
	for _, tk := range queued {
		got = append(got, tk.Number)
		if count[tk.Number] != 1 {
			t.Errorf("%s is at the server %d times", tk.Number, count[tk.Number])
		}
	}
	if strings.Join(got, " ") != strings.Join(order, " ") {
		t.Errorf("server order\n%v\nissue order\n%v", got, order)
	}
	if code := o.kioskd.stop(os.Interrupt); code != 0 {
		t.Errorf("kioskd exited %d", code)
	}
}
