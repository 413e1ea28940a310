package queue

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/cherga/kiosk/configs"
	"github.com/cherga/kiosk/link/proto"
)

// The sample forms: queued serves each form's file, read-only and to
// anyone (a picture or a PDF of an application filled in with a made-up
// person: no visitor's data), at GET /api/v1/forms/{id}. Kiosks download
// the forms their catalogue names and keep them by SHA-256, so they show
// them with the server away; the tracking page links to them.

// formCSP is the policy of a form's answer, instead of the pages' own:
// nothing runs, and a browser may show the picture or the PDF, opened
// from the tracking page, never framed by another site.
const formCSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// formOf is a form in protocol form, with the SHA-256 and size of its
// file as it is now: what kiosks check their copies against. A file that
// cannot be read (removed after the configuration was checked) gives no
// hash, and the form is not served until the file is back and queued
// reloads.
func formOf(dir string, f configs.Form) proto.Form {
	pf := proto.Form{ID: f.ID, File: f.File, Name: proto.Text(f.Name)}
	if b, err := readForm(filepath.Join(dir, f.File)); err == nil {
		sum := sha256.Sum256(b)
		pf.SHA256, pf.Size = hex.EncodeToString(sum[:]), int64(len(b))
	}
	return pf
}

// readForm reads a form's file, refusing one larger than a kiosk takes.
func readForm(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, proto.MaxFormBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > proto.MaxFormBytes {
		return nil, fmt.Errorf("%s: more than %d bytes", path, proto.MaxFormBytes)
	}
	return b, nil
}

// form is the catalogue's form id and the directory its file is in.
func (q *Queue) form(id string) (proto.Form, string, bool) {
	q.mu.Lock()
	o := q.o
	q.mu.Unlock()
	// o.cat is never changed once made: Reload swaps the whole office.
	f, ok := o.cat.Form(id)
	return f, o.cfg.FormsDir, ok
}

// handleForm serves a sample form's file, as the catalogue's hash says it
// is: a file changed on disk since queued loaded its configuration is
// refused (kiosks would refuse it too), until a reload hashes it again.
func (s *Server) handleForm(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	f, dir, ok := s.q.form(id)
	if !ok {
		writeError(w, http.StatusNotFound, "unknown_form", fmt.Sprintf("no sample form %q in the catalogue", clip(id)))
		return
	}
	ctype := proto.FormType(f.File)
	if f.SHA256 == "" || ctype == "" {
		writeError(w, http.StatusServiceUnavailable, "form_unavailable",
			fmt.Sprintf("sample form %s: its file could not be read when queued loaded its configuration", f.ID))
		return
	}
	b, err := readForm(filepath.Join(dir, f.File))
	sum := sha256.Sum256(b)
	if err != nil || hex.EncodeToString(sum[:]) != f.SHA256 {
		s.log.Error("sample form's file changed or went missing since the configuration was loaded; reload queued (kill -HUP)",
			"form", f.ID, "file", f.File, "err", err)
		writeError(w, http.StatusServiceUnavailable, "form_changed",
			fmt.Sprintf("sample form %s: its file changed since queued loaded its configuration", f.ID))
		return
	}
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Content-Security-Policy", formCSP)
	h.Set("Content-Disposition", mime.FormatMediaType("inline", map[string]string{"filename": f.File}))
	// The same id may name new content after a reload: browsers ask
	// again each time, and the hash answers 304 when nothing changed.
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", `"`+f.SHA256+`"`)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(b))
}
