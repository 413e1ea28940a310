package bus

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/cherga/kiosk/devices"
	"github.com/cherga/kiosk/firmware-bridge/modbus"
)

func isWrite(req modbus.Request, addr uint16) bool {
	return (req.Function == modbus.FuncWriteSingleRegister || req.Function == modbus.FuncWriteMultipleRegisters) && req.Address == addr
}

// A press reaches the journal once, whatever is lost on the way: the
// poll's answer, the event read's answer, the ack (heard or not), the
// ack's answer. Every repeat is recognised by its sequence number.
func TestPressCommittedOnceAcrossLostAnswers(t *testing.T) {
	cases := []struct {
		name  string
		lose  func(n int, req modbus.Request) loss // n: how many such requests so far
		what  string                               // the request lost: function/address
		least int                                  // at least this many of them were made
	}{
		{"poll answer lost", func(n int, req modbus.Request) loss {
			if req.Function == modbus.FuncReadInputRegisters && req.Address == inPoll && n < 2 {
				return dropAnswer
			}
			return keep
		}, "04/0000", 3},
		{"event read answer lost", func(n int, req modbus.Request) loss {
			if req.Function == modbus.FuncReadInputRegisters && req.Address == inEvents && n < 1 {
				return dropAnswer
			}
			return keep
		}, "04/0003", 2},
		{"ack answer lost twice", func(n int, req modbus.Request) loss {
			if isWrite(req, regAck) && n < 2 {
				return dropAnswer
			}
			return keep
		}, "06/0001", 2},
		{"ack never heard, all retries", func(n int, req modbus.Request) loss {
			if isWrite(req, regAck) && n < 3 {
				return deaf
			}
			return keep
		}, "06/0001", 4},
		{"ack never heard for three polls", func(n int, req modbus.Request) loss {
			if isWrite(req, regAck) && n < 6 {
				return deaf
			}
			return keep
		}, "06/0001", 7},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := newVLine(t)
			kp := v.attach(2, 2, 0x1A2B3C4D)
			j := openJournal(t, filepath.Join(v.dir, "kioskd.db"))
			b := v.newBus(j, keypadAt(2, 3))
			steps(t, b, 2) // found and set up
			counts := map[string]int{}
			v.setLoss(2, func(req modbus.Request) loss {
				k := fmt.Sprintf("%02x/%04x", byte(req.Function), req.Address)
				n := counts[k]
				counts[k]++
				return tc.lose(n, req)
			})
			kp.press(uint16(KeyNext))
			kp.press(uint16(KeyCame) | 0x100) // a long press
			for i := 0; i < 30 && kp.pending() > 0; i++ {
				steps(t, b, 1)
				v.advance(time.Second) // past the back-off of a device that stopped answering
			}
			if kp.pending() != 0 {
				t.Fatalf("%d events still pending on the keypad", kp.pending())
			}
			if counts[tc.what] < tc.least {
				t.Fatalf("%d requests %s, want at least %d: the loss was not exercised (%v)", counts[tc.what], tc.what, tc.least, counts)
			}
			evs := j.events()
			if len(evs) != 2 || evs[0].Key != KeyNext || evs[1].Key != KeyCame || !evs[1].Long || evs[0].Seq != 1 || evs[1].Seq != 2 {
				t.Fatalf("committed %+v, want next then a long came, once each", evs)
			}
			if got := j.store.Outbox().Events; got != 2 {
				t.Fatalf("outbox holds %d events, want 2", got)
			}
			if mark, _ := j.Mark(markKey(0x1A2B3C4D)); !slices.Equal(mark, []byte{0, 2}) {
				t.Errorf("mark %x, want 0002", mark)
			}
			if evs[0].Window != 3 || evs[0].Serial != 0x1A2B3C4D || !evs[0].AgeKnown {
				t.Errorf("event %+v", evs[0])
			}
		})
	}
}

// kioskd dies after committing a press and before the keypad heard the
// ack: the bbolt file is opened again, a new bus (a new token) finds the
// press still pending, knows it from the mark, and only acknowledges it.
func TestCrashBetweenCommitAndAck(t *testing.T) {
	v := newVLine(t)
	kp := v.attach(2, 2, 0xCAFE0001)
	path := filepath.Join(v.dir, "kioskd.db")
	j := openJournal(t, path)
	b := v.newBus(j, keypadAt(2, 3))
	steps(t, b, 2)
	// The crash: right after the commit, the line goes dead for this bus.
	j.afterCommit = func(Event) { v.units[2].Fault.Silent = true }
	kp.press(uint16(KeyNext))
	steps(t, b, 1) // committed; the ack went nowhere
	if len(j.events()) != 1 || kp.pending() != 1 {
		t.Fatalf("before the crash: %d committed, %d pending on the keypad; want 1 and 1", len(j.events()), kp.pending())
	}
	if err := j.store.Close(); err != nil {
		t.Fatal(err)
	}

	v.units[2].Fault.Silent = false
	j2 := openJournal(t, path)
	b2 := v.newBus(j2, keypadAt(2, 3))
	if b2.token == b.token {
		b2.token++ // a restarted kioskd draws a new token; make sure of it
	}
	kp.press(uint16(KeyFinish))
	steps(t, b2, 3)
	if kp.pending() != 0 {
		t.Fatalf("%d events pending after the restart", kp.pending())
	}
	evs := j2.events()
	if len(evs) != 1 || evs[0].Key != KeyFinish || evs[0].Seq != 2 {
		t.Fatalf("after the restart committed %+v, want only finish (seq 2)", evs)
	}
	if got := j2.store.Outbox().Events; got != 2 {
		t.Fatalf("outbox holds %d events, want 2 (next before the crash, finish after)", got)
	}
	if kp.sync() != b2.token {
		t.Errorf("keypad SYNC %#x, want the new bus's token %#x", kp.sync(), b2.token)
	}
}

// A keypad loses power with a press committed but not acknowledged: it
// comes back with SYNC 0, a blank LCD and the press still pending (age
// unknown). The bus resyncs it (brightness, time, host timeout, text,
// LEDs, then SYNC last), takes the press made after power-on, and knows
// the old one.
func TestKeypadPowerCut(t *testing.T) {
	v := newVLine(t)
	kp := v.attach(2, 2, 0x00C0FFEE)
	j := openJournal(t, filepath.Join(v.dir, "kioskd.db"))
	b := v.newBus(j, keypadAt(2, 3))
	k := b.Keypads()[0]
	k.SetText("А123 НА ПРИЙОМІ", "ЧЕКАЮТЬ: 7")
	k.SetLEDs(LEDServing, 0)
	steps(t, b, 2)
	if l1, l2, leds := kp.lcd(); l1 != "А123 НА ПРИЙОМІ" || l2 != "ЧЕКАЮТЬ: 7" || leds != uint16(LEDServing) {
		t.Fatalf("LCD %q / %q, LEDs %b", l1, l2, leds)
	}
	kp.press(uint16(KeyNext))
	steps(t, b, 1)
	lostAck := true
	v.setLoss(2, func(req modbus.Request) loss {
		if lostAck && isWrite(req, regAck) {
			return deaf
		}
		return keep
	})
	kp.press(uint16(KeyRecall))
	steps(t, b, 1) // committed; the ack not heard (all attempts)
	lostAck = false
	kp.powerCut()
	if l1, _, _ := kp.lcd(); l1 != "" || kp.sync() != 0 {
		t.Fatal("the power cut left the LCD or SYNC")
	}
	before := len(kp.writeLog())
	kp.press(uint16(KeyFinish))
	steps(t, b, 2)
	if kp.pending() != 0 {
		t.Fatalf("%d events pending", kp.pending())
	}
	var keys []Key
	for _, e := range j.events() {
		keys = append(keys, e.Key)
	}
	if !slices.Equal(keys, []Key{KeyNext, KeyRecall, KeyFinish}) {
		t.Fatalf("committed %v, want next, recall, finish once each", keys)
	}
	if evs := j.events(); evs[1].AgeKnown != true || evs[2].AgeKnown != true {
		// recall was read before the cut (age known); finish after.
		t.Errorf("ages %+v", evs)
	}
	if l1, l2, leds := kp.lcd(); l1 != "А123 НА ПРИЙОМІ" || l2 != "ЧЕКАЮТЬ: 7" || leds != uint16(LEDServing) {
		t.Errorf("after the resync: LCD %q / %q, LEDs %b", l1, l2, leds)
	}
	var order []uint16
	for _, w := range kp.writeLog()[before:] {
		order = append(order, w.Address)
		if w.Address == regSync {
			break
		}
	}
	if want := []uint16{regBrightness, regTime, kpHostTimeout, kpText, kpLEDs, regSync}; !slices.Equal(order, want) {
		t.Errorf("resync wrote %04x, want %04x", order, want)
	}
}

// The display shows every call it is given, each in one 0x10 of the call
// block (CHG-1 text, window, blink, a new call id); SHOWN_CALL follows.
func TestDisplayShowsEveryCall(t *testing.T) {
	v := newVLine(t)
	wd := v.attach(1, 1, 0x0D15D000)
	b := v.newBus(nil, displayAt(1, 3))
	d := b.Displays()[0]
	if err := d.Show(context.Background(), Call{Text: "А000"}); !errors.Is(err, ErrNotReady) {
		t.Fatalf("Show before the display was found: %v, want ErrNotReady", err)
	}
	steps(t, b, 1)
	if text, _, _ := wd.face(); text != "А000" {
		t.Fatalf("the call kept before the display was found shows %q", text)
	}
	before := len(wd.writeLog())
	for i := 1; i <= 100; i++ {
		text := fmt.Sprintf("%c%03d", []rune("АБВЕЇ")[i%5], i)
		if err := d.Show(context.Background(), Call{Text: text, Blink: 5 * time.Second}); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		got, window, id := wd.face()
		if got != text || window != 3 {
			t.Fatalf("call %d: face %q window %d, want %q window 3", i, got, window, text)
		}
		if shown, _ := wd.inputs(0x0040, 1); shown[0] != id || id == 0 {
			t.Fatalf("SHOWN_CALL %d, call id %d", shown[0], id)
		}
		if i%7 == 0 {
			steps(t, b, 1)
			v.advance(displayPollEvery)
		}
	}
	var blocks int
	for _, w := range wd.writeLog()[before:] {
		if w.Address == wdBlock {
			blocks++
			if len(w.Values) != wdBlockQty || w.Values[0] != encodingCHG1 || w.Values[10] != 5 {
				t.Fatalf("call block %04x", w.Values)
			}
		}
	}
	if blocks != 100 {
		t.Errorf("%d call blocks written for 100 calls", blocks)
	}
	if err := d.Clear(context.Background()); err != nil {
		t.Fatal(err)
	}
	if text, window, id := wd.face(); text != "" || window != 3 || id != 0 {
		t.Errorf("after Clear: %q %d %d", text, window, id)
	}
}

// A display that loses power comes back blank with SYNC 0; within a
// second the bus writes brightness, time, idle mode, the call block and
// SYNC, in that order (PROTOCOL.md 6.4), and the call is on the face again.
func TestDisplayPowerCut(t *testing.T) {
	v := newVLine(t)
	wd := v.attach(1, 1, 0x0D15D001)
	b := v.newBus(nil, displayAt(1, 3))
	d := b.Displays()[0]
	steps(t, b, 1)
	if err := d.Show(context.Background(), Call{Text: "Б-12"}); err != nil {
		t.Fatal(err)
	}
	wd.powerCut()
	before := len(wd.writeLog())
	for range 10 { // ≤ 1 s of cycles
		v.advance(100 * time.Millisecond)
		steps(t, b, 1)
	}
	text, window, _ := wd.face()
	if text != "Б-12" || window != 3 || wd.sync() != b.token {
		t.Fatalf("after the power cut: %q window %d SYNC %#x", text, window, wd.sync())
	}
	var order []uint16
	for _, w := range wd.writeLog()[before:] {
		order = append(order, w.Address)
	}
	if want := []uint16{regBrightness, regTime, wdIdle, wdBlock, regSync}; !slices.Equal(order, want) {
		t.Errorf("resync wrote %04x, want %04x", order, want)
	}
	if idle := wd.holding(wdIdle, 1)[0]; idle != uint16(IdleWindow) {
		t.Errorf("IDLE %d", idle)
	}
}

// The time goes out by broadcast once a minute on a line of ours only,
// and to each device in turn when another maker's display shares it.
func TestTime(t *testing.T) {
	v := newVLine(t)
	wd := v.attach(1, 1, 0x11)
	b := v.newBus(nil, displayAt(1, 3))
	steps(t, b, 1)
	v.advance(time.Minute)
	steps(t, b, 1)
	if n := len(wd.broadcasts); n != 2 {
		t.Fatalf("%d broadcasts in a minute and a cycle, want 2", n)
	}
	now := uint32(v.line.Clock().Now().Unix())
	if r := wd.broadcasts[1]; r.Address != regTime || r.Values[0] != uint16(now>>16) || r.Values[1] != uint16(now) {
		t.Errorf("broadcast %+v, now %x", r, now)
	}

	v2 := newVLine(t)
	wd2 := v2.attach(1, 1, 0x12)
	v2.line.Attach(9, &profileModel{regs: map[uint16]uint16{}})
	b2 := v2.newBus(nil, displayAt(1, 3), DeviceConfig{Name: "other", Type: TypeProfile, Address: 9, Window: 3,
		Profile: Profile{Register: 0, Length: 4, CharsPerRegister: 2, Encoding: ASCII, Function: modbus.FuncWriteMultipleRegisters}})
	steps(t, b2, 1)
	v2.advance(time.Minute)
	steps(t, b2, 1)
	if len(wd2.broadcasts) != 0 {
		t.Fatalf("broadcast on a line with another maker's device")
	}
	n := 0
	for _, w := range wd2.writeLog() {
		if w.Address == regTime {
			n++
		}
	}
	if n != 3 { // the resync's, and one per minute since
		t.Errorf("%d time writes to the display, want 3", n)
	}
}

// profileModel is another maker's display: holding registers, nothing
// else.
type profileModel struct{ regs map[uint16]uint16 }

func (p *profileModel) ServeModbus(unit byte, req modbus.Request) modbus.Response {
	switch req.Function {
	case modbus.FuncWriteMultipleRegisters, modbus.FuncWriteSingleRegister:
		for i, x := range req.Values {
			p.regs[req.Address+uint16(i)] = x
		}
		if req.Function == modbus.FuncWriteSingleRegister {
			return modbus.Response{Function: req.Function, Address: req.Address, Quantity: 1, Values: req.Values}
		}
		return modbus.Response{Function: req.Function, Address: req.Address, Quantity: uint16(len(req.Values))}
	case modbus.FuncReadHoldingRegisters:
		v := make([]uint16, req.Quantity)
		for i := range v {
			v[i] = p.regs[req.Address+uint16(i)]
		}
		return modbus.Response{Function: req.Function, Values: v}
	}
	return modbus.ExceptionResponse(req.Function, modbus.IllegalFunction)
}

// Another maker's display gets the ticket number as its profile says.
func TestProfileDisplay(t *testing.T) {
	cases := []struct {
		profile Profile
		text    string
		want    map[uint16]uint16
	}{
		{Profile{Register: 10, Length: 3, CharsPerRegister: 2, Encoding: ASCII, Function: modbus.FuncWriteMultipleRegisters,
			HasWindow: true, WindowRegister: 13}, "А123",
			map[uint16]uint16{10: 'A'<<8 | '1', 11: '2'<<8 | '3', 12: ' '<<8 | ' ', 13: 7}},
		{Profile{Register: 0, Length: 4, CharsPerRegister: 1, Encoding: CP1251, Function: modbus.FuncWriteSingleRegister,
			HasWindow: true, WindowRegister: 100}, "Ї-5",
			map[uint16]uint16{0: 0xAF, 1: '-', 2: '5', 3: ' ', 100: 7}},
		{Profile{Register: 5, Length: 2, CharsPerRegister: 2, Encoding: Digits, Function: modbus.FuncWriteMultipleRegisters},
			"Б-042", map[uint16]uint16{5: '0'<<8 | '4', 6: '2'<<8 | ' '}},
	}
	for i, tc := range cases {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			v := newVLine(t)
			pm := &profileModel{regs: map[uint16]uint16{}}
			v.line.Attach(9, pm)
			b := v.newBus(nil, DeviceConfig{Name: "other", Type: TypeProfile, Address: 9, Window: 7, Profile: tc.profile})
			d := b.ProfileDisplays()[0]
			if err := d.Show(context.Background(), Call{Text: tc.text}); err != nil {
				t.Fatal(err)
			}
			for a, want := range tc.want {
				if pm.regs[a] != want {
					t.Errorf("register %d = %#04x, want %#04x", a, pm.regs[a], want)
				}
			}
			steps(t, b, 1)
			if st := d.Status(); st.State != devices.OK {
				t.Errorf("status %+v", st)
			}
		})
	}
}
