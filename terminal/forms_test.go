package terminal

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/cherga/kiosk/queue/queuetest"
)

func TestAPIBase(t *testing.T) {
	for _, c := range [][2]string{
		{"ws://127.0.0.1:8090/api/v1/link", "http://127.0.0.1:8090/"},
		{"wss://queue.office.example/api/v1/link", "https://queue.office.example/"},
		{"wss://office.example:8443/queue/api/v1/link/", "https://office.example:8443/queue/"},
		{"wss://office.example/link?x=1", "https://office.example/"},
	} {
		u, err := apiBase(c[0])
		if err != nil || u.String() != c[1] {
			t.Errorf("apiBase(%s) = %v, %v; want %s", c[0], u, err, c[1])
		}
	}
	if _, err := apiBase("http://127.0.0.1:8090/api/v1/link"); err == nil {
		t.Error("an http:// link address was taken")
	}
}

// A whole kioskd fetches the sample forms from queued over its HTTP API
// after the welcome, in the background, into data_dir/forms by hash, and
// serves them at /forms/{id}; with queued gone it still serves them, and
// a copy altered on disk is refused by its hash.
func TestTerminalKeepsForms(t *testing.T) {
	clock := clockwork.NewFakeClockAt(time.Now())
	office := queuetest.Start(t, clock)
	r := startTerminal(t, clock, office)
	forms := partOf[*kioskPart](t, r.term).forms
	deadline := time.After(guard)
	for {
		synced := forms.Synced()
		if st := forms.Status(); st.Cached == 10 && st.Forms == 10 {
			break
		}
		select {
		case <-synced:
		case <-deadline:
			t.Fatalf("forms not downloaded: %+v\n%s", forms.Status(), r.log)
		}
	}
	if n, _ := os.ReadDir(filepath.Join(r.dir, "forms")); len(n) != 10 {
		t.Fatalf("data_dir/forms has %d files, want 10", len(n))
	}
	want, err := os.ReadFile("../configs/forms/social-assistance-application.pdf")
	if err != nil {
		t.Fatal(err)
	}
	get := func(wantStatus int) []byte {
		t.Helper()
		resp, err := http.Get("http://" + r.addr + "/forms/form-social")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var buf bytes.Buffer
		buf.ReadFrom(resp.Body)
		if resp.StatusCode != wantStatus {
			t.Fatalf("GET /forms/form-social: %s %s, want %d", resp.Status, buf.Bytes(), wantStatus)
		}
		if wantStatus == http.StatusOK && resp.Header.Get("Content-Type") != "application/pdf" {
			t.Errorf("Content-Type %q", resp.Header.Get("Content-Type"))
		}
		return buf.Bytes()
	}
	if got := get(http.StatusOK); !bytes.Equal(got, want) {
		t.Fatalf("served %d bytes, want the file's %d", len(got), len(want))
	}
	var health struct {
		Forms struct{ Forms, Cached int } `json:"forms"`
	}
	send(t, mustRequest(t, "http://"+r.addr+"/healthz"), http.StatusOK, &health)
	if health.Forms.Cached != 10 {
		t.Errorf("/healthz forms %+v", health.Forms)
	}

	office.Stop()
	if got := get(http.StatusOK); !bytes.Equal(got, want) {
		t.Fatalf("offline: served %d bytes, want the file's %d", len(got), len(want))
	}
	snap := r.term.link.Snapshot()
	f, _ := snap.Catalogue.Form("form-social")
	kept := filepath.Join(r.dir, "forms", f.SHA256+".pdf")
	altered := append([]byte{}, want...)
	altered[len(altered)/2] ^= 1
	if err := os.WriteFile(kept, altered, 0o640); err != nil {
		t.Fatal(err)
	}
	get(http.StatusNotFound)
}

func mustRequest(t *testing.T, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}
