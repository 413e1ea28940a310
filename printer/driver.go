package printer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/cherga/kiosk/devices"
	"github.com/cherga/kiosk/devices/supervise"
	"github.com/cherga/kiosk/printer/escpos"
)

// Errors of Print.
var (
	// ErrCannotPrint: the printer said (or showed) it cannot print now, so
	// nothing was sent. The ticket exists; the kiosk shows its number.
	ErrCannotPrint = errors.New("printer: cannot print")
	// ErrInterrupted: a fault stopped the ticket halfway. It is printed
	// again, once, marked as a copy, when the printer recovers.
	ErrInterrupted = errors.New("printer: ticket interrupted")
)

// Config is an ESC/POS printer's settings.
type Config struct {
	Port     Port
	Driver   string // for /healthz: escpos, sim
	Profile  *Profile
	PaperMM  int
	Template Template
	// Pace limits the bytes sent per second, for serial printers without
	// flow control whose buffers would overflow; 0 sends at full speed.
	Pace int
	// RollMM is the length of a paper roll, for printers that cannot say
	// when their paper runs low: tickets are counted against it. 0: unknown.
	RollMM int
	// StateFile keeps the paper counted from the roll across restarts.
	StateFile string
	// Clock runs the reconnect waits, the status polls, the write
	// timeouts and the pacing; nil: the real clock.
	Clock clockwork.Clock
	Log   *slog.Logger
}

// ESCPOS drives one ESC/POS printer. One goroutine owns the connection,
// kept open by a supervise.Loop: it (re)connects, asks the printer's
// status every few seconds (and takes the status it sends by itself),
// prints jobs one at a time, and reprints an interrupted ticket once when
// the printer recovers.
type ESCPOS struct {
	cfg    Config
	twoWay bool
	jobs   chan *job
	loop   *supervise.Loop[io.ReadWriteCloser]
	cancel context.CancelFunc
	done   chan struct{}

	mu        sync.Mutex
	connected bool
	answering bool // the printer answered the last status query
	answered  bool // it ever answered on this connection; if not, it is one-way
	probed    bool // the first status query on this connection is over
	es        escpos.Status
	printed   int
	copyOf    *Ticket // an interrupted ticket, to print again once
	usedMM    int
	sensorLow bool // a paper-low sensor outside the printer says the roll is near its end
}

// job is a ticket or, with list set, a list of documents (documents.go).
type job struct {
	t      *Ticket
	list   *DocumentList
	page   *TestPage
	result chan error
}

const (
	pollEvery    = 2 * time.Second
	answerWithin = time.Second
	writeTimeout = 10 * time.Second
	jobTimeout   = 30 * time.Second
)

// The waits before reconnecting: up to 0.5 s at first, never more than
// 5 s, so a printer plugged back in prints again within seconds.
var reconnect = supervise.Backoff{Min: 250 * time.Millisecond, Max: 5 * time.Second}

// clearBuffer is DLE DC4 fn 8 (Epson: clear the receive and print
// buffers): before a reprint, what a stopped printer still holds of the
// interrupted ticket is thrown away, so nothing comes out twice.
var clearBuffer = []byte{escpos.DLE, 0x14, 8, 1, 3, 20, 1, 6, 2, 8}

// Open starts driving the printer; it does not wait for it to answer.
func Open(cfg Config) *ESCPOS {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = clockwork.NewRealClock()
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &ESCPOS{cfg: cfg, twoWay: cfg.Profile.Status != "none", jobs: make(chan *job),
		cancel: cancel, done: make(chan struct{}), answering: true}
	p.loadState()
	p.loop = supervise.New(supervise.Config[io.ReadWriteCloser]{
		Name: "printer", Open: cfg.Port.Open, Use: p.session, Describe: p.describe,
		Backoff: reconnect, Clock: cfg.Clock, Log: cfg.Log.With("port", cfg.Port.String()),
	})
	go func() {
		defer close(p.done)
		p.loop.Run(ctx)
	}()
	return p
}

// Close stops the driver and closes the port.
func (p *ESCPOS) Close() error {
	p.cancel()
	<-p.done
	return nil
}

// Restart closes the printer's port and opens it again at once (the
// admin page's restart button); false once the driver is closed.
func (p *ESCPOS) Restart() bool { return p.loop.Restart() }

// Changes signals after the status changed.
func (p *ESCPOS) Changes() <-chan struct{} { return p.loop.Changes() }

// describe words the printer's state while it is not connected.
func (p *ESCPOS) describe(ev supervise.Event, err error, _ time.Duration) string {
	var d string
	switch ev {
	case supervise.Opening:
		return "connecting to " + p.cfg.Port.String()
	case supervise.Opened:
		return "connected, asking the printer how it is"
	case supervise.OpenFailed, supervise.Lost:
		d = "offline: " + err.Error()
	default:
		d = "offline: closed"
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return d + p.copySuffix()
}

// Print prints t and returns once the printer has it all, or why not.
func (p *ESCPOS) Print(ctx context.Context, t *Ticket) error {
	return p.submit(ctx, &job{t: t, result: make(chan error, 1)})
}

// submit hands j to the session and waits for its outcome.
func (p *ESCPOS) submit(ctx context.Context, j *job) error {
	detail := p.loop.Status().Detail
	p.mu.Lock()
	connected, es := p.connected, p.es
	p.mu.Unlock()
	if !connected {
		return fmt.Errorf("%w: %s", ErrCannotPrint, detail)
	}
	if !es.CanPrint() {
		return fmt.Errorf("%w: %s", ErrCannotPrint, es.Fault())
	}
	ctx, cancel := withTimeout(ctx, p.cfg.Clock, jobTimeout)
	defer cancel()
	select {
	case p.jobs <- j:
	case <-ctx.Done():
		return fmt.Errorf("%w: printer busy: %v", ErrCannotPrint, context.Cause(ctx))
	case <-p.done:
		return fmt.Errorf("%w: printer closed", ErrCannotPrint)
	}
	select {
	case err := <-j.result:
		return err
	case <-ctx.Done():
		// The job goes on; its outcome is logged.
		return fmt.Errorf("printer: no answer from the printer: %v", context.Cause(ctx))
	}
}

// withTimeout is context.WithTimeout on clock. (clockwork.WithTimeout's
// context blocks in Err until it is done, and its timer outlives a
// cancel.) On the timeout, Err is context.Canceled and Cause
// context.DeadlineExceeded.
func withTimeout(ctx context.Context, clock clockwork.Clock, d time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(ctx)
	t := clock.AfterFunc(d, func() { cancel(context.DeadlineExceeded) })
	return ctx, func() { t.Stop(); cancel(nil) }
}

// session owns one connection until it fails or the driver stops.
type session struct {
	p      *ESCPOS
	ctx    context.Context
	conn   io.ReadWriteCloser
	bytes  chan []byte
	status escpos.StatusReader
	// readErr is why the read loop ended, set before bytes is closed.
	readErr error
}

// closed is the error of a session whose port stopped reading.
func (s *session) closed() error {
	if s.readErr != nil {
		return fmt.Errorf("printer: port closed: %w", s.readErr)
	}
	return errors.New("printer: port closed")
}

func (p *ESCPOS) session(ctx context.Context, conn io.ReadWriteCloser) error {
	p.setConnected(true)
	defer p.setConnected(false)
	s := &session{p: p, ctx: ctx, conn: conn, bytes: make(chan []byte, 64)}
	go s.read()
	init := &escpos.Writer{}
	init.Init()
	if p.cfg.Profile.Status == "asb" {
		init.AutoStatus(true)
	}
	if err := s.write(init.Bytes()); err != nil {
		return err
	}
	if err := s.refresh(); err != nil {
		return err
	}
	p.mu.Lock()
	p.probed = true
	p.mu.Unlock()
	p.changed()
	poll := p.cfg.Clock.NewTicker(pollEvery)
	defer poll.Stop()
	for {
		if err := s.reprint(); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case b, ok := <-s.bytes:
			if !ok {
				return s.closed()
			}
			s.take(b)
		case <-poll.Chan():
			if err := s.refresh(); err != nil {
				return err
			}
		case j := <-p.jobs:
			var err error
			switch {
			case j.page != nil:
				err = s.printDoc("test page", func() (*Job, error) { return EncodeTestPage(j.page, p.cfg.Profile, p.cfg.PaperMM) })
			case j.list != nil:
				err = s.printList(j.list)
			default:
				err = s.print(j.t)
			}
			j.result <- err
			if errors.Is(err, ErrInterrupted) {
				return err
			}
		}
	}
}

// read hands every byte from the printer to the session; a read timeout is
// not an error, anything else ends the connection.
func (s *session) read() {
	defer close(s.bytes)
	buf := make([]byte, 256)
	for {
		n, err := s.conn.Read(buf)
		if n > 0 {
			select {
			case s.bytes <- append([]byte(nil), buf[:n]...):
			case <-s.ctx.Done():
				return
			}
		}
		if err != nil && !errors.Is(err, ErrReadTimeout) {
			s.readErr = err
			return
		}
	}
}

// take makes sense of bytes from the printer: answers and automatic status.
func (s *session) take(b []byte) {
	s.p.mu.Lock()
	before := s.status.Garbage
	for _, ev := range s.status.Read(b) {
		if ev.Query == 0 {
			escpos.ApplyASB(&s.p.es, ev.ASB)
		} else {
			_ = escpos.ApplyRealtime(&s.p.es, ev.Query, ev.Byte)
		}
		s.p.answering, s.p.answered = true, true
	}
	garbage := s.status.Garbage - before
	s.p.mu.Unlock()
	if garbage > 0 {
		s.p.cfg.Log.Warn("printer sent bytes that are not status; ignored", "bytes", garbage)
	}
	s.p.changed()
}

// refresh asks for the four status bytes and waits a second for them. A
// printer that does not answer is reported, not waited for.
func (s *session) refresh() error {
	if !s.p.twoWay {
		return nil
	}
	s.p.mu.Lock()
	s.status.Forget()
	s.p.mu.Unlock()
	var q []byte
	for n := escpos.QueryPrinter; n <= escpos.QueryPaper; n++ {
		q = append(q, escpos.Query(n)...)
		s.p.mu.Lock()
		s.status.Asked(n)
		s.p.mu.Unlock()
	}
	if err := s.write(q); err != nil {
		return err
	}
	deadline := s.p.cfg.Clock.NewTimer(answerWithin)
	defer deadline.Stop()
	for {
		s.p.mu.Lock()
		left := s.status.Pending()
		s.p.mu.Unlock()
		if left == 0 {
			return nil
		}
		select {
		case b, ok := <-s.bytes:
			if !ok {
				return s.closed()
			}
			s.take(b)
		case <-deadline.Chan():
			s.p.mu.Lock()
			s.p.answering = false
			s.p.mu.Unlock()
			s.p.changed()
			return nil
		case <-s.ctx.Done():
			return nil
		}
	}
}

// write sends b, paced if configured, and never blocks past writeTimeout:
// a dead port is closed rather than waited on.
func (s *session) write(b []byte) error {
	pace := s.p.cfg.Pace
	chunk := len(b)
	if pace > 0 {
		chunk = max(16, pace/50)
	}
	clock := s.p.cfg.Clock
	start := clock.Now()
	for sent := 0; sent < len(b); {
		end := min(sent+chunk, len(b))
		done := make(chan error, 1)
		go func(part []byte) {
			_, err := s.conn.Write(part)
			done <- err
		}(b[sent:end])
		timeout := clock.NewTimer(writeTimeout)
		select {
		case err := <-done:
			timeout.Stop()
			if err != nil {
				return fmt.Errorf("printer: write: %w", err)
			}
		case <-timeout.Chan():
			s.conn.Close()
			return fmt.Errorf("printer: write: no progress for %s", writeTimeout)
		}
		sent = end
		if pace > 0 {
			if ahead := time.Duration(sent)*time.Second/time.Duration(pace) - clock.Since(start); ahead > 0 {
				clock.Sleep(ahead)
			}
		}
	}
	return nil
}

// print prints one ticket: status first, then the bytes, then status
// again, so a ticket the paper ran out on is known.
func (s *session) print(t *Ticket) error {
	p := s.p
	// A printer that never answered is not asked again for every ticket:
	// a one-way link would cost a second's wait each time.
	watched := func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.answered
	}
	if watched() {
		if err := s.refresh(); err != nil {
			return err
		}
	}
	p.mu.Lock()
	es, answering, answered := p.es, p.answering, p.answered
	p.mu.Unlock()
	if !es.CanPrint() {
		return fmt.Errorf("%w: %s", ErrCannotPrint, es.Fault())
	}
	if !answering && answered {
		// It answered before and has gone quiet: switched off or broken.
		return fmt.Errorf("%w: printer stopped answering", ErrCannotPrint)
	}
	job, err := Encode(t, p.cfg.Template, p.cfg.Profile, p.cfg.PaperMM)
	if err != nil {
		return err
	}
	if err := s.write(job.Bytes); err != nil {
		p.interrupted(t, err)
		return fmt.Errorf("%w: %v", ErrInterrupted, err)
	}
	if watched() {
		if err := s.refresh(); err != nil {
			p.interrupted(t, err)
			return fmt.Errorf("%w: %v", ErrInterrupted, err)
		}
	}
	p.mu.Lock()
	after := p.es
	p.mu.Unlock()
	if after.PaperOut || after.CoverOpen || after.CutterError {
		err := errors.New(after.Fault())
		p.interrupted(t, err)
		return fmt.Errorf("%w: %v", ErrInterrupted, err)
	}
	p.mu.Lock()
	p.printed++
	p.usedMM += int(job.LengthMM + 0.5)
	p.mu.Unlock()
	p.saveState()
	p.changed()
	return nil
}

// interrupted keeps t to print again once; a second interruption of the
// same ticket is logged, not retried again.
func (p *ESCPOS) interrupted(t *Ticket, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if t.Copy {
		p.cfg.Log.Error("copy of an interrupted ticket not printed either; the kiosk showed its number", "number", t.Number, "err", err)
		return
	}
	c := *t
	c.Copy = true
	p.copyOf = &c
	p.cfg.Log.Error("ticket interrupted; it will print again as a copy when the printer recovers", "number", t.Number, "err", err)
}

// reprint prints the interrupted ticket once the printer can print.
func (s *session) reprint() error {
	p := s.p
	p.mu.Lock()
	c, ready := p.copyOf, p.es.CanPrint() && (p.answering || !p.answered)
	if c != nil && ready {
		p.copyOf = nil
	}
	p.mu.Unlock()
	if c == nil || !ready {
		return nil
	}
	if p.twoWay {
		if err := s.write(clearBuffer); err != nil {
			return err
		}
	}
	err := s.print(c)
	if err == nil {
		p.cfg.Log.Info("interrupted ticket printed again as a copy", "number", c.Number)
	}
	if errors.Is(err, ErrInterrupted) {
		return err
	}
	return nil
}

// setConnected starts or ends a connection: what the printer said on the
// last one no longer holds.
func (p *ESCPOS) setConnected(connected bool) {
	p.mu.Lock()
	p.connected = connected
	p.es, p.answered, p.answering, p.probed = escpos.Status{}, false, true, false
	p.mu.Unlock()
	p.changed()
}

// changed tells the loop how the connected printer is; it signals the
// change to whoever watches. While not connected the loop words it.
func (p *ESCPOS) changed() {
	p.mu.Lock()
	p.changedLocked()
	p.mu.Unlock()
}

func (p *ESCPOS) changedLocked() {
	if !p.connected {
		return
	}
	state, detail := p.statusLocked()
	// The loop's lock is never held while it calls into the printer
	// (describe), so taking it under p.mu cannot deadlock.
	if p.loop.Set(state, detail) {
		p.cfg.Log.Info("printer status", "state", state, "detail", detail)
	}
}

// Status is the printer as /healthz shows it.
func (p *ESCPOS) Status() devices.Status {
	return devices.Supervised("printer", "printer", p.cfg.Driver, p.loop.Status())
}

// statusLocked is how the connected printer is.
func (p *ESCPOS) statusLocked() (devices.State, string) {
	state, detail := devices.OK, fmt.Sprintf("%s on %s, %d tickets printed", p.cfg.Profile.Name, p.cfg.Port, p.printed)
	switch {
	case p.twoWay && !p.probed:
		state, detail = devices.Warning, "connected, asking the printer how it is"
	case !p.answering && p.answered:
		state, detail = devices.Fault, "offline: the printer stopped answering status queries"
	case !p.answering && p.twoWay:
		state, detail = devices.Warning, "the printer does not report its state (a one-way link?): paper is not watched"
	case p.es.Fault() != "":
		state, detail = devices.Fault, p.es.Fault()
	case p.es.PaperNearEnd:
		state, detail = devices.Warning, "paper_near_end"
	case p.sensorLow:
		state, detail = devices.Warning, "paper_near_end (the kiosk's paper sensor)"
	case p.cfg.RollMM > 0 && p.usedMM*10 >= p.cfg.RollMM*9:
		state, detail = devices.Warning, fmt.Sprintf("paper_near_end (estimated: %.1f of %.1f m used)", float64(p.usedMM)/1000, float64(p.cfg.RollMM)/1000)
	}
	return state, detail + p.copySuffix()
}

// copySuffix says that a ticket waits to be printed again.
func (p *ESCPOS) copySuffix() string {
	if p.copyOf == nil {
		return ""
	}
	return fmt.Sprintf("; ticket %s waits to be printed again", p.copyOf.Number)
}

// SetPaperLow is told by a paper-low sensor outside the printer (a lever
// at the roll holder, on a GPIO pin) whether the paper is near its end:
// the status says paper_near_end then, as for a printer's own sensor.
func (p *ESCPOS) SetPaperLow(low bool) {
	p.mu.Lock()
	changed := p.sensorLow != low
	p.sensorLow = low
	p.mu.Unlock()
	if changed {
		p.changed()
	}
}

// NewRoll starts counting a fresh paper roll.
func (p *ESCPOS) NewRoll() {
	p.mu.Lock()
	p.usedMM = 0
	p.mu.Unlock()
	p.saveState()
	p.changed()
}

// Paper is the estimate of the roll: its length and how much of it was
// printed since NewRoll, in millimetres; rollMM is 0 when printer.roll_m
// is not configured (nothing is estimated).
func (p *ESCPOS) Paper() (usedMM, rollMM int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.usedMM, p.cfg.RollMM
}

type rollState struct {
	UsedMM int `json:"used_mm"`
}

func (p *ESCPOS) loadState() {
	if p.cfg.StateFile == "" {
		return
	}
	b, err := os.ReadFile(p.cfg.StateFile)
	if err != nil {
		return
	}
	var st rollState
	if json.Unmarshal(b, &st) == nil {
		p.usedMM = st.UsedMM
	}
}

func (p *ESCPOS) saveState() {
	if p.cfg.StateFile == "" {
		return
	}
	p.mu.Lock()
	b, _ := json.Marshal(rollState{UsedMM: p.usedMM})
	p.mu.Unlock()
	tmp := p.cfg.StateFile + ".tmp"
	err := os.WriteFile(tmp, b, 0o600)
	if err == nil {
		err = os.Rename(tmp, p.cfg.StateFile)
	}
	if err != nil {
		p.cfg.Log.Error("save paper count", "err", err)
	}
}
