package announce_test

import (
	"fmt"
	"time"

	"github.com/cherga/kiosk/display/announce"
	"github.com/cherga/kiosk/link/proto"
)

// Compose gives the audio of a call, named so a technician finds it.
func ExampleCompose() {
	clip := announce.Compose(proto.Call{Ticket: "А012", Window: 5, At: time.Date(2026, 11, 23, 10, 15, 0, 0, time.UTC)})
	fmt.Println(clip.Name, clip.Rate)
	// Output: 20261123T101500-А012-w5 22050
}
