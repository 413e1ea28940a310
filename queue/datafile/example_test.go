package datafile_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/cherga/kiosk/queue/datafile"
)

// A file of queued's data directory is replaced whole or not at all.
func ExampleCreate() {
	dir, _ := os.MkdirTemp("", "queued")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "booking.key")

	f, err := datafile.Create(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Abort() // after Commit: nothing to undo
	fmt.Fprintln(f, "00112233445566778899aabbccddeeff")
	if err := f.Commit(); err != nil {
		fmt.Println(err)
		return
	}
	fi, _ := os.Stat(path)
	fmt.Println(fi.Mode().Perm())
	// Output: -rw-------
}
