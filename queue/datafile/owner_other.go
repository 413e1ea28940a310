//go:build !(linux || darwin || freebsd || openbsd || netbsd || dragonfly)

package datafile

import "os"

// Elsewhere (Windows, for development only) files have no Unix owner and
// a directory cannot be synced: the file's protection is the directory's
// ACL.

// Owner never names an owner here.
func Owner(string) (uid, gid int, ok bool, err error) { return 0, 0, false, nil }

// KeepOwner does nothing here.
func KeepOwner(*os.File, string) error { return nil }

// KeepFileOwner does nothing here.
func KeepFileOwner(string) error { return nil }

func syncDir(string) error { return nil }
