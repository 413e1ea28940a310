package kiosk

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cherga/kiosk/display/webtest"
)

// firstByte watches the printer's cable and says when the first byte of
// a ticket (ESC @, which every ticket starts with) reaches the printer.
type firstByte struct {
	io.ReadWriteCloser
	mu    sync.Mutex
	armed bool
	at    chan time.Time
}

func (f *firstByte) Read(p []byte) (int, error) {
	n, err := f.ReadWriteCloser.Read(p)
	if n > 0 && bytes.Contains(p[:n], []byte{0x1b, '@'}) {
		now := time.Now()
		f.mu.Lock()
		if f.armed {
			f.armed = false
			f.at <- now
		}
		f.mu.Unlock()
	}
	return n, err
}

func (f *firstByte) arm() {
	f.mu.Lock()
	f.armed = true
	f.mu.Unlock()
}

// BenchmarkTapToPrinter: what a tap on "take a ticket" sends (POST
// /api/v1/tickets over loopback) until the ticket's first byte reaches
// the printer, through the real ESC/POS driver to the simulated printer.
// Online the ticket is reserved at a local queued first; offline it comes
// from the kiosk's own series, committed to its bbolt outbox (with its
// hand-out record, and printing started, on disk before the first byte).
func BenchmarkTapToPrinter(b *testing.B) {
	for _, mode := range []string{"online", "offline"} {
		b.Run(mode, func(b *testing.B) {
			wire := &firstByte{at: make(chan time.Time, 1)}
			r := newRig(b, true, withWire(func(c io.ReadWriteCloser) io.ReadWriteCloser {
				wire.ReadWriteCloser = c
				return wire
			}))
			go func() {
				for range r.printed {
				}
			}()
			if mode == "offline" {
				// Until the link notices, a ticket may still wait for the
				// server's answer: take tickets until one comes offline.
				r.office.Stop()
				for n := 0; ; n++ {
					if n == 50 {
						b.Fatal("the kiosk never went offline")
					}
					wire.arm()
					if out, err := r.k.Take(context.Background(), "pension-age"); err != nil {
						b.Fatal(err)
					} else if out.Offline {
						break
					}
				}
				<-wire.at
			}
			services := []string{"pension-age", "certificate-income", "subsidy-housing"}
			var lat []float64
			i := 0
			for b.Loop() {
				i++
				wire.arm()
				start := time.Now()
				resp, err := http.Post(r.api.URL+"/api/v1/tickets", "application/json",
					strings.NewReader(`{"service":"`+services[i%len(services)]+`"}`))
				if err != nil {
					b.Fatal(err)
				}
				at := <-wire.at
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusCreated {
					b.Fatalf("ticket: %s", resp.Status)
				}
				lat = append(lat, float64(at.Sub(start).Microseconds())/1000)
			}
			slices.Sort(lat)
			b.ReportMetric(lat[len(lat)/2], "p50-ms")
			b.ReportMetric(lat[len(lat)*99/100], "p99-ms")
		})
	}
}

// BenchmarkPageColdLoad: the kiosk page loaded with the browser's cache
// off (as after a reboot) until its home screen takes taps: the page,
// its script and style, the message catalogue and the service catalogue,
// measured by the page from the start of navigation.
func BenchmarkPageColdLoad(b *testing.B) {
	r := newRig(b, true)
	br := webtest.Start(b, 1080, 1920)
	if err := br.NoCache(); err != nil {
		b.Fatal(err)
	}
	var ready []float64
	for b.Loop() {
		if err := br.Open(r.api.URL + "/kiosk/"); err != nil {
			b.Fatal(err)
		}
		if err := br.WaitTrue(`window.kiosk && kiosk.readyAt() > 0`, 10*time.Second); err != nil {
			b.Fatal(err)
		}
		ms, err := webtest.Eval[float64](br, `kiosk.readyAt()`)
		if err != nil {
			b.Fatal(err)
		}
		ready = append(ready, ms)
	}
	slices.Sort(ready)
	b.ReportMetric(ready[len(ready)/2], "p50-ms")
	b.ReportMetric(ready[len(ready)*99/100], "p99-ms")
}
