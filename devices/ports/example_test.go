package ports_test

import (
	"fmt"

	"github.com/cherga/kiosk/devices/ports"
)

// Listing the machine's ports with the name to put in kioskd.yaml.
func ExampleScan() {
	found, err := ports.Scan(ports.Roots{}) // the real /sys and /dev
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range found {
		name := p.Path
		if len(p.Links) > 0 {
			name = p.Links[0] // stable across re-plugging
		}
		fmt.Println(p.Kind, name)
	}
}
