package link

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/cherga/kiosk/link/proto"
	"github.com/cherga/kiosk/queue/queuetest"
)

// BenchmarkFsync is the disk's raw limit: one 4 KB write and fsync.
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

func ticketMessage(i int) *proto.Message {
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second)
	return &proto.Message{Type: proto.TypeTicketIssued, Ticket: &proto.Ticket{
		Number: fmt.Sprintf("А1-%03d", i), Service: "subsidy-housing", Group: "subsidies",
		IssuedAt: at, TerminalAt: &at, Offline: true, State: proto.StateWaiting, Device: "kiosk-01"}}
}

// BenchmarkAppend is one producer: every event pays its own commit.
func BenchmarkAppend(b *testing.B) {
	s := openStore(b, b.TempDir(), StoreOptions{MaxEvents: 1 << 30, AlarmEvents: 1 << 30})
	i := 0
	for b.Loop() {
		i++
		if _, err := s.Append(ticketMessage(i)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkAppendParallel is many producers at once: appends that arrive
// together share a commit, so throughput grows with the producers until
// the CPU, not the disk, is the limit.
func BenchmarkAppendParallel(b *testing.B) {
	for _, producers := range []int{8, 32, 128} {
		b.Run(fmt.Sprintf("producers=%d", producers), func(b *testing.B) {
			s := openStore(b, b.TempDir(), StoreOptions{MaxEvents: 1 << 30, AlarmEvents: 1 << 30})
			var n atomic.Int64
			before := s.committed.Load()
			b.SetParallelism(max(1, producers/runtime.GOMAXPROCS(0)))
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := s.Append(ticketMessage(int(n.Add(1)))); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(b.N)/float64(s.committed.Load()-before), "events/commit")
		})
	}
}

// timer is a Handler that measures how long each call took from the
// moment queued made it to the moment it reached the terminal's handler.
type timer struct {
	recorder
	lat chan time.Duration
}

func (t *timer) Call(c proto.Call) { t.lat <- time.Since(c.At) }

// BenchmarkCallDelivery is a call from queued (committed, pushed) to the
// hall terminal's handler (inbox committed) over loopback.
func BenchmarkCallDelivery(b *testing.B) {
	office := queuetest.Start(b, nil)
	store := openStore(b, b.TempDir(), StoreOptions{})
	h := &timer{recorder: *newRecorder(), lat: make(chan time.Duration, 1)}
	c := New(Config{URL: office.LinkURL(), Device: "hall-01", Roles: []string{"hall"}}, store, h, quiet)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = c.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	receive(b, h.welcomes, "welcome")
	var lats []time.Duration
	for b.Loop() {
		if _, _, err := office.Queue.Issue("pension-age", "bench"); err != nil {
			b.Fatal(err)
		}
		_, eff, err := office.Queue.Next(9)
		if err != nil {
			b.Fatal(err)
		}
		office.API.Publish(eff) // as the HTTP handler does
		lats = append(lats, receive(b, h.lat, "call"))
	}
	slices.Sort(lats)
	b.ReportMetric(float64(lats[len(lats)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lats[len(lats)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkReplay is a terminal reconnecting with 10,000 events in its
// outbox: the time until the server has committed them all.
func BenchmarkReplay(b *testing.B) {
	const backlog = 10_000
	var total time.Duration
	for b.Loop() {
		b.StopTimer()
		office := queuetest.Start(b, nil)
		dir := b.TempDir()
		store, err := OpenStore(filepath.Join(dir, "kioskd.db"), StoreOptions{MaxEvents: 1 << 30, AlarmEvents: 1 << 30})
		if err != nil {
			b.Fatal(err)
		}
		err = store.update(func(tx *bolt.Tx) error {
			for i := range backlog {
				if _, err := store.appendTx(tx, ticketMessage(i+1)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		c := New(Config{URL: office.LinkURL(), Device: "kiosk-01", Roles: []string{"kiosk"}}, store, newRecorder(), quiet)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		b.StartTimer()
		start := time.Now()
		go func() { _ = c.Run(ctx); close(done) }()
		if err := c.WaitAck(context.Background(), backlog); err != nil {
			b.Fatal(err)
		}
		total += time.Since(start)
		b.StopTimer()
		cancel()
		<-done
		store.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(backlog*b.N)/total.Seconds(), "events/s")
}
