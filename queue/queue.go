// Package queue is the reference central queue server behind cmd/queued:
// it numbers tickets, keeps who waits for which service, answers a window's
// "call next", takes the terminals' events, and pushes every call to the
// office's hall and window terminals.
//
// Every change is committed to bbolt before anyone is told about it: a
// terminal's event is acknowledged, and a call is pushed, only after the
// commit. Events are deduplicated by (device, sequence) inside the same
// transaction that applies them, so a resent event changes nothing. The
// current day is also kept in memory (a busy centre issues about a
// thousand tickets a day); other days are read from disk.
package queue

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
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
	ErrNoTicket       = errors.New("queue: no such ticket")
)

// StateCancelled is a ticket whose call the operator withdrew (the visitor
// did not come).
const StateCancelled = "cancelled"

// office is the configuration the queue runs on; Reload swaps it whole.
type office struct {
	cfg      *configs.Office
	loc      *time.Location
	version  string
	groups   map[string]configs.Group
	services map[string]configs.OfficeService
	windows  map[int]configs.OfficeWindow
	prefixes []string
}

func newOffice(cfg *configs.Office, version string) *office {
	o := &office{cfg: cfg, loc: cfg.Location(), version: version,
		groups: map[string]configs.Group{}, services: map[string]configs.OfficeService{}, windows: map[int]configs.OfficeWindow{}}
	for _, g := range cfg.Groups {
		o.groups[g.ID] = g
		o.prefixes = append(o.prefixes, g.Prefix)
	}
	for _, s := range cfg.Services {
		o.services[s.ID] = s
	}
	for _, w := range cfg.Windows {
		o.windows[w.Number] = w
	}
	return o
}

// Queue is the state of one office. It is safe for concurrent use.
type Queue struct {
	db  *bolt.DB
	now func() time.Time
	log *slog.Logger

	mu       sync.Mutex
	o        *office
	day      string                   // office-local date of the tickets in memory
	tickets  []*proto.Ticket          // today's, by issue time
	byNumber map[string]*proto.Ticket // today's, by storage key
	atWindow map[int]*proto.Ticket
	recent   []proto.Call // newest last, at most recentCalls
	hallMsg  *proto.HallMessage
	devices  map[string]*Device

	bookingKey []byte
}

const recentCalls = 20

var (
	bucketDays    = []byte("days")
	bucketTix     = []byte("tickets")
	bucketCnt     = []byte("counters")
	bucketCall    = []byte("calls")
	bucketLeases  = []byte("leases")
	bucketRatings = []byte("ratings")
	bucketDevices = []byte("devices")
	bucketPushes  = []byte("pushes")
	bucketMeta    = []byte("meta")

	keyHallMessage = []byte("hall_message")
	keyNextSlot    = []byte("next_slot")
)

// Options are the queue's settings besides the office.
type Options struct {
	Now     func() time.Time // nil: time.Now
	Log     *slog.Logger     // nil: discard
	Version string           // the office configuration's version, sent to terminals
	// BookingKey signs booking codes (LoadBookingKey); bookings need it.
	BookingKey []byte
}

// Open opens (or creates) the queue's database at path.
func Open(path string, cfg *configs.Office, opts Options) (*Queue, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		if errors.Is(err, bolt.ErrTimeout) {
			return nil, fmt.Errorf("queue: %s is locked by another queued; stop it first", path)
		}
		return nil, fmt.Errorf("queue: open %s: %w", path, err)
	}
	q := &Queue{db: db, now: opts.Now, log: opts.Log, o: newOffice(cfg, opts.Version), devices: map[string]*Device{},
		bookingKey: opts.BookingKey}
	q.mu.Lock()
	defer q.mu.Unlock()
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketDays, bucketDevices, bucketPushes, bucketMeta} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		if v := tx.Bucket(bucketMeta).Get(keyHallMessage); v != nil {
			q.hallMsg = new(proto.HallMessage)
			if err := json.Unmarshal(v, q.hallMsg); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketDevices).ForEach(func(k, v []byte) error {
			d := new(Device)
			if err := json.Unmarshal(v, d); err != nil {
				return err
			}
			q.devices[string(k)] = d
			return nil
		})
	})
	if err == nil {
		err = q.loadDay(q.today())
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("queue: %s: %w", path, err)
	}
	return q, nil
}

// Close closes the database.
func (q *Queue) Close() error { return q.db.Close() }

func (q *Queue) today() string { return q.dayOf(q.now()) }

func (q *Queue) dayOf(t time.Time) string { return t.In(q.o.loc).Format(time.DateOnly) }

// loadDay replaces the in-memory state with day's, read from disk.
func (q *Queue) loadDay(day string) error {
	q.day = day
	q.tickets = nil
	q.byNumber = map[string]*proto.Ticket{}
	q.atWindow = map[int]*proto.Ticket{}
	q.recent = nil
	err := q.db.View(func(tx *bolt.Tx) error {
		b := dayBucket(tx, day)
		if b == nil {
			return nil
		}
		if err := b.Bucket(bucketTix).ForEach(func(k, v []byte) error {
			var t proto.Ticket
			if err := json.Unmarshal(v, &t); err != nil {
				return err
			}
			q.remember(string(k), &t)
			if t.State == proto.StateCalled {
				q.atWindow[t.Window] = &t
			}
			return nil
		}); err != nil {
			return err
		}
		return b.Bucket(bucketCall).ForEach(func(_, v []byte) error {
			var c callRecord
			if err := json.Unmarshal(v, &c); err != nil {
				return err
			}
			q.recentCall(c.Call)
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

// remember adds t to today's memory in issue-time order. q.mu is held.
func (q *Queue) remember(key string, t *proto.Ticket) {
	q.byNumber[key] = t
	i := sort.Search(len(q.tickets), func(i int) bool { return q.tickets[i].IssuedAt.After(t.IssuedAt) })
	q.tickets = append(q.tickets, nil)
	copy(q.tickets[i+1:], q.tickets[i:])
	q.tickets[i] = t
}

func (q *Queue) recentCall(c proto.Call) {
	q.recent = append(q.recent, c)
	if len(q.recent) > recentCalls {
		q.recent = q.recent[len(q.recent)-recentCalls:]
	}
}

func dayBucket(tx *bolt.Tx, day string) *bolt.Bucket {
	return tx.Bucket(bucketDays).Bucket([]byte(day))
}

func createDayBucket(tx *bolt.Tx, day string) (*bolt.Bucket, error) {
	b, err := tx.Bucket(bucketDays).CreateBucketIfNotExists([]byte(day))
	if err != nil {
		return nil, err
	}
	for _, name := range [][]byte{bucketTix, bucketCnt, bucketCall, bucketLeases, bucketRatings} {
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

func getU64(b *bolt.Bucket, key []byte) uint64 {
	v := b.Get(key)
	if len(v) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

func putJSON(b *bolt.Bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(key, data)
}

// work is what one transaction did, to be made visible after it commits:
// memory changes, and pushes to send.
type work struct {
	after  []func()
	pushes []*proto.Message
	leases map[string]bool // devices whose leases changed
	queues bool            // queue lengths changed
}

func (w *work) then(f func()) { w.after = append(w.after, f) }

// update runs fn in a write transaction and, once it committed, applies
// the memory changes fn recorded. q.mu is held.
func (q *Queue) update(fn func(tx *bolt.Tx, w *work) error) (*work, error) {
	var w *work
	err := q.db.Update(func(tx *bolt.Tx) error {
		w = &work{leases: map[string]bool{}}
		return fn(tx, w)
	})
	if err != nil {
		return nil, err
	}
	for _, f := range w.after {
		f()
	}
	return w, nil
}

// Effects is what a change means for the terminals.
type Effects struct {
	Pushes []*proto.Message // calls, recalls, cancels, messages, updates
	Leases []string         // devices to send their leases again
	Queues bool
}

func (w *work) effects() Effects {
	e := Effects{Pushes: w.pushes, Queues: w.queues}
	for d := range w.leases {
		e.Leases = append(e.Leases, d)
	}
	sort.Strings(e.Leases)
	return e
}

// putTicket stores t under key in its day and, for today, in memory.
func (q *Queue) putTicket(tx *bolt.Tx, w *work, day, key string, t *proto.Ticket) error {
	b, err := createDayBucket(tx, day)
	if err != nil {
		return err
	}
	if err := putJSON(b.Bucket(bucketTix), []byte(key), t); err != nil {
		return err
	}
	w.queues = true
	if day == q.day {
		cp := *t
		w.then(func() {
			if old := q.byNumber[key]; old != nil {
				*old = cp
				if cp.State == proto.StateCalled {
					q.atWindow[cp.Window] = old
				}
				return
			}
			q.remember(key, &cp)
		})
	}
	return nil
}

// groupOf is the service's group; ok is false for an unknown service.
func (q *Queue) groupOf(service string) (configs.Group, bool) {
	s, ok := q.o.services[service]
	if !ok {
		return configs.Group{}, false
	}
	return q.o.groups[s.Group], true
}

// Reserve numbers a ticket for a kiosk. The ticket joins the queue when the
// kiosk's ticket_issued event confirms it was handed out (Confirm), so a
// kiosk that dies before printing leaves no visitor-less ticket behind.
func (q *Queue) Reserve(service, device string) (proto.Ticket, error) {
	return q.issue(service, device, proto.StateReserved)
}

// Issue gives a ticket that joins the queue at once (reception desk, API).
func (q *Queue) Issue(service, device string) (proto.Ticket, Effects, error) {
	q.mu.Lock()
	w, t, err := q.issueLocked(service, device, proto.StateWaiting)
	q.mu.Unlock()
	if err != nil {
		return t, Effects{}, err
	}
	return t, w.effects(), nil
}

func (q *Queue) issue(service, device, state string) (proto.Ticket, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	_, t, err := q.issueLocked(service, device, state)
	return t, err
}

func (q *Queue) issueLocked(service, device, state string) (*work, proto.Ticket, error) {
	if _, ok := q.groupOf(service); !ok {
		return nil, proto.Ticket{}, fmt.Errorf("%w %q", ErrUnknownService, service)
	}
	if err := q.rollDay(); err != nil {
		return nil, proto.Ticket{}, err
	}
	var t proto.Ticket
	w, err := q.update(func(tx *bolt.Tx, w *work) error {
		var err error
		t, err = q.issueTx(tx, w, service, device, state, "", 0)
		return err
	})
	if err != nil {
		return nil, proto.Ticket{}, fmt.Errorf("queue: save ticket: %w", err)
	}
	return w, t, nil
}

// issueTx numbers and stores a ticket for today (q.day, rolled by the
// caller); booking and priority are set for a checked-in booking.
func (q *Queue) issueTx(tx *bolt.Tx, w *work, service, device, state, booking string, priority int) (proto.Ticket, error) {
	g, ok := q.groupOf(service)
	if !ok {
		return proto.Ticket{}, fmt.Errorf("%w %q", ErrUnknownService, service)
	}
	b, err := createDayBucket(tx, q.day)
	if err != nil {
		return proto.Ticket{}, err
	}
	n, err := nextOnline(b, g.Prefix)
	if err != nil {
		return proto.Ticket{}, err
	}
	ahead := q.waiting(g.ID)
	t := proto.Ticket{
		Number: fmt.Sprintf("%s%03d", g.Prefix, n), Service: service, Group: g.ID,
		IssuedAt: q.now().In(q.o.loc), Ahead: ahead, WaitMin: q.estimate(g.ID, ahead),
		State: state, Device: device, Booking: booking, Priority: priority,
	}
	if err := b.Bucket(bucketCnt).Put([]byte(g.Prefix), u64(uint64(n))); err != nil {
		return proto.Ticket{}, err
	}
	return t, q.putTicket(tx, w, q.day, t.Number, &t)
}

// Next finishes the visitor at window and calls the longest-waiting ticket
// the window serves.
func (q *Queue) Next(window int) (proto.Ticket, Effects, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	var t proto.Ticket
	var found bool
	w, err := q.update(func(tx *bolt.Tx, w *work) error {
		var err error
		t, found, err = q.nextTx(tx, w, window)
		return err
	})
	if err != nil {
		return proto.Ticket{}, Effects{}, err
	}
	if !found {
		// The finished visitor is recorded all the same.
		return proto.Ticket{}, w.effects(), fmt.Errorf("%w: window %d", ErrQueueEmpty, window)
	}
	return t, w.effects(), nil
}

// nextTx finishes the window's visitor and calls the next one; found is
// false when nobody waits for the window.
func (q *Queue) nextTx(tx *bolt.Tx, w *work, window int) (called proto.Ticket, found bool, err error) {
	win, ok := q.o.windows[window]
	if !ok {
		return proto.Ticket{}, false, fmt.Errorf("%w: %d", ErrUnknownWindow, window)
	}
	if err := q.rollDay(); err != nil {
		return proto.Ticket{}, false, err
	}
	if prev := q.atWindow[window]; prev != nil {
		done := *prev
		done.State = proto.StateDone
		if err := q.putTicket(tx, w, q.day, q.keyOf(prev), &done); err != nil {
			return proto.Ticket{}, false, err
		}
		w.then(func() { delete(q.atWindow, window) })
	}
	// The longest-waiting ticket of the highest priority (a booked
	// visitor before walk-ins).
	var next *proto.Ticket
	for _, t := range q.tickets {
		if t.State == proto.StateWaiting && serves(win, t.Group) && (next == nil || t.Priority > next.Priority) {
			next = t
		}
	}
	if next == nil {
		return proto.Ticket{}, false, nil
	}
	at := q.now().In(q.o.loc)
	called = *next
	called.State, called.Window, called.CalledAt = proto.StateCalled, window, &at
	if err := q.putTicket(tx, w, q.day, q.keyOf(next), &called); err != nil {
		return proto.Ticket{}, false, err
	}
	if err := q.call(tx, w, called, proto.TypeCall); err != nil {
		return proto.Ticket{}, false, err
	}
	return called, true, nil
}

// keyOf is the storage key of a ticket in today's memory.
func (q *Queue) keyOf(t *proto.Ticket) string {
	for k, x := range q.byNumber {
		if x == t {
			return k
		}
	}
	return t.Number
}

// callRecord is a call as stored, with who showed and announced it.
type callRecord struct {
	proto.Call
	ShownBy     []string `json:"shown_by,omitempty"`
	AnnouncedBy []string `json:"announced_by,omitempty"`
}

// call records a call (or recall) of t and queues its push.
func (q *Queue) call(tx *bolt.Tx, w *work, t proto.Ticket, typ string) error {
	b, err := createDayBucket(tx, q.day)
	if err != nil {
		return err
	}
	calls := b.Bucket(bucketCall)
	n, err := calls.NextSequence()
	if err != nil {
		return err
	}
	c := proto.Call{
		ID: fmt.Sprintf("%s/%d", q.day, n), Ticket: t.Number, Service: t.Service, Window: t.Window,
		At: q.now().In(q.o.loc), Recall: typ == proto.TypeRecall,
	}
	if err := putJSON(calls, u64(n), callRecord{Call: c}); err != nil {
		return err
	}
	w.then(func() { q.recentCall(c) })
	return q.push(tx, w, &proto.Message{Type: typ, ID: c.ID, Call: &c})
}

// Recall calls the window's current ticket again.
func (q *Queue) Recall(window int) (proto.Ticket, Effects, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	var t proto.Ticket
	w, err := q.update(func(tx *bolt.Tx, w *work) error {
		var err error
		t, err = q.recallTx(tx, w, window)
		return err
	})
	if err != nil {
		return proto.Ticket{}, Effects{}, err
	}
	return t, w.effects(), nil
}

func (q *Queue) recallTx(tx *bolt.Tx, w *work, window int) (proto.Ticket, error) {
	if _, ok := q.o.windows[window]; !ok {
		return proto.Ticket{}, fmt.Errorf("%w: %d", ErrUnknownWindow, window)
	}
	if err := q.rollDay(); err != nil {
		return proto.Ticket{}, err
	}
	t := q.atWindow[window]
	if t == nil {
		return proto.Ticket{}, fmt.Errorf("%w: window %d", ErrNothingToCall, window)
	}
	return *t, q.call(tx, w, *t, proto.TypeRecall)
}

// Cancel withdraws the window's current call: the visitor did not come.
func (q *Queue) Cancel(window int) (proto.Ticket, Effects, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out proto.Ticket
	w, err := q.update(func(tx *bolt.Tx, w *work) error {
		if _, ok := q.o.windows[window]; !ok {
			return fmt.Errorf("%w: %d", ErrUnknownWindow, window)
		}
		if err := q.rollDay(); err != nil {
			return err
		}
		t := q.atWindow[window]
		if t == nil {
			return fmt.Errorf("%w: window %d", ErrNothingToCall, window)
		}
		out = *t
		out.State = StateCancelled
		if err := q.putTicket(tx, w, q.day, q.keyOf(t), &out); err != nil {
			return err
		}
		w.then(func() { delete(q.atWindow, window) })
		var callID string
		for _, c := range q.recent {
			if c.Ticket == t.Number && c.Window == window {
				callID = c.ID
			}
		}
		return q.push(tx, w, &proto.Message{Type: proto.TypeCancel, ID: "cancel/" + callID,
			Cancel: &proto.Cancel{Call: callID, Ticket: t.Number}})
	})
	if err != nil {
		return proto.Ticket{}, Effects{}, err
	}
	return out, w.effects(), nil
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

// perVisitor is the minutes each visitor ahead adds: their service time
// shared among the windows that serve the group.
func (q *Queue) perVisitor(group string) float64 {
	windows := 0
	for _, w := range q.o.windows {
		if serves(w, group) {
			windows++
		}
	}
	if windows == 0 {
		return 0
	}
	return float64(q.o.groups[group].Minutes) / float64(windows)
}

// estimate is the minutes until the visitor after `ahead` others is called.
func (q *Queue) estimate(group string, ahead int) int {
	minutes := float64(ahead) * q.perVisitor(group)
	return int(minutes + 0.999)
}

// Lengths is the queue of every group, in catalogue order.
func (q *Queue) Lengths() []proto.QueueLen {
	q.mu.Lock()
	defer q.mu.Unlock()
	_ = q.rollDay()
	out := make([]proto.QueueLen, 0, len(q.o.cfg.Groups))
	for _, g := range q.o.cfg.Groups {
		n := q.waiting(g.ID)
		out = append(out, proto.QueueLen{Group: g.ID, Waiting: n, WaitMin: q.estimate(g.ID, n), MinPerVisitor: q.perVisitor(g.ID)})
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
	sort.SliceStable(out, func(i, j int) bool { return out[i].IssuedAt.Before(out[j].IssuedAt) })
	return out, nil
}

// CallLog returns every call of date with who showed and announced it.
func (q *Queue) CallLog(date string) ([]callRecord, error) {
	if _, err := time.Parse(time.DateOnly, date); err != nil {
		return nil, fmt.Errorf("%w, got %q", ErrBadDate, date)
	}
	out := []callRecord{}
	err := q.db.View(func(tx *bolt.Tx) error {
		b := dayBucket(tx, date)
		if b == nil {
			return nil
		}
		return b.Bucket(bucketCall).ForEach(func(_, v []byte) error {
			var c callRecord
			if err := json.Unmarshal(v, &c); err != nil {
				return err
			}
			out = append(out, c)
			return nil
		})
	})
	return out, err
}

// Today is the office-local date now.
func (q *Queue) Today() string {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.today()
}

// Catalogue is the office's service catalogue in protocol form.
func (q *Queue) Catalogue() proto.Catalogue {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.o.catalogue()
}

func (o *office) catalogue() proto.Catalogue {
	c := proto.Catalogue{Groups: []proto.Group{}, Services: []proto.Service{}}
	for _, g := range o.cfg.Groups {
		var windows []int
		for _, w := range o.cfg.Windows {
			if serves(w, g.ID) {
				windows = append(windows, w.Number)
			}
		}
		sort.Ints(windows)
		c.Groups = append(c.Groups, proto.Group{ID: g.ID, Name: proto.Text(g.Name), Prefix: g.Prefix, Windows: windows})
	}
	for _, s := range o.cfg.Services {
		c.Services = append(c.Services, proto.Service{ID: s.ID, Group: s.Group, Name: proto.Text(s.Name), Code: s.Code})
	}
	return c
}

// Office is the office's identity in protocol form.
func (q *Queue) Office() proto.Office {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.o.info()
}

func (o *office) info() proto.Office {
	return proto.Office{ID: o.cfg.ID, Name: proto.Text(o.cfg.Name), Timezone: o.cfg.Timezone, TrackingURL: o.cfg.TrackingURL}
}

// Windows lists the configured window numbers.
func (q *Queue) Windows() []int {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := make([]int, 0, len(q.o.cfg.Windows))
	for _, w := range q.o.cfg.Windows {
		out = append(out, w.Number)
	}
	return out
}

// Reload swaps in a new office configuration: catalogue, windows, names.
// Tickets and calls stay. The terminals get the update as a push.
func (q *Queue) Reload(cfg *configs.Office, version string) (Effects, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	w, err := q.update(func(tx *bolt.Tx, w *work) error {
		next := newOffice(cfg, version)
		w.then(func() { q.o = next })
		w.queues = true
		return q.push(tx, w, &proto.Message{Type: proto.TypeUpdate, ID: "update/" + version, Update: &proto.Update{
			Version: version, Office: next.info(), Catalogue: next.catalogue(),
		}})
	})
	if err != nil {
		return Effects{}, err
	}
	return w.effects(), nil
}

// SetHallMessage sets (or, with empty text, clears) the hall displays'
// running line.
func (q *Queue) SetHallMessage(m proto.HallMessage) (Effects, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	w, err := q.update(func(tx *bolt.Tx, w *work) error {
		meta := tx.Bucket(bucketMeta)
		var err error
		if m.Text.UK == "" && m.Text.EN == "" {
			err = meta.Delete(keyHallMessage)
			w.then(func() { q.hallMsg = nil })
		} else {
			err = putJSON(meta, keyHallMessage, m)
			w.then(func() { q.hallMsg = &m })
		}
		if err != nil {
			return err
		}
		n, err := tx.Bucket(bucketPushes).NextSequence()
		if err != nil {
			return err
		}
		return q.pushAs(tx, w, n, &proto.Message{Type: proto.TypeHallMessage, ID: fmt.Sprintf("hall/%d", n), HallMessage: &m})
	})
	if err != nil {
		return Effects{}, err
	}
	return w.effects(), nil
}

// HallMessage is the current running line, nil if none.
func (q *Queue) HallMessage() *proto.HallMessage {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.hallMsg
}

// Track finds a ticket of date for its tracking page, with how many
// visitors of its group wait before it.
func (q *Queue) Track(date, number string) (proto.Ticket, int, error) {
	tickets, err := q.Tickets(date)
	if err != nil {
		return proto.Ticket{}, 0, err
	}
	for _, t := range tickets {
		if t.Number != number || t.State == proto.StateReserved {
			continue
		}
		ahead := 0
		if t.State == proto.StateWaiting {
			for _, o := range tickets {
				if o.State == proto.StateWaiting && o.Group == t.Group && o.IssuedAt.Before(t.IssuedAt) {
					ahead++
				}
			}
		}
		t.Ahead = ahead
		q.mu.Lock()
		t.WaitMin = q.estimate(t.Group, ahead)
		q.mu.Unlock()
		return t, ahead, nil
	}
	return proto.Ticket{}, 0, ErrNoTicket
}
