package emulator_test

import (
	"context"
	"fmt"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/cherga/kiosk/firmware-bridge/emulator"
	"github.com/cherga/kiosk/firmware-bridge/modbus"
)

// A keypad and a window display on a pseudo-terminal; the host's master
// on the other side reads a press and calls a ticket.
func Example() {
	clock := clockwork.NewFakeClockAt(time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC))
	specs, _ := emulator.ParseSpecs("1:window-display,2:keypad")
	bus, err := emulator.NewBus(specs, emulator.Options{Clock: clock, Line: modbus.PTYLine})
	if err != nil {
		panic(err)
	}
	pty, _ := modbus.OpenPTY()
	defer pty.Close()
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- bus.Serve(ctx, pty) }()
	defer func() { stop(); <-done }()

	port, _ := modbus.OpenSerial(pty.Path(), modbus.PTYLine)
	defer port.Close()
	m := modbus.NewMaster(modbus.NewRTU(port, modbus.RTUOptions{Line: modbus.PTYLine}), modbus.MasterOptions{Slack: time.Second})

	bus.Press(2, emulator.KeyNext, false)
	v, _ := m.ReadInputRegisters(ctx, 2, 0, 6)
	fmt.Printf("pending %d, seq %d, key %d\n", v[2], v[3], v[4])
	m.WriteRegister(ctx, 2, 1, v[3]) // acknowledged
	m.WriteRegisters(ctx, 1, 0x0100, 1, 0xC031, 0x3233, 0, 0, 0, 0, 0, 0, 3, 0, 7)
	d := bus.Faces()[0].Display
	fmt.Printf("display: %s → %d\n", d.Text, d.Window)
	// Output:
	// pending 1, seq 1, key 1
	// display: А123 → 3
}
