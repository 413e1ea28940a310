package devices

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jonboulle/clockwork"

	"github.com/cherga/kiosk/httpapi"
)

// Scan is one code read by a barcode/QR scanner.
type Scan struct {
	Code string
	At   time.Time
}

// MaxScanBytes bounds one scanned code. Booking codes are a few dozen
// bytes; anything near this limit is a misread or a prank.
const MaxScanBytes = 1024

// Scan errors.
var (
	ErrScanEmpty   = errors.New("scanner: empty code")
	ErrScanTooLong = errors.New("scanner: code too long")
	ErrScanGarbage = errors.New("scanner: code has bytes that are not text")
	ErrScannerBusy = errors.New("scanner: previous codes not yet handled")
)

// CleanScan turns raw scanner bytes into a code: the terminator (CR, LF)
// and surrounding spaces removed, and nothing that is not printable text.
func CleanScan(raw []byte) (string, error) {
	if len(raw) > MaxScanBytes {
		return "", fmt.Errorf("%w: %d bytes, limit %d", ErrScanTooLong, len(raw), MaxScanBytes)
	}
	s := strings.TrimSpace(string(raw))
	if s == "" {
		return "", ErrScanEmpty
	}
	if !utf8.ValidString(s) {
		return "", fmt.Errorf("%w: invalid UTF-8", ErrScanGarbage)
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return "", fmt.Errorf("%w: %U", ErrScanGarbage, r)
		}
	}
	return s, nil
}

// SimScanner is a simulated scanner: codes arrive by HTTP (ServeHTTP) or
// from a reader such as stdin (ReadLines).
type SimScanner struct {
	scans chan Scan
	clock clockwork.Clock

	mu       sync.Mutex
	read     int
	rejected int
	lastErr  string
	since    time.Time
}

// NewSimScanner makes a simulated scanner. Its scans are stamped on
// clock, if one is given (a terminal passes its own), else on the real
// clock.
func NewSimScanner(clock ...clockwork.Clock) *SimScanner {
	c := clockOr(clock)
	return &SimScanner{scans: make(chan Scan, 16), clock: c, since: c.Now()}
}

// clockOr is the optional clock of a constructor; none or nil: the real
// clock.
func clockOr(clock []clockwork.Clock) clockwork.Clock {
	if len(clock) > 0 && clock[0] != nil {
		return clock[0]
	}
	return clockwork.NewRealClock()
}

// Scans delivers the codes read.
func (s *SimScanner) Scans() <-chan Scan { return s.scans }

// Feed offers raw as if it had been scanned.
func (s *SimScanner) Feed(raw []byte) error {
	code, err := CleanScan(raw)
	if err == nil {
		select {
		case s.scans <- Scan{Code: code, At: s.clock.Now()}:
		default:
			err = ErrScannerBusy
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.rejected++
		s.lastErr = err.Error()
		return err
	}
	s.read++
	return nil
}

// ServeHTTP takes a code on POST, as the raw request body or, with
// Content-Type application/json, as {"code": "..."}. A body over
// MaxScanBytes (the JSON's quoting allowed for) is 413, a code the scanner
// would refuse 422, a scanner whose codes are not yet handled 503.
func (s *SimScanner) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		httpapi.WriteError(w, http.StatusMethodNotAllowed, httpapi.CodeMethodNotAllowed,
			fmt.Sprintf("method %s is not allowed for %s; allowed: POST", r.Method, r.URL.Path))
		return
	}
	var code []byte
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		var req struct {
			Code string `json:"code"`
		}
		// Each byte of a code takes at most six in JSON (\u0000).
		if err := httpapi.Decode(w, r, 6*MaxScanBytes+64, &req); err != nil {
			httpapi.Fail(w, err)
			return
		}
		code = []byte(req.Code)
	} else {
		b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxScanBytes))
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			httpapi.WriteError(w, http.StatusRequestEntityTooLarge, httpapi.CodeBodyTooLarge,
				fmt.Sprintf("the body is over %d bytes", MaxScanBytes))
			return
		}
		if err != nil {
			httpapi.WriteError(w, http.StatusBadRequest, "bad_body", "the body could not be read")
			return
		}
		code = b
	}
	if err := s.Feed(code); err != nil {
		if errors.Is(err, ErrScannerBusy) {
			w.Header().Set("Retry-After", "1")
			httpapi.WriteError(w, http.StatusServiceUnavailable, "scanner_busy", err.Error())
			return
		}
		httpapi.WriteError(w, http.StatusUnprocessableEntity, "bad_scan", err.Error())
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// ReadLines feeds every line of r until r ends or ctx is done.
func (s *SimScanner) ReadLines(ctx context.Context, r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 64*1024)
	for sc.Scan() {
		if ctx.Err() != nil {
			return nil
		}
		_ = s.Feed(sc.Bytes()) // counted in Status
	}
	return sc.Err()
}

func (s *SimScanner) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Status{Name: "scanner", Kind: "scanner", Driver: "sim", State: OK, Since: s.since,
		Detail: fmt.Sprintf("%d codes read, %d rejected", s.read, s.rejected)}
	if s.lastErr != "" {
		st.Detail += "; last rejected: " + s.lastErr
	}
	return st
}

func (s *SimScanner) Close() error { return nil }
