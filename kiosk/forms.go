package kiosk

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/cherga/kiosk/httpapi"
	"github.com/cherga/kiosk/link/proto"
)

// The sample forms the information terminal shows (pictures or PDFs of
// filled-in applications) are on the kiosk itself, so they show without
// internet and with the queue server away: after each welcome or update,
// Forms downloads the files its catalogue names from queued (GET
// /api/v1/forms/{id}), in the background, checks each against the
// catalogue's SHA-256 and size, and keeps it in its directory under its
// hash; files no form names any more are removed. The page shows them from
// GET /forms/{id}.

// FormSource is where the kiosk gets a form's file: queued's
// GET /api/v1/forms/{id} (terminal/forms.go).
type FormSource interface {
	OpenForm(ctx context.Context, f proto.Form) (io.ReadCloser, error)
}

// FormsConfig is where the forms are kept and where they come from.
type FormsConfig struct {
	// Dir holds the files, each named by its SHA-256 (data_dir/forms);
	// nothing else should be put there: what no form names is removed.
	Dir    string
	Source FormSource
	// Catalogue is the catalogue the kiosk has now (the link's snapshot,
	// kept across restarts); nil while there was never one.
	Catalogue func() *proto.Catalogue
	// MaxBytes bounds all the files together; forms past it are not
	// downloaded (and the status says so). Default DefaultFormsBytes.
	MaxBytes int64
	// Clock runs the waits between attempts; nil: the real clock.
	Clock clockwork.Clock
	Log   *slog.Logger
}

// DefaultFormsBytes is how much sample forms a kiosk keeps at most: a
// hundred forms of the largest sort, with room to spare on any SD card.
const DefaultFormsBytes = 256 << 20

// The waits before trying again to download forms that failed: from
// formRetryMin, doubling, up to formRetryMax; a welcome or an update
// tries at once.
const (
	formRetryMin = 15 * time.Second
	formRetryMax = 10 * time.Minute
	// formTimeout bounds one download, a guard against a server that
	// stalls halfway.
	formTimeout = 2 * time.Minute
)

// FormsStatus is how the kiosk's copies of the forms are, for /healthz.
type FormsStatus struct {
	// Forms is how many the catalogue names; Cached how many of them the
	// kiosk has, verified; Bytes their size.
	Forms  int   `json:"forms"`
	Cached int   `json:"cached"`
	Bytes  int64 `json:"bytes"`
	// Error is why the last pass left some out (the latest failure).
	Error string `json:"error,omitempty"`
	// Checked is when the last pass ended.
	Checked time.Time `json:"checked,omitzero"`
}

// Forms keeps the catalogue's sample forms on the kiosk and serves them.
type Forms struct {
	cfg   FormsConfig
	log   *slog.Logger
	clock clockwork.Clock
	nudge chan struct{}

	// pass lets one sync pass run at a time: Run's, or a test's Sync.
	pass sync.Mutex

	mu     sync.Mutex
	status FormsStatus
	synced chan struct{} // closed when a pass ends, then replaced
}

// NewForms makes the forms' directory; nothing is downloaded until Run.
func NewForms(cfg FormsConfig) (*Forms, error) {
	if cfg.Dir == "" || cfg.Catalogue == nil || cfg.Source == nil {
		return nil, errors.New("kiosk: forms: Dir, Catalogue and Source are required")
	}
	if err := os.MkdirAll(cfg.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("kiosk: forms: %w", err)
	}
	cfg.MaxBytes = cmp.Or(cfg.MaxBytes, DefaultFormsBytes)
	if cfg.Clock == nil {
		cfg.Clock = clockwork.NewRealClock()
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Forms{cfg: cfg, log: cfg.Log.With("part", "forms"), clock: cfg.Clock, nudge: make(chan struct{}, 1),
		synced: make(chan struct{})}, nil
}

// Changed says the catalogue may name other forms now (a welcome, an
// update): the next pass starts at once. It never blocks, so the link's
// reader that calls it is never held up.
func (f *Forms) Changed() {
	select {
	case f.nudge <- struct{}{}:
	default:
	}
}

// Status is the last pass's outcome.
func (f *Forms) Status() FormsStatus {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.status
}

// Synced is closed when the pass running now, or the next one, ends.
func (f *Forms) Synced() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.synced
}

// Run keeps the forms in step with the catalogue until ctx ends: a pass
// at start (the saved catalogue's, to prune and check what is on disk),
// one after each Changed, and, while some could not be downloaded, again
// after a growing wait.
func (f *Forms) Run(ctx context.Context) {
	wait := formRetryMin
	for ctx.Err() == nil {
		st := f.Sync(ctx)
		var timer clockwork.Timer
		var retry <-chan time.Time
		if st.Cached < st.Forms && st.Error != "" {
			timer = f.clock.NewTimer(wait)
			retry = timer.Chan()
			wait = min(2*wait, formRetryMax)
		} else {
			wait = formRetryMin
		}
		select {
		case <-ctx.Done():
		case <-f.nudge:
			wait = formRetryMin
		case <-retry:
		}
		if timer != nil {
			timer.Stop()
		}
	}
}

// formName is the name a form's file is kept under: its hash, and the
// ending that says its kind.
func formName(pf proto.Form) string {
	return pf.SHA256 + strings.ToLower(filepath.Ext(pf.File))
}

// usable says whether a form can be downloaded and shown: a hash to
// check it by, a size a kiosk takes, a kind a page shows.
func usable(pf proto.Form) error {
	switch {
	case len(pf.SHA256) != sha256.Size*2 || strings.Trim(pf.SHA256, "0123456789abcdef") != "":
		return errors.New("the server gave no SHA-256 for it (its file could not be read there)")
	case pf.Size <= 0 || pf.Size > proto.MaxFormBytes:
		return fmt.Errorf("size %d bytes, expected 1 to %d", pf.Size, proto.MaxFormBytes)
	case proto.FormType(pf.File) == "":
		return fmt.Errorf("file %q is not a PNG, JPEG or PDF", pf.File)
	}
	return nil
}

// Sync is one pass: every form the catalogue names that is not on disk
// yet is downloaded and checked, and files no form names are removed.
func (f *Forms) Sync(ctx context.Context) FormsStatus {
	f.pass.Lock()
	defer f.pass.Unlock()
	st, err := f.sync(ctx)
	if err != nil {
		st.Error = err.Error()
	}
	st.Checked = f.clock.Now()
	f.mu.Lock()
	f.status = st
	close(f.synced)
	f.synced = make(chan struct{})
	f.mu.Unlock()
	return st
}

func (f *Forms) sync(ctx context.Context) (FormsStatus, error) {
	var st FormsStatus
	cat := f.cfg.Catalogue()
	if cat == nil {
		return st, nil // no catalogue yet: keep what is there for the one to come
	}
	var last error
	wanted := map[string]proto.Form{}
	also := map[string]int{}
	var total int64
	for _, pf := range cat.Forms {
		st.Forms++
		if err := usable(pf); err != nil {
			last = fmt.Errorf("form %s: %v", pf.ID, err)
			continue
		}
		if _, dup := wanted[formName(pf)]; dup {
			also[formName(pf)]++ // the same file under another id
			continue
		}
		if total+pf.Size > f.cfg.MaxBytes {
			last = fmt.Errorf("form %s: not kept: the forms come to more than the %d KiB the kiosk keeps", pf.ID, f.cfg.MaxBytes>>10)
			continue
		}
		total += pf.Size
		wanted[formName(pf)] = pf
	}
	f.prune(wanted)
	names := make([]string, 0, len(wanted))
	for name := range wanted {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		pf := wanted[name]
		if _, err := f.read(pf); err == nil {
			st.Cached += 1 + also[name]
			st.Bytes += pf.Size
			continue
		} else if !errors.Is(err, os.ErrNotExist) {
			f.log.Warn("kept sample form is damaged; downloading it again", "form", pf.ID, "err", err)
			_ = os.Remove(filepath.Join(f.cfg.Dir, name))
		}
		if ctx.Err() != nil {
			return st, ctx.Err()
		}
		if err := f.download(ctx, pf); err != nil {
			f.log.Warn("sample form not downloaded", "form", pf.ID, "file", pf.File, "err", err)
			last = fmt.Errorf("form %s: %w", pf.ID, err)
			continue
		}
		f.log.Info("sample form downloaded", "form", pf.ID, "file", pf.File, "bytes", pf.Size)
		st.Cached += 1 + also[name]
		st.Bytes += pf.Size
	}
	return st, last
}

// prune removes every file of the directory that is not a wanted form's,
// half-downloaded ones included (only one pass runs at a time).
func (f *Forms) prune(wanted map[string]proto.Form) {
	entries, err := os.ReadDir(f.cfg.Dir)
	if err != nil {
		f.log.Error("forms directory unreadable", "dir", f.cfg.Dir, "err", err)
		return
	}
	for _, e := range entries {
		if _, ok := wanted[e.Name()]; ok || e.IsDir() {
			continue
		}
		if err := os.Remove(filepath.Join(f.cfg.Dir, e.Name())); err != nil {
			f.log.Warn("old sample form not removed", "file", e.Name(), "err", err)
		} else if !strings.HasPrefix(e.Name(), ".part-") {
			f.log.Info("old sample form removed", "file", e.Name())
		}
	}
}

// errHash is a file whose bytes are not the ones the catalogue names.
var errHash = errors.New("refused: its SHA-256 is not the catalogue's")

// download fetches pf into a temporary file, checks its size and hash,
// and only then gives it its name: a file under a form's name is always
// whole and verified.
func (f *Forms) download(ctx context.Context, pf proto.Form) error {
	ctx, cancel := context.WithTimeout(ctx, formTimeout)
	defer cancel()
	rc, err := f.cfg.Source.OpenForm(ctx, pf)
	if err != nil {
		return err
	}
	defer rc.Close()
	tmp, err := os.CreateTemp(f.cfg.Dir, ".part-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after the rename, nothing is there
	defer tmp.Close()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(rc, pf.Size+1))
	switch {
	case err != nil:
		return fmt.Errorf("download: %w", err)
	case n != pf.Size:
		return fmt.Errorf("refused: got %d bytes or more, the catalogue says %d", n, pf.Size)
	case hex.EncodeToString(h.Sum(nil)) != pf.SHA256:
		return errHash
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), filepath.Join(f.cfg.Dir, formName(pf)))
}

// read reads a kept form's file and checks it against its hash.
func (f *Forms) read(pf proto.Form) ([]byte, error) {
	if err := usable(pf); err != nil {
		return nil, os.ErrNotExist
	}
	file, err := os.Open(filepath.Join(f.cfg.Dir, formName(pf)))
	if err != nil {
		return nil, err
	}
	defer file.Close()
	// One byte more than the catalogue's size, to see a longer file.
	b := make([]byte, pf.Size+1)
	n, err := io.ReadFull(file, b)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, err
	}
	b = b[:n]
	if sum := sha256.Sum256(b); int64(n) != pf.Size || hex.EncodeToString(sum[:]) != pf.SHA256 {
		return nil, errHash
	}
	return b, nil
}

// formCSP lets the kiosk page show a form in an image or a frame (a PDF
// is shown in an iframe: the page allows no plugins), and lets nothing in
// it run or load anything else.
const formCSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'self'; base-uri 'none'; form-action 'none'"

// ServeHTTP answers GET /forms/{id}: the form's file, checked against its
// hash on every read, or a JSON 404 when the kiosk has no good copy.
func (f *Forms) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	cat := f.cfg.Catalogue()
	var pf proto.Form
	ok := cat != nil
	if ok {
		pf, ok = cat.Form(id)
	}
	if !ok {
		httpapi.WriteError(w, http.StatusNotFound, "unknown_form", fmt.Sprintf("no sample form %q in the kiosk's catalogue", clipText(id)))
		return
	}
	b, err := f.read(pf)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			f.log.Warn("kept sample form is damaged; downloading it again", "form", pf.ID, "err", err)
			_ = os.Remove(filepath.Join(f.cfg.Dir, formName(pf)))
			f.Changed()
		}
		httpapi.WriteError(w, http.StatusNotFound, "form_not_cached",
			fmt.Sprintf("sample form %s is not on this kiosk yet: it is downloaded from the queue server when the link is up", pf.ID))
		return
	}
	h := w.Header()
	h.Set("Content-Type", proto.FormType(pf.File))
	h.Set("Content-Security-Policy", formCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "SAMEORIGIN")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Disposition", mime.FormatMediaType("inline", map[string]string{"filename": pf.File}))
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", `"`+pf.SHA256+`"`)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(b))
}

// formView is one form in GET /api/v1/forms.
type formView struct {
	ID   string     `json:"id"`
	Name proto.Text `json:"name"`
	// Type is its Content-Type; URL where the page gets it.
	Type string `json:"type"`
	URL  string `json:"url"`
	Size int64  `json:"size"`
	// Cached: the kiosk has it (checked by its size; GET checks its hash).
	Cached bool `json:"cached"`
}

// handleList answers GET /api/v1/forms: the catalogue's forms and which
// of them the kiosk has, so the page offers only those it can show.
func (f *Forms) handleList(w http.ResponseWriter, r *http.Request) {
	out := struct {
		Forms []formView `json:"forms"`
	}{Forms: []formView{}}
	if cat := f.cfg.Catalogue(); cat != nil {
		for _, pf := range cat.Forms {
			v := formView{ID: pf.ID, Name: pf.Name, Type: proto.FormType(pf.File), URL: "/forms/" + pf.ID, Size: pf.Size}
			if usable(pf) == nil {
				fi, err := os.Stat(filepath.Join(f.cfg.Dir, formName(pf)))
				v.Cached = err == nil && fi.Size() == pf.Size
			}
			out.Forms = append(out.Forms, v)
		}
	}
	_ = httpapi.WriteJSON(w, http.StatusOK, out)
}

// clipText shortens what a request said for an answer that repeats it.
func clipText(s string) string {
	if r := []rune(s); len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return s
}
