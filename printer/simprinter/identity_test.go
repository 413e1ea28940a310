package simprinter_test

import (
	"net"
	"testing"
	"time"

	"github.com/cherga/kiosk/printer"
	"github.com/cherga/kiosk/printer/escpos"
	"github.com/cherga/kiosk/printer/simprinter"
)

// The simulated printer answers GS I as an Epson does, with its
// profile's name; an identity set by hand, or a silent printer, answers
// only what it has.
func TestIdentity(t *testing.T) {
	prof, _ := printer.LookupProfile("custom-vkp80")
	d, err := simprinter.New(prof, 80, "")
	if err != nil {
		t.Fatal(err)
	}
	ours, theirs := net.Pipe()
	go func() { _ = d.Serve(theirs) }()
	defer ours.Close()
	ask := func(n int) []byte {
		t.Helper()
		if _, err := ours.Write(escpos.IDQuery(n)); err != nil {
			t.Fatal(err)
		}
		var got []byte
		for {
			_ = ours.SetReadDeadline(time.Now().Add(10 * time.Second)) // a guard
			b := make([]byte, 64)
			n2, err := ours.Read(b)
			if err != nil {
				t.Fatalf("GS I %d: %v after %q", n, err, got)
			}
			got = append(got, b[:n2]...)
			if v, used, err := escpos.ParseID(n, got); used > 0 {
				if err != nil {
					t.Fatalf("GS I %d: %v", n, err)
				}
				return v
			}
		}
	}
	if got := string(ask(escpos.IDModelName)); got != "Custom VKP80II/III kiosk printer" {
		t.Errorf("model %q", got)
	}
	if got := ask(escpos.IDType); got[0] != escpos.IDTypeAutocutter {
		t.Errorf("type %#x", got)
	}
	if got := string(ask('2')); got != "\x02" {
		t.Errorf("GS I '2': %q", got)
	}
	// Only the model ID now: the maker goes unanswered, and the next
	// answer is the next question's.
	d.SetIdentity(simprinter.Identity{escpos.IDModel: {0x41}})
	if _, err := ours.Write(escpos.IDQuery(escpos.IDMaker)); err != nil {
		t.Fatal(err)
	}
	if got := ask(escpos.IDModel); got[0] != 0x41 {
		t.Errorf("model ID %#x", got)
	}
}
