package devices

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"go.bug.st/serial"

	"github.com/cherga/kiosk/devices/supervise"
)

// Framer cuts a scanner's byte stream into codes: at a CR or LF (the
// usual terminator), or when the line goes quiet for the inter-key gap
// (scanners set to send no terminator). A code longer than MaxScanBytes is
// dropped whole, up to its end.
type Framer struct {
	buf      []byte
	overflow bool
}

// Feed takes bytes read and returns the codes they complete; too long is
// how many over-long codes ended here.
func (f *Framer) Feed(b []byte) (codes [][]byte, tooLong int) {
	for len(b) > 0 {
		i := bytes.IndexAny(b, "\r\n")
		part := b
		if i >= 0 {
			part = b[:i]
		}
		if !f.overflow {
			if len(f.buf)+len(part) > MaxScanBytes {
				f.overflow, f.buf = true, f.buf[:0]
			} else {
				f.buf = append(f.buf, part...)
			}
		}
		if i < 0 {
			break
		}
		b = b[i+1:]
		if c, over := f.Flush(); c != nil {
			codes = append(codes, c)
		} else if over {
			tooLong++
		}
	}
	return codes, tooLong
}

// Flush ends the code in progress (the line went quiet): it returns the
// code, or over for one that was too long; nil for nothing pending.
func (f *Framer) Flush() (code []byte, over bool) {
	over = f.overflow
	if len(f.buf) > 0 && !over {
		code = bytes.Clone(f.buf)
	}
	f.buf, f.overflow = f.buf[:0], false
	return code, over
}

// StripAIM removes an AIM symbology identifier ("]Q1" for QR, "]C0" for
// Code 128, "]d1" for Data Matrix…) that a scanner set to send one puts
// before each code, and refuses symbologies not in allowed (the letters
// after "]"; empty allows every one). A code without an identifier is
// taken as it is.
func StripAIM(code string, allowed []string) (string, error) {
	if len(code) < 3 || code[0] != ']' {
		return code, nil
	}
	sym := code[1:2]
	if len(allowed) > 0 && !slices.Contains(allowed, sym) {
		return "", fmt.Errorf("%w: symbology %q is not accepted here (accepted: %s)", ErrScanGarbage, sym, strings.Join(allowed, ", "))
	}
	return code[3:], nil
}

// SerialScannerConfig is a scanner on a serial port: USB CDC-ACM
// (/dev/ttyACM0) or RS-232.
type SerialScannerConfig struct {
	Name string
	Port string
	Baud int
	// Gap ends a code when no byte came for this long; 0: 100 ms.
	Gap time.Duration
	// Symbologies accepted, by AIM letter (Q QR, C Code 128, d Data
	// Matrix, E EAN); empty: all.
	Symbologies []string
	// Clock stamps the scans and paces the reopening; nil: the real clock.
	Clock clockwork.Clock
	Log   *slog.Logger
}

// The waits before reopening a scanner: up to 0.5 s at first, never more
// than 10 s.
var scannerBackoff = supervise.Backoff{Min: 250 * time.Millisecond, Max: 10 * time.Second}

// source is an opened scanner: Read returns 0, nil when the line was
// quiet for the inter-key gap.
type source interface {
	Read(p []byte) (int, error)
	Close() error
}

// opened is a source and how to describe it.
type opened struct {
	source
	what string
}

// StreamScanner reads codes from a scanner that delivers a stream of
// characters (a serial port, a keyboard-emulating scanner read through
// evdev), reopening the device when it fails (a USB scanner unplugged and
// plugged back in).
type StreamScanner struct {
	cfg    SerialScannerConfig
	driver string
	scans  chan Scan
	loop   *supervise.Loop[opened]
	cancel context.CancelFunc
	done   chan struct{}

	mu       sync.Mutex
	read     int
	rejected int
	lastErr  string
}

// OpenSerialScanner starts reading; a missing port is a fault it retries.
func OpenSerialScanner(cfg SerialScannerConfig) *StreamScanner {
	if cfg.Baud == 0 {
		cfg.Baud = 9600
	}
	return openStream(cfg, "serial", func(cfg SerialScannerConfig) (source, string, error) {
		p, err := serial.Open(cfg.Port, &serial.Mode{BaudRate: cfg.Baud, DataBits: 8, Parity: serial.NoParity, StopBits: serial.OneStopBit})
		if err == nil {
			if err = p.SetReadTimeout(cfg.Gap); err != nil {
				p.Close()
			}
		}
		return p, fmt.Sprintf("%s at %d baud", cfg.Port, cfg.Baud), err
	})
}

func openStream(cfg SerialScannerConfig, driver string, open func(SerialScannerConfig) (source, string, error)) *StreamScanner {
	if cfg.Gap <= 0 {
		cfg.Gap = 100 * time.Millisecond
	}
	if cfg.Clock == nil {
		cfg.Clock = clockwork.NewRealClock()
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &StreamScanner{cfg: cfg, driver: driver, scans: make(chan Scan, 16), cancel: cancel, done: make(chan struct{})}
	s.loop = supervise.New(supervise.Config[opened]{
		Name: cfg.Name,
		Open: func(context.Context) (opened, error) {
			src, what, err := open(s.cfg)
			return opened{src, what}, err
		},
		Use:      s.session,
		Describe: s.describe,
		Backoff:  scannerBackoff,
		Clock:    cfg.Clock,
		Log:      cfg.Log.With("port", cfg.Port),
	})
	go func() {
		defer close(s.done)
		s.loop.Run(ctx)
	}()
	return s
}

func (s *StreamScanner) describe(ev supervise.Event, err error, _ time.Duration) string {
	switch ev {
	case supervise.Opening, supervise.Opened:
		return "opening " + s.cfg.Port
	case supervise.OpenFailed:
		return fmt.Sprintf("cannot open %s: %v", s.cfg.Port, err)
	case supervise.Lost:
		return fmt.Sprintf("%s lost: %v; reopening", s.cfg.Port, err)
	}
	return s.cfg.Port + " closed"
}

func (s *StreamScanner) Scans() <-chan Scan { return s.scans }

func (s *StreamScanner) Status() Status {
	st := Supervised(s.cfg.Name, "scanner", s.driver, s.loop.Status())
	if st.State == OK {
		s.mu.Lock()
		st.Detail = fmt.Sprintf("%s; %d codes read, %d rejected", st.Detail, s.read, s.rejected)
		if s.lastErr != "" {
			st.Detail += "; last rejected: " + s.lastErr
		}
		s.mu.Unlock()
	}
	return st
}

// Close stops reading and closes the port.
func (s *StreamScanner) Close() error {
	s.cancel()
	<-s.done
	return nil
}

// Changes signals after the status changed.
func (s *StreamScanner) Changes() <-chan struct{} { return s.loop.Changes() }

// Restart closes the scanner's port and opens it again at once (the admin
// page's restart button); false once the scanner is closed.
func (s *StreamScanner) Restart() bool { return s.loop.Restart() }

// session reads codes from one opened scanner until it fails or ctx ends.
func (s *StreamScanner) session(ctx context.Context, p opened) error {
	// Closing the port ends a read in progress.
	stop := context.AfterFunc(ctx, func() { p.Close() })
	defer stop()
	s.loop.Set(OK, p.what)
	err := s.readCodes(ctx, p)
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// readCodes frames codes until the port fails.
func (s *StreamScanner) readCodes(ctx context.Context, p source) error {
	var f Framer
	buf := make([]byte, 256)
	for {
		n, err := p.Read(buf)
		if err != nil {
			return err
		}
		if n == 0 { // the gap passed with nothing: a code without terminator ends
			if ctx.Err() != nil {
				return nil
			}
			if c, over := f.Flush(); c != nil {
				s.deliver(c)
			} else if over {
				s.reject(fmt.Errorf("%w: over %d bytes", ErrScanTooLong, MaxScanBytes))
			}
			continue
		}
		codes, tooLong := f.Feed(buf[:n])
		for range tooLong {
			s.reject(fmt.Errorf("%w: over %d bytes", ErrScanTooLong, MaxScanBytes))
		}
		for _, c := range codes {
			s.deliver(c)
		}
	}
}

func (s *StreamScanner) deliver(raw []byte) {
	code, err := CleanScan(raw)
	if err == nil {
		code, err = StripAIM(code, s.cfg.Symbologies)
	}
	if err == nil && code == "" {
		err = ErrScanEmpty
	}
	if err == nil {
		select {
		case s.scans <- Scan{Code: code, At: s.cfg.Clock.Now()}:
		default:
			err = ErrScannerBusy
		}
	}
	if err != nil {
		s.reject(err)
		return
	}
	s.mu.Lock()
	s.read++
	s.mu.Unlock()
}

func (s *StreamScanner) reject(err error) {
	s.cfg.Log.Warn("scan rejected", "port", s.cfg.Port, "err", err)
	s.mu.Lock()
	s.rejected++
	s.lastErr = err.Error()
	s.mu.Unlock()
}
