package proto_test

import (
	"fmt"

	"github.com/cherga/kiosk/link/proto"
)

func ExampleDecode() {
	m, err := proto.Decode([]byte(`{"type":"call","id":"2026-11-23/7","push":41,"call":{"id":"2026-11-23/7","ticket":"А012","window":3,"at":"2026-11-23T10:15:00+02:00"}}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s to window %d\n", m.Call.Ticket, m.Call.Window)
	// Output: А012 to window 3
}
