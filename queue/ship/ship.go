// Package ship sends an office's record, the queue's append-only event
// log, to the city's PostgreSQL (package city), in order and exactly once,
// and keeps the city's status page told how the office is (waiting per
// group, estimated waits, windows open), with a heartbeat so the page
// knows how fresh that is.
//
// The shipper reads the log in bbolt read transactions after its
// position, which it keeps in the office's database; a batch goes in one
// database transaction, and (office, seq) is unique there, so a batch sent
// again after a crash or a lost connection adds nothing. The position is
// written at most once a second (a crash sends again at most what was
// shipped since). It is woken by the committer after a commit that
// appended to the log, never polls, and costs nothing while the office is
// idle but the heartbeat.
//
// It must never be in the way of a ticket or a call: nothing in the queue
// waits for it, and while the city's database is away the office works
// on and the backlog grows, shown in /healthz and the metrics and alarmed
// past city.alarm_age.
//
// The connection is a device like any other: devices/supervise opens it,
// backs off and reopens it, and says how it is.
//
// Time: an office's clock may be off. At every connect and heartbeat the
// shipper measures the offset between the office's clock and the
// database's (the midpoint of a round trip). Status.At is always the
// corrected time; an event's At is corrected before it is sent when the
// offset is over CorrectAbove (so a synchronised office's city figures are
// exactly its own); its Day stays the office's.
package ship

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/cherga/kiosk/city"
	"github.com/cherga/kiosk/devices/supervise"
	"github.com/cherga/kiosk/queue/record"
)

// Defaults and bounds of the shipper's timing.
const (
	// Heartbeat is how often the status is sent even when nothing
	// changed, and the clock measured again.
	Heartbeat = 30 * time.Second
	// StatusEvery bounds status snapshots to one a second.
	StatusEvery = time.Second
	// PositionEvery bounds writes of the position to the office's
	// database to one a second.
	PositionEvery = time.Second
	// TakenRetry is how long the shipper waits before it claims an
	// office id another queued holds again.
	TakenRetry = 5 * time.Minute
	// CorrectAbove: events are sent with their times corrected when the
	// office's clock is off by more than this.
	CorrectAbove = time.Second
	// callTimeout guards each database call against a network that
	// swallows packets; the connection is then lost and reopened.
	callTimeout = 30 * time.Second
)

// Source is what the shipper needs of the office's queue (queue.Queue).
type Source interface {
	// EventsAfter is the log from after+1 on, at most max events.
	EventsAfter(after uint64, max int) ([]record.Event, error)
	// LastSeq is the log's last committed sequence.
	LastSeq() uint64
	// Logged signals (coalesced) after a commit that appended to the log.
	Logged() <-chan struct{}
	// CityStatus is the office now, for the status page.
	CityStatus() city.Status
	// CityInstance is this office database's instance id.
	CityInstance() (string, error)
	// CityPosition and SetCityPosition keep the shipped position.
	CityPosition() (uint64, error)
	SetCityPosition(seq uint64) error
}

// Config is one shipper.
type Config struct {
	// DSN connects (DSN's result: it may hold the password; never
	// logged). Shown is what the log and /healthz may show instead.
	DSN, Shown string
	Office     city.Office
	Batch      int           // events per transaction; 0: 500
	AlarmAge   time.Duration // 0: 15m
	Clock      clockwork.Clock
	Log        *slog.Logger
	Backoff    supervise.Backoff
	// TakenRetry: 0 is the package's TakenRetry.
	TakenRetry time.Duration
}

// Status is the shipping as /healthz and the metrics show it.
type Status struct {
	Connected bool   `json:"connected"`
	State     string `json:"state"`
	Detail    string `json:"detail,omitempty"`
	LastError string `json:"last_error,omitempty"`
	// Shipped is the highest seq known to be in the city's database,
	// Last the office's last; Backlog the difference.
	Shipped uint64 `json:"shipped_seq"`
	Last    uint64 `json:"last_seq"`
	Backlog uint64 `json:"backlog_events"`
	// Oldest is when the oldest event not shipped happened (office
	// clock); LagSeconds how long ago.
	Oldest      *time.Time `json:"oldest_unshipped,omitempty"`
	LagSeconds  float64    `json:"lag_seconds"`
	ShippedNew  uint64     `json:"shipped_events_total"` // new rows since queued started
	Errors      uint64     `json:"errors_total"`
	ClockOffset float64    `json:"clock_offset_seconds"` // database minus office, at the last measure
	Alarm       string     `json:"alarm,omitempty"`
	// Instance is this office database's claim on the office id (known
	// after the first connect).
	Instance string `json:"instance,omitempty"`
}

// Shipper ships one office's log. Run it once; read Status from anywhere.
type Shipper struct {
	src  Source
	cfg  Config
	loop *supervise.Loop[*conn]

	shipped    atomic.Uint64
	shippedNew atomic.Uint64
	errs       atomic.Uint64
	offset     atomic.Int64 // nanoseconds, database minus office
	taken      atomic.Pointer[string]
	instance   atomic.Pointer[string]

	mu     sync.Mutex
	oldest struct {
		after uint64
		at    time.Time
	}
}

// conn is an open city database.
type conn struct{ db *city.DB }

func (c *conn) Close() error {
	c.db.Close()
	return nil
}

// New makes the shipper of src's log.
func New(src Source, cfg Config) (*Shipper, error) {
	if cfg.Clock == nil {
		cfg.Clock = clockwork.NewRealClock()
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 500
	}
	if cfg.AlarmAge <= 0 {
		cfg.AlarmAge = 15 * time.Minute
	}
	if cfg.TakenRetry <= 0 {
		cfg.TakenRetry = TakenRetry
	}
	s := &Shipper{src: src, cfg: cfg}
	pos, err := src.CityPosition()
	if err != nil {
		return nil, fmt.Errorf("ship: position: %w", err)
	}
	s.shipped.Store(pos)
	s.loop = supervise.New(supervise.Config[*conn]{
		Name:     "city database",
		Open:     s.open,
		Use:      s.use,
		Describe: s.describe,
		Backoff:  cfg.Backoff,
		Clock:    cfg.Clock,
		Log:      cfg.Log,
	})
	return s, nil
}

// Run ships until ctx ends.
func (s *Shipper) Run(ctx context.Context) { s.loop.Run(ctx) }

func (s *Shipper) describe(ev supervise.Event, err error, retry time.Duration) string {
	switch ev {
	case supervise.OpenFailed:
		return fmt.Sprintf("cannot connect to %s: %v; retrying in %s", s.cfg.Shown, err, retry.Round(time.Millisecond))
	case supervise.Lost:
		if t := s.taken.Load(); t != nil {
			return *t
		}
		return fmt.Sprintf("connection to %s lost: %v; reconnecting in %s", s.cfg.Shown, err, retry.Round(time.Millisecond))
	case supervise.Opened:
		return "connected to " + s.cfg.Shown
	}
	return ev.String()
}

func (s *Shipper) open(ctx context.Context) (*conn, error) {
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	db, err := city.Open(cctx, s.cfg.DSN, city.Options{Log: s.cfg.Log})
	if err != nil {
		s.errs.Add(1)
		if errors.Is(err, city.ErrSchema) {
			return nil, fmt.Errorf("%w (start cityd first: it brings the city's schema up to date)", err)
		}
		return nil, err
	}
	return &conn{db: db}, nil
}

// use is one session: claim the office, agree on the position, then ship
// whatever the log gains until the connection fails.
func (s *Shipper) use(ctx context.Context, c *conn) error {
	err := s.session(ctx, c.db)
	if err != nil && ctx.Err() == nil {
		s.errs.Add(1)
	}
	return err
}

func (s *Shipper) session(ctx context.Context, db *city.DB) error {
	instance, err := s.src.CityInstance()
	if err != nil {
		return fmt.Errorf("ship: instance id: %w", err)
	}
	s.instance.Store(&instance)
	if err := call(ctx, func(ctx context.Context) error { return db.Register(ctx, s.cfg.Office, instance) }); err != nil {
		if errors.Is(err, city.ErrOfficeTaken) {
			return s.refused(ctx, err)
		}
		return fmt.Errorf("register: %w", err)
	}
	if s.taken.Swap(nil) != nil {
		s.cfg.Log.Info("city: the office id is ours again", "office", s.cfg.Office.ID)
	}
	s.measure(ctx, db)
	var inDB uint64
	if err := call(ctx, func(ctx context.Context) (err error) { inDB, err = db.Shipped(ctx, s.cfg.Office.ID); return }); err != nil {
		return fmt.Errorf("shipped: %w", err)
	}
	if last := s.src.LastSeq(); inDB > last {
		// The city holds more of this office's events than its own log:
		// queued.db was restored from an older copy (or replaced). Its new
		// events would reuse numbers the city already has and be dropped
		// as resends: ship nothing, and say so (the backlog alarm follows).
		return fmt.Errorf("the city's database has this office's events up to %d but its own log ends at %d: "+
			"queued.db was restored from an older copy or replaced, and new events would clash; nothing is shipped "+
			"until the city's administrator resolves it (docs/city.md)", inDB, last)
	}
	pos := s.shipped.Load()
	if inDB < pos {
		// The database lost what it had taken: a fail-over to a standby
		// that had not received the last batches, or a restore. The
		// office still has them: send them again (Append adds only what
		// is missing), so the city is never short of an event.
		s.cfg.Log.Warn("city: the city's database has fewer of this office's events than were shipped (a fail-over or a restore lost some); sending them again",
			"office", s.cfg.Office.ID, "database", inDB, "position", pos)
	}
	pos = inDB // the database's own count: what it has is exactly 1..inDB
	s.shipped.Store(pos)
	s.loop.Set(supervise.OK, "connected to "+s.cfg.Shown)
	s.cfg.Log.Info("city: shipping", "office", s.cfg.Office.ID, "from", pos+1, "last", s.src.LastSeq())

	clock := s.cfg.Clock
	heartbeat := clock.NewTicker(Heartbeat)
	defer heartbeat.Stop()
	var (
		saved       = pos // position stored in the office's database
		lastSave    time.Time
		lastStatus  time.Time
		sentStatus  *city.Status
		statusTimer clockwork.Timer
		saveTimer   clockwork.Timer
		statusC     <-chan time.Time
		saveC       <-chan time.Time
		forceStatus = true
	)
	stopTimer := func(t *clockwork.Timer, c *<-chan time.Time) {
		if *t != nil {
			(*t).Stop()
			*t, *c = nil, nil
		}
	}
	defer func() {
		stopTimer(&statusTimer, &statusC)
		stopTimer(&saveTimer, &saveC)
		if p := s.shipped.Load(); p > saved {
			_ = s.src.SetCityPosition(p) // what a stop or a lost connection leaves
		}
	}()
	save := func() {
		p := s.shipped.Load()
		if p <= saved {
			return
		}
		if err := s.src.SetCityPosition(p); err != nil {
			s.cfg.Log.Warn("city: position not stored", "err", err)
			return
		}
		saved, lastSave = p, clock.Now()
	}
	for {
		// Ship all there is.
		for {
			events, err := s.src.EventsAfter(pos, s.cfg.Batch)
			if err != nil {
				return fmt.Errorf("ship: read the log after %d: %w", pos, err)
			}
			if len(events) == 0 {
				break
			}
			s.correct(events)
			var n int
			if err := call(ctx, func(ctx context.Context) (err error) { n, err = db.Append(ctx, s.cfg.Office.ID, events); return }); err != nil {
				return fmt.Errorf("append %d..%d: %w", events[0].Seq, events[len(events)-1].Seq, err)
			}
			pos = events[len(events)-1].Seq
			s.shipped.Store(pos)
			s.shippedNew.Add(uint64(n))
			if clock.Since(lastSave) >= PositionEvery {
				save()
			}
			if ctx.Err() != nil {
				return nil
			}
		}
		if s.shipped.Load() > saved && saveTimer == nil {
			saveTimer = clock.NewTimer(max(PositionEvery-clock.Since(lastSave), 0))
			saveC = saveTimer.Chan()
		}
		// The status, when it changed, at most once a second.
		if statusTimer == nil {
			st := s.src.CityStatus()
			changed := forceStatus || sentStatus == nil || !sameStatus(*sentStatus, st)
			if changed {
				if wait := StatusEvery - clock.Since(lastStatus); wait > 0 && !forceStatus {
					statusTimer = clock.NewTimer(wait)
					statusC = statusTimer.Chan()
				} else {
					if err := s.putStatus(ctx, db, st); err != nil {
						return err
					}
					sentStatus, lastStatus, forceStatus = &st, clock.Now(), false
				}
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-s.src.Logged():
		case <-heartbeat.Chan():
			s.measure(ctx, db)
			forceStatus = true
			stopTimer(&statusTimer, &statusC)
		case <-statusC:
			statusTimer, statusC = nil, nil
		case <-saveC:
			saveTimer, saveC = nil, nil
			save()
		}
	}
}

// refused is a session whose office id another queued holds: said
// clearly, alarmed, and tried again only after TakenRetry.
func (s *Shipper) refused(ctx context.Context, err error) error {
	msg := fmt.Sprintf("office id %s is used by another queued; give this office its own id", s.cfg.Office.ID)
	s.taken.Store(&msg)
	s.loop.Set(supervise.Fault, msg)
	s.cfg.Log.Error("city: "+msg, "err", err, "retry_in", s.cfg.TakenRetry)
	t := s.cfg.Clock.NewTimer(s.cfg.TakenRetry)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.Chan():
	}
	return err
}

func (s *Shipper) putStatus(ctx context.Context, db *city.DB, st city.Status) error {
	st.Office = s.cfg.Office.ID
	st.At = s.cfg.Clock.Now().Add(s.Offset())
	if err := call(ctx, func(ctx context.Context) error { return db.PutStatus(ctx, st) }); err != nil {
		return fmt.Errorf("status: %w", err)
	}
	return nil
}

// sameStatus compares what the page shows (not LastSeq or At: new events
// that change nothing shown wait for the heartbeat).
func sameStatus(a, b city.Status) bool {
	a.At, b.At, a.LastSeq, b.LastSeq, a.Office, b.Office = time.Time{}, time.Time{}, 0, 0, "", ""
	return reflect.DeepEqual(a, b)
}

// clocker is a database that tells its time (city.DB.Now).
type clocker interface {
	Now(ctx context.Context) (time.Time, error)
}

// measure takes the offset of the database's clock from the office's:
// its time against the midpoint of the round trip.
func (s *Shipper) measure(ctx context.Context, db any) {
	c, ok := db.(clocker)
	if !ok {
		return
	}
	var at time.Time
	t0 := s.cfg.Clock.Now()
	err := call(ctx, func(ctx context.Context) (err error) { at, err = c.Now(ctx); return })
	t1 := s.cfg.Clock.Now()
	if err != nil {
		s.cfg.Log.Info("city: the database's time unknown", "err", err)
		return
	}
	off := at.Sub(t0.Add(t1.Sub(t0) / 2))
	if old := time.Duration(s.offset.Swap(int64(off))); (old - off).Abs() > CorrectAbove {
		s.cfg.Log.Info("city: clock offset", "office", s.cfg.Office.ID, "offset", off.Round(time.Millisecond),
			"round_trip", t1.Sub(t0).Round(time.Millisecond))
	}
}

// Offset is the database's clock minus the office's, as last measured.
func (s *Shipper) Offset() time.Duration { return time.Duration(s.offset.Load()) }

// correct moves events' times to the database's clock when the office's
// is off by more than CorrectAbove.
func (s *Shipper) correct(events []record.Event) {
	off := s.Offset()
	if off.Abs() <= CorrectAbove {
		return
	}
	for i := range events {
		events[i].At = events[i].At.Add(off)
	}
}

// call runs f with a timeout guard.
func call(ctx context.Context, f func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	return f(ctx)
}

// Status is the shipping now.
func (s *Shipper) Status() Status {
	ls := s.loop.Status()
	st := Status{Connected: ls.State == supervise.OK, State: string(ls.State), Detail: ls.Detail, LastError: ls.LastError,
		Shipped: s.shipped.Load(), Last: s.src.LastSeq(), ShippedNew: s.shippedNew.Load(), Errors: s.errs.Load(),
		ClockOffset: s.Offset().Seconds()}
	if st.Last > st.Shipped {
		st.Backlog = st.Last - st.Shipped
		if at, ok := s.oldestAfter(st.Shipped); ok {
			st.Oldest = &at
			st.LagSeconds = max(s.cfg.Clock.Since(at).Seconds(), 0)
		}
	}
	if id := s.instance.Load(); id != nil {
		st.Instance = *id
	}
	if t := s.taken.Load(); t != nil {
		st.Alarm = *t
	} else if st.Oldest != nil && s.cfg.Clock.Since(*st.Oldest) > s.cfg.AlarmAge {
		// No error text: the alarm is in the public /healthz; the error is
		// in the details, for the terminals scope.
		st.Alarm = fmt.Sprintf("%d events not shipped to the city's database, the oldest from %s (more than city.alarm_age %s ago)",
			st.Backlog, st.Oldest.Format(time.RFC3339), s.cfg.AlarmAge)
	}
	return st
}

// oldestAfter is the time of the event after seq, read once per position.
func (s *Shipper) oldestAfter(seq uint64) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.oldest.after == seq && !s.oldest.at.IsZero() {
		return s.oldest.at, true
	}
	events, err := s.src.EventsAfter(seq, 1)
	if err != nil || len(events) == 0 {
		return time.Time{}, false
	}
	s.oldest.after, s.oldest.at = seq, events[0].At
	return events[0].At, true
}
