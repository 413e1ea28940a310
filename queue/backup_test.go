package queue

import (
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/cherga/kiosk/queue/access"
)

// A backup taken while tickets are being issued holds every ticket issued
// before it began, opens as a queued database and checks whole.
func TestBackupWhileIssuing(t *testing.T) {
	c := newClock()
	q := openTest(t, filepath.Join(t.TempDir(), "q.db"), c)
	var before []string
	for range 30 {
		before = append(before, mustIssue(t, q, "pension-age").Number)
	}
	stop, done := make(chan struct{}), make(chan error, 1)
	go func() {
		for {
			select {
			case <-stop:
				done <- nil
				return
			default:
			}
			if _, _, err := q.Issue("subsidy-housing", "load"); err != nil {
				done <- err
				return
			}
		}
	}()
	copyPath := filepath.Join(t.TempDir(), "copy.db")
	f, err := os.Create(copyPath)
	if err != nil {
		t.Fatal(err)
	}
	var size int64 = -1
	n, err := q.Backup(f, func(sz int64) { size = sz })
	close(stop)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if n != size || n == 0 {
		t.Errorf("wrote %d bytes, announced %d", n, size)
	}
	if err := CheckDatabase(copyPath); err != nil {
		t.Fatal(err)
	}
	restored := openTest(t, copyPath, c)
	tickets, err := restored.Tickets(restored.Today())
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, tk := range tickets {
		have[tk.Number] = true
	}
	for _, num := range before {
		if !have[num] {
			t.Errorf("ticket %s, issued before the backup, is not in it", num)
		}
	}
}

// A database held by a queued is not copied behind its back; once it is
// closed, it is.
func TestCopyDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "q.db")
	q := openTest(t, path, newClock())
	mustIssue(t, q, "pension-age")
	if _, err := CopyDatabase(path, io.Discard, nil); !errors.Is(err, ErrDatabaseLocked) {
		t.Fatalf("copy of an open database: %v, want ErrDatabaseLocked", err)
	}
	q.Close()
	copyPath := filepath.Join(t.TempDir(), "copy.db")
	f, err := os.Create(copyPath)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := CopyDatabase(path, f, nil); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := CheckDatabase(copyPath); err != nil {
		t.Fatal(err)
	}
	if _, err := CopyDatabase(filepath.Join(t.TempDir(), "none.db"), io.Discard, nil); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("copy of a missing file: %v, want ErrNotExist", err)
	}
}

// CheckDatabase refuses what is not a whole queued database.
func TestCheckDatabaseRefuses(t *testing.T) {
	dir := t.TempDir()
	other := filepath.Join(dir, "other.db")
	db, err := bolt.Open(other, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("x")); return err }); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if err := CheckDatabase(other); err == nil {
		t.Error("a bbolt file without queued's buckets passed")
	}
	garbage := filepath.Join(dir, "garbage.db")
	if err := os.WriteFile(garbage, []byte("not a database at all, not even close"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := CheckDatabase(garbage); err == nil {
		t.Error("a text file passed")
	}

	// A copy cut short.
	path := filepath.Join(dir, "q.db")
	q := openTest(t, path, newClock())
	for range 200 {
		mustIssue(t, q, "pension-age")
	}
	q.Close()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	short := filepath.Join(dir, "short.db")
	if err := os.WriteFile(short, b[:len(b)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	if err := CheckDatabase(short); err == nil {
		t.Error("half a database passed")
	}
}

// GET /api/v1/admin/backup: scope admin only; the answer is the
// database, named for the office and the time, its length announced.
func TestBackupRoute(t *testing.T) {
	ts, s := newTestServer(t)
	mustIssue(t, s.q, "pension-age")
	stats, err := s.store.AddToken("stats", []string{access.ScopeStats})
	if err != nil {
		t.Fatal(err)
	}
	get := func(token string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, ts.URL+"/api/v1/admin/backup", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	for _, c := range []struct {
		token string
		want  int
	}{{"", http.StatusUnauthorized}, {stats, http.StatusForbidden}, {"cq_wrong", http.StatusUnauthorized}} {
		if resp := get(c.token); resp.StatusCode != c.want {
			t.Errorf("token %q: %s, want %d", c.token, resp.Status, c.want)
		}
	}

	resp := get(apiToken)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("admin: %s", resp.Status)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/octet-stream" {
		t.Errorf("Content-Type %q", ct)
	}
	// The test clock: 09:00 in Kyiv on 2026-11-23 is 07:00 UTC.
	if cd := resp.Header.Get("Content-Disposition"); cd != `attachment; filename="queued-test-office-20261123T070000Z.db"` {
		t.Errorf("Content-Disposition %q", cd)
	}
	copyPath := filepath.Join(t.TempDir(), "copy.db")
	f, err := os.Create(copyPath)
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(f, resp.Body)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if cl, _ := strconv.ParseInt(resp.Header.Get("Content-Length"), 10, 64); cl != n || n == 0 {
		t.Errorf("Content-Length %s, body %d bytes", resp.Header.Get("Content-Length"), n)
	}
	if err := CheckDatabase(copyPath); err != nil {
		t.Fatal(err)
	}
}

func TestBackupName(t *testing.T) {
	c := newClock()
	for office, want := range map[string]string{
		"kyiv-1":       "queued-kyiv-1-20261123T070000Z.db",
		`a"b/c d`:      "queued-a_b_c_d-20261123T070000Z.db",
		"":             "queued-office-20261123T070000Z.db",
		"Київ.центр_2": "queued-____.______2-20261123T070000Z.db",
	} {
		if got := backupName(office, c.Now()); got != want {
			t.Errorf("backupName(%q) = %q, want %q", office, got, want)
		}
	}
}
