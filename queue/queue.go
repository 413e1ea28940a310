// Package queue is the reference central queue server behind cmd/queued:
// it issues ticket numbers, keeps who waits for which service, answers a
// window's "call next", and pushes every call to the office's terminals.
//
// Every change is committed to bbolt before anyone is told about it, so a
// ticket a kiosk printed or a call a hall announced survives a crash of the
// server. The queue keeps the current day in memory (a busy centre issues
// about a thousand tickets a day) and reads past days from disk.
package queue

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/cherga/kiosk/configs"
	"github.com/cherga/kiosk/link/proto"
)

// Errors a caller can act on.
var (
	ErrUnknownService = errors.New("queue: unknown service")
	ErrUnknownWindow  = errors.New("queue: window is not configured")
	ErrQueueEmpty     = errors.New("queue: nobody waits for this window")
	ErrNothingToCall  = errors.New("queue: this window has called nobody yet")
	ErrBadDate        = errors.New("queue: date must be YYYY-MM-DD")
)

// Queue is the state of one office. It is safe for concurrent use.
type Queue struct {
	office  *configs.Office
	loc     *time.Location
	db      *bolt.DB
	now     func() time.Time
	groups  map[string]configs.Group
	service map[string]configs.OfficeService
	windows map[int]configs.OfficeWindow

	mu       sync.Mutex
	day      string          // office-local date of the tickets in memory
	tickets  []*proto.Ticket // today's, in issue order
	counters map[string]int  // prefix → last number issued today
	atWindow map[int]*proto.Ticket
	recent   []proto.Call // newest last, at most recentCalls
}

const recentCalls = 20

var (
	bucketDays = []byte("days")
	bucketTix  = []byte("tickets")
	bucketCnt  = []byte("counters")
	bucketCall = []byte("calls")
)

// Open opens (or creates) the queue's database at path. now is the clock;
// nil means time.Now.
func Open(path string, office *configs.Office, now func() time.Time) (*Queue, error) {
	if now == nil {
		now = time.Now
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		if errors.Is(err, bolt.ErrTimeout) {
			return nil, fmt.Errorf("queue: %s is locked by another queued; stop it first", path)
		}
		return nil, fmt.Errorf("queue: open %s: %w", path, err)
	}
	q := &Queue{
		office:  office,
		loc:     office.Location(),
		db:      db,
		now:     now,
		groups:  map[string]configs.Group{},
		service: map[string]configs.OfficeService{},
		windows: map[int]configs.OfficeWindow{},
	}
	for _, g := range office.Groups {
		q.groups[g.ID] = g
	}
	for _, s := range office.Services {
		q.service[s.ID] = s
	}
	for _, w := range office.Windows {
		q.windows[w.Number] = w
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if err := q.loadDay(q.today()); err != nil {
		db.Close()
		return nil, err
	}
	return q, nil
}

// Close closes the database.
func (q *Queue) Close() error { return q.db.Close() }

func (q *Queue) today() string { return q.now().In(q.loc).Format(time.DateOnly) }

// loadDay replaces the in-memory state with day's, read from disk.
func (q *Queue) loadDay(day string) error {
	q.day = day
	q.tickets = nil
	q.counters = map[string]int{}
	q.atWindow = map[int]*proto.Ticket{}
	q.recent = nil
	err := q.db.View(func(tx *bolt.Tx) error {
		b := dayBucket(tx, day)
		if b == nil {
			return nil
		}
		if err := b.Bucket(bucketTix).ForEach(func(_, v []byte) error {
			var t proto.Ticket
			if err := json.Unmarshal(v, &t); err != nil {
				return err
			}
			q.tickets = append(q.tickets, &t)
			if t.State == proto.StateCalled {
				q.atWindow[t.Window] = &t
			}
			return nil
		}); err != nil {
			return err
		}
		if err := b.Bucket(bucketCnt).ForEach(func(k, v []byte) error {
			q.counters[string(k)] = int(binary.BigEndian.Uint64(v))
			return nil
		}); err != nil {
			return err
		}
		return b.Bucket(bucketCall).ForEach(func(_, v []byte) error {
			var c proto.Call
			if err := json.Unmarshal(v, &c); err != nil {
				return err
			}
			q.remember(c)
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("queue: load %s: %w", day, err)
	}
	return nil
}

// rollDay starts a new day's numbering when the office's date changed.
func (q *Queue) rollDay() error {
	if d := q.today(); d != q.day {
		return q.loadDay(d)
	}
	return nil
}

func dayBucket(tx *bolt.Tx, day string) *bolt.Bucket {
	days := tx.Bucket(bucketDays)
	if days == nil {
		return nil
	}
	return days.Bucket([]byte(day))
}

func createDayBucket(tx *bolt.Tx, day string) (*bolt.Bucket, error) {
	days, err := tx.CreateBucketIfNotExists(bucketDays)
	if err != nil {
		return nil, err
	}
	b, err := days.CreateBucketIfNotExists([]byte(day))
	if err != nil {
		return nil, err
	}
	for _, name := range [][]byte{bucketTix, bucketCnt, bucketCall} {
		if _, err := b.CreateBucketIfNotExists(name); err != nil {
			return nil, err
		}
	}
	return b, nil
}

func u64(n uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, n)
	return b
}

// Issue gives a new ticket for service, taken at device.
func (q *Queue) Issue(service, device string) (proto.Ticket, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	s, ok := q.service[service]
	if !ok {
		return proto.Ticket{}, fmt.Errorf("%w %q", ErrUnknownService, service)
	}
	if err := q.rollDay(); err != nil {
		return proto.Ticket{}, err
	}
	g := q.groups[s.Group]
	n := q.counters[g.Prefix] + 1
	ahead := q.waiting(g.ID)
	t := &proto.Ticket{
		Number:   fmt.Sprintf("%s%03d", g.Prefix, n),
		Service:  s.ID,
		Group:    g.ID,
		IssuedAt: q.now().In(q.loc),
		Ahead:    ahead,
		WaitMin:  q.estimate(g.ID, ahead),
		State:    proto.StateWaiting,
		Device:   device,
	}
	seq := len(q.tickets) + 1
	err := q.db.Update(func(tx *bolt.Tx) error {
		b, err := createDayBucket(tx, q.day)
		if err != nil {
			return err
		}
		if err := putJSON(b.Bucket(bucketTix), u64(uint64(seq)), t); err != nil {
			return err
		}
		return b.Bucket(bucketCnt).Put([]byte(g.Prefix), u64(uint64(n)))
	})
	if err != nil {
		return proto.Ticket{}, fmt.Errorf("queue: save ticket: %w", err)
	}
	q.counters[g.Prefix] = n
	q.tickets = append(q.tickets, t)
	return *t, nil
}

// Next finishes the visitor at window and calls the longest-waiting ticket
// the window serves.
func (q *Queue) Next(window int) (proto.Ticket, proto.Call, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	w, ok := q.windows[window]
	if !ok {
		return proto.Ticket{}, proto.Call{}, fmt.Errorf("%w: %d", ErrUnknownWindow, window)
	}
	if err := q.rollDay(); err != nil {
		return proto.Ticket{}, proto.Call{}, err
	}
	var next *proto.Ticket
	var seq int
	for i, t := range q.tickets {
		if t.State == proto.StateWaiting && serves(w, t.Group) {
			next, seq = t, i+1
			break
		}
	}
	prev := q.atWindow[window]
	if next == nil {
		if prev != nil {
			if err := q.finish(prev); err != nil {
				return proto.Ticket{}, proto.Call{}, err
			}
		}
		return proto.Ticket{}, proto.Call{}, fmt.Errorf("%w: window %d", ErrQueueEmpty, window)
	}
	at := q.now().In(q.loc)
	called := *next
	called.State = proto.StateCalled
	called.Window = window
	called.CalledAt = &at
	var call proto.Call
	err := q.db.Update(func(tx *bolt.Tx) error {
		b, err := createDayBucket(tx, q.day)
		if err != nil {
			return err
		}
		if prev != nil {
			done := *prev
			done.State = proto.StateDone
			if err := putJSON(b.Bucket(bucketTix), u64(uint64(q.seqOf(prev))), &done); err != nil {
				return err
			}
		}
		if err := putJSON(b.Bucket(bucketTix), u64(uint64(seq)), &called); err != nil {
			return err
		}
		call, err = q.newCall(b, called, false)
		return err
	})
	if err != nil {
		return proto.Ticket{}, proto.Call{}, fmt.Errorf("queue: save call: %w", err)
	}
	if prev != nil {
		prev.State = proto.StateDone
	}
	*next = called
	q.atWindow[window] = next
	q.remember(call)
	return called, call, nil
}

// Recall calls the window's current ticket again.
func (q *Queue) Recall(window int) (proto.Ticket, proto.Call, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if _, ok := q.windows[window]; !ok {
		return proto.Ticket{}, proto.Call{}, fmt.Errorf("%w: %d", ErrUnknownWindow, window)
	}
	if err := q.rollDay(); err != nil {
		return proto.Ticket{}, proto.Call{}, err
	}
	t := q.atWindow[window]
	if t == nil {
		return proto.Ticket{}, proto.Call{}, fmt.Errorf("%w: window %d", ErrNothingToCall, window)
	}
	var call proto.Call
	err := q.db.Update(func(tx *bolt.Tx) error {
		b, err := createDayBucket(tx, q.day)
		if err != nil {
			return err
		}
		call, err = q.newCall(b, *t, true)
		return err
	})
	if err != nil {
		return proto.Ticket{}, proto.Call{}, fmt.Errorf("queue: save call: %w", err)
	}
	q.remember(call)
	return *t, call, nil
}

// finish marks the window's visitor done when nobody else waits.
func (q *Queue) finish(t *proto.Ticket) error {
	done := *t
	done.State = proto.StateDone
	err := q.db.Update(func(tx *bolt.Tx) error {
		b, err := createDayBucket(tx, q.day)
		if err != nil {
			return err
		}
		return putJSON(b.Bucket(bucketTix), u64(uint64(q.seqOf(t))), &done)
	})
	if err != nil {
		return fmt.Errorf("queue: save ticket: %w", err)
	}
	t.State = proto.StateDone
	delete(q.atWindow, t.Window)
	return nil
}

// newCall records a call in the day's bucket; its id stays unique across
// restarts because it comes from the bucket's sequence.
func (q *Queue) newCall(b *bolt.Bucket, t proto.Ticket, recall bool) (proto.Call, error) {
	calls := b.Bucket(bucketCall)
	n, err := calls.NextSequence()
	if err != nil {
		return proto.Call{}, err
	}
	c := proto.Call{
		ID:      fmt.Sprintf("%s/%d", q.day, n),
		Ticket:  t.Number,
		Service: t.Service,
		Window:  t.Window,
		At:      q.now().In(q.loc),
		Recall:  recall,
	}
	return c, putJSON(calls, u64(n), &c)
}

func (q *Queue) seqOf(t *proto.Ticket) int {
	for i, x := range q.tickets {
		if x == t {
			return i + 1
		}
	}
	panic("queue: ticket not in today's list")
}

func (q *Queue) remember(c proto.Call) {
	q.recent = append(q.recent, c)
	if len(q.recent) > recentCalls {
		q.recent = q.recent[len(q.recent)-recentCalls:]
	}
}

func serves(w configs.OfficeWindow, group string) bool {
	if len(w.Serves) == 0 {
		return true
	}
	for _, g := range w.Serves {
		if g == group {
			return true
		}
	}
	return false
}

func (q *Queue) waiting(group string) int {
	n := 0
	for _, t := range q.tickets {
		if t.State == proto.StateWaiting && t.Group == group {
			n++
		}
	}
	return n
}

// estimate is the minutes until the visitor after `ahead` others is called:
// their service time shared among the windows that serve the group.
func (q *Queue) estimate(group string, ahead int) int {
	windows := 0
	for _, w := range q.windows {
		if serves(w, group) {
			windows++
		}
	}
	if windows == 0 || ahead == 0 {
		return 0
	}
	minutes := ahead * q.groups[group].Minutes
	return (minutes + windows - 1) / windows
}

// Lengths is the queue of every group, in catalogue order.
func (q *Queue) Lengths() []proto.QueueLen {
	q.mu.Lock()
	defer q.mu.Unlock()
	_ = q.rollDay()
	out := make([]proto.QueueLen, 0, len(q.office.Groups))
	for _, g := range q.office.Groups {
		n := q.waiting(g.ID)
		out = append(out, proto.QueueLen{Group: g.ID, Waiting: n, WaitMin: q.estimate(g.ID, n)})
	}
	return out
}

// RecentCalls returns the latest calls, newest last.
func (q *Queue) RecentCalls() []proto.Call {
	q.mu.Lock()
	defer q.mu.Unlock()
	_ = q.rollDay()
	return append([]proto.Call(nil), q.recent...)
}

// AtWindow returns the ticket the window is serving, if any.
func (q *Queue) AtWindow(window int) (proto.Ticket, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	_ = q.rollDay()
	t := q.atWindow[window]
	if t == nil {
		return proto.Ticket{}, false
	}
	return *t, true
}

// Tickets returns every ticket of date (YYYY-MM-DD, office time), in issue
// order.
func (q *Queue) Tickets(date string) ([]proto.Ticket, error) {
	if _, err := time.Parse(time.DateOnly, date); err != nil {
		return nil, fmt.Errorf("%w, got %q", ErrBadDate, date)
	}
	out := []proto.Ticket{}
	err := q.db.View(func(tx *bolt.Tx) error {
		b := dayBucket(tx, date)
		if b == nil {
			return nil
		}
		return b.Bucket(bucketTix).ForEach(func(_, v []byte) error {
			var t proto.Ticket
			if err := json.Unmarshal(v, &t); err != nil {
				return err
			}
			out = append(out, t)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("queue: read %s: %w", date, err)
	}
	return out, nil
}

// Today is the office-local date now.
func (q *Queue) Today() string { return q.today() }

// Catalogue is the office's service catalogue in protocol form.
func (q *Queue) Catalogue() proto.Catalogue {
	c := proto.Catalogue{}
	for _, g := range q.office.Groups {
		c.Groups = append(c.Groups, proto.Group{ID: g.ID, Name: proto.Text(g.Name), Prefix: g.Prefix})
	}
	for _, s := range q.office.Services {
		c.Services = append(c.Services, proto.Service{ID: s.ID, Group: s.Group, Name: proto.Text(s.Name)})
	}
	return c
}

// Office is the office's identity in protocol form.
func (q *Queue) Office() proto.Office {
	return proto.Office{ID: q.office.ID, Name: proto.Text(q.office.Name)}
}

// Windows lists the configured window numbers.
func (q *Queue) Windows() []int {
	out := make([]int, 0, len(q.office.Windows))
	for _, w := range q.office.Windows {
		out = append(out, w.Number)
	}
	return out
}

func putJSON(b *bolt.Bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(key, data)
}
