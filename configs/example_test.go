package configs_test

import (
	"fmt"

	"github.com/cherga/kiosk/configs"
)

// A mistake is reported with its file, line, column and key.
func ExampleParseTerminal() {
	_, err := configs.ParseTerminal("kioskd.yaml", []byte(`device_id: kiosk-01
data_dir: /var/lib/kioskd
roles: [kiosk]
server: {url: "wss://10.0.0.2:8443/api/v1/link"}
kiosk:
  printer: {driver: escpos, port: COM3}
`))
	fmt.Println(err)
	// Output: kioskd.yaml:6:35: kiosk.printer.port: got "COM3", expected a device path like /dev/usb/lp0 or /dev/ttyUSB0, or host:9100 for a network printer
}
