package devices_test

import (
	"fmt"
	"time"

	"github.com/cherga/kiosk/devices"
)

// A scanner's terminator is dropped; bytes that are not text are refused.
func ExampleCleanScan() {
	code, err := devices.CleanScan([]byte("BK-7Q4M-2Z\r\n"))
	fmt.Println(code, err)
	_, err = devices.CleanScan([]byte("BK\x00"))
	fmt.Println(err)
	// Output:
	// BK-7Q4M-2Z <nil>
	// scanner: code has bytes that are not text: U+0000
}

// The display power's hours: on at 07:45 and off at 20:15, Monday to
// Saturday; a Saturday evening waits for Monday.
func ExampleHours_At() {
	h, err := devices.ParseHours("07:45", "20:15", []string{"mon", "tue", "wed", "thu", "fri", "sat"})
	if err != nil {
		panic(err)
	}
	kyiv, _ := time.LoadLocation("Europe/Kyiv")
	on, next := h.At(time.Date(2026, 11, 28, 21, 0, 0, 0, kyiv))
	fmt.Println(h, on, next.Format("Mon 2 Jan 15:04"))
	// Output:
	// 07:45–20:15 mon tue wed thu fri sat false Mon 30 Nov 07:45
}
