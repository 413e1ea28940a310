package bus_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/cherga/kiosk/firmware-bridge/bus"
	"github.com/cherga/kiosk/firmware-bridge/emulator"
	"github.com/cherga/kiosk/firmware-bridge/modbus"
)

// nothing is a journal for a bus without keypads.
type nothing struct{}

func (nothing) Mark(string) ([]byte, error)            { return nil, nil }
func (nothing) Commit(bus.Event, string, []byte) error { return nil }

// A window display on a pseudo-terminal, played by the emulator: the bus
// finds it, sets it up, and shows a call.
func ExampleNew() {
	dir, _ := os.MkdirTemp("", "bus-example")
	defer os.RemoveAll(dir)
	specs, _ := emulator.ParseSpecs("1:window-display")
	line, _ := emulator.NewBus(specs, emulator.Options{Line: modbus.PTYLine})
	pty, _ := modbus.OpenPTY()
	defer pty.Close()
	link := filepath.Join(dir, "bus1")
	_ = pty.Link(link)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go line.Serve(ctx, pty)

	b, err := bus.New(bus.Config{Name: "bus1", Port: link, Line: modbus.PTYLine, Journal: nothing{},
		Master:  modbus.MasterOptions{Slack: 500 * time.Millisecond},
		Devices: []bus.DeviceConfig{{Name: "display-3", Type: bus.TypeWindowDisplay, Address: 1, Window: 3, Brightness: 10}}})
	if err != nil {
		fmt.Println(err)
		return
	}
	go b.Run(ctx)
	d := b.Displays()[0]
	for d.Show(ctx, bus.Call{Text: "А123"}) != nil { // until the display is found and set up
		time.Sleep(10 * time.Millisecond)
	}
	f := line.Faces()[0].Display
	fmt.Println(f.Text, f.Window, f.Blinking)
	// Output: А123 3 true
}
