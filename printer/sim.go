package printer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/cherga/kiosk/devices"
)

// ErrCannotPrint means the printer is in a state where paper cannot come
// out: no paper, cover open, offline.
var ErrCannotPrint = errors.New("printer: cannot print")

// Fault is a printer condition a technician must fix.
type Fault string

const (
	NoFault      Fault = ""
	PaperNearEnd Fault = "paper_near_end" // still prints
	PaperOut     Fault = "paper_out"
	CoverOpen    Fault = "cover_open"
	Offline      Fault = "offline"
)

// ParseFault accepts the names above ("" or "ok" for none).
func ParseFault(s string) (Fault, error) {
	switch f := Fault(s); f {
	case NoFault, PaperNearEnd, PaperOut, CoverOpen, Offline:
		return f, nil
	case "ok":
		return NoFault, nil
	}
	return "", fmt.Errorf("printer: unknown fault %q (expected ok, paper_near_end, paper_out, cover_open or offline)", s)
}

// Sim is a simulated printer: each ticket becomes a PNG in a directory. Its
// faults are set by hand (SetFault) so the kiosk's reactions can be shown
// and tested.
type Sim struct {
	dir     string
	paperMM int
	now     func() time.Time

	changes chan struct{}

	mu      sync.Mutex
	fault   Fault
	since   time.Time
	printed int
	last    string
}

// NewSim prints into dir, creating it if needed.
func NewSim(dir string, paperMM int) (*Sim, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("printer: sim: %w", err)
	}
	return &Sim{dir: dir, paperMM: paperMM, now: time.Now, since: time.Now(), changes: make(chan struct{}, 1)}, nil
}

// Print renders t to DIR/<date>T<time>-<number>.png.
func (s *Sim) Print(ctx context.Context, t *Ticket) error {
	s.mu.Lock()
	fault := s.fault
	s.mu.Unlock()
	if fault != NoFault && fault != PaperNearEnd {
		return fmt.Errorf("%w: %s", ErrCannotPrint, fault)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	img := Render(t, s.paperMM)
	name := fmt.Sprintf("%s-%s.png", t.IssuedAt.Format("20060102T150405"), t.Number)
	path := filepath.Join(s.dir, name)
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("printer: sim: %w", err)
	}
	// Fastest compression: the image is a preview, and a kiosk waits for it.
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(f, img); err != nil {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("printer: sim: encode %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("printer: sim: %w", err)
	}
	// A file that exists is a whole ticket: readers never see half a PNG.
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("printer: sim: %w", err)
	}
	s.mu.Lock()
	s.printed++
	s.last = path
	s.mu.Unlock()
	return nil
}

// SetFault simulates a printer condition; NoFault clears it.
func (s *Sim) SetFault(f Fault) {
	s.mu.Lock()
	changed := f != s.fault
	if changed {
		s.fault = f
		s.since = s.now()
	}
	s.mu.Unlock()
	if changed {
		select {
		case s.changes <- struct{}{}:
		default: // a change is already pending; the reader sees the latest state
		}
	}
}

// Changes signals after the status changed.
func (s *Sim) Changes() <-chan struct{} { return s.changes }

// ServeHTTP sets a simulated fault on POST {"fault":"paper_out"} ("ok"
// clears it) and reports the status on GET.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		var req struct {
			Fault string `json:"fault"`
		}
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1024)).Decode(&req); err != nil {
			http.Error(w, `expected {"fault":"ok|paper_near_end|paper_out|cover_open|offline"}`, http.StatusBadRequest)
			return
		}
		f, err := ParseFault(req.Fault)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.SetFault(f)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(s.Status())
}

// LastPrinted is the path of the latest ticket image, "" before the first.
func (s *Sim) LastPrinted() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

func (s *Sim) Status() devices.Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := devices.Status{Name: "printer", Kind: "printer", Driver: "sim", State: devices.OK, Since: s.since,
		Detail: fmt.Sprintf("%d tickets printed to %s", s.printed, s.dir)}
	switch s.fault {
	case NoFault:
	case PaperNearEnd:
		st.State, st.Detail = devices.Warning, string(s.fault)
	default:
		st.State, st.Detail = devices.Fault, string(s.fault)
	}
	return st
}

func (s *Sim) Close() error { return nil }
