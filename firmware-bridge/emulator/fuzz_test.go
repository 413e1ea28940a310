package emulator_test

import (
	"testing"
	"time"

	"github.com/cherga/kiosk/firmware-bridge/emulator"
	"github.com/cherga/kiosk/firmware-bridge/modbus"
)

// FuzzHandle feeds a device a run of request PDUs from outside, as a
// modbus.Server would (decoder first, then the device): it must never
// panic, and every answer must be a well-formed response to that
// function or one of the exceptions of section 3.
//
// Input: a type byte, then records of (n, flags, n bytes of PDU); flags
// bit 0 sends it as a broadcast, bits 1–3 advance the clock that many
// seconds first.
func FuzzHandle(f *testing.F) {
	seed := func(typ byte, pdus ...[]byte) {
		in := []byte{typ}
		for _, p := range pdus {
			in = append(in, byte(len(p)), 0)
			in = append(in, p...)
		}
		f.Add(in)
	}
	mf := modbus.WriteFile(1, 0, manifest(emulator.Keypad, 1, emulator.Version{1, 1, 0}, testImage(130, "")))
	pdu := func(r modbus.Request) []byte {
		b, err := r.AppendPDU(nil)
		if err != nil {
			panic(err)
		}
		return b
	}
	seed(1, unhex("03 00 00 00 0C"), unhex("10 01 00 00 0C 18 00 01 C0 31 32 33 00 00 00 00 00 00 00 00 00 00 00 00 00 03 00 05 01 02"))
	seed(2, unhex("04 00 00 00 06"), unhex("06 00 01 00 2A"), unhex("2B 0E 02 00"))
	seed(2, pdu(mf), pdu(modbus.WriteFile(2, 0, chunk(testImage(130, ""), 0))), pdu(modbus.WriteFile(2, 1, chunk(testImage(130, ""), 1))),
		unhex("06 00 80 00 02"), unhex("14 07 06 00 02 00 01 00 42"))
	seed(3, unhex("06 01 00 00 3C"), unhex("04 00 40 00 08"), unhex("06 00 0B A5 A5"))
	seed(3, unhex("17 00 00"), unhex("2B 0D"), unhex("15 09 06 00 02 00 00 00 01 00 00"))
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) == 0 {
			return
		}
		clock := newFakeClock()
		typ := emulator.Type(1 + in[0]%3)
		d, err := emulator.NewDevice(emulator.Spec{Addr: 7, Type: typ}, emulator.Options{Clock: clock, Line: modbus.PTYLine})
		if err != nil {
			t.Fatal(err)
		}
		in = in[1:]
		for len(in) >= 2 {
			n, flags := int(in[0]), in[1]
			in = in[2:]
			if n > len(in) {
				n = len(in)
			}
			p := in[:n]
			in = in[n:]
			clock.Advance(time.Duration(flags>>1&7) * time.Second)
			if flags&0x10 != 0 {
				d.Press(1+int(flags>>5)%5, flags&0x80 != 0)
			}
			unit := byte(7)
			if flags&1 != 0 {
				unit = 0
			}
			answer, ok := call(d, unit, p)
			if unit == 0 {
				if ok && len(p) > 0 && (p[0] == 0x06 || p[0] == 0x10 || p[0] == 0x15) {
					t.Fatalf("broadcast % X answered % X", p, answer)
				}
				continue
			}
			if !ok {
				if len(p) > 0 && p[0] < 0x80 {
					t.Fatalf("% X: no answer", p)
				}
				continue
			}
			if len(answer) > modbus.MaxPDU {
				t.Fatalf("% X: answer of %d bytes", p, len(answer))
			}
			resp, err := modbus.DecodeResponse(answer)
			if err != nil {
				t.Fatalf("% X: answer % X does not decode: %v", p, answer, err)
			}
			if resp.Function != modbus.Function(p[0]) {
				t.Fatalf("% X: answer for function %s", p, resp.Function)
			}
			switch resp.Exception {
			case 0, modbus.IllegalFunction, modbus.IllegalDataAddress, modbus.IllegalDataValue, modbus.ServerDeviceFailure, modbus.ServerDeviceBusy:
			default:
				t.Fatalf("% X: exception %s", p, resp.Exception)
			}
		}
		d.Face()
	})
}
