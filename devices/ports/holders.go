package ports

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Holder is a process that has a port open.
type Holder struct {
	PID     int    `json:"pid"`
	Command string `json:"command"` // its comm: minicom, kioskd
	Path    string `json:"path"`    // the node it holds, as asked for
}

// Holders finds the processes that hold any of paths open, by their
// /proc/PID/fd links. Each path is compared by the node it resolves to,
// so a /dev/serial/by-id/… name finds a process that opened /dev/ttyUSB0.
// Processes whose descriptors cannot be read (another user's, without
// root) are counted in hidden, not guessed at. ctx stops the scan.
func Holders(ctx context.Context, r Roots, paths []string) (held []Holder, hidden int, err error) {
	want := map[string]string{} // resolved node → the path asked for
	for _, p := range paths {
		want[p] = p
		if rp, err := filepath.EvalSymlinks(p); err == nil {
			want[rp] = p
		}
	}
	if len(want) == 0 {
		return nil, 0, nil
	}
	ents, err := os.ReadDir(r.proc())
	if err != nil {
		return nil, 0, err
	}
	self := os.Getpid()
	for _, e := range ents {
		if err := ctx.Err(); err != nil {
			return held, hidden, err
		}
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		fdDir := filepath.Join(r.proc(), e.Name(), "fd")
		fds, err := os.ReadDir(fdDir)
		if err != nil {
			if os.IsPermission(err) {
				hidden++
			}
			continue // gone, or hidden
		}
		seen := map[string]bool{}
		for _, fd := range fds {
			t, err := os.Readlink(filepath.Join(fdDir, fd.Name()))
			if err != nil {
				continue
			}
			if asked, ok := want[t]; ok && !seen[asked] {
				seen[asked] = true
				held = append(held, Holder{PID: pid, Command: readComm(r, e.Name()), Path: asked})
			}
		}
	}
	return held, hidden, nil
}

func readComm(r Roots, pid string) string {
	b, err := os.ReadFile(filepath.Join(r.proc(), pid, "comm"))
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(b))
}
