package emulator

import (
	"encoding/json"
	"testing"
	"unicode/utf8"

	"github.com/cherga/kiosk/firmware-bridge/modbus"
)

// FuzzFrameCounter: the bytes the devices hear, in reads of any size
// with silences between; never panics, holds a bounded buffer, and never
// counts a good frame as bad.
func FuzzFrameCounter(f *testing.F) {
	good := modbus.AppendADU(nil, 2, []byte{0x04, 0, 0, 0, 6})
	f.Add(append(append([]byte{}, good...), good...), byte(3))
	f.Add([]byte{0xFF, 0, 0x55}, byte(0))
	f.Add(append([]byte{1, 2, 3}, good...), byte(1))
	f.Fuzz(func(t *testing.T, b []byte, cut byte) {
		var c frameCounter
		step := int(cut%16) + 1
		for i := 0; i < len(b); i += step {
			c.heard(b[i:min(i+step, len(b))])
			if len(c.buf) > maxHeld {
				t.Fatalf("holds %d bytes", len(c.buf))
			}
			if cut&0x80 != 0 {
				c.heard(nil)
			}
		}
		c.heard(nil)
		// Good frames alone, one read each, are never errors.
		var g frameCounter
		if bad := g.heard(good) + g.heard(nil) + g.heard(good) + g.heard(good) + g.heard(nil); bad != 0 {
			t.Fatalf("%d bad frames counted among good ones", bad)
		}
	})
}

// FuzzParseState: a state file from disk (damaged, hand-edited) is read
// or refused, never a panic, and what is read is within range.
func FuzzParseState(f *testing.F) {
	nv, err := newState(Spec{Addr: 2, Type: Keypad}, Options{Line: modbus.PTYLine}.normal())
	if err != nil {
		f.Fatal(err)
	}
	nv.Journal[0] = nvEvent{Seq: 1, Code: 0x81, Pending: true}
	good, _ := json.Marshal(nv)
	f.Add(good)
	f.Add([]byte(`{"format":1}`))
	f.Add([]byte(`{"format":1,"type":9}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := parseState(b)
		if err != nil {
			return
		}
		if err := s.check(); err != nil {
			t.Fatal(err)
		}
		d := &Device{o: Options{Line: modbus.PTYLine}.normal(), spec: Spec{Addr: 1, Type: s.Type}, nv: s, cutAfterChunk: -1}
		d.powerUp(d.o.Clock.Now(), resetPowerOn)
		d.Face()
	})
}

// FuzzDecodeText: text registers from the host become at most max
// characters, valid UTF-8, whatever the bytes.
func FuzzDecodeText(f *testing.F) {
	f.Add([]byte("А123"), uint16(0))
	f.Add([]byte{0xC0, 0x31, 0x32, 0x33}, uint16(1))
	f.Add([]byte{0xF0, 0x9F, 0x98, 0x80, 0xE2, 0x84}, uint16(0))
	f.Fuzz(func(t *testing.T, raw []byte, enc uint16) {
		c := decodeText(raw, enc%2, 8)
		if len(c) > 8 {
			t.Fatalf("%d characters", len(c))
		}
		if s := codesString(c); !utf8.ValidString(s) {
			t.Fatalf("%q", s)
		}
		lines := lcdLines([2][]byte{decodeText(raw, enc%2, 20), c})
		if utf8.RuneCountInString(lines[0]) != 20 || utf8.RuneCountInString(lines[1]) != 20 {
			t.Fatalf("LCD lines %q", lines)
		}
	})
}

// FuzzControlBodies: the control API's bodies, as httpapi hands them to
// the decoders: a fault and a key.
func FuzzControlBodies(f *testing.F) {
	f.Add([]byte(`{"kind":"slow","delay":"300ms","count":2}`))
	f.Add([]byte(`"next"`))
	f.Add([]byte(`3`))
	f.Add([]byte(`{"kind":"garbage","bytes":-1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var fl Fault
		if err := json.Unmarshal(b, &fl); err == nil {
			if err := fl.Validate(); err != nil {
				t.Fatalf("decoded a fault that does not validate: %v", err)
			}
			if _, err := json.Marshal(fl); err != nil {
				t.Fatal(err)
			}
		}
		for _, typ := range []Type{WindowDisplay, Keypad, RatingPanel} {
			if k, err := parsePressKey(typ, b); err == nil && checkKey(typ, k) != nil {
				t.Fatalf("key %d taken for a %s", k, typ)
			}
		}
	})
}
