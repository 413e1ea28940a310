package devices

import (
	"bytes"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"go.bug.st/serial"
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
	Log         *slog.Logger
}

// source is an opened scanner: Read returns 0, nil when the line was
// quiet for the inter-key gap.
type source interface {
	Read(p []byte) (int, error)
	Close() error
}

// StreamScanner reads codes from a scanner that delivers a stream of
// characters (a serial port, a keyboard-emulating scanner read through
// evdev), reopening the device when it fails (a USB scanner unplugged and
// plugged back in).
type StreamScanner struct {
	cfg     SerialScannerConfig
	driver  string
	open    func() (source, string, error) // the source and how to describe it
	scans   chan Scan
	changes chan struct{}
	stop    chan struct{}
	done    chan struct{}

	mu       sync.Mutex
	state    State
	detail   string
	since    time.Time
	read     int
	rejected int
	lastErr  string
	port     source
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
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	s := &StreamScanner{cfg: cfg, driver: driver, scans: make(chan Scan, 16), changes: make(chan struct{}, 1), stop: make(chan struct{}),
		done: make(chan struct{}), state: Warning, detail: "opening " + cfg.Port, since: time.Now()}
	s.open = func() (source, string, error) { return open(s.cfg) }
	go s.run()
	return s
}

func (s *StreamScanner) Scans() <-chan Scan { return s.scans }

func (s *StreamScanner) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.detail
	if s.state == OK {
		d = fmt.Sprintf("%s; %d codes read, %d rejected", d, s.read, s.rejected)
		if s.lastErr != "" {
			d += "; last rejected: " + s.lastErr
		}
	}
	return Status{Name: s.cfg.Name, Kind: "scanner", Driver: s.driver, State: s.state, Detail: d, Since: s.since}
}

// Close stops reading and closes the port.
func (s *StreamScanner) Close() error {
	close(s.stop)
	s.mu.Lock()
	if s.port != nil {
		s.port.Close() // ends a read in progress
	}
	s.mu.Unlock()
	<-s.done
	return nil
}

// Changes signals after the status changed.
func (s *StreamScanner) Changes() <-chan struct{} { return s.changes }

func (s *StreamScanner) set(st State, detail string) {
	s.mu.Lock()
	if st != s.state {
		s.since = time.Now()
	}
	s.state, s.detail = st, detail
	s.mu.Unlock()
	select {
	case s.changes <- struct{}{}:
	default:
	}
}

func (s *StreamScanner) run() {
	defer close(s.done)
	wait := 500 * time.Millisecond
	for {
		p, what, err := s.open()
		if err != nil {
			s.set(Fault, fmt.Sprintf("cannot open %s: %v", s.cfg.Port, err))
			select {
			case <-s.stop:
				return
			case <-time.After(wait):
			}
			wait = min(wait*2, 10*time.Second)
			continue
		}
		wait = 500 * time.Millisecond
		s.mu.Lock()
		s.port = p
		s.mu.Unlock()
		s.set(OK, what)
		s.cfg.Log.Info("scanner connected", "port", s.cfg.Port)
		err = s.readCodes(p)
		p.Close()
		select {
		case <-s.stop:
			return
		default:
		}
		s.set(Fault, fmt.Sprintf("%s lost: %v; reopening", s.cfg.Port, err))
		s.cfg.Log.Error("scanner lost; reopening", "port", s.cfg.Port, "err", err)
	}
}

// readCodes frames codes until the port fails.
func (s *StreamScanner) readCodes(p source) error {
	var f Framer
	buf := make([]byte, 256)
	for {
		n, err := p.Read(buf)
		if err != nil {
			return err
		}
		if n == 0 { // the gap passed with nothing: a code without terminator ends
			select {
			case <-s.stop:
				return nil
			default:
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
		case s.scans <- Scan{Code: code, At: time.Now()}:
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
