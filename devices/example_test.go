package devices_test

import (
	"fmt"

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
