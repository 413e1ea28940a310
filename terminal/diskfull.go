package terminal

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/sys/unix"

	"github.com/cherga/kiosk/httpapi"
)

// diskPart watches for the data directory's disk being full. The outbox
// (link.Store) notices it: a commit that fails with ENOSPC or EDQUOT
// raises its DiskFull state, which /healthz and the metrics show as the
// disk_full alarm and the kiosk answers as 507 disk_full (its page tells
// visitors to ask staff). The state clears with the next commit that
// succeeds; while it is raised this part tries a tiny commit every
// diskProbeEvery, so that the alarm clears once space is freed even if
// nobody takes a ticket meanwhile.
type diskPart struct{ t *Terminal }

// diskProbeEvery is how often a full disk is tried again.
const diskProbeEvery = 10 * time.Second

func newDiskPart(b *build) (part, error) { return diskPart{b.Terminal}, nil }

func (diskPart) Name() string                    { return "disk" }
func (diskPart) Close() error                    { return nil }
func (diskPart) Register(httpapi.Routes)         {}
func (p diskPart) addHealth(h *health)           { p.t.addDiskHealth(h) }
func (p diskPart) Run(ctx context.Context) error { return p.t.probeDisk(ctx) }

func (t *Terminal) probeDisk(ctx context.Context) error {
	tick := t.clock.NewTicker(diskProbeEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.Chan():
		}
		if t.store.DiskFull() {
			_ = t.store.Probe() // clears DiskFull if it commits
		}
	}
}

// addDiskHealth raises the disk_full alarm in /healthz.
func (t *Terminal) addDiskHealth(h *health) {
	if !t.store.DiskFull() {
		return
	}
	h.Status = "degraded"
	h.Alarms = append(h.Alarms, "disk_full: "+t.diskFullDetail())
}

// diskFullDetail says what is full and what to do.
func (t *Terminal) diskFullDetail() string {
	free := "an unknown number of"
	if n, err := freeBytes(t.cfg.DataDir); err == nil {
		free = fmt.Sprint(n)
	}
	return fmt.Sprintf("the disk of data_dir %s is full (%s bytes free): no event can be committed and the kiosk issues no tickets; "+
		"free space on it (old logs, journalctl --vacuum-size=50M) and the alarm clears by itself", t.cfg.DataDir, free)
}

// freeBytes is what an unprivileged process may still write on dir's
// file system.
func freeBytes(dir string) (uint64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return st.Bavail * uint64(st.Bsize), nil
}
