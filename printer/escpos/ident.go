package escpos

import (
	"errors"
	"fmt"
)

// Printer identity questions, GS I n (Epson ESC/POS reference, "Transmit
// printer ID"). The first three are answered with one byte, the others
// with text: '_', printable ASCII, NUL. Many cheap printers answer only
// some of them, or none; nothing here waits for an answer.
const (
	IDModel     = 1  // printer model ID: one byte, the maker's number
	IDType      = 2  // type ID: one byte of flags (IDTypeMultiByte, IDTypeAutocutter)
	IDROM       = 3  // ROM version ID: one byte
	IDFirmware  = 65 // firmware version, text
	IDMaker     = 66 // manufacturer, text
	IDModelName = 67 // printer name, text
	IDSerial    = 68 // serial number, text
)

// Flags of the type ID (GS I 2); bits 4 and 7 are always clear.
const (
	IDTypeMultiByte  = 0x01 // two-byte character codes (a Chinese or Japanese model)
	IDTypeAutocutter = 0x02 // an autocutter is fitted
)

// MaxIDText bounds a text answer: Epson's are at most 80 bytes.
const MaxIDText = 80

// ErrBadID is an answer that is not what the question asks for.
var ErrBadID = errors.New("escpos: not an answer to GS I")

// IDQuery is the GS I n question.
func IDQuery(n int) []byte { return []byte{GS, 'I', byte(n)} }

// IDIsText reports whether GS I n is answered with text rather than a
// byte.
func IDIsText(n int) bool { return n >= 0x21 && n != '1' && n != '2' && n != '3' }

// ParseID reads the answer to GS I n at the start of b, as it arrives:
// used == 0 and no error means b holds only the start of it. On an error,
// used is how many bytes to drop before looking again. The value is the
// answer's byte for the one-byte questions, its text without header and
// NUL for the others.
func ParseID(n int, b []byte) (value []byte, used int, err error) {
	if len(b) == 0 {
		return nil, 0, nil
	}
	if !IDIsText(n) {
		if n == IDType || n == '2' {
			if b[0]&0x90 != 0 {
				return nil, 1, fmt.Errorf("%w %d: type ID %#02x has bit 4 or 7 set", ErrBadID, n, b[0])
			}
		}
		return b[:1:1], 1, nil
	}
	if b[0] != '_' {
		return nil, 1, fmt.Errorf("%w %d: text answer starts with %#02x, not '_'", ErrBadID, n, b[0])
	}
	for i := 1; i < len(b); i++ {
		switch c := b[i]; {
		case c == 0:
			return b[1:i:i], i + 1, nil
		case c < 0x20 || c > 0x7E:
			return nil, i, fmt.Errorf("%w %d: byte %#02x in a text answer", ErrBadID, n, c)
		case i > MaxIDText:
			return nil, i, fmt.Errorf("%w %d: text answer longer than %d bytes", ErrBadID, n, MaxIDText)
		}
	}
	return nil, 0, nil
}

// IDAnswer is what a printer answers to GS I n: for the simulated
// printer, and for tests.
func IDAnswer(n int, value []byte) []byte {
	if !IDIsText(n) {
		if len(value) == 0 {
			return nil
		}
		return value[:1]
	}
	out := append([]byte{'_'}, value...)
	return append(out, 0)
}
