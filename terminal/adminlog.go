package terminal

import (
	"context"
	"errors"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/cherga/kiosk/devices"
	"github.com/cherga/kiosk/link"
	"github.com/cherga/kiosk/link/proto"
)

// What the admin page remembers that no device keeps: each device's last
// few errors with their times, and the last scans with their outcome.
// Both are small rings in memory; a restart of kioskd forgets them.

// keepDeviceErrors and keepScans size the rings.
const (
	keepDeviceErrors = 5
	keepScans        = 10
)

// deviceError is one error a device reported, and when it was first seen.
type deviceError struct {
	At    time.Time `json:"at"`
	Error string    `json:"error"`
}

// deviceErrors keeps each device's last errors: a supervised device's
// LastError, or the detail of a device in fault, each time it changes.
type deviceErrors struct {
	mu   sync.Mutex
	last map[string]string        // device → the text recorded last
	ring map[string][]deviceError // newest last
}

func newDeviceErrors() *deviceErrors {
	return &deviceErrors{last: map[string]string{}, ring: map[string][]deviceError{}}
}

// observe records what is new in the devices' statuses, seen at now.
func (e *deviceErrors) observe(sts []devices.Status, now time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, st := range sts {
		text := st.LastError
		if text == "" && st.State == devices.Fault {
			text = st.Detail
		}
		if text == "" || text == e.last[st.Name] {
			continue
		}
		e.last[st.Name] = text
		r := append(e.ring[st.Name], deviceError{At: now, Error: text})
		if len(r) > keepDeviceErrors {
			r = r[len(r)-keepDeviceErrors:]
		}
		e.ring[st.Name] = r
	}
}

// of is a device's errors, newest first.
func (e *deviceErrors) of(name string) []deviceError {
	e.mu.Lock()
	defer e.mu.Unlock()
	r := e.ring[name]
	out := make([]deviceError, len(r))
	for i, x := range r {
		out[len(r)-1-i] = x
	}
	return out
}

// Scan kinds and results, as the admin page shows them.
const (
	scanBooking = "booking" // a booking code
	scanOther   = "other"   // not a booking code: refused by the kiosk

	scanPending    = "pending"     // being checked in
	scanCheckedIn  = "checked_in"  // a ticket was issued for it
	scanRefused    = "refused"     // the booking was refused (its code says why)
	scanFailed     = "error"       // the check-in failed
	scanNotBooking = "not_booking" // what was scanned is not a booking code
	scanRepeat     = "repeat"      // the same code again at once: ignored
)

// scanEntry is one scan. Code is masked: a booking code is a visitor's
// credential, and the page shows only its first two and last characters.
type scanEntry struct {
	At     time.Time `json:"at"`
	Kind   string    `json:"kind"`
	Result string    `json:"result"`
	Detail string    `json:"detail,omitempty"` // a refusal's code
	Code   string    `json:"code"`

	full string // to match the check-in's outcome; never answered
}

// scanLog watches the kiosk's scanner on its way to the kiosk, and takes
// the check-ins' outcomes from meteredTickets.
type scanLog struct {
	mu      sync.Mutex
	entries []scanEntry // newest last
	scanner kioskScanner
	out     chan devices.Scan
}

// repeatScanWithin mirrors the kiosk's repeat rule (kiosk.repeatScan).
const repeatScanWithin = 5 * time.Second

// watch puts the log between scanner and the kiosk: the kiosk reads the
// log's channel, which forward fills.
func (l *scanLog) watch(s kioskScanner) kioskScanner {
	l.scanner, l.out = s, make(chan devices.Scan)
	return watchedScanner{s, l}
}

type watchedScanner struct {
	kioskScanner
	l *scanLog
}

func (w watchedScanner) Scans() <-chan devices.Scan {
	if w.kioskScanner.Scans() == nil {
		return nil
	}
	return w.l.out
}

// forward hands every scan on to the kiosk, recording it, until ctx ends.
func (l *scanLog) forward(ctx context.Context) {
	if l == nil || l.scanner == nil || l.scanner.Scans() == nil {
		return
	}
	in := l.scanner.Scans()
	for {
		select {
		case <-ctx.Done():
			return
		case s, ok := <-in:
			if !ok {
				return
			}
			l.scanned(s)
			select {
			case l.out <- s:
			case <-ctx.Done():
				return
			}
		}
	}
}

func (l *scanLog) scanned(s devices.Scan) {
	e := scanEntry{At: s.At, Kind: scanBooking, Result: scanPending, Code: maskCode(s.Code), full: s.Code}
	if _, err := proto.ParseBookingCode(s.Code); err != nil {
		e.Kind, e.Result = scanOther, scanNotBooking
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if n := len(l.entries); n > 0 {
		if prev := l.entries[n-1]; prev.full == s.Code && s.At.Sub(prev.At) < repeatScanWithin {
			e.Result = scanRepeat
		}
	}
	l.entries = append(l.entries, e)
	if len(l.entries) > keepScans {
		l.entries = l.entries[len(l.entries)-keepScans:]
	}
}

// checkedIn records the outcome of a check-in of code: it is the newest
// scan of that code still pending, if any (a code typed on the page is
// not a scan, and has none).
func (l *scanLog) checkedIn(code string, err error) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := len(l.entries) - 1; i >= 0; i-- {
		e := &l.entries[i]
		if e.full != code || e.Result != scanPending {
			continue
		}
		var br *link.BookingRefused
		switch {
		case err == nil:
			e.Result = scanCheckedIn
		case errors.As(err, &br):
			e.Result, e.Detail = scanRefused, br.Code
		default:
			e.Result = scanFailed
		}
		return
	}
}

// recent is the scans, newest first.
func (l *scanLog) recent() []scanEntry {
	out := []scanEntry{}
	if l == nil {
		return out
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := len(l.entries) - 1; i >= 0; i-- {
		e := l.entries[i]
		e.full = ""
		out = append(out, e)
	}
	return out
}

// maskCode shows a code's first two characters and its last, "AB…9"; a
// code of five characters or fewer shows none.
func maskCode(code string) string {
	n := utf8.RuneCountInString(code)
	if n <= 5 {
		return "…"
	}
	r := []rune(code)
	return string(r[:2]) + "…" + string(r[n-1:])
}
