package devices

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
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
	now   func() time.Time

	mu       sync.Mutex
	read     int
	rejected int
	lastErr  string
	since    time.Time
}

func NewSimScanner() *SimScanner {
	return &SimScanner{scans: make(chan Scan, 16), now: time.Now, since: time.Now()}
}

// Scans delivers the codes read.
func (s *SimScanner) Scans() <-chan Scan { return s.scans }

// Feed offers raw as if it had been scanned.
func (s *SimScanner) Feed(raw []byte) error {
	code, err := CleanScan(raw)
	if err == nil {
		select {
		case s.scans <- Scan{Code: code, At: s.now()}:
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

// ServeHTTP takes a code as the raw request body or as {"code": "..."}.
func (s *SimScanner) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxScanBytes+1))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		var req struct {
			Code string `json:"code"`
		}
		if err := json.Unmarshal(body, &req); err != nil {
			writeErr(w, http.StatusBadRequest, `expected {"code":"..."}`)
			return
		}
		body = []byte(req.Code)
	}
	if err := s.Feed(body); err != nil {
		writeErr(w, http.StatusUnprocessableEntity, err.Error())
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

func writeErr(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
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
