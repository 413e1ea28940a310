package alpha

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"go.bug.st/serial"

	"github.com/cherga/kiosk/devices"
	"github.com/cherga/kiosk/devices/supervise"
)

// Config is one sign's settings.
type Config struct {
	Name    string
	Port    string // serial device, like /dev/ttyUSB1
	Baud    int
	Framing string // 7E1 (default), 7E2 or 8N1
	Address string // two hex digits; "00" every sign on the line
	Charset Charset
	// Lines is how many text lines the sign shows at once; more lines
	// than that are shown as pages.
	Lines int
	// Pace is the least time between two packets: a sign without
	// handshaking loses a packet that comes too soon after the last
	// (0.25 s was measured to be safe on a BetaBrite).
	Pace time.Duration
	// Refresh rewrites the text this often, in case the sign was switched
	// off and on (it never says so). 0: every minute.
	Refresh time.Duration
	Clock   clockwork.Clock
	Log     *slog.Logger
	// Dial opens the line; nil opens Port as a serial port.
	Dial func() (io.ReadWriteCloser, error)
}

// The waits before reopening a sign's port: up to 1 s at first, growing
// to 30 s.
var reopen = supervise.Backoff{Min: 500 * time.Millisecond, Max: 30 * time.Second}

func (c *Config) defaults() error {
	if c.Framing == "" {
		c.Framing = "7E1"
	}
	if _, err := mode(c.Framing, 9600); err != nil {
		return err
	}
	if c.Address == "" {
		c.Address = BroadcastAddr
	}
	if len(c.Address) != 2 || !isHexOrWild(c.Address[0]) || !isHexOrWild(c.Address[1]) {
		return fmt.Errorf("alpha: address %q, expected two hex digits", c.Address)
	}
	if c.Charset == "" {
		c.Charset = Latin
	}
	if _, err := ParseCharset(string(c.Charset)); err != nil {
		return err
	}
	if c.Charset == CP1251 && c.Framing != "8N1" {
		return fmt.Errorf("alpha: charset cp1251 needs 8 data bits, framing 8N1 (got %s)", c.Framing)
	}
	if c.Lines < 1 {
		c.Lines = 1
	}
	if c.Pace <= 0 {
		c.Pace = 250 * time.Millisecond
	}
	if c.Refresh <= 0 {
		c.Refresh = time.Minute
	}
	if c.Clock == nil {
		c.Clock = clockwork.NewRealClock()
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.Dial == nil {
		if c.Port == "" {
			return errors.New("alpha: no serial port given")
		}
		m, _ := mode(c.Framing, c.Baud)
		port := c.Port
		c.Dial = func() (io.ReadWriteCloser, error) {
			p, err := serial.Open(port, m)
			if err != nil {
				return nil, fmt.Errorf("open %s: %w", port, err)
			}
			return p, nil
		}
	}
	return nil
}

// mode is the serial line setting for a framing name.
func mode(framing string, baud int) (*serial.Mode, error) {
	m := &serial.Mode{BaudRate: baud, StopBits: serial.OneStopBit}
	switch framing {
	case "7E1":
		m.DataBits, m.Parity = 7, serial.EvenParity
	case "7E2":
		m.DataBits, m.Parity, m.StopBits = 7, serial.EvenParity, serial.TwoStopBits
	case "8N1":
		m.DataBits, m.Parity = 8, serial.NoParity
	default:
		return nil, fmt.Errorf("alpha: framing %q, expected 7E1, 7E2 or 8N1", framing)
	}
	return m, nil
}

// Board drives one sign. Show never waits for the line: it keeps the
// latest lines, and one goroutine sends them, paced, coalescing whatever
// changed while it waited. A supervise.Loop (re)opens the port with a
// growing delay, so a sign unplugged and plugged back in gets the current
// text again.
type Board struct {
	cfg    Config
	wake   chan struct{}
	loop   *supervise.Loop[io.ReadWriteCloser]
	cancel context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex
	lines   []string
	dirty   bool
	sent    int
	skipped int // updates overtaken by a newer one before they were sent
}

// Open starts driving the sign; it fails only on bad settings, not on a
// missing sign (that is a fault the board reports and retries).
func Open(cfg Config) (*Board, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	b := &Board{cfg: cfg, wake: make(chan struct{}, 1), cancel: cancel, done: make(chan struct{})}
	b.loop = supervise.New(supervise.Config[io.ReadWriteCloser]{
		Name:     "board " + cfg.Name,
		Open:     func(context.Context) (io.ReadWriteCloser, error) { return cfg.Dial() },
		Use:      b.session,
		Describe: b.describe,
		Backoff:  reopen,
		Clock:    cfg.Clock,
		Log:      cfg.Log.With("board", cfg.Name, "port", cfg.Port),
	})
	go func() {
		defer close(b.done)
		b.loop.Run(ctx)
	}()
	return b, nil
}

func (b *Board) describe(ev supervise.Event, err error, retry time.Duration) string {
	switch ev {
	case supervise.Opening:
		return "connecting to " + b.cfg.Port
	case supervise.Opened:
		return "connected to " + b.cfg.Port
	case supervise.OpenFailed:
		return fmt.Sprintf("cannot open the sign's port: %v; retrying in %s", err, retry.Round(time.Millisecond))
	case supervise.Lost:
		return fmt.Sprintf("line to the sign lost: %v; reconnecting", err)
	}
	return "closed"
}

func (b *Board) Name() string { return b.cfg.Name }

// Show sets what the sign shows; it is sent as soon as the pace allows.
func (b *Board) Show(lines []string) error {
	b.mu.Lock()
	if b.dirty {
		b.skipped++
	}
	b.lines = append([]string(nil), lines...)
	b.dirty = true
	b.mu.Unlock()
	select {
	case b.wake <- struct{}{}:
	default:
	}
	return nil
}

func (b *Board) Status() devices.Status {
	return devices.Supervised(b.cfg.Name, "board", "alpha", b.loop.Status())
}

// Changes signals after the status changed.
func (b *Board) Changes() <-chan struct{} { return b.loop.Changes() }

// Restart closes the sign's port and opens it again at once (the admin
// page's restart button); false once the board is closed.
func (b *Board) Restart() bool { return b.loop.Restart() }

// Close stops the driver and closes the port.
func (b *Board) Close() error {
	b.cancel()
	<-b.done
	return nil
}

// take returns the lines to send, if they changed since the last send.
func (b *Board) take(force bool) ([]string, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.dirty && !force {
		return nil, false
	}
	b.dirty = false
	return b.lines, true
}

var errStopped = errors.New("alpha: board closed")

// session sends on one open line until it fails or the board is closed.
// The first thing sent is the current text.
func (b *Board) session(ctx context.Context, conn io.ReadWriteCloser) error {
	lost := make(chan error, 1)
	go func() {
		// The sign says nothing to a write (some answer ACK/NAK); a read
		// error is how an unplugged adapter shows before the next write.
		buf := make([]byte, 64)
		for {
			n, err := conn.Read(buf)
			if err == nil && n == 0 {
				err = io.EOF // a blocking read that returns nothing: hung up
			}
			if err != nil {
				lost <- err
				return
			}
		}
	}()
	force := true
	for {
		if lines, ok := b.take(force); ok {
			pkt := WriteText(b.cfg.Address, Encode(lines, b.cfg.Charset, b.cfg.Lines))
			if _, err := conn.Write(pkt); err != nil {
				b.mu.Lock()
				b.dirty = true // the next line gets it
				b.mu.Unlock()
				return fmt.Errorf("write: %w", err)
			}
			b.mu.Lock()
			b.sent++
			detail := fmt.Sprintf("%s on %s; showing %q (%d updates sent, %d overtaken)", b.cfg.Framing, b.cfg.Port, lines, b.sent, b.skipped)
			b.mu.Unlock()
			b.loop.Set(devices.OK, detail)
			force = false
			if err := b.idle(ctx, b.cfg.Pace, nil, lost); err != nil {
				return err
			}
			continue
		}
		refresh := false
		if err := b.idle(ctx, b.cfg.Refresh, &refresh, lost); err != nil {
			return err
		}
		force = refresh
	}
}

// idle waits d, or until the text changes when timedOut is not nil (and
// then sets it on a timeout). errStopped ends the session quietly.
func (b *Board) idle(ctx context.Context, d time.Duration, timedOut *bool, lost <-chan error) error {
	t := b.cfg.Clock.NewTimer(d)
	defer t.Stop()
	var wake <-chan struct{}
	if timedOut != nil {
		wake = b.wake
	}
	select {
	case <-ctx.Done():
		return errStopped
	case err := <-lost:
		return fmt.Errorf("read: %w", err)
	case <-wake:
	case <-t.Chan():
		if timedOut != nil {
			*timedOut = true
		}
	}
	return nil
}
