// Package modbustest holds fakes for tests of the bus: Device, a Modbus
// server made of register and file memory, and Bus, a simulated RS-485
// line in virtual time with devices and faults on it.
//
// Nothing here touches hardware; everything runs on a clockwork fake
// clock, so tests of timeouts and back-off never sleep.
package modbustest

import (
	"slices"
	"sync"

	"github.com/cherga/kiosk/firmware-bridge/modbus"
)

// Device is a Modbus server over plain memory: holding and input
// registers that exist where they were set, file records, identification
// objects. Reads and writes of registers that do not exist are refused
// with exception 02, as a device of PROTOCOL.md does outside its blocks.
type Device struct {
	mu      sync.Mutex
	holding map[uint16]uint16
	input   map[uint16]uint16
	files   map[uint16]map[uint16][]uint16
	objects map[byte]string
	writes  []modbus.Request
	// Busy makes every request answer exception 06.
	busy bool
}

// NewDevice returns an empty device.
func NewDevice() *Device {
	return &Device{
		holding: map[uint16]uint16{}, input: map[uint16]uint16{},
		files: map[uint16]map[uint16][]uint16{}, objects: map[byte]string{},
	}
}

// SetHolding sets holding registers from addr on.
func (d *Device) SetHolding(addr uint16, v ...uint16) *Device {
	d.mu.Lock()
	defer d.mu.Unlock()
	for i, x := range v {
		d.holding[addr+uint16(i)] = x
	}
	return d
}

// SetInput sets input registers from addr on.
func (d *Device) SetInput(addr uint16, v ...uint16) *Device {
	d.mu.Lock()
	defer d.mu.Unlock()
	for i, x := range v {
		d.input[addr+uint16(i)] = x
	}
	return d
}

// SetRecord stores a file record.
func (d *Device) SetRecord(file, record uint16, data ...uint16) *Device {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.files[file] == nil {
		d.files[file] = map[uint16][]uint16{}
	}
	d.files[file][record] = slices.Clone(data)
	return d
}

// SetObject sets an identification object (0 vendor, 1 product code,
// 2 revision, 5 model name).
func (d *Device) SetObject(id byte, value string) *Device {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.objects[id] = value
	return d
}

// SetBusy makes the device answer 06 to everything.
func (d *Device) SetBusy(busy bool) {
	d.mu.Lock()
	d.busy = busy
	d.mu.Unlock()
}

// Holding returns qty holding registers from addr (missing ones read 0).
func (d *Device) Holding(addr, qty uint16) []uint16 {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]uint16, qty)
	for i := range out {
		out[i] = d.holding[addr+uint16(i)]
	}
	return out
}

// Record returns a stored file record.
func (d *Device) Record(file, record uint16) []uint16 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.files[file][record])
}

// Writes returns the write requests the device has carried out, in order.
func (d *Device) Writes() []modbus.Request {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.writes)
}

func exc(fn modbus.Function, c modbus.ExceptionCode) modbus.Response {
	return modbus.ExceptionResponse(fn, c)
}

// ServeModbus implements modbus.Handler.
func (d *Device) ServeModbus(unit byte, req modbus.Request) modbus.Response {
	d.mu.Lock()
	defer d.mu.Unlock()
	fn := req.Function
	if d.busy {
		return exc(fn, modbus.ServerDeviceBusy)
	}
	read := func(m map[uint16]uint16) modbus.Response {
		v := make([]uint16, req.Quantity)
		for i := range v {
			x, ok := m[req.Address+uint16(i)]
			if !ok {
				return exc(fn, modbus.IllegalDataAddress)
			}
			v[i] = x
		}
		return modbus.Response{Function: fn, Values: v}
	}
	switch fn {
	case modbus.FuncReadHoldingRegisters:
		return read(d.holding)
	case modbus.FuncReadInputRegisters:
		return read(d.input)
	case modbus.FuncWriteSingleRegister, modbus.FuncWriteMultipleRegisters:
		for i := range req.Values {
			if _, ok := d.holding[req.Address+uint16(i)]; !ok {
				return exc(fn, modbus.IllegalDataAddress)
			}
		}
		for i, v := range req.Values {
			d.holding[req.Address+uint16(i)] = v
		}
		d.writes = append(d.writes, req)
		if fn == modbus.FuncWriteSingleRegister {
			return modbus.Response{Function: fn, Address: req.Address, Quantity: 1, Values: req.Values}
		}
		return modbus.Response{Function: fn, Address: req.Address, Quantity: uint16(len(req.Values))}
	case modbus.FuncReadFileRecord:
		var recs []modbus.FileRecord
		for _, f := range req.Records {
			data, ok := d.files[f.File][f.Record]
			if !ok || int(f.Length) > len(data) {
				return exc(fn, modbus.IllegalDataAddress)
			}
			recs = append(recs, modbus.FileRecord{Data: slices.Clone(data[:f.Length])})
		}
		return modbus.Response{Function: fn, Records: recs}
	case modbus.FuncWriteFileRecord:
		for _, f := range req.Records {
			if d.files[f.File] == nil {
				return exc(fn, modbus.IllegalDataAddress)
			}
		}
		for _, f := range req.Records {
			d.files[f.File][f.Record] = slices.Clone(f.Data)
		}
		d.writes = append(d.writes, req)
		return modbus.Response{Function: fn, Records: req.Records}
	case modbus.FuncEncapsulatedInterface:
		return d.identification(req)
	}
	return exc(fn, modbus.IllegalFunction)
}

// identification answers 0x2B/0x0E as PROTOCOL.md section 9 says.
func (d *Device) identification(req modbus.Request) modbus.Response {
	fn := req.Function
	basic := []byte{0, 1, 2}
	regular := []byte{0, 1, 2, 3, 4, 5, 6}
	var ids []byte
	switch req.IDCode {
	case modbus.DeviceIDBasic:
		ids = basic
	case modbus.DeviceIDRegular, modbus.DeviceIDExtended:
		ids = regular
	case modbus.DeviceIDIndividual:
		if _, ok := d.objects[req.ObjectID]; !ok {
			return exc(fn, modbus.IllegalDataAddress)
		}
		ids = []byte{req.ObjectID}
	}
	if req.IDCode != modbus.DeviceIDIndividual {
		// A stream starts at the object asked for, or at 0 if there is no
		// such object.
		start := slices.Index(ids, req.ObjectID)
		if _, ok := d.objects[req.ObjectID]; !ok || start < 0 {
			start = 0
		}
		ids = ids[start:]
	}
	r := modbus.Response{Function: fn, DeviceID: modbus.DeviceID{Code: req.IDCode, Conformity: 0x82}}
	for _, id := range ids {
		if v, ok := d.objects[id]; ok {
			r.DeviceID.Objects = append(r.DeviceID.Objects, modbus.DeviceObject{ID: id, Value: []byte(v)})
		}
	}
	return r
}
