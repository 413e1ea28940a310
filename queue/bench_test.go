package queue

import (
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkIssue is one ticket committed to bbolt before it is answered;
// link's BenchmarkFsync is the disk's raw limit.
func BenchmarkIssue(b *testing.B) {
	c := newClock()
	q := openTest(b, filepath.Join(b.TempDir(), "q.db"), c)
	services := []string{"subsidy-housing", "pension-age"}
	for i := 0; b.Loop(); i++ {
		if _, _, err := q.Issue(services[i%2], "bench"); err != nil {
			b.Fatal(err)
		}
		c.Advance(time.Millisecond)
	}
}
