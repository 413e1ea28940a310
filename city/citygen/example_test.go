package citygen_test

import (
	"fmt"

	"github.com/cherga/kiosk/city/citygen"
)

func ExampleEvents() {
	cfg := citygen.Config{Offices: []string{"kyiv-1"}, Days: 1, VisitorsPerDay: 10, Windows: 2}
	for office, e := range citygen.Events(cfg) {
		fmt.Println(office, e.Seq, e.Day, e.Type)
		break
	}
	// Output: kyiv-1 1 2025-01-01 signed_in
}
