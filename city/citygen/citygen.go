// Package citygen makes up a city's event logs: several service centres,
// each day of a range, a realistic mix of visitors' and windows' events
// (queue/record), for benchmarks of the city's database and statistics.
// It is deterministic for a seed and holds no real data.
package citygen

import (
	"cmp"
	"fmt"
	"iter"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/cherga/kiosk/queue/record"
)

// Config is what to generate. Zero fields take the defaults in brackets.
type Config struct {
	Offices        []string       // office ids [c1 … c5]
	From           string         // first day, YYYY-MM-DD [2025-01-01]
	Days           int            // [365]
	VisitorsPerDay int            // per office [1000]
	Windows        int            // per office [10]
	Seed           uint64         // [1]
	Location       *time.Location // the offices' time zone [Europe/Kyiv, else UTC]
}

// withDefaults fills in the defaults: five centres, a year, 1,000 visitors
// a day each, ten windows: about 10.5 million events.
func (c Config) withDefaults() Config {
	if len(c.Offices) == 0 {
		c.Offices = []string{"c1", "c2", "c3", "c4", "c5"}
	}
	if c.From == "" {
		c.From = "2025-01-01"
	}
	if c.Days == 0 {
		c.Days = 365
	}
	if c.VisitorsPerDay == 0 {
		c.VisitorsPerDay = 1000
	}
	if c.Windows == 0 {
		c.Windows = 10
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.Location == nil {
		if loc, err := time.LoadLocation("Europe/Kyiv"); err == nil {
			c.Location = loc
		} else {
			c.Location = time.UTC
		}
	}
	return c
}

// Range is the first and last day generated (YYYY-MM-DD).
func (c Config) Range() (from, to string) {
	c = c.withDefaults()
	d, err := time.Parse(time.DateOnly, c.From)
	if err != nil {
		panic(fmt.Sprintf("citygen: From %q: %v", c.From, err))
	}
	return c.From, d.AddDate(0, 0, c.Days-1).Format(time.DateOnly)
}

// Zone is the offices' time zone.
func (c Config) Zone() *time.Location { return c.withDefaults().Location }

type service struct{ id, group, prefix string }

var services = []service{
	{"passport", "docs", "А"}, {"id-card", "docs", "А"}, {"driving", "docs", "А"},
	{"tax", "money", "Б"}, {"pension", "money", "Б"},
	{"land", "land", "В"}, {"building", "land", "В"}, {"business", "land", "В"},
}

// Events yields every office's log, office by office, each in seq order
// (from 1) and day by day.
func Events(c Config) iter.Seq2[string, record.Event] {
	c = c.withDefaults()
	first, err := time.Parse(time.DateOnly, c.From)
	if err != nil {
		panic(fmt.Sprintf("citygen: From %q: %v", c.From, err))
	}
	return func(yield func(string, record.Event) bool) {
		for oi, office := range c.Offices {
			r := rand.New(rand.NewPCG(c.Seed, uint64(oi)))
			var seq uint64
			var day []timed
			for d := range c.Days {
				date := first.AddDate(0, 0, d)
				day = c.day(r, day[:0], date)
				for _, te := range day {
					seq++
					te.e.Seq = seq
					if !yield(office, te.e) {
						return
					}
				}
			}
		}
	}
}

type timed struct {
	e   record.Event
	ord int // generation order: ties in At keep it
}

// day is one office's events of one day, in time order.
func (c Config) day(r *rand.Rand, out []timed, date time.Time) []timed {
	dayStr := date.Format(time.DateOnly)
	at := func(h, m int, s float64) time.Time {
		return time.Date(date.Year(), date.Month(), date.Day(), h, m, 0, 0, c.Location).Add(time.Duration(s * float64(time.Second)))
	}
	ord := 0
	add := func(e record.Event) {
		e.Day = dayStr
		out = append(out, timed{e, ord})
		ord++
	}
	op := func(w int) string { return fmt.Sprintf("op%02d", w) }
	// Windows: signed in before 8, a break or two, lunch, signed out after 17.
	for w := 1; w <= c.Windows; w++ {
		add(record.Event{At: at(7, 50, r.Float64()*600), Type: record.SignedIn, Window: w, Operator: op(w), Terminal: "operator"})
		for _, b := range []struct {
			h      int
			reason string
			min    float64
		}{{10, "break", 10}, {12, "lunch", 45}, {15, "break", 10}} {
			p := at(b.h, 0, r.Float64()*3600)
			add(record.Event{At: p, Type: record.Paused, Window: w, Operator: op(w), Reason: b.reason, Terminal: "operator"})
			add(record.Event{At: p.Add(time.Duration(b.min*float64(time.Minute)) + time.Duration(r.IntN(300))*time.Second),
				Type: record.Resumed, Window: w, Operator: op(w), Terminal: "operator"})
		}
		add(record.Event{At: at(17, 0, r.Float64()*900), Type: record.SignedOut, Window: w, Operator: op(w), Terminal: "operator"})
	}
	numbers := map[string]int{}
	for range c.VisitorsPerDay {
		sv := services[r.IntN(len(services))]
		numbers[sv.prefix]++
		ticket := fmt.Sprintf("%s%03d", sv.prefix, numbers[sv.prefix])
		t := at(8, 0, r.Float64()*8.5*3600)
		iss := record.Event{At: t, Type: record.Issued, Ticket: ticket, Service: sv.id, Group: sv.group, Terminal: fmt.Sprintf("kiosk-%d", 1+r.IntN(2))}
		if r.IntN(100) < 15 {
			iss.Booked = true
		}
		if r.IntN(100) < 5 {
			iss.Priority = 1
		}
		if r.IntN(1000) < 5 {
			iss.Offline = true
		}
		add(iss)
		tk := func(typ string, w int) record.Event {
			return record.Event{Type: typ, Ticket: ticket, Service: sv.id, Group: sv.group, Window: w, Operator: op(w), Terminal: "operator"}
		}
		if r.IntN(100) < 3 {
			e := tk(record.Prioritized, 0)
			e.Window, e.Operator, e.Priority = 0, "", 2
			t = t.Add(time.Minute)
			e.At = t
			add(e)
		}
		if r.IntN(100) < 2 {
			e := tk(record.Cancelled, 0)
			e.Window, e.Operator = 0, ""
			e.At = t.Add(time.Duration(1+r.IntN(20)) * time.Minute)
			add(e)
			continue
		}
		for leg := 0; ; leg++ {
			w := 1 + r.IntN(c.Windows)
			t = t.Add(time.Duration(30+r.ExpFloat64()*12*60) * time.Second) // wait
			e := tk(record.Called, w)
			e.At = t
			add(e)
			// Nobody is marked absent before a recall.
			noShow := leg == 0 && r.IntN(100) < 8
			if noShow || r.IntN(100) < 30 {
				t = t.Add(time.Duration(30+r.IntN(60)) * time.Second)
				e := tk(record.Recalled, w)
				e.At = t
				add(e)
			}
			if noShow {
				t = t.Add(3 * time.Minute)
				e := tk(record.NoShow, w)
				e.At = t
				add(e)
				break
			}
			t = t.Add(time.Duration(20+r.IntN(60)) * time.Second)
			e = tk(record.Came, w)
			e.At = t
			add(e)
			t = t.Add(time.Duration(180+r.IntN(720)) * time.Second) // service
			if leg == 0 && r.IntN(100) < 20 {
				to := services[r.IntN(len(services))]
				e := tk(record.Transferred, w)
				e.At, e.ToService, e.ToGroup = t, to.id, to.group
				add(e)
				sv = to
				continue
			}
			e = tk(record.Finished, w)
			e.At = t
			add(e)
			if r.IntN(100) < 70 {
				e := tk(record.Rated, w)
				e.At, e.Score = t.Add(time.Duration(5+r.IntN(40))*time.Second), rating(r)
				add(e)
			}
			break
		}
	}
	slices.SortFunc(out, func(a, b timed) int {
		if c := a.e.At.Compare(b.e.At); c != 0 {
			return c
		}
		return cmp.Compare(a.ord, b.ord)
	})
	return out
}

func rating(r *rand.Rand) int {
	switch x := r.IntN(100); {
	case x < 55:
		return 5
	case x < 80:
		return 4
	case x < 90:
		return 3
	case x < 95:
		return 2
	default:
		return 1
	}
}
