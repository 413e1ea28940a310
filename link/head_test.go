package link

import (
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/cherga/kiosk/link/proto"
)

// Head lists the oldest events still waiting, with their type and time,
// and the server's reason for one it refused; acknowledged ones are gone.
func TestHead(t *testing.T) {
	clock := clockwork.NewFakeClockAt(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	s := openStore(t, t.TempDir(), StoreOptions{Clock: clock})
	if h, err := s.Head(5); err != nil || len(h) != 0 {
		t.Fatalf("empty outbox: %v %v", h, err)
	}
	for range 4 {
		if _, err := s.Append(statusEvent()); err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Minute)
	}
	h, err := s.Head(2)
	if err != nil || len(h) != 2 || h[0].Seq != 1 || h[1].Seq != 2 || h[0].Type != proto.TypeDeviceStatus ||
		!h[1].At.Equal(clock.Now().Add(-3*time.Minute)) {
		t.Fatalf("head of 2: %+v %v", h, err)
	}
	if err := s.Ack(2); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.RecordRejected(4, &proto.Error{Code: "unknown_window", Message: "no window 9"}); err != nil {
		t.Fatal(err)
	}
	h, err = s.Head(10)
	if err != nil || len(h) != 2 || h[0].Seq != 3 || h[0].Rejected != nil || h[1].Rejected == nil || h[1].Rejected.Code != "unknown_window" {
		t.Fatalf("after the ack: %+v %v", h, err)
	}
}
