package simprinter

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/cherga/kiosk/devices"
	"github.com/cherga/kiosk/printer"
)

// A day of tickets through the real driver: each one's PNG is on disk,
// and the device's memory does not grow with their count. Nobody reads
// Printed, as in the demo.
func TestMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("prints 2,000 tickets")
	}
	prof, err := printer.LookupProfile("epson-tm-t20")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	d, err := New(prof, 80, dir)
	if err != nil {
		t.Fatal(err)
	}
	drv := printer.Open(printer.Config{
		Port:    printer.PipePort{Name: "simulated printer", Serve: func(c io.ReadWriteCloser) { _ = d.Serve(c) }},
		Driver:  "sim",
		Profile: prof, PaperMM: 80,
		// The number alone: the same way through the driver and the
		// device as a whole ticket, at a fraction of the drawing, which
		// the race detector makes slow.
		Template: printer.Template{Blocks: []string{printer.BlockNumber}},
	})
	defer drv.Close()
	for st := drv.Status(); st.State != devices.OK; st = drv.Status() {
		select {
		case <-drv.Changes():
		case <-time.After(20 * time.Second):
			t.Fatalf("printer is %s %q", st.State, st.Detail)
		}
	}
	heap := func() uint64 {
		// Twice: what sync.Pools hold goes at the second.
		runtime.GC()
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	printUpTo := func(from, to int) {
		t.Helper()
		for i := from; i < to; i++ {
			tk := ticket()
			tk.Number = fmt.Sprintf("П%04d", i)
			if err := drv.Print(context.Background(), tk); err != nil {
				t.Fatalf("ticket %d: %v", i, err)
			}
		}
	}
	printUpTo(0, 200)
	at200 := heap()
	printUpTo(200, 2000)
	at2000 := heap()
	// A picture of this ticket is about 70 KB (of a whole one, 500 KB):
	// 1,800 kept would be 120 MB; the margin is 150 bytes a ticket.
	if at2000 > at200+256<<10 {
		t.Errorf("heap %d KB after 200 tickets, %d KB after 2,000", at200>>10, at2000>>10)
	}
	if n := d.Count(); n != 2000 {
		t.Errorf("counted %d tickets, want 2000", n)
	}
	last := d.Tickets()
	if len(last) != KeptTickets {
		t.Fatalf("kept %d tickets, want the last %d", len(last), KeptTickets)
	}
	if p := last[len(last)-1]; p.Headline != "П1999" {
		t.Errorf("the last ticket kept is %+v", p)
	}
	if fi, err := os.Stat(last[len(last)-1].Path); err != nil || fi.Size() < 100 {
		t.Errorf("last ticket's png: %v %v", fi, err)
	}
	if files, _ := filepath.Glob(filepath.Join(dir, "*.png")); len(files) != 2000 {
		t.Errorf("%d png files, want 2000", len(files))
	}
	t.Logf("heap %d KB after 200 tickets, %d KB after 2,000", at200>>10, at2000>>10)
}
