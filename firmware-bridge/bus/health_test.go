package bus

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cherga/kiosk/devices"
	"github.com/cherga/kiosk/firmware-bridge/modbus"
)

// Dead devices (a display, a rating panel and another maker's display
// that never answer) cost the keypads at most one timeout per cycle once
// they are backed off: every cycle stays within modbus.CycleBound, and a
// press on a live keypad is committed in the cycle after it.
func TestDeadDevicesDoNotSlowTheOthers(t *testing.T) {
	v := newVLine(t)
	var devs []DeviceConfig
	keypads := map[byte]*model{}
	for u := byte(1); u <= 8; u++ {
		keypads[u] = v.attach(u, 2, 0x1000+uint32(u))
		devs = append(devs, DeviceConfig{Name: fmt.Sprintf("keypad-%d", u), Type: TypeKeypad, Address: u, Window: int(u)})
	}
	// Attached and silent, or not there at all.
	v.attach(20, 1, 0x2000)
	v.units[20].Fault.Silent = true
	devs = append(devs, DeviceConfig{Name: "display-1", Type: TypeWindowDisplay, Address: 20, Window: 1},
		DeviceConfig{Name: "rating-1", Type: TypeRating, Address: 21, Window: 1},
		DeviceConfig{Name: "other-1", Type: TypeProfile, Address: 22, Window: 1,
			Profile: Profile{Length: 4, CharsPerRegister: 2, Encoding: ASCII, Function: modbus.FuncWriteMultipleRegisters}})
	j := openJournal(t, filepath.Join(v.dir, "kioskd.db"))
	b := v.newBus(j, devs...)
	line, opts := v.line.Line(), b.Master().Options()
	bound := modbus.CycleBound(line, opts, len(devs), 3, modbus.ReadInput(inPoll, pollQty))
	steps(t, b, opts.OfflineAfter+2) // found, set up; the dead found out
	var longest time.Duration
	for i := range 300 {
		if i%50 == 25 {
			keypads[5].press(uint16(KeyNext))
		}
		rep := steps(t, b, 1)[0]
		longest = max(longest, rep.Duration)
		if rep.Duration > bound {
			t.Fatalf("cycle %d took %v, bound %v: %+v", i, rep.Duration, bound, rep)
		}
		if i%50 == 25 && len(j.events()) != i/50+1 {
			t.Fatalf("cycle %d: the press is not committed in the next cycle (%d events)", i, len(j.events()))
		}
	}
	for _, name := range []string{"display-1", "rating-1", "other-1"} {
		st := statusOf(t, b, name)
		if st.State != devices.Fault || !strings.Contains(st.Detail, "does not answer") {
			t.Errorf("%s: %+v", name, st)
		}
	}
	if st := statusOf(t, b, "keypad-5"); st.State != devices.OK || st.Model != "CHG-KP1" || st.Firmware != "1.2.0" ||
		st.Serial != "00001005" || st.Address != "bus1:5" || st.LastSeen.IsZero() {
		t.Errorf("keypad-5: %+v", st)
	}
	t.Logf("8 keypads answering, 3 devices dead, %s: longest cycle %v, bound %v", line, longest, bound)
}

func statusOf(t *testing.T, b *Bus, name string) devices.Status {
	t.Helper()
	for _, st := range b.Devices() {
		if s := st(); s.Name == name {
			return s
		}
	}
	t.Fatalf("no device %s", name)
	return devices.Status{}
}

// A device of another type at the configured address is reported and
// never written to.
func TestWrongDeviceType(t *testing.T) {
	v := newVLine(t)
	kp := v.attach(1, 2, 0x77)
	b := v.newBus(nil, displayAt(1, 3))
	steps(t, b, 3)
	st := statusOf(t, b, "display")
	if st.State != devices.Fault || !strings.Contains(st.Detail, "an operator keypad (CHG-KP1) answers at address 1, where a window display (CHG-WD1) is configured") {
		t.Errorf("%+v", st)
	}
	if w := kp.writeLog(); len(w) != 0 {
		t.Errorf("wrote %+v to a device of the wrong type", w)
	}
	if st := b.Status(); st.State != devices.Starting && st.State != devices.OK {
		t.Errorf("bus %+v", st)
	}
}

// A keypad whose queue overflowed is working but needs a look.
func TestStatusWarning(t *testing.T) {
	v := newVLine(t)
	kp := v.attach(2, 2, 0x78)
	b := v.newBus(nil, keypadAt(2, 3))
	steps(t, b, 1)
	kp.mu.Lock()
	kp.status |= statusOverflow
	kp.mu.Unlock()
	steps(t, b, 1)
	if st := statusOf(t, b, "keypad"); st.State != devices.Warning || !strings.Contains(st.Detail, "presses were lost") {
		t.Errorf("%+v", st)
	}
}
