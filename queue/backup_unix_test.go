//go:build linux || darwin || freebsd || openbsd || netbsd || dragonfly

package queue

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// A booking key made by queued started from a root shell belongs to the
// data directory's user, so queued running as that user can read it.
func TestBookingKeyOwner(t *testing.T) {
	dir := t.TempDir()
	owner := os.Getuid()
	if os.Geteuid() == 0 {
		owner = 65534 // nobody
		if err := os.Chown(dir, owner, owner); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "booking.key")
	key, err := LoadBookingKey(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st := fi.Sys().(*syscall.Stat_t); int(st.Uid) != owner || fi.Mode().Perm() != 0o600 {
		t.Errorf("booking.key: owner %d mode %04o, want %d and 0600", st.Uid, fi.Mode().Perm(), owner)
	}
	again, err := LoadBookingKey(path)
	if err != nil || string(again) != string(key) {
		t.Errorf("read again: %x %v, want %x", again, err, key)
	}
}
