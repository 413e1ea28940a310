package devices

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// A keyboard-emulating USB scanner "types" each code, ending it with
// Enter. Read through Linux evdev (/dev/input/event*), with the device
// grabbed so the keys never reach the page or anything else.

// Linux input event types and key codes (include/uapi/linux/input-event-codes.h).
const (
	evKey          = 1
	keyEnter       = 28
	keyTab         = 15
	keyLeftShift   = 42
	keyRightShift  = 54
	keyKPEnter     = 96
	keyPressed     = 1
	keyReleased    = 0
	eviocgrab      = 0x40044590 // _IOW('E', 0x90, int)
	inputEventSize = int(2*unsafe.Sizeof(uintptr(0))) + 8
)

// usKeys maps key codes to the characters a US-layout keyboard types,
// unshifted and shifted. Scanners are set to the US layout by default.
var usKeys = func() map[uint16][2]byte {
	m := map[uint16][2]byte{}
	rows := []struct {
		first       uint16
		plain, shft string
	}{
		{2, "1234567890-=", "!@#$%^&*()_+"},
		{16, "qwertyuiop[]", "QWERTYUIOP{}"},
		{30, "asdfghjkl;'`", "ASDFGHJKL:\"~"},
		{43, "\\zxcvbnm,./", "|ZXCVBNM<>?"},
		{71, "789-456+1230.", "789-456+1230."}, // keypad 7 to keypad .
	}
	for _, r := range rows {
		for i := range len(r.plain) {
			m[r.first+uint16(i)] = [2]byte{r.plain[i], r.shft[i]}
		}
	}
	m[55] = [2]byte{'*', '*'} // keypad *
	m[57] = [2]byte{' ', ' '} // space
	m[98] = [2]byte{'/', '/'} // keypad /
	for _, k := range []uint16{keyEnter, keyKPEnter, keyTab} {
		m[k] = [2]byte{'\n', '\n'}
	}
	return m
}()

// keyDecoder turns raw input events into the characters they type.
type keyDecoder struct {
	shift   [2]bool // left, right
	part    []byte  // an event cut by a short read
	unknown int     // presses of keys that type nothing we know
}

// Feed decodes events and appends the characters typed to out. Enter and
// Tab become '\n', which ends a code.
func (d *keyDecoder) Feed(events []byte, out []byte) []byte {
	if len(d.part) > 0 {
		need := inputEventSize - len(d.part)
		if len(events) < need {
			d.part = append(d.part, events...)
			return out
		}
		ev := append(d.part, events[:need]...)
		out = d.event(ev, out)
		d.part = d.part[:0]
		events = events[need:]
	}
	for len(events) >= inputEventSize {
		out = d.event(events[:inputEventSize], out)
		events = events[inputEventSize:]
	}
	d.part = append(d.part, events...)
	return out
}

func (d *keyDecoder) event(ev []byte, out []byte) []byte {
	off := inputEventSize - 8 // after the timestamp
	typ := binary.NativeEndian.Uint16(ev[off:])
	code := binary.NativeEndian.Uint16(ev[off+2:])
	value := int32(binary.NativeEndian.Uint32(ev[off+4:]))
	if typ != evKey {
		return out
	}
	switch code {
	case keyLeftShift, keyRightShift:
		d.shift[min(code-keyLeftShift, 1)] = value != keyReleased
		return out
	}
	if value != keyPressed { // releases and auto-repeats type nothing new
		return out
	}
	c, ok := usKeys[code]
	if !ok {
		d.unknown++
		return out
	}
	if d.shift[0] || d.shift[1] {
		return append(out, c[1])
	}
	return append(out, c[0])
}

// evdevSource reads a grabbed input device as a stream of characters.
type evdevSource struct {
	f   *os.File
	gap time.Duration
	dec keyDecoder
	raw []byte
}

// openEvdev opens and grabs the device at path. A device that cannot be
// grabbed is read anyway, with a warning: its keys also reach the page.
func openEvdev(cfg SerialScannerConfig) (source, string, error) {
	f, err := os.OpenFile(cfg.Port, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, "", fmt.Errorf("%w (the kioskd user needs to be in group input)", err)
	}
	what := cfg.Port + ", grabbed"
	if err := ioctlGrab(f, 1); err != nil {
		what = cfg.Port + ", NOT grabbed: its keys also reach the page"
		cfg.Log.Warn("scanner: cannot grab the input device; scans also type into whatever has focus", "port", cfg.Port, "err", err)
	}
	return &evdevSource{f: f, gap: cfg.Gap, raw: make([]byte, 64*inputEventSize)}, what, nil
}

// ioctlGrab takes (1) or releases (0) the device for this reader alone;
// EVIOCGRAB takes the flag as the argument itself, not a pointer.
func ioctlGrab(f *os.File, on int) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ierr error
	if err := rc.Control(func(fd uintptr) { ierr = unix.IoctlSetInt(int(fd), eviocgrab, on) }); err != nil {
		return err
	}
	return ierr
}

// Read returns the characters typed, or 0, nil once no key came for the
// gap. The gap is a read deadline, held by the runtime against real time,
// as a serial port's read timeout is held by the kernel.
func (e *evdevSource) Read(p []byte) (int, error) {
	if err := e.f.SetReadDeadline(time.Now().Add(e.gap)); err != nil {
		return 0, err
	}
	for {
		// At most one character per event: never more than p holds.
		n, err := e.f.Read(e.raw[:min(len(e.raw), len(p)*inputEventSize)])
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return 0, nil
		}
		if err != nil {
			return 0, err
		}
		if n == 0 {
			return 0, fmt.Errorf("input device closed")
		}
		if out := e.dec.Feed(e.raw[:n], p[:0]); len(out) > 0 {
			return len(out), nil
		}
	}
}

func (e *evdevSource) Close() error {
	_ = ioctlGrab(e.f, 0)
	return e.f.Close()
}

// OpenEvdevScanner reads a keyboard-emulating USB scanner at cfg.Port
// (/dev/input/by-id/...-event-kbd), grabbed so its keys never type into
// the page; codes end at Enter or Tab, or after the inter-key gap. A
// missing device is a fault it retries.
func OpenEvdevScanner(cfg SerialScannerConfig) *StreamScanner {
	return openStream(cfg, "evdev", openEvdev)
}
