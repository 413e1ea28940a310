package terminal

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/cherga/kiosk/display/webtest"
	"github.com/cherga/kiosk/i18n"
)

// The /boards/ page in a real Chromium, against a whole terminal driving
// the emulated bus of window 3: the simulated LED board and each bus
// device's face are drawn (the call on the window display, the keypad's
// LCD, the rating panel's five buttons), and a key clicked on the page's
// keypad is pressed on the emulated device and committed by kioskd.
func TestBoardsPageInChromium(t *testing.T) {
	e := startEmulated(t)
	ticket := e.takeTicket(t)
	send(t, e.office.Request("POST", "/api/v1/windows/3/next", ""), http.StatusOK, nil)

	b := webtest.Start(t, 1280, 1700)
	if err := b.Open(e.base + "/boards/"); err != nil {
		t.Fatal(err)
	}
	dev := func(typ string) string {
		return fmt.Sprintf(`document.querySelector('.bus-device[data-type=%q]')`, typ)
	}
	calling := i18n.T("uk", "keypad.calling", "ticket", ticket)
	must(t, b.WaitTrue(fmt.Sprintf(`!document.getElementById("bus").hidden && %s !== null && %s.querySelector(".bf-text").textContent === %q &&
		%s.querySelector(".bf-number").textContent.endsWith("3")`, dev("window-display"), dev("window-display"), ticket, dev("window-display")), 20*time.Second))
	must(t, b.WaitTrue(fmt.Sprintf(`%s.querySelector(".bf-lcd").textContent.startsWith(%q) && %s.querySelectorAll("button.bf-key").length === 7`,
		dev("keypad"), calling, dev("keypad")), 20*time.Second))
	must(t, b.WaitTrue(fmt.Sprintf(`%s.querySelectorAll("button.bf-key").length === 5 && %s.querySelector(".bf-thanks") !== null`,
		dev("rating"), dev("rating")), 10*time.Second))
	must(t, b.WaitTrue(`[...document.querySelectorAll("#boards .led")].some((e) => e.textContent.length > 0)`, 10*time.Second))
	heading, err := webtest.Eval[string](b, `document.querySelector('.bus-window[data-window="3"] h3').textContent`)
	if err != nil || heading != i18n.Both("boards.bus.window", "n", 3) {
		t.Errorf("window heading %q: %v", heading, err)
	}
	b.Screenshot(t, "boards-bus")
	if v := b.Audit(t, "boards-bus"); len(v) > 0 {
		t.Errorf("the boards page: %d accessibility rules broken:\n%s", len(v), webtest.FormatViolations(v))
	}

	// "Came", clicked on the page: the emulated keypad queues it and kioskd
	// commits it with the device's sequence number.
	serial := face(t, e.eb, 2).Serial
	before := markOf(t, e.term, serial)
	if _, err := webtest.Eval[bool](b, dev("keypad")+`.querySelector('button[data-key="came"]').click() === undefined`); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the page's press committed", func() bool { return markOf(t, e.term, serial) == before+1 })
	must(t, b.WaitTrue(`document.getElementById("bus-error").textContent === ""`, 5*time.Second))
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
