package queue

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cherga/kiosk/configs"
	"github.com/cherga/kiosk/httpapi/apitest"
)

// serveQueue serves q as queued does, with no API tokens: the forms and
// the tracking page are public.
func serveQueue(t *testing.T, q *Queue) *httptest.Server {
	t.Helper()
	s, err := NewServer(q, ServerOptions{Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		AccessFile: filepath.Join(t.TempDir(), "access.json")})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(func() { s.Close(); ts.Close() })
	return ts
}

func get(t *testing.T, url string, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	a := apitest.Do(t, http.MethodGet, url, "", hdr)
	return &http.Response{StatusCode: a.Status, Header: a.Header}, []byte(a.Body)
}

func errorCode(t *testing.T, b []byte) string {
	t.Helper()
	var e apiError
	if err := json.Unmarshal(b, &e); err != nil || e.Error == "" {
		t.Fatalf("not a JSON error: %s", b)
	}
	return e.Code
}

// Every sample form of the shipped office is in the kiosks' catalogue
// with its file's hash and size, and queued serves the file as it is:
// public, read-only, its kind's Content-Type, nothing in it allowed to
// run; an unknown id and a foreign Host are refused in JSON.
func TestFormsServed(t *testing.T) {
	q := shippedQueue(t)
	ts := serveQueue(t, q)
	cat := q.Catalogue()
	if len(cat.Forms) != 10 {
		t.Fatalf("%d forms in the catalogue, want the demo's 10", len(cat.Forms))
	}
	for _, f := range cat.Forms {
		want, err := os.ReadFile(filepath.Join(q.Config().FormsDir, f.File))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(want)
		if f.SHA256 != hex.EncodeToString(sum[:]) || f.Size != int64(len(want)) {
			t.Errorf("form %s: catalogue says %s, %d bytes; the file is %x, %d bytes", f.ID, f.SHA256, f.Size, sum, len(want))
		}
		resp, got := get(t, ts.URL+"/api/v1/forms/"+f.ID, nil)
		if resp.StatusCode != http.StatusOK || string(got) != string(want) {
			t.Fatalf("GET form %s: %s, %d bytes, want the file's %d", f.ID, resp.Status, len(got), len(want))
		}
		wantType := map[string]string{".png": "image/png", ".pdf": "application/pdf"}[filepath.Ext(f.File)]
		h := resp.Header
		if h.Get("Content-Type") != wantType || h.Get("X-Content-Type-Options") != "nosniff" ||
			!strings.Contains(h.Get("Content-Security-Policy"), "default-src 'none'") || h.Get("ETag") != `"`+f.SHA256+`"` {
			t.Errorf("form %s: headers %v", f.ID, h)
		}
	}
	f := cat.Forms[0]
	if resp, _ := get(t, ts.URL+"/api/v1/forms/"+f.ID, map[string]string{"If-None-Match": `"` + f.SHA256 + `"`}); resp.StatusCode != http.StatusNotModified {
		t.Errorf("revalidated form: %s, want 304", resp.Status)
	}
	if resp, b := get(t, ts.URL+"/api/v1/forms/no-such-form", nil); resp.StatusCode != http.StatusNotFound || errorCode(t, b) != "unknown_form" {
		t.Errorf("unknown form: %s %s", resp.Status, b)
	}
	if resp, b := get(t, ts.URL+"/api/v1/forms/"+f.ID, map[string]string{"Host": "forms.attacker.example"}); resp.StatusCode != http.StatusForbidden || errorCode(t, b) != "bad_host" {
		t.Errorf("foreign Host: %s %s", resp.Status, b)
	}
	// Read-only: nothing but GET (and HEAD).
	req, _ := http.NewRequest(http.MethodPut, ts.URL+"/api/v1/forms/"+f.ID, strings.NewReader("x"))
	req.Header.Set("Content-Type", "image/png")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("PUT a form: %v %v", resp, err)
	}
}

// A form whose file changed on disk after queued hashed it is refused
// (kiosks would refuse it too) until a reload hashes it again.
func TestFormChangedRefusedUntilReload(t *testing.T) {
	dir := t.TempDir()
	png, err := os.ReadFile(filepath.Join("..", "configs", "forms", "pension-application.png"))
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(dir, "forms"), 0o755)
	os.WriteFile(filepath.Join(dir, "forms", "p.png"), png, 0o644)
	yaml := strings.Replace(testOfficeYAML, "services:\n", "forms_dir: forms\nforms:\n  - {id: form-p, file: p.png, name: {uk: Зразок, en: Sample}}\nservices:\n", 1)
	yaml = strings.Replace(yaml, "name: {uk: Пенсія за віком, en: Old-age pension}}", "name: {uk: Пенсія за віком, en: Old-age pension}, forms: [form-p]}", 1)
	path := filepath.Join(dir, "office.yaml")
	os.WriteFile(path, []byte(yaml), 0o644)
	cfg, err := configs.LoadOffice(path)
	if err != nil {
		t.Fatal(err)
	}
	q, err := Open(filepath.Join(dir, "q.db"), cfg, Options{Clock: newClock(), Version: "v1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	ts := serveQueue(t, q)
	if resp, _ := get(t, ts.URL+"/api/v1/forms/form-p", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("form: %s", resp.Status)
	}
	changed := append([]byte{}, png...)
	changed[len(changed)-20] ^= 0xff
	os.WriteFile(filepath.Join(dir, "forms", "p.png"), changed, 0o644)
	if resp, b := get(t, ts.URL+"/api/v1/forms/form-p", nil); resp.StatusCode != http.StatusServiceUnavailable || errorCode(t, b) != "form_changed" {
		t.Fatalf("changed form: %s %s", resp.Status, b)
	}
	cfg, err = configs.LoadOffice(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := q.Reload(cfg, "v2"); err != nil {
		t.Fatal(err)
	}
	resp, b := get(t, ts.URL+"/api/v1/forms/form-p", nil)
	cat := q.Catalogue()
	f, _ := cat.Form("form-p")
	sum := sha256.Sum256(changed)
	if resp.StatusCode != http.StatusOK || string(b) != string(changed) || f.SHA256 != hex.EncodeToString(sum[:]) {
		t.Fatalf("after reload: %s, catalogue hash %s", resp.Status, f.SHA256)
	}
	// A file gone since the check: the form stays in the catalogue without
	// a hash, and is not served.
	os.Remove(filepath.Join(dir, "forms", "p.png"))
	if _, err := q.Reload(cfg, "v3"); err != nil {
		t.Fatal(err)
	}
	cat = q.Catalogue()
	if f, _ := cat.Form("form-p"); f.SHA256 != "" {
		t.Errorf("a missing file has hash %q", f.SHA256)
	}
	if resp, b := get(t, ts.URL+"/api/v1/forms/form-p", nil); resp.StatusCode != http.StatusServiceUnavailable || errorCode(t, b) != "form_unavailable" {
		t.Errorf("missing form: %s %s", resp.Status, b)
	}
}

// The tracking page shows what the information terminal says of the
// ticket's service, with links to the forms queued serves, in Ukrainian
// or, asked, in English; nothing about the visitor.
func TestTrackingPageShowsServiceInfo(t *testing.T) {
	q := shippedQueue(t)
	ts := serveQueue(t, q)
	tk := mustIssue(t, q, "subsidy-housing")
	page := func(query string) string {
		resp, b := get(t, ts.URL+"/t/"+q.Today()+"/"+tk.Number+query, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("tracking page: %s", resp.Status)
		}
		return string(b)
	}
	uk := page("")
	for _, want := range []string{
		"Перед вами в черзі: 0", // what it showed before
		"Призначення житлової субсидії",
		"Субсидія відшкодовує частину плати",
		"Документи, які потрібно мати з собою",
		"Паспорт громадянина України (ID-картка або паспорт-книжечка)",
		"Договір найму (оренди) житла (для тих, хто орендує)",
		"до 10 робочих днів", "безоплатно",
		`href="/api/v1/forms/form-subsidy"`, "Заява про призначення житлової субсидії (зразок заповнення)",
		`href="/api/v1/forms/form-declaration"`, "(PNG, ",
		`href="?lang=en"`,
	} {
		if !strings.Contains(uk, want) {
			t.Errorf("the page lacks %q:\n%s", want, uk)
		}
	}
	en := page("?lang=en")
	for _, want := range []string{"Housing subsidy application", "Documents to bring", "Passport of a citizen of Ukraine",
		"up to 10 working days", "free of charge", "Housing subsidy application (filled-in sample)", `href="?lang=uk"`} {
		if !strings.Contains(en, want) {
			t.Errorf("the English page lacks %q", want)
		}
	}
	// Every form link leads to the form.
	for _, id := range []string{"form-subsidy", "form-declaration"} {
		if resp, _ := get(t, ts.URL+"/api/v1/forms/"+id, nil); resp.StatusCode != http.StatusOK {
			t.Errorf("the page's link to %s: %s", id, resp.Status)
		}
	}
	// Once served, the page says so and no more.
	if _, _, err := q.Next(1); err != nil {
		t.Fatal(err)
	}
	if _, err := q.Act(1, ActFinish, Actor{}); err != nil {
		t.Fatal(err)
	}
	if p := page(""); strings.Contains(p, "Документи, які потрібно мати з собою") || !strings.Contains(p, "Обслуговування завершено") {
		t.Errorf("the page of a finished ticket:\n%s", p)
	}
}
