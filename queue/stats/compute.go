package stats

import (
	"cmp"
	"errors"
	"fmt"
	"iter"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/cherga/kiosk/queue/record"
)

// Name is a service's or group's name in both languages; a configs.Text
// converts to it directly (stats.Name(t)).
type Name struct {
	UK string
	EN string
}

// Names gives the display names of what the log names by id. A missing
// entry shows the id itself.
type Names struct {
	Operators map[string]string // account name → display name (a city's: "office/account")
	Services  map[string]Name   // service id → name
	Groups    map[string]Name   // group id → name
	Offices   map[string]Name   // office id → name, for a city's report by office
}

// Report is one computed report; its JSON is the answer of
// GET /api/v1/stats.
type Report struct {
	From        string         `json:"from"`
	To          string         `json:"to"`
	By          string         `json:"by"`
	Rows        []Row          `json:"rows"`
	Total       Total          `json:"total"`
	TopServices []ServiceCount `json:"top_services"`
	// OpenEpisodes were still waiting or being served when the events
	// ended; they are in no figure.
	OpenEpisodes int `json:"open_episodes"`
	// IgnoredEvents contradicted the ticket's life as the log told it
	// before (a call for a ticket never issued or already finished, an
	// issue repeated, a score outside 1..5) and are in no figure.
	IgnoredEvents int `json:"ignored_events"`
}

// Figures are what is counted for a row and for the total.
type Figures struct {
	Visitors  int       `json:"visitors"`
	NoShows   int       `json:"no_shows"`
	Transfers int       `json:"transfers"`
	Cancelled int       `json:"cancelled"`
	Wait      Durations `json:"wait"`
	Service   Durations `json:"service"`
	Ratings   Ratings   `json:"ratings"`
}

// Row is the figures of one key: an operator, window, service, group or
// hour of day.
type Row struct {
	Key    string `json:"key"`
	Name   string `json:"name"`
	NameEN string `json:"name_en"`
	Figures
}

// Total is the figures of the whole range for the centre.
type Total struct {
	Figures
	Tickets       int `json:"tickets"`
	ServedTickets int `json:"served_tickets"`
}

// Durations summarises waiting or service times, in seconds.
type Durations struct {
	Count   int     `json:"count"`
	MeanS   float64 `json:"mean_s"`
	MedianS float64 `json:"median_s"`
	P90S    float64 `json:"p90_s"`
}

// Ratings summarises visitors' scores; Dist[i] counts the score i+1.
type Ratings struct {
	Count int     `json:"count"`
	Mean  float64 `json:"mean"`
	Dist  [5]int  `json:"dist"`
}

// ServiceCount is one line of the top services.
type ServiceCount struct {
	Service       string `json:"service"`
	Name          string `json:"name"`
	NameEN        string `json:"name_en"`
	Issued        int    `json:"issued"`
	TransferredIn int    `json:"transferred_in"`
}

// maxTopServices is the length of Report.TopServices at most.
const maxTopServices = 20

// Compute reads events once, in log order, and computes the report q asks
// for; loc is the office's time zone, for the hour of day. It fails only
// for a query that ParseQuery would refuse or a nil loc: events that do
// not fit are counted in IgnoredEvents.
func Compute(events iter.Seq[record.Event], q Query, names Names, loc *time.Location) (*Report, error) {
	if err := q.check(Bys); err != nil {
		return nil, err
	}
	if loc == nil {
		return nil, errors.New("stats: nil location")
	}
	c := newComputation(q, func(string) *time.Location { return loc })
	c.switchOffice("")
	for e := range events {
		c.add(&e)
	}
	return c.report(names), nil
}

// ComputeOffices is Compute over the events of several offices, as a
// city's database holds them: each yielded pair is an office's id and one
// of its events, each office's in its log order (the offices may
// interleave). A ticket is (office, Day, Ticket), so equal numbers of two
// offices are two tickets; the hour of day is in the office's time zone,
// loc(office) (nil: the error). Rows may also be by office (CityBys); by
// operator they are keyed "office/account" (Names.Operators by that key),
// an episode with no operator in the row "" as in an office's report. So
// every figure of an office's own Compute over its events is the figure
// of its rows here, and a city's counts are the sums of its offices'.
func ComputeOffices(events iter.Seq2[string, record.Event], q Query, names Names, loc func(office string) *time.Location) (*Report, error) {
	if err := q.check(CityBys); err != nil {
		return nil, err
	}
	if loc == nil {
		return nil, errors.New("stats: nil location")
	}
	c := newComputation(q, loc)
	c.city = true
	for office, e := range events {
		if office != c.office || c.state == nil {
			if !c.switchOffice(office) {
				return nil, fmt.Errorf("stats: office %q: no time zone", office)
			}
		}
		c.add(&e)
	}
	return c.report(names), nil
}

func newComputation(q Query, loc func(string) *time.Location) *computation {
	return &computation{
		q: q, locOf: loc,
		rows:     make(map[string]*rowAcc),
		offices:  make(map[string]*officeDays),
		services: make(map[string]*serviceAcc),
	}
}

// switchOffice makes office the one whose events come next.
func (c *computation) switchOffice(office string) bool {
	st := c.offices[office]
	if st == nil {
		loc := c.locOf(office)
		if loc == nil {
			return false
		}
		st = &officeDays{days: make(map[string]map[string]*ticket), loc: loc}
		c.offices[office] = st
	}
	c.office, c.state, c.loc = office, st, st.loc
	c.curDay, c.cur = "", nil
	return true
}

// officeDays is one office's tickets of the days still kept.
type officeDays struct {
	// days holds the tickets of each day still kept, by number.
	days   map[string]map[string]*ticket
	latest string
	loc    *time.Location
}

// computation is Compute's state between two events.
type computation struct {
	q     Query
	locOf func(office string) *time.Location
	city  bool // ComputeOffices: operators are qualified by office

	rows    map[string]*rowAcc
	unrated ratingAcc // ratings that rated no episode

	// offices are the tickets kept of each office ("" in an office's own
	// report); state is the office of the last event, loc its time zone;
	// cur is state.days[curDay], the day of the last event, looked up
	// once per day.
	offices map[string]*officeDays
	office  string
	state   *officeDays
	loc     *time.Location
	curDay  string
	cur     map[string]*ticket

	services             map[string]*serviceAcc
	tickets, served      int
	openDropped, ignored int
}

// ticket is what is known of one ticket while its day is kept.
type ticket struct {
	open bool // an episode is under way
	// The episode under way.
	start, called, came time.Time
	hasCalled, hasCame  bool
	service, group      string // as issued or transferred to; group "" after a transfer

	finished bool    // served_tickets counts it
	ended    []ended // episodes ended, oldest first, for ratings
	buf      [2]ended
}

// ended is an episode that ended: where, when, and the row it counts in.
type ended struct {
	window int
	at     time.Time
	row    *rowAcc
}

type rowAcc struct {
	key                                   string
	visitors, noShows, transfers, cancels int
	wait, service                         samples
	ratings                               ratingAcc
}

// samples keeps every duration of a row, in milliseconds: 4 bytes each,
// exact to well below the 0.1 s the figures are rounded to, for up to 24
// days.
type samples struct {
	ms  []int32
	sum int64
}

func (s *samples) add(d time.Duration) {
	ms := min(max(d.Milliseconds(), 0), math.MaxInt32)
	s.ms = append(s.ms, int32(ms))
	s.sum += ms
}

type ratingAcc struct{ dist [5]int }

func (r *ratingAcc) add(score int) { r.dist[score-1]++ }

type serviceAcc struct{ issued, transferredIn int }

func (c *computation) add(e *record.Event) {
	if e.Ticket == "" {
		return // a window's event: not part of these figures
	}
	if e.Day < c.q.From || e.Day > c.q.To {
		return
	}
	switch e.Type {
	case record.Issued, record.Called, record.Recalled, record.Came,
		record.Finished, record.NoShow, record.Transferred, record.Cancelled, record.Rated:
	default:
		return // Prioritized, and types added after this package
	}
	day, ok := c.ticketsOf(e.Day)
	if !ok {
		c.ignored++
		return
	}
	t := day[e.Ticket]
	switch e.Type {
	case record.Issued:
		if t != nil {
			c.ignored++
			return
		}
		t = &ticket{open: true, start: e.At, service: e.Service, group: e.Group}
		t.ended = t.buf[:0]
		day[e.Ticket] = t
		c.tickets++
		c.service(e.Service).issued++
	case record.Rated:
		c.rate(t, e)
	default:
		if t == nil || !t.open {
			c.ignored++
			return
		}
		switch e.Type {
		case record.Called, record.Recalled:
			if !t.hasCalled {
				t.called, t.hasCalled = e.At, true
			}
		case record.Came:
			if !t.hasCame {
				t.came, t.hasCame = e.At, true
			}
		default:
			c.end(t, e)
		}
	}
}

// ticketsOf returns the tickets of day, and false for a day that is not a
// date. A day later than any before drops the days before the one preceding
// it.
func (c *computation) ticketsOf(day string) (map[string]*ticket, bool) {
	if c.cur != nil && day == c.curDay {
		return c.cur, true
	}
	st := c.state
	m, ok := st.days[day]
	if !ok {
		d, err := time.Parse(dateLayout, day)
		if err != nil || d.Format(dateLayout) != day {
			return nil, false
		}
		if day > st.latest {
			st.latest = day
			keep := d.AddDate(0, 0, -1).Format(dateLayout)
			for k, old := range st.days {
				if k < keep {
					c.openDropped += countOpen(old)
					delete(st.days, k)
				}
			}
		}
		m = make(map[string]*ticket, 256)
		st.days[day] = m
	}
	c.curDay, c.cur = day, m
	return m, true
}

func countOpen(m map[string]*ticket) int {
	n := 0
	for _, t := range m {
		if t.open {
			n++
		}
	}
	return n
}

// end folds the episode that e ends into its row, and starts the next one
// after a transfer.
func (c *computation) end(t *ticket, e *record.Event) {
	service, group := cmp.Or(e.Service, t.service), cmp.Or(e.Group, t.group)
	row := c.row(c.key(t, e, service, group))
	// A ticket nobody held (never handed out) had nobody waiting for it.
	if t.hasCalled && !(e.Type == record.Cancelled && e.Reason == record.ReasonNotHandedOut) {
		row.wait.add(t.called.Sub(t.start))
	}
	switch e.Type {
	case record.Finished, record.Transferred:
		row.visitors++
		switch {
		case t.hasCame:
			row.service.add(e.At.Sub(t.came))
		case t.hasCalled:
			row.service.add(e.At.Sub(t.called))
		}
	case record.NoShow:
		row.noShows++
	case record.Cancelled:
		row.cancels++
	}
	t.ended = append(t.ended, ended{window: e.Window, at: e.At, row: row})

	switch e.Type {
	case record.Finished:
		if !t.finished {
			t.finished = true
			c.served++
		}
	case record.Transferred:
		row.transfers++
		t.start, t.hasCalled, t.hasCame = e.At, false, false
		t.service, t.group = service, group
		if e.ToService != "" && e.ToService != service {
			c.service(e.ToService).transferredIn++
			// The log does not say the new service's group; the event
			// that ends the next episode will.
			t.service, t.group = e.ToService, ""
		}
		return
	}
	t.open = false
}

// rate counts a rating in the row of the episode it rates, or in the total
// only.
func (c *computation) rate(t *ticket, e *record.Event) {
	if e.Score < 1 || e.Score > 5 {
		c.ignored++
		return
	}
	if t != nil && e.Window != 0 {
		for i := len(t.ended) - 1; i >= 0; i-- {
			if en := t.ended[i]; en.window == e.Window && !en.at.After(e.At) {
				en.row.ratings.add(e.Score)
				return
			}
		}
	}
	c.unrated.add(e.Score)
}

func (c *computation) key(t *ticket, e *record.Event, service, group string) string {
	switch c.q.By {
	case ByOperator:
		if c.city && e.Operator != "" {
			return c.office + "/" + e.Operator
		}
		return e.Operator
	case ByOffice:
		return c.office
	case ByWindow:
		if e.Window == 0 {
			return ""
		}
		return strconv.Itoa(e.Window)
	case ByService:
		return service
	case ByGroup:
		return group
	default:
		return strconv.Itoa(t.start.In(c.loc).Hour())
	}
}

func (c *computation) row(key string) *rowAcc {
	r := c.rows[key]
	if r == nil {
		r = &rowAcc{key: key}
		c.rows[key] = r
	}
	return r
}

func (c *computation) service(id string) *serviceAcc {
	s := c.services[id]
	if s == nil {
		s = &serviceAcc{}
		c.services[id] = s
	}
	return s
}

// report turns the accumulators into the report, once the events are read.
func (c *computation) report(names Names) *Report {
	r := &Report{
		From: c.q.From, To: c.q.To, By: c.q.By,
		Rows:          make([]Row, 0, len(c.rows)),
		TopServices:   []ServiceCount{},
		OpenEpisodes:  c.openDropped,
		IgnoredEvents: c.ignored,
	}
	for _, st := range c.offices {
		for _, m := range st.days {
			r.OpenEpisodes += countOpen(m)
		}
	}

	accs := make([]*rowAcc, 0, len(c.rows))
	var nWait, nService int
	for _, a := range c.rows {
		accs = append(accs, a)
		nWait += len(a.wait.ms)
		nService += len(a.service.ms)
	}
	numeric := c.q.By == ByWindow || c.q.By == ByHour
	slices.SortFunc(accs, func(a, b *rowAcc) int {
		if numeric && a.key != "" && b.key != "" {
			x, _ := strconv.Atoi(a.key)
			y, _ := strconv.Atoi(b.key)
			return cmp.Compare(x, y)
		}
		return cmp.Compare(a.key, b.key)
	})

	// The total's percentiles are over every episode: the rows' samples
	// together (each episode is in exactly one row).
	all := samplesAcc{wait: samples{ms: make([]int32, 0, nWait)}, service: samples{ms: make([]int32, 0, nService)}}
	ratings := c.unrated
	tf := &r.Total.Figures
	for _, a := range accs {
		row := Row{Key: a.key, Figures: a.figures()}
		row.Name, row.NameEN = rowName(c.q.By, a.key, names)
		r.Rows = append(r.Rows, row)

		tf.Visitors += a.visitors
		tf.NoShows += a.noShows
		tf.Transfers += a.transfers
		tf.Cancelled += a.cancels
		all.wait.merge(&a.wait)
		all.service.merge(&a.service)
		for i, n := range a.ratings.dist {
			ratings.dist[i] += n
		}
	}
	tf.Wait = all.wait.summary()
	tf.Service = all.service.summary()
	tf.Ratings = ratings.summary()
	r.Total.Tickets = c.tickets
	r.Total.ServedTickets = c.served

	for id, s := range c.services {
		if id == "" {
			continue
		}
		uk, en := bilingual(names.Services, id)
		r.TopServices = append(r.TopServices, ServiceCount{Service: id, Name: uk, NameEN: en, Issued: s.issued, TransferredIn: s.transferredIn})
	}
	slices.SortFunc(r.TopServices, func(a, b ServiceCount) int {
		return cmp.Or(cmp.Compare(b.Issued, a.Issued), cmp.Compare(a.Service, b.Service))
	})
	if len(r.TopServices) > maxTopServices {
		r.TopServices = r.TopServices[:maxTopServices]
	}
	return r
}

type samplesAcc struct{ wait, service samples }

func (s *samples) merge(o *samples) {
	s.ms = append(s.ms, o.ms...)
	s.sum += o.sum
}

func (a *rowAcc) figures() Figures {
	return Figures{
		Visitors: a.visitors, NoShows: a.noShows, Transfers: a.transfers, Cancelled: a.cancels,
		Wait: a.wait.summary(), Service: a.service.summary(), Ratings: a.ratings.summary(),
	}
}

// summary sorts the samples (in place) and summarises them.
func (s *samples) summary() Durations {
	n := len(s.ms)
	if n == 0 {
		return Durations{}
	}
	slices.Sort(s.ms)
	median := float64(s.ms[n/2])
	if n%2 == 0 {
		median = (float64(s.ms[n/2-1]) + median) / 2
	}
	// Nearest rank: index ⌈0.9·n⌉−1, in integers so that no rounding of
	// 0.9·n moves it.
	p90 := s.ms[(9*n+9)/10-1]
	return Durations{
		Count:   n,
		MeanS:   seconds(float64(s.sum) / float64(n)),
		MedianS: seconds(median),
		P90S:    seconds(float64(p90)),
	}
}

// seconds rounds milliseconds to tenths of a second.
func seconds(ms float64) float64 { return math.Round(ms/100) / 10 }

func (r ratingAcc) summary() Ratings {
	out := Ratings{Dist: r.dist}
	sum := 0
	for i, n := range r.dist {
		out.Count += n
		sum += (i + 1) * n
	}
	if out.Count > 0 {
		out.Mean = math.Round(float64(sum)/float64(out.Count)*100) / 100
	}
	return out
}

// rowName is a row's display name in Ukrainian and English.
func rowName(by, key string, names Names) (uk, en string) {
	switch by {
	case ByOperator:
		n := key
		if d := names.Operators[key]; d != "" {
			n = d
		}
		return n, n
	case ByService:
		return bilingual(names.Services, key)
	case ByGroup:
		return bilingual(names.Groups, key)
	case ByOffice:
		return bilingual(names.Offices, key)
	case ByHour:
		h, _ := strconv.Atoi(key)
		n := fmt.Sprintf("%02d:00–%02d:00", h, h+1)
		return n, n
	default:
		return key, key
	}
}

func bilingual(m map[string]Name, id string) (uk, en string) {
	n := m[id]
	uk = cmp.Or(n.UK, id)
	return uk, cmp.Or(n.EN, uk)
}
