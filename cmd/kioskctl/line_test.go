package main

import (
	"flag"
	"io"
	"testing"

	"github.com/cherga/kiosk/firmware-bridge/modbus"
)

// Every bridge command takes the line whole (-line) or by parts (-baud,
// -parity, -stop), the parts winning.
func TestLineFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
		bad  bool
	}{
		{nil, "19200 8E1", false},
		{[]string{"-line", "9600 8N2"}, "9600 8N2", false},
		{[]string{"-baud", "115200"}, "115200 8E1", false},
		{[]string{"-parity", "n", "-stop", "2"}, "19200 8N2", false},
		{[]string{"-line", "38400 8O1", "-parity", "E"}, "38400 8E1", false},
		{[]string{"-parity", "X"}, "", true},
		{[]string{"-stop", "3"}, "", true},
		{[]string{"-baud", "12"}, "", true},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		var l lineFlags
		l.register(fs, modbus.DefaultLine)
		if err := fs.Parse(c.args); err != nil {
			t.Fatal(err)
		}
		got, err := l.value()
		if c.bad {
			if err == nil {
				t.Errorf("%v: accepted as %s", c.args, got)
			}
			continue
		}
		if err != nil || got.String() != c.want {
			t.Errorf("%v: %s %v, want %s", c.args, got, err, c.want)
		}
	}
}
