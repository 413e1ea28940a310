package ship

import (
	"testing"
	"time"

	"github.com/cherga/kiosk/queue/record"
)

// Events keep the office's times while its clock is within CorrectAbove
// of the database's, and are moved by the offset beyond.
func TestCorrect(t *testing.T) {
	at := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		offset, want time.Duration
	}{
		{0, 0},
		{900 * time.Millisecond, 0},
		{-CorrectAbove, 0},
		{time.Hour, time.Hour},
		{-90 * time.Second, -90 * time.Second},
	} {
		s := &Shipper{}
		s.offset.Store(int64(c.offset))
		events := []record.Event{{Seq: 1, At: at, Day: "2026-12-02"}, {Seq: 2, At: at.Add(time.Minute), Day: "2026-12-02"}}
		s.correct(events)
		for i, e := range events {
			if want := at.Add(time.Duration(i) * time.Minute).Add(c.want); !e.At.Equal(want) || e.Day != "2026-12-02" {
				t.Errorf("offset %s: event %d at %s day %s, want %s", c.offset, e.Seq, e.At, e.Day, want)
			}
		}
	}
}
