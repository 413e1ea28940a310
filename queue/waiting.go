package queue

import (
	"math"
	"sort"
	"time"

	"github.com/cherga/kiosk/link/proto"
)

// Who waits for what, kept as it changes so that no call, issue, page or
// push ever scans the day's tickets: one ordered line per group, one per
// window for tickets transferred to that window only. "Next" looks at the
// head of each line the window serves; "how many ahead" is a binary search.

// ticket is one of today's tickets in memory.
type ticket struct {
	proto.Ticket
	key string // storage key: the number, or number~device for a collision
	ord uint64 // arrival order here, the last tie-break
	// expect is the minutes its service is expected to take, fixed when
	// it joined a line, so the line's sum of work stays exact.
	expect float64
}

// before is the calling order: higher priority first, then the earlier
// issue time (kept across transfers), then arrival here.
func before(a, b *ticket) bool {
	if a.Priority != b.Priority {
		return a.Priority > b.Priority
	}
	if !a.IssuedAt.Equal(b.IssuedAt) {
		return a.IssuedAt.Before(b.IssuedAt)
	}
	return a.ord < b.ord
}

// line is tickets in calling order.
type line []*ticket

func (l line) search(t *ticket) int {
	return sort.Search(len(l), func(i int) bool { return !before(l[i], t) })
}

func (l *line) insert(t *ticket) {
	i := l.search(t)
	*l = append(*l, nil)
	copy((*l)[i+1:], (*l)[i:])
	(*l)[i] = t
}

func (l *line) remove(t *ticket) bool {
	i := l.search(t)
	if i < len(*l) && (*l)[i] == t {
		*l = append((*l)[:i], (*l)[i+1:]...)
		return true
	}
	return false
}

// position is how many are ahead of t in the line, -1 if it is not in it.
func (l line) position(t *ticket) int {
	i := l.search(t)
	if i < len(l) && l[i] == t {
		return i
	}
	return -1
}

// lines are the waiting tickets of today.
type lines struct {
	group  map[string]*line   // tickets any window of the group may call
	window map[int]*line      // tickets transferred to one window only
	count  map[string]int     // waiting per group, both kinds
	work   map[string]float64 // the expected minutes of the group's waiting tickets
	// The lines changed since the window states' waiting counts were last
	// sent (windowstate.go): marked here, O(1) a change, and taken by the
	// broadcaster at most once a second.
	dirtyGroups  map[string]bool
	dirtyWindows map[int]bool
}

func newLines() *lines {
	return &lines{group: map[string]*line{}, window: map[int]*line{}, count: map[string]int{}, work: map[string]float64{},
		dirtyGroups: map[string]bool{}, dirtyWindows: map[int]bool{}}
}

// touch marks the line t is in as changed.
func (ls *lines) touch(t *ticket) {
	if t.ForWindow != 0 {
		ls.dirtyWindows[t.ForWindow] = true
	} else {
		ls.dirtyGroups[t.Group] = true
	}
}

// dirty reports whether any line changed since the marks were cleared.
func (ls *lines) dirty() bool { return len(ls.dirtyGroups) > 0 || len(ls.dirtyWindows) > 0 }

func (ls *lines) lineOf(t *ticket) *line {
	if t.ForWindow != 0 {
		l := ls.window[t.ForWindow]
		if l == nil {
			l = new(line)
			ls.window[t.ForWindow] = l
		}
		return l
	}
	l := ls.group[t.Group]
	if l == nil {
		l = new(line)
		ls.group[t.Group] = l
	}
	return l
}

func (ls *lines) add(t *ticket, expect float64) {
	t.expect = expect
	ls.lineOf(t).insert(t)
	ls.touch(t)
	ls.count[t.Group]++
	ls.work[t.Group] += expect
}

func (ls *lines) drop(t *ticket) {
	if ls.lineOf(t).remove(t) {
		ls.touch(t)
		ls.count[t.Group]--
		ls.work[t.Group] -= t.expect
		if ls.count[t.Group] == 0 {
			ls.work[t.Group] = 0 // no drift from rounding
		}
	}
}

// next is the ticket window w calls next: the best head among the lines it
// may call.
func (ls *lines) next(w *window) *ticket {
	var best *ticket
	consider := func(l *line) {
		if l != nil && len(*l) > 0 && (best == nil || before((*l)[0], best)) {
			best = (*l)[0]
		}
	}
	consider(ls.window[w.cfg.Number])
	for _, g := range w.serves {
		consider(ls.group[g])
	}
	return best
}

// upcoming lists at most n tickets window w would call, in order: a merge
// of the heads of its lines.
func (ls *lines) upcoming(w *window, n int) []*ticket {
	var heads []line
	if l := ls.window[w.cfg.Number]; l != nil && len(*l) > 0 {
		heads = append(heads, *l)
	}
	for _, g := range w.serves {
		if l := ls.group[g]; l != nil && len(*l) > 0 {
			heads = append(heads, *l)
		}
	}
	var out []*ticket
	for len(out) < n {
		bi := -1
		for i, l := range heads {
			if len(l) > 0 && (bi < 0 || before(l[0], heads[bi][0])) {
				bi = i
			}
		}
		if bi < 0 {
			break
		}
		out = append(out, heads[bi][0])
		heads[bi] = heads[bi][1:]
	}
	return out
}

// waitingFor is how many tickets window w could call.
func (ls *lines) waitingFor(w *window) int {
	n := 0
	if l := ls.window[w.cfg.Number]; l != nil {
		n += len(*l)
	}
	for _, g := range w.serves {
		if l := ls.group[g]; l != nil {
			n += len(*l)
		}
	}
	return n
}

// ahead is how many of its group wait before t (for a ticket sent to one
// window, how many wait before it there).
func (ls *lines) ahead(t *ticket) int {
	if p := ls.lineOf(t).position(t); p >= 0 {
		return p
	}
	return 0
}

// Service times: the last few of each service and group, so estimates
// follow how fast windows really work today, starting from the norm.

const (
	timesKept    = 20 // service times remembered per service and group
	timesTrusted = 3  // from how many the real figure replaces the norm
)

type serviceTimes struct {
	ring []float64 // minutes
	next int
}

func (s *serviceTimes) add(min float64) {
	if len(s.ring) < timesKept {
		s.ring = append(s.ring, min)
		return
	}
	s.ring[s.next] = min
	s.next = (s.next + 1) % timesKept
}

// mean is the recent mean, ok false while there are too few.
func (s *serviceTimes) mean() (float64, bool) {
	if s == nil || len(s.ring) < timesTrusted {
		return 0, false
	}
	sum := 0.0
	for _, v := range s.ring {
		sum += v
	}
	return sum / float64(len(s.ring)), true
}

// served records a finished service of t.
func (q *Queue) served(t *ticket, start, end time.Time) {
	min := end.Sub(start).Minutes()
	if min <= 0 || min > 240 {
		return // a window left open over lunch is not a service time
	}
	for _, k := range []string{"s:" + t.Service, "g:" + t.Group} {
		st := q.times[k]
		if st == nil {
			st = new(serviceTimes)
			q.times[k] = st
		}
		st.add(min)
	}
}

// expected is the minutes a visitor for service is expected to take: the
// service's recent mean, else its group's, else the group's norm.
func (q *Queue) expected(service, group string) float64 {
	if m, ok := q.times["s:"+service].mean(); ok {
		return m
	}
	return q.groupNorm(group)
}

func (q *Queue) groupNorm(group string) float64 {
	if m, ok := q.times["g:"+group].mean(); ok {
		return m
	}
	return float64(q.o.groups[group].Minutes)
}

// join puts t into the waiting lines.
func (q *Queue) join(t *ticket) {
	q.lines.add(t, q.expected(t.Service, t.Group))
}

// perVisitor is the minutes one waiting visitor of group takes at a
// window: the mean expectation of those waiting, by their services, or
// with nobody waiting the group's recent mean, else its norm.
func (q *Queue) perVisitor(group string) float64 {
	if n := q.lines.count[group]; n > 0 && q.lines.work[group] > 0 {
		return q.lines.work[group] / float64(n)
	}
	return q.groupNorm(group)
}

// capacity is how many windows' worth of work group gets now: each open
// window serving it counts by its share, 1 / the number of the groups it
// serves that have someone waiting (the group itself always counted). With
// no window open, the configured ones count, as when the office opens.
func (q *Queue) capacity(group string) (float64, int) {
	share := func(w *window) float64 {
		k := 0
		for _, g := range w.serves {
			if g == group || q.lines.count[g] > 0 {
				k++
			}
		}
		return 1 / float64(max(k, 1))
	}
	total, open := 0.0, 0
	for _, w := range q.winOrder {
		if w.state == WindowOpen && w.servesGroup(group) {
			total += share(w)
			open++
		}
	}
	if open > 0 {
		return total, open
	}
	for _, w := range q.winOrder {
		if w.servesGroup(group) {
			total += share(w)
		}
	}
	return total, 0
}

// estimate is the minutes until the visitor after `ahead` others of group
// is called.
func (q *Queue) estimate(group string, ahead int) int {
	c, _ := q.capacity(group)
	if c == 0 {
		return 0
	}
	return int(math.Ceil(float64(ahead)*q.perVisitor(group)/c - 1e-9))
}

func (q *Queue) lengthsLocked() []proto.QueueLen {
	out := make([]proto.QueueLen, 0, len(q.o.cfg.Groups))
	for _, g := range q.o.cfg.Groups {
		n := q.lines.count[g.ID]
		c, open := q.capacity(g.ID)
		per := 0.0
		if c > 0 {
			per = q.perVisitor(g.ID) / c
		}
		out = append(out, proto.QueueLen{Group: g.ID, Waiting: n, WaitMin: q.estimate(g.ID, n),
			MinPerVisitor: math.Round(per*100) / 100, WindowsOpen: open})
	}
	return out
}
