//go:build linux || darwin || freebsd || openbsd || netbsd || dragonfly

package access

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// queued user and queued token from a root shell leave access.json (and
// its lock file) with the data directory's owner, so that queued running
// as that user still reads it; run as anyone else, the files are the
// process's own. A root-owned file left by an older version is healed at
// the next edit.
func TestStoreKeepsDataDirOwner(t *testing.T) {
	dir := t.TempDir()
	owner, group := os.Getuid(), os.Getgid()
	root := os.Geteuid() == 0
	if root {
		owner, group = 65534, 65534 // nobody, as queued's user would own its directory
		if err := os.Chown(dir, owner, group); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "access.json")
	ownedBy := func(what string) {
		t.Helper()
		for _, p := range []string{path, path + ".lock"} {
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			st := fi.Sys().(*syscall.Stat_t)
			if int(st.Uid) != owner || int(st.Gid) != group || fi.Mode().Perm() != 0o600 {
				t.Errorf("%s: %s is %d:%d mode %04o, want %d:%d 0600", what, filepath.Base(p), st.Uid, st.Gid, fi.Mode().Perm(), owner, group)
			}
		}
	}
	s := testStore(t, path, newClock())
	if err := s.AddUser(User{Name: "olena", Role: RoleOperator}, "a long enough password"); err != nil {
		t.Fatal(err)
	}
	ownedBy("new file")
	if root {
		// An older queued user run as root left both root's.
		for _, p := range []string{path, path + ".lock"} {
			if err := os.Chown(p, 0, 0); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := s.AddToken("booking-site", []string{ScopeBookings}); err != nil {
		t.Fatal(err)
	}
	ownedBy("edited file")
}
