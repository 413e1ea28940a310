package queue

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cherga/kiosk/configs"
	"github.com/cherga/kiosk/link/proto"
)

// The supervisors' devices page in a real headless Chromium against the
// real server, with sixty terminals of five devices each connected by
// real websockets (the hall of a large centre: 320 windows' worth): the
// alerts on top, every terminal's devices in words, signs and colours,
// live as a printer runs out of paper and a terminal loses its link;
// audited with axe-core and laid out without overflow at 1280×720 and
// 1920×1080, in Ukrainian and English.
func TestDevicesPageInChromium(t *testing.T) {
	r := startWebRig(t, 0)
	now := time.Now()
	devs := func(printer, detail string) []proto.DeviceState {
		return []proto.DeviceState{
			{Name: "printer", Kind: "printer", Driver: "escpos", State: printer, Detail: detail, Since: now.Add(-3 * time.Minute)},
			{Name: "scanner", Kind: "scanner", Driver: "serial", State: "ok", Detail: "/dev/ttyACM0", Since: now.Add(-2 * time.Hour)},
			{Name: "audio", Kind: "audio", Driver: "alsa", State: "ok", Since: now.Add(-2 * time.Hour)},
			{Name: "lights", Kind: "gpio", Driver: "gpiochip0", State: "ok", Detail: "ready steady, attention off, fault off", Since: now.Add(-2 * time.Hour)},
			{Name: "board", Kind: "board", Driver: "rs485", State: "starting", Detail: "opening /dev/ttyUSB0", Since: now.Add(-10 * time.Second),
				LastError: "open /dev/ttyUSB0: no such file or directory"},
		}
	}
	peers := map[string]*peer{}
	seqs := map[string]uint64{}
	report := func(id string, d []proto.DeviceState) {
		t.Helper()
		seqs[id]++
		peers[id].send(statusEvent(seqs[id], time.Now(), d...))
		peers[id].next(proto.TypeAck)
	}
	for i := 1; i <= 60; i++ {
		id := fmt.Sprintf("kiosk-%02d", i)
		roles := []string{"kiosk"}
		if i > 20 {
			id, roles = fmt.Sprintf("hall-bus-%02d", i), []string{"hall", "window"}
		}
		p := dialPeer(t, r.ts)
		p.send(&proto.Message{Type: proto.TypeHello, Hello: &proto.Hello{Device: id, Roles: roles, Version: "v0.5.0", Epoch: "e1", Time: time.Now()}})
		p.next(proto.TypeWelcome)
		peers[id] = p
		state, detail := "ok", "TM-T20III on /dev/usb/lp0, 1,204 tickets printed"
		switch i {
		case 3:
			state, detail = "warning", "paper_near_end (estimated: 72.4 of 80.0 m used)"
		case 11:
			state, detail = "fault", "cover_open; ticket А017 waits to be printed again"
		}
		report(id, devs(state, detail))
	}

	p := r.browser(1920, 1080)
	p.open("/operator/devices.html")
	p.wait("the login redirect", `location.pathname === "/login" && new URLSearchParams(location.search).get("next") === "/operator/devices.html"`)
	p.signIn(r.supervisor, r.supervisorPassword)
	p.open("/operator/devices.html")
	p.wait("sixty terminals", `window.devicesPage && devicesPage.state().terminals.length === 60 && devicesPage.state().streamUp`)
	if got := p.text("h1"); got != "Термінали та пристрої" {
		t.Errorf("h1 %q", got)
	}
	if got := p.eval(`devicesPage.state().alerts.join()`); got != "device_fault:kiosk-11/printer,paper_near_end:kiosk-03/printer" {
		t.Errorf("alerts %v", got)
	}
	if got := p.text(`#alerts li[data-kind="paper_near_end"]`); !strings.Contains(got, "Закінчується папір") || !strings.Contains(got, "kiosk-03: printer") {
		t.Errorf("the paper alert says %q", got)
	}
	// A state is a word and a sign, not a colour alone.
	if got := p.text(`.term[data-terminal="kiosk-11"] tr[data-device="printer"] .st`); got != "✖ Несправний" {
		t.Errorf("kiosk-11's printer shows %q", got)
	}
	if got := p.text(`.term[data-terminal="kiosk-01"] tr[data-device="board"]`); !strings.Contains(got, "Запускається") ||
		!strings.Contains(got, "Остання помилка: open /dev/ttyUSB0") {
		t.Errorf("kiosk-01's board shows %q", got)
	}
	if got := p.text(`.term[data-terminal="kiosk-01"] h3 .st`); !strings.HasPrefix(got, "✓ На зв'язку з ") {
		t.Errorf("kiosk-01 shows %q", got)
	}
	checkDevicesPage(p, "devices-1920", 1920, 1080)
	checkDevicesPage(p, "devices-1280", 1280, 720)

	// Live: kiosk-07 runs out of paper, then gets a new roll.
	report("kiosk-07", devs("fault", "paper_out"))
	p.wait("paper out on kiosk-07", `devicesPage.state().alerts[0] === "paper_out:kiosk-07/printer"`)
	if got := p.text(`#alerts li[data-terminal="kiosk-07"]`); !strings.Contains(got, "Немає паперу") {
		t.Errorf("the alert says %q", got)
	}
	report("kiosk-07", devs("ok", "TM-T20III on /dev/usb/lp0, 0 tickets printed"))
	p.wait("kiosk-07 fine again", `!devicesPage.state().alerts.some((a) => a.includes("kiosk-07"))`)

	// hall-bus-33 loses its link: offline at once, alerted after the grace
	// (none here: the rig runs on the real clock).
	r.s.alerts.mu.Lock()
	r.s.alerts.limits = func() configs.Alerts {
		a := r.q.Config().Alerts
		a.OfflineAfter = 0
		return a
	}
	r.s.alerts.mu.Unlock()
	peers["hall-bus-33"].conn.Close()
	p.wait("hall-bus-33 offline", `devicesPage.state().terminals.find((x) => x.id === "hall-bus-33").state === "offline"`)
	if got := p.text(`.term[data-terminal="hall-bus-33"] h3 .st`); !strings.HasPrefix(got, "✖ Без зв'язку з ") {
		t.Errorf("hall-bus-33 shows %q", got)
	}
	p.wait("the offline alert", `devicesPage.state().alerts.includes("terminal_offline:hall-bus-33")`)
	p.eval(`devicesPage.advance(3 * 3600 * 1000)`)
	if got := p.text(`#alerts li[data-kind="terminal_offline"] .when`); !strings.Contains(got, "(3 год 0 хв)") {
		t.Errorf("3 hours on, the alert says %q", got)
	}
	p.eval(`devicesPage.advance(-3 * 3600 * 1000)`)
	p.eval(`(() => { const f = document.querySelector("#filter"); f.value = "trouble"; f.dispatchEvent(new Event("change")); })()`)
	if n := p.eval(`[...document.querySelectorAll(".term")].filter((e) => !e.hidden).map((e) => e.dataset.terminal).join()`); n != "hall-bus-33,kiosk-03,kiosk-11" {
		t.Errorf("in trouble: %v", n)
	}
	checkDevicesPage(p, "devices-trouble-1280", 1280, 720)
	p.eval(`(() => { const f = document.querySelector("#filter"); f.value = ""; f.dispatchEvent(new Event("change")); })()`)

	p.click("#lang")
	p.wait("English", `document.documentElement.lang === "en" && document.querySelector("h1").textContent === "Terminals and devices"`)
	if got := p.text(`#alerts li[data-kind="paper_near_end"]`); !strings.Contains(got, "Paper running out") {
		t.Errorf("in English the paper alert says %q", got)
	}
	if got := p.text(`.term[data-terminal="kiosk-03"] tr[data-device="printer"] .st`); got != "! Needs attention" {
		t.Errorf("in English kiosk-03's printer shows %q", got)
	}
	checkDevicesPage(p, "devices-1280-en", 1280, 720)

	// An operator's session may not read the devices.
	op := r.operatorClient()
	if status, b := r.callAs(op, "GET", "/api/v1/devices", ""); status != http.StatusForbidden || !strings.Contains(string(b), `"code":"forbidden"`) {
		t.Errorf("an operator's GET /api/v1/devices: %d %s", status, b)
	}
}

// checkDevicesPage is the operator pages' check (axe, targets, no
// sideways scrolling, CSP) and webtest's layout check outside the two
// panels that scroll on purpose, whose own boxes must be on the screen.
func checkDevicesPage(p *webPage, name string, width, height int) {
	p.t.Helper()
	p.check(name, width, height)
	// The two panels clip for the measure (a rule added to the page's own
	// style sheet and taken out again: no inline style).
	p.eval(`(() => { const s = [...document.styleSheets].find((x) => x.href && x.href.endsWith("/devices.css")); return s.insertRule(".devices .scroll { overflow: hidden !important; }", s.cssRules.length); })()`)
	l, err := p.CheckLayout("#alerts-scroll", "#terms-scroll", ".sr-only")
	p.eval(`(() => { const s = [...document.styleSheets].find((x) => x.href && x.href.endsWith("/devices.css")); s.deleteRule(s.cssRules.length - 1); return 1; })()`)
	if err != nil {
		p.t.Fatal(err)
	}
	for _, s := range l.Problems {
		p.t.Errorf("%s at %d×%d: %s", name, width, height, s)
	}
}
