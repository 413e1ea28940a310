package modbustest_test

import (
	"context"
	"fmt"
	"time"

	"github.com/cherga/kiosk/firmware-bridge/modbus"
	"github.com/cherga/kiosk/firmware-bridge/modbus/modbustest"
)

// A poll at 9600 baud takes its wire time (8 + 7 bytes, t3.5, the
// device's 1 ms) on the bus's clock; a device that does not answer costs
// the t3.5 owed to the line, the request and the first-byte timeout — in
// virtual time, nothing in real time.
func ExampleBus() {
	bus := modbustest.NewBus(modbus.Line{Baud: 9600})
	u := bus.Attach(1, modbustest.NewDevice().SetHolding(0, 7))
	rtu := modbus.NewRTU(bus, modbus.RTUOptions{Line: bus.Line(), Clock: bus.Clock()})
	m := modbus.NewMaster(rtu, modbus.MasterOptions{})
	ctx := context.Background()

	start := bus.Clock().Now()
	v, _ := m.ReadHoldingRegisters(ctx, 1, 0, 1)
	fmt.Println(v, bus.Clock().Since(start).Round(time.Millisecond))

	u.Fault.Silent = true
	start = bus.Clock().Now()
	_, err := m.DoOnce(ctx, 1, modbus.ReadHolding(0, 1))
	fmt.Println(err, bus.Clock().Since(start).Round(time.Millisecond))
	// Output:
	// [7] 22ms
	// unit 1: 03 read holding registers: modbus: timeout 48ms
}

// A session recorded with Recorder, replayed.
func ExampleReplay() {
	session := []byte(`
> 01 03 00 00 00 01 84 0A
< 01 03 02 00 07 F9 86
`)
	rp, _ := modbustest.NewReplay(session)
	m := modbus.NewMaster(modbus.NewRTU(rp, modbus.RTUOptions{Clock: rp.Clock()}), modbus.MasterOptions{})
	v, err := m.ReadHoldingRegisters(context.Background(), 1, 0, 1)
	fmt.Println(v, err, rp.Done())
	// Output: [7] <nil> true
}
