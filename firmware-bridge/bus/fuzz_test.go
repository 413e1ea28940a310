package bus

import (
	"encoding/binary"
	"path/filepath"
	"testing"
	"unicode/utf8"

	"github.com/cherga/kiosk/firmware-bridge/modbus"
)

func regsOf(b []byte) []uint16 {
	v := make([]uint16, len(b)/2)
	for i := range v {
		v[i] = binary.BigEndian.Uint16(b[2*i:])
	}
	return v
}

// The parsers of what devices answer and of marks: never a panic, and
// what they return stays in range.
func FuzzParse(f *testing.F) {
	f.Add([]byte{0, 0, 0x12, 0x34, 0, 2, 0, 0x2A, 0, 1, 0, 3})
	f.Add([]byte{0, 2, 0, 1, 0, 1, 0, 1, 0, 2, 0, 0, 0x1A, 0x2B, 0x3C, 0x4D})
	f.Add([]byte{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF})
	f.Add([]byte{0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		v := regsOf(data)
		if p, err := parsePoll(v[:min(len(v), pollQty)]); err == nil && p.Pending > 64 {
			t.Fatalf("accepted %d pending", p.Pending)
		}
		for _, e := range parseEvents(v) {
			if e.Seq == 0 {
				t.Fatal("an empty event offered")
			}
			if age, known := e.age(); known && age < 0 {
				t.Fatal("negative age")
			}
		}
		if id, err := parseIdentity(v[:min(len(v), identityQty)]); err == nil && (id.Serial == 0 || id.Serial == 0xFFFFFFFF) {
			t.Fatalf("accepted instance %08X", id.Serial)
		}
		if _, ok, err := parseMark(data); ok && err != nil {
			t.Fatal("a mark both read and refused")
		}
		if s := DecodeCHG1(data); !utf8.ValidString(s) {
			t.Fatalf("DecodeCHG1 made invalid UTF-8 %q", s)
		}
		if b := EncodeCHG1(string(data), 20); len(b) > 20 {
			t.Fatalf("EncodeCHG1 gave %d bytes for 20", len(b))
		}
	})
}

// fuzzKeypad answers like a keypad of ours whose poll block and events
// are whatever the fuzzer says.
type fuzzKeypad struct{ data []uint16 }

func (k *fuzzKeypad) next(n int) []uint16 {
	v := make([]uint16, n)
	for i := range v {
		if len(k.data) > 0 {
			v[i], k.data = k.data[0], k.data[1:]
		}
	}
	return v
}

func (k *fuzzKeypad) ServeModbus(unit byte, req modbus.Request) modbus.Response {
	fn := req.Function
	switch {
	case fn == modbus.FuncReadInputRegisters && req.Address == inIdentity:
		return modbus.Response{Function: fn, Values: []uint16{2, 1, 1, 1, 2, 0, 0x1234, 0x5678}}
	case fn == modbus.FuncReadInputRegisters:
		return modbus.Response{Function: fn, Values: k.next(int(req.Quantity))}
	case fn == modbus.FuncWriteSingleRegister:
		return modbus.Response{Function: fn, Address: req.Address, Quantity: 1, Values: req.Values}
	case fn == modbus.FuncWriteMultipleRegisters:
		return modbus.Response{Function: fn, Address: req.Address, Quantity: uint16(len(req.Values))}
	}
	return modbus.ExceptionResponse(fn, modbus.IllegalFunction)
}

// A keypad answering anything at all in its poll and event registers
// never makes the host panic, and the host commits only events whose
// sequence numbers come after the last one committed.
func FuzzKeypadAnswers(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 0, 1, 0, 7, 0, 1, 0, 3})
	f.Add([]byte{0, 0, 0, 0, 0, 3, 0, 1, 0, 1, 0, 3, 0, 1, 0, 1, 0, 0, 0, 2, 1, 4, 0xFF, 0xFF, 0, 3, 0, 9, 0, 0})
	f.Add([]byte{0, 0, 0, 0, 0, 64, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF})
	f.Fuzz(func(t *testing.T, data []byte) {
		v := newVLine(t)
		v.line.Attach(2, &fuzzKeypad{data: regsOf(data)})
		j := openJournal(t, filepath.Join(t.TempDir(), "kioskd.db"))
		j.commits = nil
		b := v.newBus(j, keypadAt(2, 3))
		steps(t, b, 4)
		evs := j.events()
		for i, e := range evs {
			if !e.Key.validFor(TypeKeypad) {
				t.Fatalf("committed key %v", e.Key)
			}
			if i > 0 && !after(e.Seq, evs[i-1].Seq) {
				t.Fatalf("committed seq %d after %d", e.Seq, evs[i-1].Seq)
			}
		}
	})
}
