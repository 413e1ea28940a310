// Package queue is the reference central queue server behind cmd/queued:
// it numbers tickets, keeps who waits for which service, runs the
// operators' windows (call, recall, came, finish, no-show, transfer,
// pause), takes the terminals' events, pushes every call to the office's
// hall and window terminals, and keeps the queue's record, from which
// statistics are computed.
//
// Every change is committed to bbolt before anyone is told about it: a
// terminal's event is acknowledged, a call pushed and an operator answered
// only after the commit. Changes are group-committed by one goroutine
// (commit.go). Events are deduplicated by (device, sequence) inside the
// transaction that applies them, so a resent event changes nothing. Every
// change of a ticket or a window is also an event in the append-only log
// (log.go, package record).
//
// Today is kept in memory in the shape questions are asked: tickets by
// number, waiting lines per group and per window, windows with their
// visitor (waiting.go, windows.go). Nothing done per event, per call or
// per page view reads or scans the day's tickets; other days are read from
// disk, by key.
package queue

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jonboulle/clockwork"
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
	ErrClosed         = errors.New("queue: closed")
)

// StateCancelled is kept for callers of the old name: an operator's
// "cancel" is a no-show now.
const StateCancelled = proto.StateNoShow

// office is the configuration the queue runs on; Reload swaps it whole.
type office struct {
	cfg        *configs.Office
	loc        *time.Location
	version    string
	groups     map[string]configs.Group
	services   map[string]configs.OfficeService
	prefixes   []string
	reasons    map[string]configs.Reason
	priorities map[string]configs.Priority
	// cat is the catalogue for kiosks, brief for the other terminals
	// (catalogue.go).
	cat, brief proto.Catalogue
}

func newOffice(cfg *configs.Office, version string) *office {
	o := &office{cfg: cfg, loc: cfg.Location(), version: version,
		groups: map[string]configs.Group{}, services: map[string]configs.OfficeService{},
		reasons: map[string]configs.Reason{}, priorities: map[string]configs.Priority{}}
	for _, g := range cfg.Groups {
		o.groups[g.ID] = g
		o.prefixes = append(o.prefixes, g.Prefix)
	}
	for _, s := range cfg.Services {
		o.services[s.ID] = s
	}
	for _, r := range cfg.PauseReasons {
		o.reasons[r.ID] = r
	}
	for _, p := range cfg.Priorities {
		o.priorities[p.ID] = p
	}
	o.cat, o.brief = officeCatalogue(cfg)
	return o
}

// Queue is the state of one office. It is safe for concurrent use.
type Queue struct {
	db    *bolt.DB
	clock clockwork.Clock
	log   *slog.Logger

	// The committer (commit.go).
	urgent  chan *change
	bulk    chan *change
	stop    chan struct{}
	stopped chan struct{}
	closing sync.RWMutex
	closed  bool
	commits atomic.Int64

	mu       sync.Mutex
	o        *office
	day      string             // office-local date of the tickets in memory
	tickets  map[string]*ticket // today's, by storage key
	lines    *lines             // today's waiting tickets
	ord      uint64             // arrival counter for lines' tie-break
	windows  map[int]*window
	winOrder []*window                // by number
	times    map[string]*serviceTimes // recent service times, "s:"+service and "g:"+group
	recent   []proto.Call             // newest last, at most recentCalls
	hallMsg  *proto.HallMessage
	devices  map[string]*Device
	changes  changeSet // what changed since the last Changes()
	notify   chan struct{}
	// stateSeq numbers the window states taken, in the order taken (under
	// mu), so an older one is never sent after a newer one.
	stateSeq uint64
	// groupWindows are the windows that call each group.
	groupWindows map[string][]*window

	// logSeq is the log's last sequence committed; logged signals (once,
	// coalesced) after a commit that moved it, for the city's shipper
	// (city.go).
	logSeq atomic.Uint64
	logged chan struct{}

	bookingKey []byte
	rejected   atomic.Int64 // terminal events refused
	gaps       atomic.Int64 // terminal event batches stopped at a gap
}

const recentCalls = 20

var (
	bucketDays     = []byte("days")
	bucketTix      = []byte("tickets")
	bucketCnt      = []byte("counters")
	bucketCall     = []byte("calls")
	bucketSeen     = []byte("seen")
	bucketLeases   = []byte("leases")
	bucketRatings  = []byte("ratings")
	bucketDevices  = []byte("devices")
	bucketPushes   = []byte("pushes")
	bucketMeta     = []byte("meta")
	bucketWindows  = []byte("windows")
	bucketRejected = []byte("rejected")
	// bucketDeviceSeq holds each terminal's last committed event, kept
	// apart from its record (bucketDevices) so confirming is cheap.
	bucketDeviceSeq = []byte("device-seq")

	keyHallMessage = []byte("hall_message")
	keyNextSlot    = []byte("next_slot")
)

// Options are the queue's settings besides the office.
type Options struct {
	// Clock is the office's time: issue and call times, the day, leases,
	// bookings, sessions; nil: the real clock.
	Clock   clockwork.Clock
	Log     *slog.Logger // nil: discard
	Version string       // the office configuration's version, sent to terminals
	// BookingKey signs booking codes (LoadBookingKey); bookings need it.
	BookingKey []byte
}

// Open opens (or creates) the queue's database at path.
func Open(path string, cfg *configs.Office, opts Options) (*Queue, error) {
	if opts.Clock == nil {
		opts.Clock = clockwork.NewRealClock()
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
	q := &Queue{db: db, clock: opts.Clock, log: opts.Log, o: newOffice(cfg, opts.Version), devices: map[string]*Device{},
		bookingKey: opts.BookingKey, urgent: make(chan *change, 1024), bulk: make(chan *change, 4096),
		stop: make(chan struct{}), stopped: make(chan struct{}), notify: make(chan struct{}, 1), logged: make(chan struct{}, 1)}
	q.mu.Lock()
	q.day = q.dayOf(q.now())
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range coreBuckets {
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
		if err := tx.Bucket(bucketDevices).ForEach(func(k, v []byte) error {
			d := new(Device)
			if err := json.Unmarshal(v, d); err != nil {
				return err
			}
			if seq := tx.Bucket(bucketDeviceSeq).Get(k); len(seq) == 8 {
				d.LastSeq = binary.BigEndian.Uint64(seq)
			}
			q.devices[string(k)] = d
			return nil
		}); err != nil {
			return err
		}
		q.logSeq.Store(tx.Bucket(bucketLog).Sequence())
		return q.loadTx(tx, q.day)
	})
	q.mu.Unlock()
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("queue: %s: %w", path, err)
	}
	go q.commitLoop()
	return q, nil
}

// Close finishes the changes under way and closes the database.
func (q *Queue) Close() error {
	q.closing.Lock()
	if !q.closed {
		q.closed = true
		close(q.stop)
	}
	q.closing.Unlock()
	<-q.stopped
	return q.db.Close()
}

func (q *Queue) today() string { return q.dayOf(q.now()) }

// now is the office's time now.
func (q *Queue) now() time.Time { return q.clock.Now() }

func (q *Queue) dayOf(t time.Time) string { return t.In(q.o.loc).Format(time.DateOnly) }

// loadTx replaces the in-memory day with day's, read from tx: tickets,
// lines, windows and their visitors, service times, recent calls. It is
// the one place that reads a whole day, at start and at midnight.
func (q *Queue) loadTx(tx *bolt.Tx, day string) error {
	q.day = day
	q.tickets = map[string]*ticket{}
	q.lines = newLines()
	q.times = map[string]*serviceTimes{}
	q.recent = nil
	q.loadWindows(tx)
	b := dayBucket(tx, day)
	if b == nil {
		return nil
	}
	var done, waiting []*ticket
	if err := b.Bucket(bucketTix).ForEach(func(k, v []byte) error {
		t := &ticket{key: string(k)}
		if err := json.Unmarshal(v, &t.Ticket); err != nil {
			return fmt.Errorf("ticket %s: %w", k, err)
		}
		q.ord++
		t.ord = q.ord
		q.tickets[t.key] = t
		switch t.State {
		case proto.StateWaiting:
			waiting = append(waiting, t)
		case proto.StateCalled, proto.StateServing:
			if w := q.windows[t.Window]; w != nil {
				w.current = t
			}
		case proto.StateDone:
			done = append(done, t)
		}
		return nil
	}); err != nil {
		return err
	}
	sort.Slice(done, func(i, j int) bool {
		return done[i].FinishedAt != nil && done[j].FinishedAt != nil && done[i].FinishedAt.Before(*done[j].FinishedAt)
	})
	for _, t := range done {
		if start := serviceStart(t); start != nil && t.FinishedAt != nil {
			q.served(t, *start, *t.FinishedAt)
		}
	}
	for _, t := range waiting { // expected by today's service times
		q.join(t)
	}
	// The last calls only: a cursor from the end.
	c := b.Bucket(bucketCall).Cursor()
	var calls []proto.Call
	for k, v := c.Last(); k != nil && len(calls) < recentCalls; k, v = c.Prev() {
		var cr proto.Call
		if err := json.Unmarshal(v, &cr); err != nil {
			return err
		}
		calls = append(calls, cr)
	}
	for i := len(calls) - 1; i >= 0; i-- {
		q.recentCall(calls[i])
	}
	return nil
}

// serviceStart is when t's service began: "came", else the call.
func serviceStart(t *ticket) *time.Time {
	if t.CameAt != nil {
		return t.CameAt
	}
	return t.CalledAt
}

// rollDay starts a new day's numbering when the office's date changed.
func (q *Queue) rollDay(tx *bolt.Tx) error {
	if d := q.today(); d != q.day {
		return q.loadTx(tx, d)
	}
	return nil
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
	for _, name := range [][]byte{bucketTix, bucketCnt, bucketCall, bucketSeen, bucketLeases, bucketRatings} {
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

// work is what one change did, to tell the terminals after the commit,
// and memory changes to make once the change has run.
type work struct {
	after  []func()
	pushes []*proto.Message
	queues bool // queue lengths changed
	// What the change refused of a terminal's events, to answer.
	rejected []*proto.Message
	// windows the change acted on (touchWindow), and their states once it
	// ran, for the windows' terminals (windowstate.go).
	windows map[int]bool
	states  []windowState
}

func newWork() *work { return &work{} }

func (w *work) then(f func()) { w.after = append(w.after, f) }

func (w *work) apply() {
	for _, f := range w.after {
		f()
	}
	w.after = nil
}

// Effects is what a change means for the terminals.
type Effects struct {
	Pushes   []*proto.Message // calls, recalls, cancels, messages, updates
	Queues   bool
	Rejected []*proto.Message // answers to terminal events refused
	// states are the windows the change acted on, as it left them.
	states []windowState
}

func (w *work) effects() Effects {
	return Effects{Pushes: w.pushes, Queues: w.queues, Rejected: w.rejected, states: w.states}
}

// saveTicket writes t (one of today's, in memory) to its day.
func (q *Queue) saveTicket(tx *bolt.Tx, w *work, t *ticket) error {
	w.queues = true
	return putTicketJSON(tx, q.day, t.key, &t.Ticket)
}

func putTicketJSON(tx *bolt.Tx, day, key string, t *proto.Ticket) error {
	b, err := createDayBucket(tx, day)
	if err != nil {
		return err
	}
	return putJSON(b.Bucket(bucketTix), []byte(key), t)
}

// addTicket makes t one of today's tickets and writes it.
func (q *Queue) addTicket(tx *bolt.Tx, w *work, t *ticket) error {
	q.ord++
	t.ord = q.ord
	q.tickets[t.key] = t
	if t.State == proto.StateWaiting {
		q.join(t)
	}
	q.touchQueues()
	return q.saveTicket(tx, w, t)
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
	t, _, err := q.issue(service, device, proto.StateReserved)
	return t, err
}

// Issue gives a ticket that joins the queue at once (reception desk, API).
func (q *Queue) Issue(service, device string) (proto.Ticket, Effects, error) {
	return q.issue(service, device, proto.StateWaiting)
}

func (q *Queue) issue(service, device, state string) (proto.Ticket, Effects, error) {
	var t proto.Ticket
	w, err := q.update(false, func(tx *bolt.Tx, w *work) error {
		if err := q.rollDay(tx); err != nil {
			return err
		}
		tk, err := q.issueTx(tx, w, service, device, state, "", 0)
		if err != nil {
			return err
		}
		t = tk.Ticket
		return nil
	})
	if err != nil {
		return proto.Ticket{}, Effects{}, err
	}
	return t, w.effects(), nil
}

// issueTx numbers and stores a ticket for today (q.day, rolled by the
// caller); booking and priority are set for a checked-in booking. A
// ticket issued waiting is logged as issued; a reserved one is logged when
// the kiosk confirms it.
func (q *Queue) issueTx(tx *bolt.Tx, w *work, service, device, state, booking string, priority int) (*ticket, error) {
	g, ok := q.groupOf(service)
	if !ok {
		return nil, refuse(fmt.Errorf("%w %q", ErrUnknownService, service))
	}
	b, err := createDayBucket(tx, q.day)
	if err != nil {
		return nil, err
	}
	n, err := nextOnline(b, g.Prefix)
	if err != nil {
		return nil, err
	}
	if n > topNumber {
		q.log.Warn("ticket numbers of the day run past 999", "prefix", g.Prefix, "number", n)
	}
	t := &ticket{Ticket: proto.Ticket{
		Number: fmt.Sprintf("%s%03d", g.Prefix, n), Service: service, Group: g.ID,
		IssuedAt: q.now().In(q.o.loc), State: state, Device: device, Booking: booking, Priority: priority,
	}}
	t.key = t.Number
	t.Ahead = q.lines.count[g.ID]
	t.WaitMin = q.estimate(g.ID, t.Ahead)
	if err := b.Bucket(bucketCnt).Put([]byte(g.Prefix), u64(uint64(n))); err != nil {
		return nil, err
	}
	if err := q.addTicket(tx, w, t); err != nil {
		return nil, err
	}
	if state == proto.StateWaiting {
		return t, q.logTicket(tx, t, recordIssued(t, device))
	}
	return t, nil
}

// AtWindow returns the ticket the window is serving (called or come), if
// any.
func (q *Queue) AtWindow(window int) (proto.Ticket, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	w := q.windows[window]
	if w == nil || w.current == nil || q.stale() {
		return proto.Ticket{}, false
	}
	return w.current.Ticket, true
}

// stale reports whether memory holds another day than today (nothing has
// rolled it yet); readers then answer as for an empty day.
func (q *Queue) stale() bool { return q.day != q.today() }

// Lengths is the queue of every group, in catalogue order.
func (q *Queue) Lengths() []proto.QueueLen {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.stale() {
		out := make([]proto.QueueLen, 0, len(q.o.cfg.Groups))
		for _, g := range q.o.cfg.Groups {
			out = append(out, proto.QueueLen{Group: g.ID})
		}
		return out
	}
	return q.lengthsLocked()
}

// RecentCalls returns the latest calls, newest last.
func (q *Queue) RecentCalls() []proto.Call {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.stale() {
		return nil
	}
	return append([]proto.Call(nil), q.recent...)
}

// Tickets returns every ticket of date (YYYY-MM-DD, office time), in issue
// order. It reads the day from disk: for reports and programs, not for
// anything done per event.
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

// Today is the office-local date now.
func (q *Queue) Today() string {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.today()
}

// Location is the office's time zone.
func (q *Queue) Location() *time.Location {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.o.loc
}

// Config is the office configuration the queue runs on now.
func (q *Queue) Config() *configs.Office {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.o.cfg
}

// Catalogue is the office's service catalogue in protocol form.
func (q *Queue) Catalogue() proto.Catalogue {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.catalogue()
}

func (q *Queue) catalogue() proto.Catalogue { return fresh(q.o.cat) }

// briefCatalogue is the catalogue without the information terminal's
// texts, for terminals that are not kiosks.
func (q *Queue) briefCatalogue() proto.Catalogue { return fresh(q.o.brief) }

// Office is the office's identity in protocol form.
func (q *Queue) Office() proto.Office {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.o.info()
}

func (o *office) info() proto.Office {
	return proto.Office{ID: o.cfg.ID, Name: proto.Text(o.cfg.Name), Timezone: o.cfg.Timezone, TrackingURL: o.cfg.TrackingURL}
}

// Reload swaps in a new office configuration: catalogue, windows, names.
// Tickets, calls and windows' states stay. The terminals get the update
// as a push.
func (q *Queue) Reload(cfg *configs.Office, version string) (Effects, error) {
	w, err := q.update(false, func(tx *bolt.Tx, w *work) error {
		next := newOffice(cfg, version)
		q.o = next
		q.configureWindows()
		w.queues = true
		q.touchQueues()
		return q.push(tx, w, &proto.Message{Type: proto.TypeUpdate, ID: "update/" + version, Update: &proto.Update{
			Version: version, Office: next.info(), Catalogue: q.catalogue(),
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
	w, err := q.update(false, func(tx *bolt.Tx, w *work) error {
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
// visitors of its group wait before it. Today's tickets are looked up in
// memory; another day's by key on disk.
func (q *Queue) Track(date, number string) (proto.Ticket, int, error) {
	if _, err := time.Parse(time.DateOnly, date); err != nil {
		return proto.Ticket{}, 0, fmt.Errorf("%w, got %q", ErrBadDate, date)
	}
	q.mu.Lock()
	if date == q.day && !q.stale() {
		defer q.mu.Unlock()
		t := q.tickets[number]
		if t == nil || t.State == proto.StateReserved {
			return proto.Ticket{}, 0, ErrNoTicket
		}
		out := t.Ticket
		out.Ahead, out.WaitMin = 0, 0
		if t.State == proto.StateWaiting {
			out.Ahead = q.lines.ahead(t)
			out.WaitMin = q.estimate(t.Group, out.Ahead)
		}
		return out, out.Ahead, nil
	}
	q.mu.Unlock()
	var out proto.Ticket
	err := q.db.View(func(tx *bolt.Tx) error {
		b := dayBucket(tx, date)
		if b == nil {
			return ErrNoTicket
		}
		v := b.Bucket(bucketTix).Get([]byte(number))
		if v == nil {
			return ErrNoTicket
		}
		return json.Unmarshal(v, &out)
	})
	if err != nil {
		return proto.Ticket{}, 0, err
	}
	if out.State == proto.StateReserved {
		return proto.Ticket{}, 0, ErrNoTicket
	}
	out.Ahead, out.WaitMin = 0, 0
	return out, 0, nil
}

// Commits is how many transactions the queue has committed, for
// benchmarks and metrics.
func (q *Queue) Commits() int64 { return q.commits.Load() }
