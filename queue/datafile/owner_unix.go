//go:build linux || darwin || freebsd || openbsd || netbsd || dragonfly

package datafile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// geteuid is the effective user id; a variable so tests can pretend not
// to be root.
var geteuid = os.Geteuid

// Owner returns the user and group a file written at path should have
// when the process runs as root: those of the file already there when
// another user owns it, else those of its directory when another user
// owns that (so a root-owned file left by an older version in queued's
// directory is healed). ok is false when the process is not root (what
// it makes is its own, as it should be) or when root owns both.
func Owner(path string) (uid, gid int, ok bool, err error) {
	if geteuid() != 0 {
		return 0, 0, false, nil
	}
	uid, gid, ok, err = foreignOwner(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return 0, 0, false, fmt.Errorf("datafile: owner of %s: %w", path, err)
	}
	if ok {
		return uid, gid, true, nil
	}
	dir := filepath.Dir(path)
	if uid, gid, ok, err = foreignOwner(dir); err != nil {
		return 0, 0, false, fmt.Errorf("datafile: owner of %s: %w", dir, err)
	}
	return uid, gid, ok, nil
}

// foreignOwner is the owner of path when it is not root.
func foreignOwner(path string) (uid, gid int, ok bool, err error) {
	fi, err := os.Stat(path)
	if err != nil {
		return 0, 0, false, err
	}
	st, isUnix := fi.Sys().(*syscall.Stat_t)
	if !isUnix || st.Uid == 0 {
		return 0, 0, false, nil
	}
	return int(st.Uid), int(st.Gid), true, nil
}

// KeepOwner gives f, a new file about to replace path, the owner Owner
// names, when there is one.
func KeepOwner(f *os.File, path string) error {
	uid, gid, ok, err := Owner(path)
	if err != nil || !ok {
		return err
	}
	if err := f.Chown(uid, gid); err != nil {
		return fmt.Errorf("datafile: chown %s to %d:%d: %w", f.Name(), uid, gid, err)
	}
	return nil
}

// KeepFileOwner gives the file at path, one used in place (a lock file),
// the owner Owner names for it, when there is one.
func KeepFileOwner(path string) error {
	uid, gid, ok, err := Owner(path)
	if err != nil || !ok {
		return err
	}
	if fi, err := os.Stat(path); err == nil {
		if st, isUnix := fi.Sys().(*syscall.Stat_t); isUnix && int(st.Uid) == uid && int(st.Gid) == gid {
			return nil
		}
	}
	if err := os.Chown(path, uid, gid); err != nil {
		return fmt.Errorf("datafile: chown %s to %d:%d: %w", path, uid, gid, err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
