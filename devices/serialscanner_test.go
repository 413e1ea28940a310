package devices

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
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
