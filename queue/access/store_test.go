package access

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
)

func testStore(t *testing.T, path string, c *clockwork.FakeClock) *Store {
	t.Helper()
	s, err := OpenStore(path, StoreOptions{Clock: c, HashParams: testHash})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestStoreWritesPrivateFileAtomically(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "data", "access.json") // the data dir is made too
	s := testStore(t, path, newClock())
	if err := s.AddUser(User{Name: "olena", DisplayName: "Олена Коваль", Role: RoleOperator, Windows: []int{5, 3}}, testPassword); err != nil {
		t.Fatal(err)
	}
	secret, err := s.AddToken("booking-site", []string{"bookings", "tickets"})
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %04o", fi.Mode().Perm())
	}
	b, _ := os.ReadFile(path)
	for _, secretText := range []string{testPassword, secret} {
		if bytes.Contains(b, []byte(secretText)) {
			t.Errorf("access.json holds %q in the clear", secretText)
		}
	}
	if !bytes.Contains(b, []byte("Олена Коваль")) {
		t.Errorf("display name not kept as UTF-8:\n%s", b)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	for _, e := range entries {
		if e.Name() != "access.json" && e.Name() != "access.json.lock" {
			t.Errorf("left behind: %s", e.Name())
		}
	}
	again := testStore(t, path, newClock())
	u, ok := again.User("olena")
	if !ok || u.Role != RoleOperator || fmt.Sprint(u.Windows) != "[3 5]" || u.DisplayName != "Олена Коваль" {
		t.Errorf("read back %+v, %v", u, ok)
	}
	if tok, ok := again.tokenFor(secret); !ok || strings.Join(tok.Scopes, ",") != "tickets,bookings" {
		t.Errorf("token read back %+v, %v", tok, ok)
	}
	if !strings.HasPrefix(secret, "cq_") || len(secret) != 3+43 {
		t.Errorf("token %q: expected cq_ and 32 bytes of base64url", secret)
	}
}

// Two writers (here two Stores, as queued and `queued user` would be)
// each add accounts at the same time; the flock makes every edit see the
// one before, so none is lost.
func TestStoreConcurrentEdits(t *testing.T) {
	path := filepath.Join(t.TempDir(), "access.json")
	c := newClock()
	stores := []*Store{testStore(t, path, c), testStore(t, path, c)}
	const each = 15
	var wg sync.WaitGroup
	errs := make(chan error, 2*each)
	for i, s := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range each {
				name := fmt.Sprintf("w%d-%02d", i, j)
				if j%2 == 0 {
					errs <- s.AddUser(User{Name: name, Role: RoleOperator}, testPassword)
				} else {
					_, err := s.AddToken(name, []string{ScopeTickets})
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	fresh := testStore(t, path, c)
	if n := len(fresh.Users()) + len(fresh.Tokens()); n != 2*each {
		t.Errorf("%d entries survived of %d", n, 2*each)
	}
}

func TestStoreNoticesExternalEdits(t *testing.T) {
	path := filepath.Join(t.TempDir(), "access.json")
	c := newClock()
	var log logBuffer
	server, err := OpenStore(path, StoreOptions{Clock: c, HashParams: testHash, Log: slog.New(slog.NewTextHandler(&log, nil))})
	if err != nil {
		t.Fatal(err)
	}
	shell := testStore(t, path, c)
	if err := shell.AddUser(User{Name: "olena", Role: RoleOperator}, testPassword); err != nil {
		t.Fatal(err)
	}
	if _, ok := server.User("olena"); ok {
		t.Error("the file was looked at again within a second")
	}
	c.Advance(time.Second)
	if _, ok := server.User("olena"); !ok {
		t.Fatal("an account added from the shell is not seen a second later")
	}

	if err := shell.RemoveUser("olena"); err != nil {
		t.Fatal(err)
	}
	if err := server.Reload(); err != nil {
		t.Fatal(err)
	}
	if _, ok := server.User("olena"); ok {
		t.Error("Reload did not see the removal")
	}

	// A broken hand edit is logged; what was read before stays.
	if err := shell.AddUser(User{Name: "petro", Role: RoleSupervisor}, testPassword); err != nil {
		t.Fatal(err)
	}
	c.Advance(time.Second)
	if _, ok := server.User("petro"); !ok {
		t.Fatal("petro not seen")
	}
	if err := os.WriteFile(path, []byte(`{"users": [`), 0o600); err != nil {
		t.Fatal(err)
	}
	c.Advance(time.Second)
	if _, ok := server.User("petro"); !ok {
		t.Error("a broken file dropped the accounts read before")
	}
	if !strings.Contains(log.String(), "cannot be read") {
		t.Errorf("nothing logged: %s", log.String())
	}
	if err := server.Reload(); !errors.Is(err, ErrBadStore) {
		t.Errorf("Reload of a broken file: %v", err)
	}
	if err := shell.AddUser(User{Name: "ivan", Role: RoleOperator}, testPassword); !errors.Is(err, ErrBadStore) {
		t.Errorf("an edit over a broken file: %v; expected it refused, not the file overwritten", err)
	}
}

func TestStoreRefusesReadableFile(t *testing.T) {
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o660} {
		t.Run(fmt.Sprintf("%04o", mode), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "access.json")
			if err := os.WriteFile(path, []byte(`{"version":1,"users":[],"tokens":[]}`), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, mode); err != nil {
				t.Fatal(err)
			}
			_, err := OpenStore(path, StoreOptions{})
			if !errors.Is(err, ErrInsecureFile) {
				t.Fatalf("got %v", err)
			}
			if !strings.Contains(err.Error(), "chmod 600 "+path) {
				t.Errorf("%q does not say how to fix it", err)
			}
		})
	}
}

func TestParseStoreRefusesBadFiles(t *testing.T) {
	hash, _ := HashPassword(testPassword, testHash)
	sum := strings.Repeat("ab", 32)
	entry := `{"name":"olena","display_name":"Олена","role":"operator","password_hash":"` + hash + `"`
	user := func(fields string) string { return `{"users":[` + entry + fields + `}]}` }
	good := user("")
	if _, err := parseStore([]byte(good)); err != nil {
		t.Fatalf("good file: %v", err)
	}
	for _, tc := range []struct{ name, file, want string }{
		{"unknown field", user(`,"pasword":"x"`), "unknown field"},
		{"trailing data", good + ` {}`, "after the JSON"},
		{"not JSON", `users: []`, "invalid character"},
		{"newer version", `{"version":2}`, "version 2"},
		{"bad name", strings.Replace(good, `"olena"`, `"Olena"`, 1), "bad name"},
		{"bad role", strings.Replace(good, `"operator"`, `"boss"`, 1), "bad role"},
		{"bad window", user(`,"windows":[0]`), "bad window"},
		{"window twice", user(`,"windows":[2,2]`), "twice"},
		{"clear password", strings.Replace(good, hash, "hunter2hunter2", 1), "bad password hash"},
		{"user twice", `{"users":[` + entry + `},` + entry + `}]}`, "listed twice"},
		{"bad sha256", `{"tokens":[{"name":"site","sha256":"xyz","scopes":["tickets"]}]}`, "sha256"},
		{"upper-case sha256", `{"tokens":[{"name":"site","sha256":"` + strings.ToUpper(sum) + `","scopes":["tickets"]}]}`, "sha256"},
		{"bad scope", `{"tokens":[{"name":"site","sha256":"` + sum + `","scopes":["everything"]}]}`, "bad scope"},
		{"no scope", `{"tokens":[{"name":"site","sha256":"` + sum + `","scopes":[]}]}`, "bad scope"},
		{"same token twice", `{"tokens":[{"name":"a","sha256":"` + sum + `","scopes":["hall"]},{"name":"b","sha256":"` + sum + `","scopes":["hall"]}]}`, "twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseStore([]byte(tc.file))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, expected an error saying %q", err, tc.want)
			}
		})
	}
}

func TestStoreEditsRefuseBadInput(t *testing.T) {
	s := testStore(t, filepath.Join(t.TempDir(), "access.json"), newClock())
	if err := s.AddUser(User{Name: "olena", Role: RoleOperator}, testPassword); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"short password", s.AddUser(User{Name: "ivan", Role: RoleOperator}, "short"), ErrBadPassword},
		{"bad name", s.AddUser(User{Name: "Іван", Role: RoleOperator}, testPassword), ErrBadName},
		{"bad role", s.AddUser(User{Name: "ivan", Role: "root"}, testPassword), ErrBadRole},
		{"exists", s.AddUser(User{Name: "olena", Role: RoleAdmin}, testPassword), ErrUserExists},
		{"no such account", s.SetPassword("nobody", testPassword), ErrNoUser},
		{"remove nobody", s.RemoveUser("nobody"), ErrNoUser},
		{"remove no token", s.RemoveToken("nothing"), ErrNoToken},
		{"role by update", s.UpdateUser("olena", func(u *User) { u.Role = "root" }), ErrBadRole},
	} {
		if !errors.Is(tc.err, tc.want) {
			t.Errorf("%s: got %v, expected %v", tc.name, tc.err, tc.want)
		}
	}
	if u, _ := s.User("olena"); u.Role != RoleOperator {
		t.Errorf("a refused update was kept: %+v", u)
	}
	if _, err := s.AddToken("site", []string{"hall"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddToken("site", []string{"hall"}); !errors.Is(err, ErrTokenExists) {
		t.Errorf("token twice: %v", err)
	}
}
