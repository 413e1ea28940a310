package link

import (
	"errors"
	"syscall"

	bolt "go.etcd.io/bbolt"
)

// ErrDiskFull marks a write to the store that failed because the data
// directory's file system is full (ENOSPC) or its quota is used up
// (EDQUOT). Nothing was committed; the store raises its disk-full state
// (DiskFull) until a commit succeeds again.
var ErrDiskFull = errors.New("link: the data directory's disk is full")

// isDiskFull: err is a file system out of space or quota.
func isDiskFull(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}

// noteCommit records how a commit went for DiskFull and returns its error,
// marked with ErrDiskFull when the disk is full.
func (s *Store) noteCommit(err error) error {
	switch {
	case err == nil:
		if s.diskFull.Swap(false) {
			s.opts.Log.Info("the data directory has room again: the disk-full alarm is cleared")
		}
	case isDiskFull(err):
		if !s.diskFull.Swap(true) {
			s.opts.Log.Error("disk full: events cannot be committed; tickets are refused until there is room", "err", err)
		}
		if !errors.Is(err, ErrDiskFull) {
			err = errors.Join(ErrDiskFull, err)
		}
	}
	return err
}

// DiskFull says whether the last commit failed for want of space (or
// quota) on the data directory's file system.
func (s *Store) DiskFull() bool { return s.diskFull.Load() }

// Probe commits a tiny write (the state's probe key), to learn whether the
// disk has room again while DiskFull is raised; nothing else reads it.
func (s *Store) Probe() error {
	return s.update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketState).Put(keyProbe, u64(uint64(s.clock.Now().UnixNano())))
	})
}

var keyProbe = []byte("probe")
