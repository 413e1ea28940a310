package datafile

import (
	"fmt"
	"os"
	"path/filepath"
)

// File is a new content for path, written to a temporary file beside it:
// nothing at path changes until Commit. Write to it like an *os.File.
type File struct {
	*os.File
	path string
	done bool
}

// Create starts a new content for path, mode 0600, in path's directory
// (which must exist).
func Create(path string) (*File, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*") // mode 0600
	if err != nil {
		return nil, fmt.Errorf("datafile: %w", err)
	}
	return &File{File: tmp, path: path}, nil
}

// Commit makes what was written the content of path: the owner path or
// its directory has (see the package doc), fsync, rename over path, fsync
// of the directory. After an error path is unchanged and the temporary
// file is gone.
func (f *File) Commit() error {
	if f.done {
		return fmt.Errorf("datafile: %s: already committed or aborted", f.path)
	}
	f.done = true
	defer os.Remove(f.Name()) // after a successful rename: nothing to remove
	if err := KeepOwner(f.File, f.path); err != nil {
		f.File.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.File.Close()
		return fmt.Errorf("datafile: sync %s: %w", f.Name(), err)
	}
	if err := f.File.Close(); err != nil {
		return fmt.Errorf("datafile: %w", err)
	}
	if err := os.Rename(f.Name(), f.path); err != nil {
		return fmt.Errorf("datafile: %w", err)
	}
	if err := syncDir(filepath.Dir(f.path)); err != nil {
		return fmt.Errorf("datafile: sync %s: %w", filepath.Dir(f.path), err)
	}
	return nil
}

// Abort throws away what was written; path is unchanged. It does nothing
// after Commit, so it can be deferred.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.File.Close()
	os.Remove(f.Name())
}

// WriteFile replaces path with b atomically, mode 0600, keeping the owner
// as Commit does.
func WriteFile(path string, b []byte) error {
	f, err := Create(path)
	if err != nil {
		return err
	}
	defer f.Abort()
	if _, err := f.Write(b); err != nil {
		return fmt.Errorf("datafile: write %s: %w", f.Name(), err)
	}
	return f.Commit()
}
