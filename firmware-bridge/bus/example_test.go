package bus_test

import (
	"fmt"

	"github.com/cherga/kiosk/firmware-bridge/bus"
)

// Ticket numbers and keypad texts go to our devices in code page CHG-1,
// one byte a character.
func ExampleEncodeCHG1() {
	fmt.Printf("% X\n", bus.EncodeCHG1("А123", 8))
	fmt.Printf("% X\n", bus.EncodeCHG1("Ї-07", 8))
	// Output:
	// C0 31 32 33
	// AF 2D 30 37
}

// The keypad's LCD draws 8 characters outside its ROM: text that needs
// more is put in capitals, most of which have a Latin look-alike there.
func ExampleFitLCD() {
	a, b := bus.FitLCD("Вікно 3 закрите", "Увійдіть у систему")
	fmt.Println(bus.DecodeCHG1(a))
	fmt.Println(bus.DecodeCHG1(b))
	// Output:
	// ВІКНО 3 ЗАКРИТЕ
	// УВІЙДІТЬ У СИСТЕМУ
}
