package link

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jonboulle/clockwork"
	bolt "go.etcd.io/bbolt"

	"github.com/cherga/kiosk/link/proto"
)

// Store is the terminal's bbolt file, kioskd.db:
//
//   - outbox: every event for the server, numbered, kept until acknowledged;
//   - inbox: the server's pushes already acted on, so a resent call is shown
//     and announced once;
//   - state: the last snapshot (the catalogue and recent calls while the
//     server is away), this terminal's slot and outbox epoch;
//   - numbers: the counters of this kiosk's offline series, by day;
//   - handout: the tickets issued and not yet handed out (handout.go);
//   - rejected: the newest events the server refused for good, with the
//     event as it was sent (see rejected.go).
//
// Writes are group-committed: callers that arrive while a commit is on disk
// share the next one, so a burst does not pay one fsync per event, and a
// lone caller waits for no timer. Durability is never traded away: every
// write returns only after its fsync.
type Store struct {
	db    *bolt.DB
	opts  StoreOptions
	clock clockwork.Clock

	commits chan *commitReq
	stop    chan struct{}
	stopped chan struct{}
	closing sync.RWMutex // held for reading by writers, for writing by Close
	closed  bool

	appended chan struct{} // a signal: the outbox has new events

	// outbox bookkeeping, mirrored in memory for /healthz
	mu        sync.Mutex
	events    int
	oldestAt  time.Time
	alarm     string
	nextSeq   uint64
	acked     uint64
	epoch     string
	lastPush  atomic.Uint64
	committed atomic.Int64 // commits, for tests and benchmarks
	diskFull  atomic.Bool  // the last commit failed for want of space (diskfull.go)

	rejectedTotal int        // see RecordRejected; under mu
	lastRejected  *Rejection // under mu

	inboxMu    sync.Mutex
	seen       map[string]bool // recent push ids, see Receive
	seenOrder  []string
	background sync.WaitGroup // inbox records on their way to disk
}

// StoreOptions bound the outbox. Zero values take the defaults.
type StoreOptions struct {
	// AlarmEvents and AlarmAge raise an alarm in /healthz and the log when
	// this many events wait, or the oldest has waited this long.
	AlarmEvents int           // default 5,000
	AlarmAge    time.Duration // default 30 minutes
	// MaxEvents is the hard limit: beyond it Append fails, so nothing is
	// ever dropped silently. About 1 KB each on disk.
	MaxEvents int // default 200,000
	// RejectedAlarm is how long an event the server rejected keeps the
	// alarm raised in /healthz.
	RejectedAlarm time.Duration // default 24 hours
	// Clock stamps the events, rejections and push ids and ages the
	// outbox's alarm; nil: the real clock.
	Clock clockwork.Clock
	// Log gets the outbox alarms; nil discards them.
	Log *slog.Logger
}

func (o *StoreOptions) setDefaults() {
	if o.AlarmEvents <= 0 {
		o.AlarmEvents = 5000
	}
	if o.AlarmAge <= 0 {
		o.AlarmAge = 30 * time.Minute
	}
	if o.MaxEvents <= 0 {
		o.MaxEvents = 200_000
	}
	if o.RejectedAlarm <= 0 {
		o.RejectedAlarm = 24 * time.Hour
	}
	if o.Clock == nil {
		o.Clock = clockwork.NewRealClock()
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
}

var (
	bucketState   = []byte("state")
	bucketOutbox  = []byte("outbox")
	bucketInbox   = []byte("inbox")
	bucketNumbers = []byte("numbers")
	bucketMarks   = []byte("marks")

	keyWelcome  = []byte("welcome")
	keyEpoch    = []byte("epoch")
	keyNextSeq  = []byte("next_seq")
	keyAcked    = []byte("acked")
	keyLastPush = []byte("last_push")
)

// Store errors.
var (
	ErrLocked     = errors.New("link: store is locked by another process")
	ErrClosed     = errors.New("link: store closed")
	ErrOutboxFull = errors.New("link: outbox full")
)

// OpenStore opens or creates the store at path. A second kioskd on the same
// data directory fails within a second instead of waiting forever.
func OpenStore(path string, opts StoreOptions) (*Store, error) {
	opts.setDefaults()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("%w: %s (is another kioskd running with this data_dir?)", ErrLocked, path)
	}
	if err != nil {
		return nil, fmt.Errorf("link: open store %s: %w", path, err)
	}
	s := &Store{
		db: db, opts: opts, clock: opts.Clock,
		commits: make(chan *commitReq, 1024), stop: make(chan struct{}), stopped: make(chan struct{}),
		appended: make(chan struct{}, 1),
		seen:     map[string]bool{},
	}
	if err := s.load(); err != nil {
		db.Close()
		return nil, fmt.Errorf("link: init store %s: %w", path, err)
	}
	go s.commitLoop()
	return s, nil
}

func (s *Store) load() error {
	return s.db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketState, bucketOutbox, bucketInbox, bucketNumbers, bucketRejected, bucketMarks, bucketHandout} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		st := tx.Bucket(bucketState)
		if e := st.Get(keyEpoch); e != nil {
			s.epoch = string(e)
		} else {
			// A new outbox: the server restarts this terminal's sequence.
			var b [8]byte
			_, _ = rand.Read(b[:])
			s.epoch = hex.EncodeToString(b[:])
			if err := st.Put(keyEpoch, []byte(s.epoch)); err != nil {
				return err
			}
		}
		s.nextSeq = getU64(st, keyNextSeq)
		if s.nextSeq == 0 {
			s.nextSeq = 1
		}
		s.acked = getU64(st, keyAcked)
		s.lastPush.Store(getU64(st, keyLastPush))
		ob := tx.Bucket(bucketOutbox)
		s.events = ob.Stats().KeyN // once, at start
		if k, v := ob.Cursor().First(); k != nil {
			s.oldestAt = eventTime(v)
		}
		s.checkAlarm()
		return s.loadRejected(tx)
	})
}

// Close waits for the commits under way and closes the file.
func (s *Store) Close() error {
	s.background.Wait()
	s.closing.Lock()
	if s.closed {
		s.closing.Unlock()
		return nil
	}
	s.closed = true
	s.closing.Unlock()
	close(s.stop)
	<-s.stopped
	return s.db.Close()
}

// Epoch names this outbox; see proto.Hello.
func (s *Store) Epoch() string { return s.epoch }

type commitReq struct {
	fn   func(*bolt.Tx) error
	done chan error
}

// maxBatch bounds one group commit.
const maxBatch = 1000

// update runs fn in a write transaction shared with whoever else is
// waiting, and returns after the commit is on disk.
func (s *Store) update(fn func(*bolt.Tx) error) error {
	s.closing.RLock()
	if s.closed {
		s.closing.RUnlock()
		return ErrClosed
	}
	r := &commitReq{fn: fn, done: make(chan error, 1)}
	s.commits <- r
	s.closing.RUnlock()
	return <-r.done
}

func (s *Store) commitLoop() {
	defer close(s.stopped)
	last := 0
	for {
		var batch []*commitReq
		select {
		case r := <-s.commits:
			batch = append(batch, r)
		case <-s.stop:
			// Writers hold the read lock while queueing, so after Close
			// took the write lock nothing more arrives; finish what came.
			for {
				select {
				case r := <-s.commits:
					s.commitBatch([]*commitReq{r})
				default:
					return
				}
			}
		}
		batch = s.drain(batch, last)
		last = len(batch)
		s.commitBatch(batch)
	}
}

// linger bounds how long a commit may wait for more writers, see drain.
const linger = 300 * time.Microsecond

// drain adds the writers already waiting to batch. Under load (the last
// batch had several writers) it lingers briefly until as many as last time
// have arrived, because the writers released by the previous commit need a
// moment of CPU to come back; a lone writer never waits.
func (s *Store) drain(batch []*commitReq, last int) []*commitReq {
	var deadline <-chan time.Time
	for len(batch) < maxBatch {
		select {
		case r := <-s.commits:
			batch = append(batch, r)
			continue
		default:
		}
		if last <= 1 || len(batch) >= last {
			return batch
		}
		if deadline == nil {
			// Real time, not the store's clock: this waits for goroutines
			// to be scheduled, and a fake clock would stall the commit.
			deadline = time.After(linger)
		}
		select {
		case r := <-s.commits:
			batch = append(batch, r)
		case <-deadline:
			return batch
		}
	}
	return batch
}

// errFnFailed marks a rollback caused by one caller's function.
var errFnFailed = errors.New("link: batched function failed")

func (s *Store) commitBatch(batch []*commitReq) {
	if batch = answerPings(batch); len(batch) == 0 {
		return // only pings (ping.go): nothing to write
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		for _, r := range batch {
			if err := r.fn(tx); err != nil {
				return errFnFailed
			}
		}
		return nil
	})
	s.committed.Add(1)
	if errors.Is(err, errFnFailed) && len(batch) > 1 {
		// One caller's failure must not fail the others: run each alone.
		for _, r := range batch {
			r.done <- s.noteCommit(s.db.Update(r.fn))
		}
		return
	}
	if errors.Is(err, errFnFailed) {
		err = s.db.Update(batch[0].fn) // report the function's own error
	}
	err = s.noteCommit(err)
	for _, r := range batch {
		r.done <- err
	}
}

func getU64(b *bolt.Bucket, key []byte) uint64 {
	v := b.Get(key)
	if len(v) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

func u64(n uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], n)
	return b[:]
}

// SaveSnapshot keeps the server's latest snapshot.
func (s *Store) SaveSnapshot(w *proto.Welcome) error {
	b, err := json.Marshal(w)
	if err != nil {
		return fmt.Errorf("link: encode snapshot: %w", err)
	}
	return s.update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketState).Put(keyWelcome, b)
	})
}

// Snapshot returns the saved snapshot, or nil if the server was never
// reached.
func (s *Store) Snapshot() (*proto.Welcome, error) {
	var w *proto.Welcome
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketState).Get(keyWelcome)
		if b == nil {
			return nil
		}
		w = new(proto.Welcome)
		return json.Unmarshal(b, w)
	})
	if err != nil {
		return nil, fmt.Errorf("link: read snapshot: %w", err)
	}
	return w, nil
}
