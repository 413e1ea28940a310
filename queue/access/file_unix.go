//go:build linux || darwin || freebsd || openbsd || netbsd || dragonfly

package access

import (
	"os"

	"golang.org/x/sys/unix"

	"github.com/cherga/kiosk/queue/datafile"
)

const permissionsMatter = true

// lockFile takes an exclusive flock on path, waiting for another holder
// (queued, or `queued user` in a shell). The lock is on a file of its own
// because access.json itself is replaced by rename at every change.
func lockFile(path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	// A lock file a root shell made must stay usable by queued.
	if err := datafile.KeepFileOwner(path); err != nil {
		f.Close()
		return nil, err
	}
	return func() { f.Close() }, nil // closing releases the lock
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
