package queue

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/cherga/kiosk/configs"
	"github.com/cherga/kiosk/link/proto"
	"github.com/cherga/kiosk/queue/record"
	"github.com/cherga/kiosk/queue/stats"
)

// A simulated day of a busy centre on the shipped catalogue: visitors
// arrive from 08:00 to 19:30 with a morning and an afternoon peak, twenty
// operators call, serve, recall, mark no-shows, transfer and take breaks,
// visitors rate the service. The test keeps its own book of what every
// visit was, and at the end checks that no ticket was lost or called
// twice, that the log replays to the stored tickets, and that the
// statistics equal the figures computed here from the test's own book.

// visit is the test's record of one episode at a window.
type visit struct {
	operator, service, group string
	window                   int
	wait, service_           float64 // seconds; service_ < 0: not served
	outcome                  string  // finished, no_show, transferred
	rating                   int
}

type simWindow struct {
	n        int
	operator Actor
	state    string // idle, called, serving, paused, off
	ticket   proto.Ticket
	start    time.Time // of waiting, for the current ticket
	until    time.Time // when the current step ends
	noShow   bool
	recalls  int
	breaks   []time.Time
	resumeAt time.Time
}

func dayOffice(t testing.TB) *configs.Office {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	cfg, err := configs.LoadOffice(filepath.Join(filepath.Dir(file), "../configs/office.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Windows = nil
	for n := 1; n <= 20; n++ {
		w := configs.OfficeWindow{Number: n}
		if n > 16 {
			w.Serves = []string{"pensions"}
		}
		cfg.Windows = append(cfg.Windows, w)
	}
	return cfg
}

func TestSimulatedDay(t *testing.T) {
	if testing.Short() {
		t.Skip("a whole day: not with -short")
	}
	kyiv := newClock().Now().Location()
	day := time.Date(2026, 11, 23, 0, 0, 0, 0, kyiv)
	c := clockwork.NewFakeClockAt(day.Add(7*time.Hour + 55*time.Minute))
	cfg := dayOffice(t)
	q, err := Open(filepath.Join(t.TempDir(), "q.db"), cfg, Options{Clock: c, Version: "day"})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	rng := rand.New(rand.NewPCG(2026, 11))

	minutes := map[string]int{}
	for _, g := range cfg.Groups {
		minutes[g.ID] = g.Minutes
	}
	// Services weighted like a real centre: subsidies and pensions most.
	var services []configs.OfficeService
	for _, s := range cfg.Services {
		n := 1
		if s.Group == "subsidies" || s.Group == "pensions" || s.Group == "assistance" {
			n = 3
		}
		for range n {
			services = append(services, s)
		}
	}
	groupOf := map[string]string{}
	for _, s := range cfg.Services {
		groupOf[s.ID] = s.Group
	}

	var wins []*simWindow
	for n := 1; n <= 20; n++ {
		op := fmt.Sprintf("op%02d", n)
		w := &simWindow{n: n, operator: Actor{Terminal: "operator", Operator: op, Name: "Оператор " + op}, state: "off"}
		for range 2 {
			w.breaks = append(w.breaks, day.Add(time.Duration(9*60+rng.IntN(9*60))*time.Minute))
		}
		sort.Slice(w.breaks, func(i, j int) bool { return w.breaks[i].Before(w.breaks[j]) })
		wins = append(wins, w)
	}

	var visits []visit
	waitingSince := map[string]time.Time{} // ticket → when its current wait began
	calledNow := map[string]int{}          // ticket → window calling it
	issued := map[string]bool{}
	ended := map[string]string{}
	open := day.Add(8 * time.Hour)
	lastArrival := day.Add(19*time.Hour + 30*time.Minute)
	closeAt := day.Add(20 * time.Hour)
	const tick = 10 * time.Second

	// Arrival rate per tick: about 1,100 visitors over the day, more
	// around 10:00 and 15:00.
	rate := func(at time.Time) float64 {
		h := float64(at.Sub(day)) / float64(time.Hour)
		peak := math.Exp(-math.Pow(h-10.5, 2)/2) + 0.8*math.Exp(-math.Pow(h-15, 2)/2)
		return (0.5 + peak) * 0.3
	}
	ok := func(r Result, err error) Result {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", c.Now().Format("15:04:05"), err)
		}
		return r
	}
	allClosed := func() bool {
		for _, w := range wins {
			if w.state != "closed" {
				return false
			}
		}
		return true
	}
	for now := c.Now(); !allClosed(); now = c.Now() {
		if now.After(closeAt.Add(4 * time.Hour)) {
			t.Fatal("the centre cannot close: someone is still waiting at midnight")
		}
		// Visitors arrive.
		if !now.Before(open) && now.Before(lastArrival) {
			for n := poisson(rng, rate(now)); n > 0; n-- {
				s := services[rng.IntN(len(services))]
				tk := mustIssue(t, q, s.ID)
				issued[tk.Number] = true
				waitingSince[tk.Number] = tk.IssuedAt
			}
		}
		for _, w := range wins {
			switch {
			case w.state == "off" && !now.Before(open.Add(time.Duration(w.n)*time.Minute)) && now.Before(closeAt):
				ok(q.SignIn(w.n, w.operator, false))
				w.state = "idle"
			case w.state == "idle" && len(w.breaks) > 0 && !now.Before(w.breaks[0]):
				ok(q.Pause(w.n, "break", w.operator))
				w.breaks = w.breaks[1:]
				w.state, w.resumeAt = "paused", now.Add(15*time.Minute)
			case w.state == "paused" && !now.Before(w.resumeAt):
				ok(q.Act(w.n, ActResume, w.operator))
				w.state = "idle"
			case w.state == "idle":
				r, err := q.NextAs(w.n, nil, w.operator)
				if errors.Is(err, ErrQueueEmpty) {
					if !now.Before(closeAt) { // nobody left, the centre has closed
						ok(q.Act(w.n, ActSignOut, w.operator))
						w.state = "closed"
					}
					continue
				}
				ok(r, err)
				num := r.Ticket.Number
				if other, busy := calledNow[num]; busy {
					t.Fatalf("%s called at window %d while window %d has it", num, w.n, other)
				}
				calledNow[num] = w.n
				w.ticket, w.start, w.recalls = r.Ticket, waitingSince[num], 0
				w.noShow = rng.IntN(100) < 4
				w.state, w.until = "called", now.Add(time.Duration(30+rng.IntN(60))*time.Second)
			case w.state == "called" && !now.Before(w.until):
				if w.noShow {
					if w.recalls < cfg.NoShowAfter {
						ok(q.Act(w.n, ActRecall, w.operator))
						w.recalls++
						w.until = now.Add(time.Minute)
						continue
					}
					ok(q.Act(w.n, ActNoShow, w.operator))
					visits = append(visits, visit{operator: w.operator.Operator, window: w.n, service: w.ticket.Service,
						group: groupOf[w.ticket.Service], wait: w.ticket.CalledAt.Sub(w.start).Seconds(), service_: -1, outcome: record.NoShow})
					delete(calledNow, w.ticket.Number)
					ended[w.ticket.Number] = record.NoShow
					w.state = "idle"
					continue
				}
				ok(q.Act(w.n, ActCame, w.operator))
				m := float64(minutes[groupOf[w.ticket.Service]])
				d := time.Duration(m*(0.4+0.6*rng.Float64())*60) * time.Second
				w.state, w.until = "serving", now.Add(d)
				w.ticket.CameAt = &now
			case w.state == "serving" && !now.Before(w.until):
				v := visit{operator: w.operator.Operator, window: w.n, service: w.ticket.Service, group: groupOf[w.ticket.Service],
					wait: w.ticket.CalledAt.Sub(w.start).Seconds(), service_: now.Sub(*w.ticket.CameAt).Seconds()}
				delete(calledNow, w.ticket.Number)
				if rng.IntN(100) < 5 {
					// Sent on to another service, keeping the issue time.
					to := services[rng.IntN(len(services))].ID
					if to == w.ticket.Service {
						to = "other-consultation"
					}
					if to == w.ticket.Service {
						to = "subsidy-housing"
					}
					ok(q.Transfer(w.n, to, 0, w.operator))
					v.outcome = record.Transferred
					waitingSince[w.ticket.Number] = now
				} else {
					ok(q.Act(w.n, ActFinish, w.operator))
					v.outcome = record.Finished
					ended[w.ticket.Number] = record.Finished
					if rng.IntN(100) < 30 {
						v.rating = 1 + rng.IntN(5)
						rateAt(t, q, w.n, v.rating, now.Add(5*time.Second))
					}
				}
				visits = append(visits, v)
				w.state = "idle"
			}
		}
		c.Advance(tick)
	}

	// No ticket lost: every ticket handed out was served or did not come.
	if len(issued) < 1000 {
		t.Fatalf("only %d visitors: not a busy day", len(issued))
	}
	for num := range issued {
		if ended[num] == "" {
			t.Errorf("ticket %s never ended", num)
		}
	}
	for _, l := range q.Lengths() {
		if l.Waiting != 0 {
			t.Errorf("%s still has %d waiting", l.Group, l.Waiting)
		}
	}
	checkDayReplay(t, q, "2026-11-23")

	// The statistics equal the test's own book.
	var events []record.Event
	for e, err := range q.Events("2026-11-23", "2026-11-23") {
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, e)
	}
	rep, err := stats.Compute(slices.Values(events), stats.Query{From: "2026-11-23", To: "2026-11-23", By: "operator"}, stats.Names{}, kyiv)
	if err != nil {
		t.Fatal(err)
	}
	byOp := map[string][]visit{}
	for _, v := range visits {
		byOp[v.operator] = append(byOp[v.operator], v)
	}
	if len(rep.Rows) != len(byOp) {
		t.Fatalf("%d operator rows, want %d", len(rep.Rows), len(byOp))
	}
	for _, row := range rep.Rows {
		compareFigures(t, "operator "+row.Key, row.Figures, byOp[row.Key])
	}
	compareFigures(t, "total", rep.Total.Figures, visits)
	if rep.Total.Tickets != len(issued) || rep.OpenEpisodes != 0 || rep.IgnoredEvents != 0 {
		t.Errorf("total tickets %d (want %d), open %d, ignored %d", rep.Total.Tickets, len(issued), rep.OpenEpisodes, rep.IgnoredEvents)
	}
	t.Logf("%d visitors, %d visits, mean wait %.1f min, p90 %.1f min", len(issued), len(visits),
		rep.Total.Wait.MeanS/60, rep.Total.Wait.P90S/60)
}

func rateAt(t *testing.T, q *Queue, window, score int, at time.Time) {
	t.Helper()
	dev := fmt.Sprintf("panel-%02d", window)
	d, ok := q.Device(dev)
	if !ok {
		connect(t, q, hello(dev, "window"))
	}
	apply(t, q, dev, 0, &proto.Message{Type: proto.TypeRating, Seq: d.LastSeq + 1,
		Rating: &proto.Rating{Window: window, Score: score, At: at}})
}

// poisson draws how many arrive in a tick with mean lambda.
func poisson(rng *rand.Rand, lambda float64) int {
	l, k, p := math.Exp(-lambda), 0, 1.0
	for {
		p *= rng.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

// compareFigures checks a statistics row against the test's own visits,
// computed here by the definitions in package stats' documentation.
func compareFigures(t *testing.T, what string, f stats.Figures, vs []visit) {
	t.Helper()
	var visitors, noShows, transfers int
	var waits, services []float64
	var ratings [5]int
	rated, sum := 0, 0
	for _, v := range vs {
		waits = append(waits, v.wait)
		switch v.outcome {
		case record.NoShow:
			noShows++
		case record.Transferred:
			transfers++
			visitors++
			services = append(services, v.service_)
		case record.Finished:
			visitors++
			services = append(services, v.service_)
		}
		if v.rating > 0 {
			ratings[v.rating-1]++
			rated++
			sum += v.rating
		}
	}
	if f.Visitors != visitors || f.NoShows != noShows || f.Transfers != transfers {
		t.Errorf("%s: visitors/no-shows/transfers %d/%d/%d, want %d/%d/%d", what, f.Visitors, f.NoShows, f.Transfers, visitors, noShows, transfers)
	}
	sameDurations(t, what+" wait", f.Wait, waits)
	sameDurations(t, what+" service", f.Service, services)
	if f.Ratings.Count != rated || f.Ratings.Dist != ratings {
		t.Errorf("%s: ratings %+v, want %d %v", what, f.Ratings, rated, ratings)
	}
	if rated > 0 && math.Abs(f.Ratings.Mean-float64(sum)/float64(rated)) > 0.01 {
		t.Errorf("%s: rating mean %v, want %v", what, f.Ratings.Mean, float64(sum)/float64(rated))
	}
}

func sameDurations(t *testing.T, what string, d stats.Durations, xs []float64) {
	t.Helper()
	if d.Count != len(xs) {
		t.Errorf("%s: count %d, want %d", what, d.Count, len(xs))
		return
	}
	if len(xs) == 0 {
		return
	}
	s := slices.Clone(xs)
	sort.Float64s(s)
	mean := 0.0
	for _, x := range s {
		mean += x
	}
	mean /= float64(len(s))
	median := s[len(s)/2]
	if len(s)%2 == 0 {
		median = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	p90 := s[int(math.Ceil(0.9*float64(len(s))))-1]
	for _, c := range []struct {
		name      string
		got, want float64
	}{{"mean", d.MeanS, mean}, {"median", d.MedianS, median}, {"p90", d.P90S, p90}} {
		if math.Abs(c.got-c.want) > 0.051 {
			t.Errorf("%s: %s %.2f s, want %.2f s", what, c.name, c.got, c.want)
		}
	}
}

// checkDayReplay rebuilds a day's tickets from the log alone and compares
// them with the stored ones.
func checkDayReplay(t *testing.T, q *Queue, day string) {
	t.Helper()
	var events []record.Event
	for e, err := range q.Events(day, day) {
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, e)
	}
	got := Replay(slices.Values(events))
	stored, err := q.Tickets(day)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range stored {
		r := got[day+"/"+s.Number]
		if r.State != s.State || r.Service != s.Service || r.Group != s.Group || r.Window != s.Window ||
			r.Recalls != s.Recalls || !r.IssuedAt.Equal(s.IssuedAt) {
			t.Errorf("%s: log says %+v, stored %+v", s.Number, r, s)
		}
	}
	if len(got) != len(stored) {
		t.Errorf("log has %d tickets, database %d", len(got), len(stored))
	}
}
