package queue

import (
	"math"
	"sort"
	"strings"
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

	// What the estimates need, kept as it changes so that no ticket, call
	// or broadcast scans the windows: the windows by kind (shareWindows),
	// each group's capacity and its entry of the queue lengths as last
	// computed. An entry is dropped when what it follows from changes, and
	// computed again when next asked for.
	kinds    map[string][]*windowKind // the kinds of window serving each group
	capacity map[string]capacity
	lengths  map[string]proto.QueueLen
}

func newLines() *lines {
	return &lines{group: map[string]*line{}, window: map[int]*line{}, count: map[string]int{}, work: map[string]float64{},
		dirtyGroups: map[string]bool{}, dirtyWindows: map[int]bool{},
		kinds: map[string][]*windowKind{}, capacity: map[string]capacity{}, lengths: map[string]proto.QueueLen{}}
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
	delete(ls.lengths, t.Group)
	if ls.count[t.Group] == 1 {
		ls.busy(t.Group, 1)
	}
}

func (ls *lines) drop(t *ticket) {
	if ls.lineOf(t).remove(t) {
		ls.touch(t)
		ls.count[t.Group]--
		ls.work[t.Group] -= t.expect
		delete(ls.lengths, t.Group)
		if ls.count[t.Group] == 0 {
			ls.work[t.Group] = 0 // no drift from rounding
			ls.busy(t.Group, -1)
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
	delete(q.lines.lengths, t.Group) // the group's norm, with nobody waiting
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

// Capacity: how many windows' worth of work a group gets now. Each open
// window serving the group counts by its share, 1 / the number of the
// groups it serves that have someone waiting (the group itself always
// counted). With no window open, the configured ones count, as when the
// office opens.
//
// Windows that serve the same groups share alike, so they are counted by
// kind: a group's capacity is, over the kinds serving it, the kind's open
// windows / its groups with someone waiting. The kinds' counts change when
// a window opens or closes (setWindowState) and when a group's line
// empties or fills (lines.busy); each drops the capacities it changes,
// computed again when asked for. A ticket that joins a line that has
// someone already costs nothing here, however many windows there are.

// windowKind is the windows that serve the same groups.
type windowKind struct {
	serves    []string // group ids, in catalogue order
	all, open int      // windows of the kind; of them, open
	busy      int      // groups of serves with someone waiting
}

// capacity is a group's capacity as computed: windows' worth of work, and
// how many open windows serve it.
type capacity struct {
	windows float64
	open    int
}

// shareWindows sorts the windows into kinds, after the windows or the
// groups were configured; every capacity and length is computed afresh.
func (ls *lines) shareWindows(ws []*window) {
	clear(ls.kinds)
	ls.forgetAll()
	byServes := map[string]*windowKind{}
	for _, w := range ws {
		w.kind = nil
		if len(w.serves) == 0 {
			continue
		}
		key := strings.Join(w.serves, "\x00")
		k := byServes[key]
		if k == nil {
			k = &windowKind{serves: w.serves}
			for _, g := range w.serves {
				if ls.count[g] > 0 {
					k.busy++
				}
				ls.kinds[g] = append(ls.kinds[g], k)
			}
			byServes[key] = k
		}
		k.all++
		if w.state == WindowOpen {
			k.open++
		}
		w.kind = k
	}
}

// busy counts group's line as filled (d 1) or emptied (d -1) in the kinds
// of window serving it.
func (ls *lines) busy(group string, d int) {
	for _, k := range ls.kinds[group] {
		k.busy += d
		ls.forget(k)
	}
}

// forget drops the capacities and lengths of the groups k serves.
func (ls *lines) forget(k *windowKind) {
	for _, g := range k.serves {
		delete(ls.capacity, g)
		delete(ls.lengths, g)
	}
}

// forgetAll drops every capacity and length: the office's configuration
// changed (its groups' norms, its windows).
func (ls *lines) forgetAll() {
	clear(ls.capacity)
	clear(ls.lengths)
}

// capacityOf is group's capacity now.
func (ls *lines) capacityOf(group string) capacity {
	if c, ok := ls.capacity[group]; ok {
		return c
	}
	self := 0 // the group counts in a window's share even with nobody waiting
	if ls.count[group] == 0 {
		self = 1
	}
	var c capacity
	for _, k := range ls.kinds[group] {
		c.open += k.open
	}
	for _, k := range ls.kinds[group] {
		n := k.all
		if c.open > 0 {
			n = k.open
		}
		c.windows += float64(n) / float64(max(k.busy+self, 1))
	}
	ls.capacity[group] = c
	return c
}

// setWindowState is the one way a window's state changes: the kinds'
// counts follow it.
func (q *Queue) setWindowState(w *window, state string) {
	if was, is := w.state == WindowOpen, state == WindowOpen; was != is && w.kind != nil {
		if is {
			w.kind.open++
		} else {
			w.kind.open--
		}
		q.lines.forget(w.kind)
	}
	w.state = state
}

// capacity is how many windows' worth of work group gets now, and how many
// open windows serve it (0: none is open, and the configured ones count).
func (q *Queue) capacity(group string) (float64, int) {
	c := q.lines.capacityOf(group)
	return c.windows, c.open
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

// lengthsLocked is the queue of every group, in catalogue order: each
// group's entry as last computed, computed again for the groups whose
// figures changed since.
func (q *Queue) lengthsLocked() []proto.QueueLen {
	out := make([]proto.QueueLen, 0, len(q.o.cfg.Groups))
	for _, g := range q.o.cfg.Groups {
		l, ok := q.lines.lengths[g.ID]
		if !ok {
			l = q.lengthOf(g.ID)
			q.lines.lengths[g.ID] = l
		}
		out = append(out, l)
	}
	return out
}

func (q *Queue) lengthOf(group string) proto.QueueLen {
	n := q.lines.count[group]
	c, open := q.capacity(group)
	per := 0.0
	if c > 0 {
		per = q.perVisitor(group) / c
	}
	return proto.QueueLen{Group: group, Waiting: n, WaitMin: q.estimate(group, n),
		MinPerVisitor: math.Round(per*100) / 100, WindowsOpen: open}
}
