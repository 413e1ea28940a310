package terminal

import (
	"testing"

	"github.com/cherga/kiosk/devices"
)

// A device is reported again when what is wrong with it changes, not when
// an OK device's detail (its ticket count) does.
func TestReportedCondition(t *testing.T) {
	for _, c := range []struct {
		st   devices.Status
		want string
	}{
		{devices.Status{State: devices.OK, Detail: "TM-T20 on /dev/usb/lp0, 12 tickets printed"}, ""},
		{devices.Status{State: devices.Starting, Detail: "opening"}, ""},
		{devices.Status{State: devices.Warning, Detail: "connected, asking the printer how it is"}, ":connected"},
		{devices.Status{State: devices.Warning, Detail: "paper_near_end (estimated: 0.9 of 1.0 m used)"}, ":paper_near_end"},
		{devices.Status{State: devices.Warning, Detail: "paper_near_end"}, ":paper_near_end"},
		{devices.Status{State: devices.Fault, Detail: "paper_out; ticket А001 waits to be printed again"}, ":paper_out"},
		{devices.Status{State: devices.Fault, Detail: "offline: the printer stopped answering status queries"}, ":offline"},
	} {
		if got := reportedCondition(c.st); got != c.want {
			t.Errorf("%s %q: %q, want %q", c.st.State, c.st.Detail, got, c.want)
		}
	}
}
