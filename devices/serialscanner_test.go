package devices

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/jonboulle/clockwork"
)

func TestFramer(t *testing.T) {
	var f Framer
	codes, over := f.Feed([]byte("AB"))
	if len(codes) != 0 || over != 0 {
		t.Fatal(codes, over)
	}
	codes, _ = f.Feed([]byte("C\r\nDE\n\nF"))
	if len(codes) != 2 || string(codes[0]) != "ABC" || string(codes[1]) != "DE" {
		t.Fatalf("%q", codes)
	}
	if c, _ := f.Flush(); string(c) != "F" {
		t.Fatalf("flush %q", c)
	}
	codes, over = f.Feed(append(bytes.Repeat([]byte("9"), MaxScanBytes+5), []byte("\nOK\n")...))
	if over != 1 || len(codes) != 1 || string(codes[0]) != "OK" {
		t.Fatalf("%d over, %q", over, codes)
	}
}

func TestStripAIM(t *testing.T) {
	for _, c := range []struct {
		in, want string
		allowed  []string
		err      bool
	}{
		{"]Q1https://x/b/1", "https://x/b/1", []string{"Q"}, false},
		{"]C0ABC", "", []string{"Q", "d"}, true},
		{"]C0ABC", "ABC", nil, false},
		{"0421-2303-1234", "0421-2303-1234", []string{"Q"}, false},
	} {
		got, err := StripAIM(c.in, c.allowed)
		if got != c.want || (err != nil) != c.err {
			t.Errorf("StripAIM(%q, %v) = %q, %v", c.in, c.allowed, got, err)
		}
	}
}

func FuzzFramer(f *testing.F) {
	f.Add([]byte("]Q10421-2303-1234\r\n"), []byte("AB"))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		var fr Framer
		c1, _ := fr.Feed(a)
		c2, _ := fr.Feed(b)
		last, _ := fr.Flush()
		for _, c := range append(append(c1, c2...), last) {
			if len(c) > MaxScanBytes || bytes.ContainsAny(c, "\r\n") {
				t.Fatalf("code %q", c)
			}
		}
	})
}

// A serial scanner on a pseudo-terminal: codes with CR, LF or no
// terminator at all, an AIM prefix stripped, a symbology refused, a
// runaway code dropped; a missing port is a fault, not a crash.
func TestSerialScanner(t *testing.T) {
	master, slave, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer master.Close()
	defer slave.Close()
	s := OpenSerialScanner(SerialScannerConfig{Name: "scanner", Port: slave.Name(), Baud: 9600, Gap: 50 * time.Millisecond,
		Symbologies: []string{"Q"}})
	defer s.Close()
	write := func(b string) {
		t.Helper()
		if _, err := master.Write([]byte(b)); err != nil {
			t.Fatal(err)
		}
	}
	write("0421-2303-1234\r\n")
	if c := nextScan(t, s); c != "0421-2303-1234" {
		t.Fatalf("got %q", c)
	}
	write("]C0NOTQR\r]Q1https://book.example/b/0421\r" + strings.Repeat("x", MaxScanBytes+1) + "\nLAST")
	if c := nextScan(t, s); c != "https://book.example/b/0421" {
		t.Fatalf("got %q", c)
	}
	if c := nextScan(t, s); c != "LAST" { // ended by the quiet gap
		t.Fatalf("got %q", c)
	}
	if st := s.Status(); st.State != OK || !strings.Contains(st.Detail, "2 rejected") {
		t.Errorf("status %+v", st)
	}

	missing := OpenSerialScanner(SerialScannerConfig{Name: "scanner", Port: filepath.Join(t.TempDir(), "ttyACM0")})
	defer missing.Close()
	deadline := time.After(10 * time.Second)
	for missing.Status().State != Fault {
		select {
		case <-deadline:
			t.Fatalf("status %+v", missing.Status())
		case <-missing.Changes():
		}
	}
	if !strings.Contains(missing.Status().Detail, "cannot open") {
		t.Errorf("status %+v", missing.Status())
	}
}

// A USB scanner unplugged and plugged back in (a pseudo-terminal behind a
// stable path, as /dev/serial/by-id is): a fault that says so, a reopen
// when the wait on the scanner's clock is over, scans stamped on that
// clock, and the reopen counted.
func TestSerialScannerReopens(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ttyACM0")
	var master, slave *os.File
	plug := func() {
		var err error
		if master, slave, err = pty.Open(); err != nil {
			t.Fatal(err)
		}
		os.Remove(path)
		if err := os.Symlink(slave.Name(), path); err != nil {
			t.Fatal(err)
		}
	}
	unplug := func() { master.Close(); slave.Close(); os.Remove(path) }
	plug()
	t.Cleanup(func() { unplug() })
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	clk := clockwork.NewFakeClockAt(at)
	s := OpenSerialScanner(SerialScannerConfig{Name: "scanner", Port: path, Gap: 50 * time.Millisecond, Clock: clk})
	defer s.Close()
	waitState := func(want State, detail string) Status {
		t.Helper()
		timeout := time.After(10 * time.Second)
		for {
			if st := s.Status(); st.State == want && strings.Contains(st.Detail, detail) {
				return st
			}
			select {
			case <-s.Changes():
			case <-timeout:
				t.Fatalf("scanner %+v, want %s %q", s.Status(), want, detail)
			}
		}
	}
	waitState(OK, path+" at 9600 baud")
	if _, err := master.Write([]byte("BK-1\r")); err != nil {
		t.Fatal(err)
	}
	if sc := <-s.Scans(); sc.Code != "BK-1" || !sc.At.Equal(at) {
		t.Fatalf("scan %+v", sc)
	}

	unplug()
	st := waitState(Fault, path+" lost")
	if st.LastError == "" || !st.Since.Equal(at) {
		t.Fatalf("unplugged: %+v", st)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := clk.BlockUntilContext(ctx, 1); err != nil {
		t.Fatal("the scanner does not wait to reopen")
	}
	plug()
	if wait := s.loop.Status().RetryAt.Sub(clk.Now()); wait <= 0 || wait > 500*time.Millisecond {
		t.Fatalf("first wait %s, want up to 0.5 s", wait)
	}
	clk.Advance(500 * time.Millisecond)
	if st := waitState(OK, "1 codes read"); st.Reopens != 1 {
		t.Fatalf("replugged: %+v", st)
	}
	if _, err := master.Write([]byte("BK-2\n")); err != nil {
		t.Fatal(err)
	}
	if sc := <-s.Scans(); sc.Code != "BK-2" {
		t.Fatalf("scan after the replug %+v", sc)
	}
}
