package cmd_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// backupCommand runs queued backup on the office's configuration and
// returns what it printed.
func (o *office) backupCommand(t *testing.T, args ...string) string {
	t.Helper()
	readSources(t)
	cmd := exec.Command(filepath.Join(binDir, "queued"), append([]string{"backup", "-config", o.officeConfig}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("queued backup %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr.String())
	}
	return string(out)
}

// restore starts a second queued on a data directory holding the files
// of backup, as docs/install.md 7.3 restores one, and returns its address.
func (o *office) restore(t *testing.T, backup string) (addr string, q *proc) {
	t.Helper()
	dataDir := filepath.Join(t.TempDir(), "restored")
	if err := os.Mkdir(dataDir, 0o750); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"queued.db", "access.json", "booking.key"} {
		b, err := os.ReadFile(filepath.Join(backup, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dataDir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	config := filepath.Join(filepath.Dir(dataDir), "office.yaml")
	writeConfig(t, o.officeConfig, config, "data_dir: "+o.queuedDataDir(), "data_dir: "+dataDir,
		"listen: "+o.qAddr, "listen: 127.0.0.1:0")
	q = start(t, "queued", "-config", config)
	return listenAddr(t, q.waitLog("queued started")), q
}

// queuedDataDir is queued's data directory, as newOffice sets it.
func (o *office) queuedDataDir() string { return filepath.Join(filepath.Dir(o.officeConfig), "queued") }

// ticketNumbers is every ticket number today on the queued at addr, asked
// with the tests' token (which a restored access.json must still know).
func (o *office) ticketNumbers(t *testing.T, addr string) map[string]bool {
	t.Helper()
	var day struct {
		Tickets []struct {
			Number string `json:"number"`
		} `json:"tickets"`
	}
	req := newRequest(t, "GET", "http://"+addr+"/api/v1/tickets", "")
	req.Header.Set("Authorization", "Bearer "+o.token)
	send(t, req, http.StatusOK, &day)
	have := map[string]bool{}
	for _, tk := range day.Tickets {
		have[tk.Number] = true
	}
	return have
}

// queued backup against the real binaries: while queued runs and a load
// of tickets goes on, the running queued hands over a copy that holds
// every ticket issued before the backup began; with queued stopped the
// file is copied directly; each restores (a queued started on the copied
// files serves the tickets and still knows the API token). A program
// without the admin scope is refused the copy.
func TestQueuedBackup(t *testing.T) {
	o := newOffice(t)
	o.startQueued(t)
	base := "http://" + o.qAddr

	// Refused without credentials and with a token of another scope.
	if a := exchange(t, nil, newRequest(t, "GET", base+"/api/v1/admin/backup", "")); a.status != http.StatusUnauthorized {
		t.Errorf("backup without credentials: %d %s", a.status, a.body)
	}
	stats := strings.TrimSpace(o.queuedCommand(t, "", "token", "-name", "prometheus", "-scope", "stats"))
	statsReq := newRequest(t, "GET", base+"/api/v1/admin/backup", "")
	statsReq.Header.Set("Authorization", "Bearer "+stats)
	// queued sees a token made from the shell within a second: until
	// then it is unknown (401), after that it lacks the scope (403).
	eventually(t, "the stats token refused the backup with 403", func() bool {
		a := exchange(t, nil, statsReq.Clone(statsReq.Context()))
		if a.status != http.StatusUnauthorized && a.status != http.StatusForbidden {
			t.Fatalf("backup with a stats token: %d %s", a.status, a.body)
		}
		return a.status == http.StatusForbidden && a.code == "forbidden"
	})

	issue := func() string {
		var tk struct {
			Number string `json:"number"`
		}
		o.call(t, "POST", "/api/v1/tickets", `{"service":"pension-age"}`, http.StatusCreated, &tk)
		return tk.Number
	}
	var mu sync.Mutex
	var issued []string
	for range 20 {
		issued = append(issued, issue())
	}

	// A load of tickets while the backup runs.
	stop, loadDone := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(loadDone)
		for {
			select {
			case <-stop:
				return
			default:
			}
			req, _ := http.NewRequest("POST", base+"/api/v1/tickets", strings.NewReader(`{"service":"subsidy-housing"}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+o.token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return
			}
			var tk struct {
				Number string `json:"number"`
			}
			a := readAnswer(resp, &tk)
			if a != http.StatusCreated {
				return
			}
			mu.Lock()
			issued = append(issued, tk.Number)
			mu.Unlock()
		}
	}()
	// Let some load tickets in before the backup starts.
	eventually(t, "load tickets issued", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(issued) >= 40
	})
	mu.Lock()
	before := append([]string(nil), issued...)
	mu.Unlock()
	online := filepath.Join(t.TempDir(), "backups", "2026-12-02")
	out := o.backupCommand(t, "-out", online)
	close(stop)
	<-loadDone
	t.Logf("%d tickets before the backup, %d after; queued backup printed:\n%s", len(before), len(issued), out)
	if !strings.Contains(out, "handed over by the running queued") {
		t.Errorf("backup while queued runs printed:\n%s", out)
	}
	o.queued.waitLog("backup sent")
	if fi, err := os.Stat(online); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("backup directory: %v %v", fi, err)
	}
	for _, name := range []string{"queued.db", "access.json", "booking.key"} {
		if fi, err := os.Stat(filepath.Join(online, name)); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v", name, fi, err)
		}
	}
	if ents, _ := os.ReadDir(online); len(ents) != 3 {
		t.Errorf("backup directory holds %d files, want 3 (no temporary file left)", len(ents))
	}
	key, _ := os.ReadFile(filepath.Join(o.queuedDataDir(), "booking.key"))
	if b, _ := os.ReadFile(filepath.Join(online, "booking.key")); len(key) == 0 || !bytes.Equal(b, key) {
		t.Errorf("booking.key copied as %q, want %q", b, key)
	}
	// The ephemeral token is gone again.
	if list := o.queuedCommand(t, "", "token", "-list"); strings.Contains(list, "backup-") {
		t.Errorf("the backup's token is still there:\n%s", list)
	}

	addr, restored := o.restore(t, online)
	have := o.ticketNumbers(t, addr)
	for _, n := range before {
		if !have[n] {
			t.Errorf("ticket %s, issued before the backup began, is not in it", n)
		}
	}
	restored.stop(os.Interrupt)

	// With queued stopped the file is copied directly, every ticket in it.
	mu.Lock()
	all := append([]string(nil), issued...)
	mu.Unlock()
	if code := o.queued.stop(os.Interrupt); code != 0 {
		t.Errorf("queued exited %d", code)
	}
	offline := filepath.Join(t.TempDir(), "offline")
	if out := o.backupCommand(t, "-out", offline); !strings.Contains(out, "queued not running") {
		t.Errorf("backup with queued stopped printed:\n%s", out)
	}
	addr, restored = o.restore(t, offline)
	have = o.ticketNumbers(t, addr)
	for _, n := range all {
		if !have[n] {
			t.Errorf("ticket %s is not in the backup taken with queued stopped", n)
		}
	}
	restored.stop(os.Interrupt)

	// With a token file, as for a backup from another machine; an earlier
	// backup in the directory is replaced.
	o.startQueued(t)
	tokenFile := filepath.Join(t.TempDir(), "admin.token")
	if err := os.WriteFile(tokenFile, []byte(o.token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out := o.backupCommand(t, "-out", offline, "-url", base, "-token-file", tokenFile); !strings.Contains(out, "handed over") {
		t.Errorf("backup with -url and -token-file printed:\n%s", out)
	}
	o.queued.waitLog("backup sent")
}

// readAnswer reads a JSON answer into out and returns its status.
func readAnswer(resp *http.Response, out any) int {
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	_ = json.Unmarshal(b.Bytes(), out)
	return resp.StatusCode
}
