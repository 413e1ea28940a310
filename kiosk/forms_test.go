package kiosk

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/cherga/kiosk/httpapi"
	"github.com/cherga/kiosk/link/proto"
)

// serverForms gets forms from a queued on loopback, as kioskd's source
// does (terminal/forms.go; terminal's tests run that one).
type serverForms struct{ base string }

func (s serverForms) OpenForm(ctx context.Context, f proto.Form) (io.ReadCloser, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.base+"/api/v1/forms/"+f.ID, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("GET form %s: %s", f.ID, resp.Status)
	}
	return resp.Body, nil
}

// alteredForms is a source whose bytes are not queued's: one changed, or
// some added, as a broken proxy or a tampered server would give.
type alteredForms struct {
	FormSource
	extra bool
}

func (a alteredForms) OpenForm(ctx context.Context, f proto.Form) (io.ReadCloser, error) {
	rc, err := a.FormSource.OpenForm(ctx, f)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return nil, err
	}
	if a.extra {
		b = append(b, "<script>alert(1)</script>"...)
	} else {
		b[len(b)/2] ^= 0x20
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

// formsRig is a kiosk with its forms kept in a directory, wired to a real
// queued and its link (newRig), its routes served as kioskd serves them,
// the page's origin enforced.
type formsRig struct {
	*rig
	forms *Forms
	dir   string
	srv   *httptest.Server
}

func newFormsRig(t *testing.T) *formsRig {
	t.Helper()
	r := newRig(t, true)
	dir := filepath.Join(t.TempDir(), "forms")
	tickets := r.k.cfg.Tickets
	forms, err := NewForms(FormsConfig{Dir: dir, Source: serverForms{r.office.URL()}, Log: quiet,
		Catalogue: func() *proto.Catalogue {
			if snap := tickets.Snapshot(); snap != nil {
				return &snap.Catalogue
			}
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	k := New(Config{Tickets: tickets, Printer: r.drv, Forms: forms, Log: quiet})
	t.Cleanup(k.Close)
	mux := httpapi.NewMux()
	k.Register(mux)
	srv := httptest.NewServer(httpapi.Recover(mux, quiet, nil))
	t.Cleanup(srv.Close)
	if err := k.AllowOrigin(srv.URL); err != nil {
		t.Fatal(err)
	}
	return &formsRig{rig: r, forms: forms, dir: dir, srv: srv}
}

func (fr *formsRig) get(t *testing.T, path string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, fr.srv.URL+path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i] == "Host" {
			req.Host = hdr[i+1]
		} else {
			req.Header.Set(hdr[i], hdr[i+1])
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func jsonCode(t *testing.T, b []byte) string {
	t.Helper()
	var e struct{ Code, Error string }
	if err := json.Unmarshal(b, &e); err != nil || e.Error == "" {
		t.Fatalf("not a JSON error: %s", b)
	}
	return e.Code
}

// files lists the forms directory.
func files(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	sort.Strings(out)
	return out
}

// The kiosk downloads every form its catalogue names from queued, checks
// it, keeps it by hash and removes what no form names; it serves them to
// the page with the headers that let the page show them and nothing else
// run; with the server gone it still serves them; a copy damaged on disk
// is refused by its hash and fetched again once the server is back.
func TestFormsDownloadedKeptServedOffline(t *testing.T) {
	fr := newFormsRig(t)
	os.WriteFile(filepath.Join(fr.dir, "0123old.png"), []byte("a form no catalogue names"), 0o644)
	os.WriteFile(filepath.Join(fr.dir, ".part-99"), []byte("half a download"), 0o644)
	if resp, b := fr.get(t, "/forms/form-subsidy"); resp.StatusCode != http.StatusNotFound || jsonCode(t, b) != "form_not_cached" {
		t.Fatalf("before the download: %s %s", resp.Status, b)
	}
	st := fr.forms.Sync(context.Background())
	if st.Forms != 10 || st.Cached != 10 || st.Error != "" || st.Bytes < 200<<10 {
		t.Fatalf("after a pass: %+v", st)
	}
	cat := fr.k.cfg.Tickets.Snapshot().Catalogue
	var want []string
	for _, f := range cat.Forms {
		want = append(want, f.SHA256+filepath.Ext(f.File))
	}
	sort.Strings(want)
	if got := files(t, fr.dir); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("forms directory %v, want the forms by hash %v", got, want)
	}
	check := func(id, file, ctype string) {
		t.Helper()
		want, err := os.ReadFile(filepath.Join("..", "configs", "forms", file))
		if err != nil {
			t.Fatal(err)
		}
		resp, b := fr.get(t, "/forms/"+id)
		h := resp.Header
		if resp.StatusCode != http.StatusOK || !bytes.Equal(b, want) || h.Get("Content-Type") != ctype ||
			h.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'self'") ||
			!strings.Contains(h.Get("Content-Security-Policy"), "default-src 'none'") {
			t.Fatalf("GET /forms/%s: %s, %d bytes (want %d), headers %v", id, resp.Status, len(b), len(want), h)
		}
	}
	check("form-subsidy", "subsidy-application.png", "image/png")
	check("form-social", "social-assistance-application.pdf", "application/pdf")
	if resp, b := fr.get(t, "/forms/no-such-form"); resp.StatusCode != http.StatusNotFound || jsonCode(t, b) != "unknown_form" {
		t.Errorf("unknown form: %s %s", resp.Status, b)
	}
	// Only the kiosk page's own address gets them.
	if resp, b := fr.get(t, "/forms/form-subsidy", "Host", "kiosk.attacker.example"); resp.StatusCode != http.StatusForbidden || jsonCode(t, b) != "forbidden_origin" {
		t.Errorf("foreign Host: %s %s", resp.Status, b)
	}
	var list struct {
		Forms []formView `json:"forms"`
	}
	if resp, b := fr.get(t, "/api/v1/forms"); resp.StatusCode != http.StatusOK || json.Unmarshal(b, &list) != nil || len(list.Forms) != 10 {
		t.Fatalf("GET /api/v1/forms: %s %s", resp.Status, b)
	}
	for _, v := range list.Forms {
		if !v.Cached || v.URL != "/forms/"+v.ID || v.Type == "" || v.Name.UK == "" {
			t.Errorf("listed %+v", v)
		}
	}

	// The server goes away: the page still shows the forms.
	fr.office.Stop()
	check("form-subsidy", "subsidy-application.png", "image/png")
	if st := fr.forms.Sync(context.Background()); st.Cached != 10 || st.Error != "" {
		t.Errorf("a pass offline with everything kept: %+v", st)
	}

	// A kept copy altered on disk is refused by its hash, and removed.
	f, _ := cat.Form("form-subsidy")
	kept := filepath.Join(fr.dir, f.SHA256+".png")
	b, _ := os.ReadFile(kept)
	b[100] ^= 0xff
	os.WriteFile(kept, b, 0o644)
	if resp, b := fr.get(t, "/forms/form-subsidy"); resp.StatusCode != http.StatusNotFound || jsonCode(t, b) != "form_not_cached" {
		t.Fatalf("altered copy: %s %s", resp.Status, b)
	}
	if _, err := os.Stat(kept); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the altered copy is still kept: %v", err)
	}
	if st := fr.forms.Sync(context.Background()); st.Cached != 9 || st.Error == "" {
		t.Errorf("a pass with the server away and a form missing: %+v", st)
	}
	fr.office.Restart()
	if st := fr.forms.Sync(context.Background()); st.Cached != 10 || st.Error != "" {
		t.Errorf("a pass with the server back: %+v", st)
	}
	check("form-subsidy", "subsidy-application.png", "image/png")

	// A form the catalogue no longer names is removed from the kiosk.
	shorter := cat
	shorter.Forms = cat.Forms[1:]
	pruning, _ := NewForms(FormsConfig{Dir: fr.dir, Source: serverForms{fr.office.URL()}, Log: quiet,
		Catalogue: func() *proto.Catalogue { return &shorter }})
	if st := pruning.Sync(context.Background()); st.Cached != 9 || len(files(t, fr.dir)) != 9 {
		t.Errorf("after a form left the catalogue: %+v, files %v", st, files(t, fr.dir))
	}
}

// What does not match the catalogue is never kept: a byte changed on the
// way, or more bytes than it says; nor more than the kiosk keeps in all.
func TestFormsRefusedDownloads(t *testing.T) {
	r := newRig(t, true)
	snap := r.k.cfg.Tickets.Snapshot()
	catalogue := func() *proto.Catalogue { return &snap.Catalogue }
	real := serverForms{r.office.URL()}
	for _, c := range []struct {
		name string
		src  FormSource
		max  int64
		want string
		kept int
	}{
		{"byte changed", alteredForms{FormSource: real}, 0, "SHA-256", 0},
		{"bytes added", alteredForms{FormSource: real, extra: true}, 0, "bytes", 0},
		{"more than the kiosk keeps", real, 60 << 10, "KiB the kiosk keeps", 2},
	} {
		dir := filepath.Join(t.TempDir(), "forms")
		forms, err := NewForms(FormsConfig{Dir: dir, Source: c.src, Catalogue: catalogue, MaxBytes: c.max, Log: quiet})
		if err != nil {
			t.Fatal(err)
		}
		st := forms.Sync(context.Background())
		if st.Cached != c.kept || !strings.Contains(st.Error, c.want) || len(files(t, dir)) != c.kept {
			t.Errorf("%s: %+v, files %v; want %d kept and an error saying %q", c.name, st, files(t, dir), c.kept, c.want)
		}
	}
}

// flakySource fails its first n downloads, as a server that is away does.
type flakySource struct {
	FormSource
	mu    sync.Mutex
	fails int
}

func (f *flakySource) OpenForm(ctx context.Context, pf proto.Form) (io.ReadCloser, error) {
	f.mu.Lock()
	fail := f.fails > 0
	f.fails--
	f.mu.Unlock()
	if fail {
		return nil, errors.New("connection refused")
	}
	return f.FormSource.OpenForm(ctx, pf)
}

// Run downloads in the background: after a failure it tries again on its
// clock's wait, and a changed catalogue starts a pass at once. Changed
// never blocks (the link's reader calls it).
func TestFormsRunInBackground(t *testing.T) {
	r := newRig(t, true)
	snap := r.k.cfg.Tickets.Snapshot()
	var mu sync.Mutex
	cat := snap.Catalogue
	clock := clockwork.NewFakeClock()
	dir := filepath.Join(t.TempDir(), "forms")
	forms, err := NewForms(FormsConfig{Dir: dir, Source: &flakySource{FormSource: serverForms{r.office.URL()}, fails: 10}, Clock: clock, Log: quiet,
		Catalogue: func() *proto.Catalogue { mu.Lock(); defer mu.Unlock(); c := cat; return &c }})
	if err != nil {
		t.Fatal(err)
	}
	idle, _ := NewForms(FormsConfig{Dir: dir, Source: serverForms{}, Catalogue: func() *proto.Catalogue { return nil }})
	for range 100 {
		idle.Changed() // nobody runs its passes: never blocks
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	passed := forms.Synced()
	go func() { forms.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	wait := func(ch <-chan struct{}) {
		t.Helper()
		select {
		case <-ch:
		case <-time.After(10 * time.Second): // a guard, never a measurement
			t.Fatal("no pass")
		}
	}
	wait(passed) // the pass at start
	if st := forms.Status(); st.Cached != 0 || !strings.Contains(st.Error, "connection refused") {
		t.Fatalf("with the server failing: %+v", st)
	}
	passed = forms.Synced()
	if err := clock.BlockUntilContext(ctx, 1); err != nil { // the retry timer
		t.Fatal(err)
	}
	clock.Advance(formRetryMin)
	wait(passed)
	if st := forms.Status(); st.Cached != 10 || st.Error != "" {
		t.Fatalf("after the retry: %+v", st)
	}
	mu.Lock()
	cat.Forms = cat.Forms[:3]
	mu.Unlock()
	passed = forms.Synced()
	forms.Changed()
	wait(passed)
	if st := forms.Status(); st.Forms != 3 || st.Cached != 3 || len(files(t, dir)) != 3 {
		t.Errorf("after the catalogue changed: %+v, files %v", st, files(t, dir))
	}
}

// memoryForms serves forms from memory, by id.
type memoryForms map[string][]byte

func (m memoryForms) OpenForm(_ context.Context, f proto.Form) (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(m[f.ID])), nil
}

// Serving a form reads it and checks its hash every time: what that
// costs for the demo's largest form (40 KB) and for the largest a form
// may be (2 MiB).
func BenchmarkServeForm(b *testing.B) {
	demo, err := os.ReadFile(filepath.Join("..", "configs", "forms", "social-assistance-application.pdf"))
	if err != nil {
		b.Fatal(err)
	}
	largest := append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte{0x42}, proto.MaxFormBytes-9)...)
	src := memoryForms{"demo": demo, "largest": largest}
	cat := &proto.Catalogue{}
	for id, data := range src {
		sum := sha256.Sum256(data)
		cat.Forms = append(cat.Forms, proto.Form{ID: id, File: id + ".pdf", SHA256: hex.EncodeToString(sum[:]), Size: int64(len(data))})
	}
	forms, err := NewForms(FormsConfig{Dir: b.TempDir(), Source: src, Catalogue: func() *proto.Catalogue { return cat }})
	if err != nil {
		b.Fatal(err)
	}
	if st := forms.Sync(context.Background()); st.Cached != 2 {
		b.Fatalf("%+v", st)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /forms/{id}", forms)
	for _, id := range []string{"demo", "largest"} {
		b.Run(id, func(b *testing.B) {
			b.SetBytes(int64(len(src[id])))
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				mux.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/forms/"+id, nil))
				if w.Code != http.StatusOK {
					b.Fatal(w.Code)
				}
			}
		})
	}
}
