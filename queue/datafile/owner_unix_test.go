//go:build linux || darwin || freebsd || openbsd || netbsd || dragonfly

package datafile

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

const nobody = 65534

func ownerOf(t *testing.T, path string) (uid, gid int) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	return int(st.Uid), int(st.Gid)
}

// As root: a new file in another user's directory is that user's; a
// file another user owns keeps its owner; a root-owned file there is
// given the directory's owner. As anyone else (or pretending): files are
// the process's own.
func TestOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		dir := t.TempDir()
		path := filepath.Join(dir, "f")
		if err := WriteFile(path, []byte("x")); err != nil {
			t.Fatal(err)
		}
		if uid, _ := ownerOf(t, path); uid != os.Geteuid() {
			t.Errorf("owner %d, want %d", uid, os.Geteuid())
		}
		return
	}
	dir := t.TempDir()
	if err := os.Chown(dir, nobody, nobody); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "access.json")
	if err := WriteFile(path, []byte("new")); err != nil {
		t.Fatal(err)
	}
	if uid, gid := ownerOf(t, path); uid != nobody || gid != nobody {
		t.Errorf("new file in nobody's directory: %d:%d", uid, gid)
	}
	// A file of a third user keeps its owner.
	if err := os.Chown(path, 1234, 5678); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, []byte("edited")); err != nil {
		t.Fatal(err)
	}
	if uid, gid := ownerOf(t, path); uid != 1234 || gid != 5678 {
		t.Errorf("another user's file: %d:%d, want 1234:5678", uid, gid)
	}
	// Root's file in nobody's directory is healed.
	if err := os.Chown(path, 0, 0); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, []byte("healed")); err != nil {
		t.Fatal(err)
	}
	if uid, _ := ownerOf(t, path); uid != nobody {
		t.Errorf("root's file in nobody's directory: owner %d", uid)
	}
	// A lock file made in place.
	lock := filepath.Join(dir, "access.json.lock")
	if err := os.WriteFile(lock, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := KeepFileOwner(lock); err != nil {
		t.Fatal(err)
	}
	if uid, _ := ownerOf(t, lock); uid != nobody {
		t.Errorf("lock file: owner %d", uid)
	}
	// Root's own directory: root's files.
	rootDir := t.TempDir()
	if err := os.Chown(rootDir, 0, 0); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(filepath.Join(rootDir, "f"), []byte("x")); err != nil {
		t.Fatal(err)
	}
	if uid, _ := ownerOf(t, filepath.Join(rootDir, "f")); uid != 0 {
		t.Errorf("root's directory: owner %d", uid)
	}

	// Not root (pretended): nothing is given away.
	geteuid = func() int { return 1000 }
	t.Cleanup(func() { geteuid = os.Geteuid })
	if _, _, ok, err := Owner(path); ok || err != nil {
		t.Errorf("Owner as a non-root user: ok %v err %v", ok, err)
	}
}
