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

	"github.com/cherga/kiosk/devices"
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
	Log       *slog.Logger
}

// ESCPOS drives one ESC/POS printer. One goroutine owns the connection:
// it (re)connects, asks the printer's status every few seconds (and takes
// the status it sends by itself), prints jobs one at a time, and reprints
// an interrupted ticket once when the printer recovers.
type ESCPOS struct {
	cfg     Config
	twoWay  bool
	jobs    chan *job
	changes chan struct{}
	stop    chan struct{}
	done    chan struct{}

	mu        sync.Mutex
	connected bool
	answering bool // the printer answered the last status query
	answered  bool // it ever answered on this connection; if not, it is one-way
	probed    bool // the first status query on this connection is over
	portErr   string
	es        escpos.Status
	printed   int
	copyOf    *Ticket // an interrupted ticket, to print again once
	usedMM    int
	last      devices.Status // as last reported, to notice changes
}

type job struct {
	t      *Ticket
	result chan error
}

const (
	pollEvery    = 2 * time.Second
	answerWithin = time.Second
	writeTimeout = 10 * time.Second
	jobTimeout   = 30 * time.Second
)

// clearBuffer is DLE DC4 fn 8 (Epson: clear the receive and print
// buffers): before a reprint, what a stopped printer still holds of the
// interrupted ticket is thrown away, so nothing comes out twice.
var clearBuffer = []byte{escpos.DLE, 0x14, 8, 1, 3, 20, 1, 6, 2, 8}

// Open starts driving the printer; it does not wait for it to answer.
func Open(cfg Config) *ESCPOS {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	p := &ESCPOS{cfg: cfg, twoWay: cfg.Profile.Status != "none", jobs: make(chan *job),
		changes: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}), answering: true}
	p.loadState()
	p.last = p.statusLocked()
	p.last.Since = time.Now()
	go p.run()
	return p
}

// Close stops the driver and closes the port.
func (p *ESCPOS) Close() error {
	close(p.stop)
	<-p.done
	return nil
}

// Changes signals after the status changed.
func (p *ESCPOS) Changes() <-chan struct{} { return p.changes }

// Print prints t and returns once the printer has it all, or why not.
func (p *ESCPOS) Print(ctx context.Context, t *Ticket) error {
	p.mu.Lock()
	connected, es, detail := p.connected, p.es, p.statusLocked().Detail
	p.mu.Unlock()
	if !connected {
		return fmt.Errorf("%w: %s", ErrCannotPrint, detail)
	}
	if !es.CanPrint() {
		return fmt.Errorf("%w: %s", ErrCannotPrint, es.Fault())
	}
	ctx, cancel := context.WithTimeout(ctx, jobTimeout)
	defer cancel()
	j := &job{t: t, result: make(chan error, 1)}
	select {
	case p.jobs <- j:
	case <-ctx.Done():
		return fmt.Errorf("%w: printer busy: %v", ErrCannotPrint, ctx.Err())
	case <-p.done:
		return fmt.Errorf("%w: printer closed", ErrCannotPrint)
	}
	select {
	case err := <-j.result:
		return err
	case <-ctx.Done():
		// The job goes on; its outcome is logged.
		return fmt.Errorf("printer: no answer from the printer: %v", ctx.Err())
	}
}

func (p *ESCPOS) run() {
	defer close(p.done)
	wait := 500 * time.Millisecond
	for {
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			select {
			case <-p.stop:
				cancel()
			case <-ctx.Done():
			}
		}()
		conn, err := p.cfg.Port.Open(ctx)
		if err != nil {
			cancel()
			p.setPort(false, err.Error())
			select {
			case <-p.stop:
				return
			case <-time.After(wait):
			}
			wait = min(wait*2, 5*time.Second)
			continue
		}
		wait = 500 * time.Millisecond
		p.setPort(true, "")
		p.cfg.Log.Info("printer connected", "port", p.cfg.Port.String())
		err = p.session(conn)
		conn.Close()
		cancel()
		select {
		case <-p.stop:
			p.setPort(false, "closed")
			return
		default:
		}
		p.setPort(false, err.Error())
		p.cfg.Log.Error("printer connection lost; reconnecting", "port", p.cfg.Port.String(), "err", err)
	}
}

// session owns one connection until it fails or the driver stops.
type session struct {
	p      *ESCPOS
	conn   io.ReadWriteCloser
	bytes  chan []byte
	status escpos.StatusReader
}

func (p *ESCPOS) session(conn io.ReadWriteCloser) error {
	s := &session{p: p, conn: conn, bytes: make(chan []byte, 64)}
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
	poll := time.NewTicker(pollEvery)
	defer poll.Stop()
	for {
		if err := s.reprint(); err != nil {
			return err
		}
		select {
		case <-p.stop:
			return nil
		case b, ok := <-s.bytes:
			if !ok {
				return errors.New("printer: port closed")
			}
			s.take(b)
		case <-poll.C:
			if err := s.refresh(); err != nil {
				return err
			}
		case j := <-p.jobs:
			err := s.print(j.t)
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
			case <-s.p.stop:
				return
			}
		}
		if err != nil && !errors.Is(err, ErrReadTimeout) {
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
	deadline := time.After(answerWithin)
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
				return errors.New("printer: port closed")
			}
			s.take(b)
		case <-deadline:
			s.p.mu.Lock()
			s.p.answering = false
			s.p.mu.Unlock()
			s.p.changed()
			return nil
		case <-s.p.stop:
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
	start := time.Now()
	for sent := 0; sent < len(b); {
		end := min(sent+chunk, len(b))
		done := make(chan error, 1)
		go func(part []byte) {
			_, err := s.conn.Write(part)
			done <- err
		}(b[sent:end])
		select {
		case err := <-done:
			if err != nil {
				return fmt.Errorf("printer: write: %w", err)
			}
		case <-time.After(writeTimeout):
			s.conn.Close()
			return fmt.Errorf("printer: write: no progress for %s", writeTimeout)
		}
		sent = end
		if pace > 0 {
			if ahead := time.Duration(sent)*time.Second/time.Duration(pace) - time.Since(start); ahead > 0 {
				time.Sleep(ahead)
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
	p.usedMM += job.HeightDots / 8
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

func (p *ESCPOS) setPort(connected bool, errText string) {
	p.mu.Lock()
	p.connected = connected
	p.portErr = errText
	p.es, p.answered, p.answering, p.probed = escpos.Status{}, false, true, false
	p.mu.Unlock()
	p.changed()
}

// changed signals a status change to whoever watches.
func (p *ESCPOS) changed() {
	p.mu.Lock()
	st := p.statusLocked()
	same := st.State == p.last.State && st.Detail == p.last.Detail
	if !same {
		st.Since = time.Now()
		p.last = st
	}
	p.mu.Unlock()
	if same {
		return
	}
	p.cfg.Log.Info("printer status", "state", st.State, "detail", st.Detail)
	select {
	case p.changes <- struct{}{}:
	default:
	}
}

// Status is the printer as /healthz shows it.
func (p *ESCPOS) Status() devices.Status {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := p.statusLocked()
	st.Since = p.last.Since
	return st
}

func (p *ESCPOS) statusLocked() devices.Status {
	st := devices.Status{Name: "printer", Kind: "printer", Driver: p.cfg.Driver, State: devices.OK,
		Detail: fmt.Sprintf("%s on %s, %d tickets printed", p.cfg.Profile.Name, p.cfg.Port, p.printed)}
	switch {
	case !p.connected:
		st.State, st.Detail = devices.Fault, "offline: "+p.portErr
	case p.twoWay && !p.probed:
		st.State, st.Detail = devices.Warning, "connected, asking the printer how it is"
	case !p.answering && p.answered:
		st.State, st.Detail = devices.Fault, "offline: the printer stopped answering status queries"
	case !p.answering && p.twoWay:
		st.State, st.Detail = devices.Warning, "the printer does not report its state (a one-way link?): paper is not watched"
	case p.es.Fault() != "":
		st.State, st.Detail = devices.Fault, p.es.Fault()
	case p.es.PaperNearEnd:
		st.State, st.Detail = devices.Warning, "paper_near_end"
	case p.cfg.RollMM > 0 && p.usedMM*10 >= p.cfg.RollMM*9:
		st.State, st.Detail = devices.Warning, fmt.Sprintf("paper_near_end (estimated: %.1f of %.1f m used)", float64(p.usedMM)/1000, float64(p.cfg.RollMM)/1000)
	}
	if p.copyOf != nil {
		st.Detail += fmt.Sprintf("; ticket %s waits to be printed again", p.copyOf.Number)
	}
	return st
}

// NewRoll starts counting a fresh paper roll.
func (p *ESCPOS) NewRoll() {
	p.mu.Lock()
	p.usedMM = 0
	p.mu.Unlock()
	p.saveState()
	p.changed()
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
