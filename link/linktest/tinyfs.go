// Package linktest helps tests of the terminal's store: a real file
// system small enough to fill up.
package linktest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// childEnv marks the test process TinyFS started in a user namespace.
const childEnv = "CHERGA_TINYFS_CHILD"

// TinyFS mounts a tmpfs of size bytes on a new temporary directory,
// unmounted when the test ends, and returns the directory with ok true.
//
// Mounting needs root (a container's root, or CI's, is enough). A test not
// run as root is run again, alone, in a new user and mount namespace,
// where it may mount a tmpfs of its own: TinyFS then reports that run's
// outcome as the test's own and returns ok false, and the test returns at
// once. If neither works (user namespaces disabled), the test fails when
// CI is set and is skipped otherwise.
func TinyFS(t *testing.T, size int) (dir string, ok bool) {
	t.Helper()
	dir = t.TempDir()
	err := unix.Mount("tmpfs", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, fmt.Sprintf("size=%d,mode=0755", size))
	if err == nil {
		t.Cleanup(func() {
			if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
				t.Errorf("unmount %s: %v", dir, err)
			}
		})
		return dir, true
	}
	if os.Getenv(childEnv) == "" && errors.Is(err, unix.EPERM) {
		cmd := exec.Command(os.Args[0], "-test.run=^"+regexp.QuoteMeta(t.Name())+"$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), childEnv+"=1")
		cmd.SysProcAttr = &syscall.SysProcAttr{
			Cloneflags:  syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS,
			UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
			GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}},
		}
		out, cerr := cmd.CombinedOutput()
		var exit *exec.ExitError
		switch {
		case cerr == nil:
			t.Logf("run again in a user namespace to mount a tmpfs; it passed:\n%s", out)
			return "", false
		case errors.As(cerr, &exit):
			t.Fatalf("run again in a user namespace to mount a tmpfs; it failed:\n%s", out)
		}
		err = errors.Join(err, fmt.Errorf("user namespace: %w", cerr))
	}
	msg := fmt.Sprintf("cannot mount a tmpfs of %d bytes (needs root, or user namespaces): %v", size, err)
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return "", false
}

// Fill writes a file in dir until its file system is full, and returns
// its path: removing it frees the space again.
func Fill(t testing.TB, dir string) string {
	t.Helper()
	path := dir + "/filler"
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, unix.ENOSPC) {
				t.Fatalf("fill %s: %v", dir, err)
			}
			break
		}
	}
	// Whatever is left below a page.
	for _, n := range []int{1024, 64, 1} {
		for {
			if _, err := f.Write(buf[:n]); err != nil {
				break
			}
		}
	}
	return path
}
