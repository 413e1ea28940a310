package queue

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkIssue is one ticket committed to bbolt (one fsync) before it is
// answered. BenchmarkFsync beside it is the disk's raw limit.
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

func BenchmarkFsync(b *testing.B) {
	f, err := os.Create(filepath.Join(b.TempDir(), "f"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	for b.Loop() {
		if _, err := f.WriteAt(buf, 0); err != nil {
			b.Fatal(err)
		}
		if err := f.Sync(); err != nil {
			b.Fatal(err)
		}
	}
}
