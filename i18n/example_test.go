package i18n_test

import (
	"fmt"

	"github.com/cherga/kiosk/i18n"
)

func ExampleT() {
	fmt.Println(i18n.T("uk", "ticket.ahead", "n", 4))
	fmt.Println(i18n.T("en", "ticket.ahead", "n", 4))
	// Output:
	// Перед вами: 4
	// Ahead of you: 4
}
