package link

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cherga/kiosk/link/linktest"
	"github.com/cherga/kiosk/link/proto"
)

// On a real file system that fills up, a commit fails with ErrDiskFull
// (not a generic error), DiskFull is raised, and the store stays whole:
// once space is freed the next commit succeeds, clears it, and every event
// committed before is still there after reopening.
func TestDiskFull(t *testing.T) {
	dir, ok := linktest.TinyFS(t, 1<<20)
	if !ok {
		return
	}
	path := filepath.Join(dir, "kioskd.db")
	s, err := OpenStore(path, StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s.Close() }()
	msg := func(i int) *proto.Message {
		return &proto.Message{Type: proto.TypeDeviceStatus, Status: &proto.DeviceStatus{At: time.Unix(int64(i), 0),
			Devices: []proto.DeviceState{{Name: "printer", Kind: "printer", State: "ok", Detail: strings.Repeat("x", 900)}}}}
	}
	committed := 0
	for i := range 10 {
		if _, err := s.Append(msg(i)); err != nil {
			t.Fatal(err)
		}
		committed++
	}
	filler := linktest.Fill(t, dir)
	for i := range 100_000 {
		_, err = s.Append(msg(i))
		if err != nil {
			break
		}
		committed++
	}
	if !errors.Is(err, ErrDiskFull) {
		t.Fatalf("after %d events on a full disk: %v, want ErrDiskFull", committed, err)
	}
	if !s.DiskFull() {
		t.Fatal("DiskFull not raised")
	}
	t.Logf("disk full after %d events: %v", committed, err)
	if _, err := s.Append(msg(-1)); !errors.Is(err, ErrDiskFull) || !s.DiskFull() {
		t.Fatalf("again: %v, DiskFull %v", err, s.DiskFull())
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if err := s.Probe(); err != nil || s.DiskFull() {
		t.Fatalf("probe with room: %v, DiskFull %v", err, s.DiskFull())
	}
	if _, err := s.Append(msg(-2)); err != nil {
		t.Fatalf("with room again: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = OpenStore(path, StoreOptions{}); err != nil {
		t.Fatalf("reopen: %v", err)
	}
	if got := s.Buffered(); got != committed+1 {
		t.Fatalf("after reopening: %d events, want %d", got, committed+1)
	}
}
