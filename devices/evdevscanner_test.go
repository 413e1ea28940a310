package devices

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// events encodes key presses as the kernel sends them: shift held for
// upper-case letters and symbols, each key pressed and released.
func events(text string) []byte {
	var out []byte
	ev := func(code uint16, value int32) {
		b := make([]byte, inputEventSize)
		off := inputEventSize - 8
		binary.NativeEndian.PutUint16(b[off:], evKey)
		binary.NativeEndian.PutUint16(b[off+2:], code)
		binary.NativeEndian.PutUint32(b[off+4:], uint32(value))
		out = append(out, b...)
		// A sync event after each key, as a keyboard sends.
		out = append(out, make([]byte, inputEventSize)...)
	}
	for _, r := range text {
		for code, c := range usKeys {
			if code == keyTab || code == keyKPEnter || code >= 71 && code != 98 {
				continue // type with the main keys only
			}
			shifted := c[1] == byte(r) && c[0] != byte(r)
			if c[0] != byte(r) && !shifted {
				continue
			}
			if shifted {
				ev(keyLeftShift, 1)
			}
			ev(code, 1)
			ev(code, 0)
			if shifted {
				ev(keyLeftShift, 0)
			}
			break
		}
	}
	return out
}

func TestKeyDecoder(t *testing.T) {
	for _, text := range []string{"4213-0000-1234\n", "]Q1https://Example.com/a?b=C&d=~\n", "A b!\n"} {
		var d keyDecoder
		raw := events(text)
		// Cut anywhere: events split across reads decode the same.
		for _, cut := range []int{0, 1, inputEventSize - 1, len(raw) / 2} {
			d = keyDecoder{}
			got := d.Feed(raw[:cut], nil)
			got = d.Feed(raw[cut:], got)
			if string(got) != text {
				t.Errorf("cut at %d: %q, want %q", cut, got, text)
			}
		}
	}
	// Keypad digits and Enter, an auto-repeat (value 2) and an unknown key.
	var raw []byte
	for _, e := range []struct {
		code  uint16
		value int32
	}{{79, 1}, {79, 2}, {79, 0}, {82, 1}, {82, 0}, {183, 1}, {keyKPEnter, 1}} {
		b := make([]byte, inputEventSize)
		off := inputEventSize - 8
		binary.NativeEndian.PutUint16(b[off:], evKey)
		binary.NativeEndian.PutUint16(b[off+2:], e.code)
		binary.NativeEndian.PutUint32(b[off+4:], uint32(e.value))
		raw = append(raw, b...)
	}
	var d keyDecoder
	if got := d.Feed(raw, nil); string(got) != "10\n" || d.unknown != 1 {
		t.Errorf("keypad: %q, %d unknown", got, d.unknown)
	}
}

func FuzzEvdevDecode(f *testing.F) {
	f.Add(events("4213-0000-1234\n"))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		var d keyDecoder
		out := d.Feed(b, nil)
		if len(out) > len(b)/inputEventSize {
			t.Fatalf("%d characters from %d bytes", len(out), len(b))
		}
	})
}

// The evdev scanner on a FIFO standing in for /dev/input/eventN: it cannot
// be grabbed (and says so), codes typed with Enter arrive, a code without
// one arrives after the gap, and a device gone is a fault.
func TestEvdevScanner(t *testing.T) {
	path := filepath.Join(t.TempDir(), "event7")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	w, err := os.OpenFile(path, os.O_RDWR, 0) // a writer that does not wait for the reader
	if err != nil {
		t.Fatal(err)
	}
	s := OpenEvdevScanner(SerialScannerConfig{Name: "scanner", Port: path, Gap: 50 * time.Millisecond})
	defer s.Close()
	waitState := func(want State) Status {
		t.Helper()
		timeout := time.After(10 * time.Second)
		for {
			if st := s.Status(); st.State == want {
				return st
			}
			select {
			case <-s.Changes():
			case <-timeout:
				t.Fatalf("scanner %+v, want %s", s.Status(), want)
			}
		}
	}
	if st := waitState(OK); !strings.Contains(st.Detail, "NOT grabbed") || st.Driver != "evdev" {
		t.Errorf("status %+v", st)
	}
	if _, err := w.Write(events("4213-0000-1234\n]Q1ABC")); err != nil {
		t.Fatal(err)
	}
	if c := nextScan(t, s); c != "4213-0000-1234" {
		t.Errorf("code %q", c)
	}
	if c := nextScan(t, s); c != "ABC" {
		t.Errorf("code ended by the gap %q", c)
	}
	w.Close()
	if st := waitState(Fault); !strings.Contains(st.Detail, "lost") {
		t.Errorf("status %+v", st)
	}
}

// nextScan waits for the scanner's next code.
func nextScan(t *testing.T, s *StreamScanner) string {
	t.Helper()
	select {
	case sc := <-s.Scans():
		return sc.Code
	case <-time.After(10 * time.Second):
		t.Fatalf("no scan; status %+v", s.Status())
		return ""
	}
}
