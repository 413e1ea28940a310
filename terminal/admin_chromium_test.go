package terminal

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/cherga/kiosk/display/webtest"
	"github.com/cherga/kiosk/i18n"
	"github.com/cherga/kiosk/queue/queuetest"
)

// The admin page in a real Chromium at the two screen sizes a technician
// has: every device, the paper and the link shown, nothing off its box,
// no console error (the CSP refuses any inline script), Ukrainian first,
// the test print driven from the page, refreshed on the page's clock.
func TestAdminPageInChromium(t *testing.T) {
	clock := clockwork.NewFakeClockAt(time.Now())
	office := queuetest.Start(t, clock)
	r := startTerminal(t, clock, office)
	b := webtest.Start(t, 1280, 720)
	console, err := b.WatchConsole()
	must(t, err)
	must(t, b.HoldClock())
	must(t, b.Resize(1280, 720))
	must(t, b.Open("http://"+r.admin+"/admin/"))
	must(t, b.WaitTrue(`document.body.dataset.ready === "true" && document.querySelectorAll("#devices li").length > 0`, 20*time.Second))

	title, err := webtest.Eval[string](b, `document.querySelector("h1 span").textContent`)
	if err != nil || title != i18n.T("uk", "admin.title") {
		t.Errorf("title %q: %v", title, err)
	}
	n, err := webtest.Eval[int](b, `document.querySelectorAll("#devices li").length`)
	if err != nil || n != len(r.term.deviceStates()) {
		t.Errorf("%d devices shown, the terminal has %d: %v", n, len(r.term.deviceStates()), err)
	}
	must(t, b.WaitTrue(`document.querySelector('#devices li[data-name="printer"] button.restart') !== null`, 5*time.Second))
	checkAdminLayout(t, b, "1280x720")

	// The test print from the page.
	sim := r.term.kioskPart().sim
	before := sim.Count()
	if _, err := webtest.Eval[bool](b, `document.getElementById("test-print").click() === undefined`); err != nil {
		t.Fatal(err)
	}
	must(t, b.WaitTrue(fmt.Sprintf(`document.getElementById("message").textContent === %q`, i18n.T("uk", "admin.done.print")), 10*time.Second))
	if sim.Count() != before+1 {
		t.Errorf("printed %d, expected %d", sim.Count(), before+1)
	}

	// The refresh runs on the page clock: held, nothing is asked for; once
	// advanced past the refresh interval, the status is read again.
	before, err = webtest.Eval[int](b, `Number(document.body.dataset.refreshes)`)
	must(t, err)
	must(t, b.AdvanceClock(3*time.Second))
	must(t, b.WaitTrue(fmt.Sprintf(`Number(document.body.dataset.refreshes) > %d`, before), 10*time.Second))

	must(t, b.Resize(1920, 1080))
	must(t, b.AdvanceClock(3*time.Second))
	checkAdminLayout(t, b, "1920x1080")
	b.Screenshot(t, "admin-1920x1080")

	// English on request; the configuration view.
	if _, err := webtest.Eval[bool](b, `document.getElementById("lang").click() === undefined`); err != nil {
		t.Fatal(err)
	}
	must(t, b.WaitTrue(fmt.Sprintf(`document.querySelector("h1 span").textContent === %q`, i18n.T("en", "admin.title")), 5*time.Second))
	if _, err := webtest.Eval[bool](b, `document.getElementById("tab-config").click() === undefined`); err != nil {
		t.Fatal(err)
	}
	must(t, b.WaitTrue(`document.getElementById("config").textContent.includes('"device_id": "demo-01"')`, 5*time.Second))
	if errs := console.Errors(); len(errs) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(errs, "\n"))
	}
}

func checkAdminLayout(t *testing.T, b *webtest.Browser, name string) {
	t.Helper()
	l, err := b.CheckLayout()
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Problems) > 0 {
		b.Screenshot(t, "admin-"+name)
		t.Errorf("admin page at %s: %d layout problems:\n%s", name, len(l.Problems), strings.Join(l.Problems, "\n"))
	}
	if l.Texts < 20 {
		t.Errorf("admin page at %s: only %d texts checked", name, l.Texts)
	}
}
