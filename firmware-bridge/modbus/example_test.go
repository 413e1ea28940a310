package modbus_test

import (
	"context"
	"fmt"

	"github.com/cherga/kiosk/firmware-bridge/modbus"
	"github.com/cherga/kiosk/firmware-bridge/modbus/modbustest"
)

func ExampleCRC16() {
	fmt.Printf("%#04x\n", modbus.CRC16([]byte("123456789")))
	// Output: 0x4b37
}

func ExampleAppendADU() {
	pdu, _ := modbus.ReadInput(0x0000, 6).AppendPDU(nil) // the poll block of PROTOCOL.md
	fmt.Printf("% X\n", modbus.AppendADU(nil, 2, pdu))
	// Output: 02 04 00 00 00 06 70 3B
}

// A master polling a device. On a real bus the port is
// modbus.OpenSerial("/dev/ttyUSB0", modbus.DefaultLine); here it is a
// simulated line.
func ExampleMaster() {
	bus := modbustest.NewBus(modbus.DefaultLine)
	dev := modbustest.NewDevice().
		SetInput(0x0000, 0, 0x1234, 1, 42, 0x0001, 3).
		SetObject(0, "cherga").SetObject(1, "CHG-KP1").SetObject(2, "1.2.0")
	bus.Attach(2, dev)

	rtu := modbus.NewRTU(bus, modbus.RTUOptions{Line: bus.Line(), Clock: bus.Clock()})
	m := modbus.NewMaster(rtu, modbus.MasterOptions{})
	ctx := context.Background()
	id, _ := m.ReadIdentification(ctx, 2)
	poll, _ := m.ReadInputRegisters(ctx, 2, 0x0000, 6)
	fmt.Printf("%s %s %s: %d pending, oldest seq %d key %d\n", id.Vendor, id.Product, id.Revision, poll[2], poll[3], poll[4])
	_, err := m.DoOnce(ctx, 9, modbus.ReadInput(0, 6))
	fmt.Println(err)
	// Output:
	// cherga CHG-KP1 1.2.0: 1 pending, oldest seq 42 key 1
	// unit 9: 04 read input registers: modbus: timeout
}

// The device side, as the emulator runs it on a pseudo-terminal.
func ExampleServer() {
	p, err := modbus.OpenPTY()
	if err != nil {
		return // not on Linux
	}
	defer p.Close()
	dev := modbustest.NewDevice().SetHolding(0x0000, 0)
	srv := &modbus.Server{Port: p, Line: modbus.PTYLine, Handler: dev, Units: func(u byte) bool { return u == 1 }}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go srv.Serve(ctx)
	// A master (kioskd, mbpoll, kioskctl bridge scan) now opens p.Path().
	fmt.Println(p.Path() != "")
	// Output: true
}

// The poll cycle: every device each cycle, backed-off ones probed one at
// a time.
func ExampleScheduler() {
	bus := modbustest.NewBus(modbus.DefaultLine)
	for u := byte(1); u <= 3; u++ {
		bus.Attach(u, modbustest.NewDevice().SetInput(0, 0, 0, 0, 0, 0, 0))
	}
	rtu := modbus.NewRTU(bus, modbus.RTUOptions{Line: bus.Line(), Clock: bus.Clock()})
	m := modbus.NewMaster(rtu, modbus.MasterOptions{})
	s := modbus.NewScheduler(m)
	poll := func(ctx context.Context, m *modbus.Master, unit byte) error {
		_, err := m.DoOnce(ctx, unit, modbus.ReadInput(0, 6))
		return err
	}
	for u := byte(1); u <= 3; u++ {
		s.Add(u, poll)
	}
	rep := s.Cycle(context.Background())
	fmt.Println(rep.Polled, rep.Failed, rep.Duration < modbus.CycleBound(bus.Line(), m.Options(), 3, 0, modbus.ReadInput(0, 6)))
	// Output: 3 0 true
}
