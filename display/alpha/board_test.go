package alpha_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/jonboulle/clockwork"

	"github.com/cherga/kiosk/devices"
	"github.com/cherga/kiosk/display/alpha"
)

// line is a serial cable to a simulated sign: a pseudo-terminal reached
// through a symlink, as a /dev/serial/by-id name is, so it can be pulled
// out and plugged back in.
type line struct {
	t      *testing.T
	path   string
	sign   *alpha.Sign
	mu     sync.Mutex
	master *os.File
	slave  *os.File
}

func newLine(t *testing.T, sign *alpha.Sign) *line {
	l := &line{t: t, path: filepath.Join(t.TempDir(), "sign"), sign: sign}
	t.Cleanup(l.unplug)
	return l
}

func (l *line) plug() {
	ptmx, slave, err := pty.Open()
	if err != nil {
		l.t.Fatal(err)
	}
	// The sign only reads. A blocking read would keep the master open
	// after Close; a non-blocking one is woken, so unplug hangs up the
	// line as pulling a USB adapter does.
	fd, err := syscall.Dup(int(ptmx.Fd()))
	ptmx.Close()
	if err == nil {
		err = syscall.SetNonblock(fd, true)
	}
	if err != nil {
		l.t.Fatal(err)
	}
	master := os.NewFile(uintptr(fd), "ptmx")
	tmp := l.path + ".new"
	if err := os.Symlink(slave.Name(), tmp); err != nil {
		l.t.Fatal(err)
	}
	if err := os.Rename(tmp, l.path); err != nil {
		l.t.Fatal(err)
	}
	l.mu.Lock()
	l.master, l.slave = master, slave
	l.mu.Unlock()
	go func() {
		if err := l.sign.Serve(master); err != nil {
			l.t.Logf("sign: %v", err)
		}
	}()
}

func (l *line) unplug() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.master != nil {
		l.master.Close()
		l.slave.Close()
		l.master, l.slave = nil, nil
	}
	os.Remove(l.path)
}

func open(t *testing.T, cfg alpha.Config) *alpha.Board {
	t.Helper()
	b, err := alpha.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func frame(t *testing.T, s *alpha.Sign) alpha.Frame {
	t.Helper()
	select {
	case f := <-s.Frames():
		return f
	case <-time.After(20 * time.Second):
		t.Fatal("the sign got nothing")
		panic("unreachable")
	}
}

func waitState(t *testing.T, b *alpha.Board, state devices.State, want string) {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		st := b.Status()
		if st.State == state && strings.Contains(st.Detail, want) {
			return
		}
		select {
		case <-b.Changes():
		case <-timeout:
			t.Fatalf("board is %s %q, want %s %q", st.State, st.Detail, state, want)
		}
	}
}

// blocked waits until the board's goroutine waits on the clock.
func blocked(t *testing.T, clk *clockwork.FakeClock) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := clk.BlockUntilContext(ctx, 1); err != nil {
		t.Fatal("the board never waited on its clock")
	}
}

// Updates are paced: what changes while the board waits is coalesced and
// only the latest is sent.
func TestBoardPacesAndCoalesces(t *testing.T) {
	sign := alpha.NewSign("", alpha.Latin)
	l := newLine(t, sign)
	l.plug()
	clk := clockwork.NewFakeClock()
	b := open(t, alpha.Config{Name: "hall", Port: l.path, Baud: 9600, Address: "01", Lines: 2, Clock: clk})
	f := frame(t, sign) // the current (blank) text goes first
	if f.Address != "01" || !f.Checked || len(f.Text()) != 0 {
		t.Fatalf("first frame %+v", f)
	}
	blocked(t, clk) // pacing
	b.Show([]string{"А123 → 5"})
	b.Show([]string{"Б7 → 2"})
	b.Show([]string{"В8 → 3", "А123 → 5"})
	clk.Advance(250 * time.Millisecond)
	f = frame(t, sign)
	if got := strings.Join(alpha.Decode(f.Text(), alpha.Latin), "|"); got != "V8 > 3|A123 > 5" {
		t.Fatalf("sent %q, want only the latest", got)
	}
	waitState(t, b, devices.OK, "2 overtaken")
	// Idle for the refresh time: the same text is written again.
	blocked(t, clk)
	clk.Advance(250 * time.Millisecond)
	blocked(t, clk)
	clk.Advance(time.Minute)
	if f := frame(t, sign); string(f.Text()) != "V8 > 3\rA123 > 5" {
		t.Fatalf("refresh sent %q", f.Text())
	}
	if n, err := sign.Dropped(); n != 0 {
		t.Errorf("the sign dropped %d frames: %v", n, err)
	}
}

// A sign that is not there is a fault naming its port, retried; plugged
// in, it gets the current text; pulled out, it is a fault again and gets
// the text once more when it is back.
func TestBoardReconnects(t *testing.T) {
	sign := alpha.NewSign("", alpha.Latin)
	l := newLine(t, sign)
	clk := clockwork.NewFakeClock()
	b := open(t, alpha.Config{Name: "window-5", Port: l.path, Baud: 9600, Framing: "7E2", Clock: clk})
	b.Show([]string{"А123"})
	waitState(t, b, devices.Fault, "cannot open the sign's port: open "+l.path)
	l.plug()
	blocked(t, clk)
	clk.Advance(time.Second)
	if f := frame(t, sign); string(f.Text()) != "A123" {
		t.Fatalf("after plugging in: %q", f.Text())
	}
	waitState(t, b, devices.OK, "7E2 on "+l.path)

	l.unplug()
	waitState(t, b, devices.Fault, "line to the sign lost")
	b.Show([]string{"Я9"})
	// The retry waits grow; keep advancing until the sign is back.
	l.plug()
	for range 100 {
		// OK means the text was written on the new line (the kernel
		// hands it to the sign a moment later).
		if b.Status().State == devices.OK {
			if f := frame(t, sign); string(f.Text()) != "Ya9" {
				t.Fatalf("after the replug: %q", f.Text())
			}
			return
		}
		blocked(t, clk)
		clk.Advance(30 * time.Second)
	}
	n, err := sign.Dropped()
	t.Fatalf("the sign never got the text again; board %+v; sign dropped %d (%v)", b.Status(), n, err)
}

// A sign with a Cyrillic font on an 8-bit line gets Windows-1251.
func TestBoardCP1251(t *testing.T) {
	sign := alpha.NewSign("07", alpha.CP1251)
	l := newLine(t, sign)
	l.plug()
	b := open(t, alpha.Config{Name: "hall", Port: l.path, Baud: 19200, Framing: "8N1", Address: "07", Charset: alpha.CP1251})
	frame(t, sign)
	b.Show([]string{"Ґ12 → вікно 4"})
	frame(t, sign)
	if got := sign.Lines(); len(got) != 1 || got[0] != "Ґ12 > вікно 4" {
		t.Fatalf("sign shows %q", got)
	}
}

func TestBoardBadSettings(t *testing.T) {
	for _, cfg := range []alpha.Config{
		{Port: "/dev/ttyUSB1", Framing: "9N1"},
		{Port: "/dev/ttyUSB1", Charset: alpha.CP1251},
		{Port: "/dev/ttyUSB1", Address: "G1"},
		{Port: "/dev/ttyUSB1", Charset: "koi8"},
		{},
	} {
		if b, err := alpha.Open(cfg); err == nil {
			b.Close()
			t.Errorf("Open(%+v) accepted", cfg)
		}
	}
}
