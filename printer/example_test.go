package printer_test

import (
	"fmt"
	"time"

	"github.com/cherga/kiosk/link/proto"
	"github.com/cherga/kiosk/printer"
)

// Render gives the ticket as it comes out of an 80 mm printer: 576 dots
// across at 203 dpi.
func ExampleRender() {
	img := printer.Render(&printer.Ticket{
		Centre:   proto.Text{UK: "Прозорий офіс", EN: "Transparent Office"},
		Number:   "А012",
		Service:  proto.Text{UK: "Житлова субсидія", EN: "Housing subsidy"},
		IssuedAt: time.Date(2026, 11, 23, 10, 15, 0, 0, time.UTC),
	}, 80)
	fmt.Println(img.Bounds().Dx())
	// Output: 576
}
