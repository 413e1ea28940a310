package proto

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// A booking code is 12 digits, written 1234-5678-9012 so a visitor can
// type it on a numeric keypad:
//
//	SSS TTT NN MMMM
//	SSS  the service's code (1–999, office.yaml)
//	TTT  the slot's start, in 5-minute steps from midnight (000–287)
//	NN   the place within the slot (00–99)
//	MMMM a MAC: HMAC-SHA256 with the office's booking key over the
//	     office id, the booking's date and the first 8 digits, taken
//	     as a number modulo 10,000
//
// The date is not in the code: a kiosk checks a code against today, so a
// code for another day does not verify offline (the server, which keeps
// every booking, says which day it is for). A mistyped digit fails the
// MAC, so typing errors are caught as well as forgeries (1 in 10,000 gets
// through; online the server checks its own records).
type BookingCode struct {
	Service int // service code
	Slot    int // minutes from midnight to the slot's start, a multiple of 5
	Place   int
}

// BookingCodeDigits is the length of a booking code without separators.
const BookingCodeDigits = 12

// Errors of ParseBookingCode and VerifyBookingCode.
var (
	ErrNotBookingCode = errors.New("not a booking code")
	ErrBookingMAC     = errors.New("booking code does not verify")
)

// Format writes the code for date with key.
func (b BookingCode) Format(key []byte, office, date string) string {
	head := fmt.Sprintf("%03d%03d%02d", b.Service, b.Slot/5, b.Place)
	d := head + bookingMAC(key, office, date, head)
	return d[:4] + "-" + d[4:8] + "-" + d[8:]
}

// SlotTime is the slot's start on date in loc.
func (b BookingCode) SlotTime(date string, loc *time.Location) (time.Time, error) {
	day, err := time.ParseInLocation(time.DateOnly, date, loc)
	if err != nil {
		return time.Time{}, err
	}
	return time.Date(day.Year(), day.Month(), day.Day(), 0, b.Slot, 0, 0, loc), nil
}

func bookingMAC(key []byte, office, date, head string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("cherga booking v1\x00" + office + "\x00" + date + "\x00" + head))
	return fmt.Sprintf("%04d", binary.BigEndian.Uint64(m.Sum(nil)[:8])%10000)
}

// ParseBookingCode reads a typed or scanned code: 12 digits, with spaces
// or dashes between them allowed, or a link ending in them
// (https://…/b/1234-5678-9012). It returns the 12 digits.
func ParseBookingCode(s string) (string, error) {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexAny(s, "/=:"); i >= 0 {
		s = s[i+1:]
	}
	var d strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			d.WriteRune(r)
		case r == '-' || r == ' ':
		default:
			return "", fmt.Errorf("%w: %q has a character other than digits and dashes", ErrNotBookingCode, r)
		}
	}
	if d.Len() != BookingCodeDigits {
		return "", fmt.Errorf("%w: %d digits, expected %d", ErrNotBookingCode, d.Len(), BookingCodeDigits)
	}
	return d.String(), nil
}

// DecodeBookingCode splits 12 digits (from ParseBookingCode) without
// checking the MAC.
func DecodeBookingCode(digits string) (BookingCode, error) {
	if len(digits) != BookingCodeDigits {
		return BookingCode{}, ErrNotBookingCode
	}
	svc, err1 := strconv.Atoi(digits[0:3])
	slot, err2 := strconv.Atoi(digits[3:6])
	place, err3 := strconv.Atoi(digits[6:8])
	if err := errors.Join(err1, err2, err3); err != nil || slot > 287 || svc == 0 {
		return BookingCode{}, fmt.Errorf("%w: impossible service or time", ErrNotBookingCode)
	}
	return BookingCode{Service: svc, Slot: slot * 5, Place: place}, nil
}

// VerifyBookingCode checks that digits are a code the office's key made
// for date.
func VerifyBookingCode(key []byte, office, date, digits string) (BookingCode, error) {
	b, err := DecodeBookingCode(digits)
	if err != nil {
		return BookingCode{}, err
	}
	if !hmac.Equal([]byte(bookingMAC(key, office, date, digits[:8])), []byte(digits[8:])) {
		return BookingCode{}, ErrBookingMAC
	}
	return b, nil
}
