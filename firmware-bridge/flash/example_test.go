package flash_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"time"

	"github.com/cherga/kiosk/firmware-bridge/flash"
	"github.com/cherga/kiosk/firmware-bridge/flash/flashtest"
	"github.com/cherga/kiosk/firmware-bridge/fwpkg"
	"github.com/cherga/kiosk/firmware-bridge/modbus"
	"github.com/cherga/kiosk/firmware-bridge/modbus/modbustest"
)

func Example() {
	// A keypad running 1.0.0 at address 5, on a simulated line.
	bus := modbustest.NewBus(modbus.DefaultLine)
	dev := flashtest.New(2, 1, [3]uint16{1, 0, 0})
	rtu := modbus.NewRTU(dev.Attach(bus, 5), modbus.RTUOptions{Line: bus.Line(), Clock: bus.Clock()})
	m := modbus.NewMaster(rtu, modbus.MasterOptions{})

	// A signed release, opened with the trusted key.
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, ed25519.SeedSize))
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	data, _ := fwpkg.Sign(key, fwpkg.Manifest{Type: fwpkg.Keypad, Hardware: 1, Version: fwpkg.Version{Major: 1, Minor: 1},
		Created: now, Expires: now.AddDate(1, 0, 0)}, bytes.Repeat([]byte{0xA}, 1000), bytes.Repeat([]byte{0xB}, 1000))
	p, err := fwpkg.Open(data, []ed25519.PublicKey{key.Public().(ed25519.PublicKey)}, now)
	if err != nil {
		panic(err)
	}

	res, err := flash.Update(context.Background(), m, 5, p, flash.Options{
		Progress: func(pr flash.Progress) {
			if pr.Phase != flash.PhaseTransfer {
				fmt.Println(pr.Phase)
			}
		},
	})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s → %s in slot %s, %d chunks\n", res.From, res.To, fwpkg.SlotName(res.Slot), res.Sent)
	// Output:
	// identify
	// check
	// manifest
	// verify
	// commit
	// restart
	// confirm
	// done
	// 1.0.0 → 1.1.0 in slot B, 8 chunks
}
