package modbus_test

import (
	"context"
	"flag"
	"os"
	"slices"
	"testing"

	"github.com/cherga/kiosk/firmware-bridge/modbus"
	"github.com/cherga/kiosk/firmware-bridge/modbus/modbustest"
)

var record = flag.Bool("record", false, "rewrite testdata/pymodbus-session.txt from a live pymodbus session")

const pymodbusSessionFile = "testdata/pymodbus-session.txt"

// pymodbusSession is what our master does against pymodbus's server,
// live in TestInteropPymodbus and replayed in TestReplayPymodbusSession.
func pymodbusSession(t *testing.T, m *modbus.Master) modbus.Health {
	t.Helper()
	ctx := context.Background()
	v, err := m.ReadHoldingRegisters(ctx, 1, 0, 10)
	if err != nil || v[0] != 1000 || v[9] != 1009 {
		t.Fatalf("read holding: %v, %v", v, err)
	}
	v, err = m.ReadInputRegisters(ctx, 1, 95, 5)
	if err != nil || !slices.Equal(v, []uint16{2095, 2096, 2097, 2098, 2099}) {
		t.Fatalf("read input: %v, %v", v, err)
	}
	if err := m.WriteRegister(ctx, 1, 3, 4242); err != nil {
		t.Fatal(err)
	}
	if err := m.WriteRegisters(ctx, 1, 10, 7, 8, 9); err != nil {
		t.Fatal(err)
	}
	// A broadcast: pymodbus acts on it (broadcast_enable) and stays silent.
	if err := m.Broadcast(ctx, modbus.WriteRegister(20, 0x2020)); err != nil {
		t.Fatal(err)
	}
	v, err = m.ReadHoldingRegisters(ctx, 1, 3, 18)
	if err != nil || v[0] != 4242 || !slices.Equal(v[7:10], []uint16{7, 8, 9}) || v[17] != 0x2020 {
		t.Fatalf("after writes: %v, %v", v, err)
	}
	// 125 registers, the largest read: a 255-byte answer.
	if v, err := m.ReadHoldingRegisters(ctx, 1, 0, 125); err != nil || len(v) != 125 || v[124] != 1124 {
		t.Fatalf("large read: %d registers, %v", len(v), err)
	}
	if _, err := m.ReadHoldingRegisters(ctx, 1, 125, 1); !modbus.IsException(err, modbus.IllegalDataAddress) {
		t.Fatalf("read past the data block: %v, want exception 02", err)
	}
	id, err := m.ReadIdentification(ctx, 1)
	want := modbus.Identity{Vendor: "cherga", Product: "CHG-WD1", Revision: "1.2.0", Model: "window display 8x1"}
	if err != nil || id != want {
		t.Fatalf("identification %+v, %v", id, err)
	}
	// 0x15: pymodbus 3.0 echoes a write (it stores nothing).
	if err := m.WriteFileRecord(ctx, 1, 2, 0, []uint16{1, 2, 3, 4}); err != nil {
		t.Fatalf("write file record: %v", err)
	}
	h := m.Health(1)
	if !h.Online || h.Timeouts != 0 || h.BadAnswers != 0 || h.WrongUnit != 0 {
		t.Errorf("health %+v", h)
	}
	if st := m.RTU().Stats(); st.GarbageBytes != 0 {
		t.Errorf("garbage from pymodbus: %+v", st)
	}
	return h
}

// TestReplayPymodbusSession replays the recorded pymodbus session: the
// master must send exactly what it sent then, and take pymodbus's
// answers the same way, on any machine, without Python.
func TestReplayPymodbusSession(t *testing.T) {
	data, err := os.ReadFile(pymodbusSessionFile)
	if err != nil {
		t.Fatalf("%v (run TestInteropPymodbus -record)", err)
	}
	rp, err := modbustest.NewReplay(data)
	if err != nil {
		t.Fatal(err)
	}
	m := modbus.NewMaster(modbus.NewRTU(rp, modbus.RTUOptions{Line: modbus.PTYLine, Clock: rp.Clock()}), modbus.MasterOptions{})
	pymodbusSession(t, m)
	if err := rp.Err(); err != nil {
		t.Fatal(err)
	}
	if !rp.Done() {
		t.Error("the session has recorded requests the master did not send")
	}
}
