package kiosk

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/cherga/kiosk/devices"
	"github.com/cherga/kiosk/display/announce"
	"github.com/cherga/kiosk/display/webtest"
	"github.com/cherga/kiosk/link/linktest"
	"github.com/cherga/kiosk/link/proto"
	"github.com/cherga/kiosk/printer/simprinter"
)

// page is the kiosk page open in a real headless Chromium on a touch
// screen, against a rig whose kiosk runs.
type page struct {
	*webtest.Browser
	t *testing.T
	r *rig
}

func openPage(t *testing.T, r *rig, width, height int) *page {
	t.Helper()
	// Only the page's own origin may use the API, as in kioskd.
	if err := r.k.AllowOrigin(r.api.URL); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.k.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	// Tickets printed are counted by the simulated printer; the driver's
	// notices are not needed here.
	go func() {
		for range r.printed {
		}
	}()
	b := webtest.Start(t, width, height)
	if err := b.TouchScreen(width, height); err != nil {
		t.Fatal(err)
	}
	// The page's clock is held from its first line: the idle question,
	// the ticket screen's time and the notices move only when the test
	// advances it, however slow the machine is meanwhile.
	if err := b.HoldClock(); err != nil {
		t.Fatal(err)
	}
	if err := b.Open(r.api.URL + "/kiosk/"); err != nil {
		t.Fatal(err)
	}
	p := &page{Browser: b, t: t, r: r}
	p.onScreen("home")
	if held := p.eval(`pageClock.held`); held != true {
		t.Fatal("the page's clock is not held")
	}
	return p
}

// wait waits until the page's expression is true.
func (p *page) wait(what, expr string) {
	p.t.Helper()
	if err := p.WaitTrue(expr, 20*time.Second); err != nil {
		state, _ := webtest.Eval[map[string]any](p.Browser, `kiosk.state()`)
		p.t.Fatalf("%s: %v (page state %v)", what, err, state)
	}
}

func (p *page) onScreen(name string) {
	p.t.Helper()
	p.wait("screen "+name, fmt.Sprintf(`window.kiosk && kiosk.state().screen === %q && !kiosk.state().busy`, name))
}

// toService taps from the home screen to a service's screen: its group,
// its subgroup, the service.
func (p *page) toService(group, subgroup, service string) {
	p.t.Helper()
	p.tap(fmt.Sprintf(`[data-group=%q]`, group))
	p.onScreen("group")
	p.tap(fmt.Sprintf(`[data-subgroup=%q]`, subgroup))
	p.onScreen("subgroup")
	p.tap(fmt.Sprintf(`[data-service=%q]`, service))
	p.onScreen("service")
}

func (p *page) tap(selector string) {
	p.t.Helper()
	if err := p.Tap(selector); err != nil {
		p.t.Fatal(err)
	}
}

// tapText taps the button whose text is text.
func (p *page) tapText(text string) {
	p.t.Helper()
	n, err := webtest.Eval[int](p.Browser, fmt.Sprintf(`(() => {
		const all = [...document.querySelectorAll("button")].filter((b) => !b.hidden && b.offsetParent !== null);
		const i = all.findIndex((b) => b.textContent.trim() === %q);
		all.forEach((b) => b.removeAttribute("data-tap"));
		if (i >= 0) all[i].setAttribute("data-tap", "");
		return i;
	})()`, text))
	if err != nil || n < 0 {
		p.t.Fatalf("no button %q on screen (%v)", text, err)
	}
	p.tap("[data-tap]")
}

func (p *page) eval(expr string) any {
	p.t.Helper()
	v, err := webtest.Eval[any](p.Browser, expr)
	if err != nil {
		p.t.Fatalf("%s: %v", expr, err)
	}
	return v
}

func (p *page) text(selector string) string {
	p.t.Helper()
	s, err := webtest.Eval[string](p.Browser, fmt.Sprintf(`document.querySelector(%q).textContent`, selector))
	if err != nil {
		p.t.Fatalf("text of %s: %v", selector, err)
	}
	return s
}

// check audits the screen for accessibility, checks that it fits the
// screen with every target at least 44×44 px, and saves a screenshot.
func (p *page) check(name string) {
	p.t.Helper()
	if vs := p.Audit(p.t, name); len(vs) > 0 {
		p.t.Errorf("%s: accessibility:\n%s", name, webtest.FormatViolations(vs))
	}
	problems, err := webtest.Eval[[]string](p.Browser, `(() => {
		const out = [];
		if (document.documentElement.scrollHeight > innerHeight + 1 || document.documentElement.scrollWidth > innerWidth + 1)
			out.push("the page scrolls: " + document.documentElement.scrollWidth + "×" + document.documentElement.scrollHeight);
		for (const b of document.querySelectorAll("button")) {
			if (b.offsetParent === null) continue;
			const r = b.getBoundingClientRect();
			if (r.width < 44 || r.height < 44) out.push("small target " + b.textContent + " " + r.width + "×" + r.height);
			if (r.bottom > innerHeight + 1 || r.right > innerWidth + 1) out.push("off screen: " + b.textContent);
		}
		return out;
	})()`)
	if err != nil {
		p.t.Fatal(err)
	}
	for _, s := range problems {
		p.t.Errorf("%s: %s", name, s)
	}
	p.Screenshot(p.t, name)
}

// The kiosk in a real Chromium on a portrait touch screen: a group, a
// service, a ticket taken by a double tap → one ticket, printed by the
// simulated printer and in queued's queue; the ticket screen, its QR code
// and its timeout; English; the idle question and the reset; search with
// the on-screen keyboard; high contrast and large text. Every screen is
// audited and photographed.
func TestKioskInChromium(t *testing.T) {
	r := newRig(t, true)
	p := openPage(t, r, 1080, 1920)
	if got := p.text("h1"); got != "Оберіть послугу" {
		t.Fatalf("home title %q", got)
	}
	p.check("kiosk-home")

	p.tap(`[data-group="pensions"]`)
	p.onScreen("group")
	p.check("kiosk-group")
	p.tap(`[data-subgroup="pensions-assign"]`)
	p.onScreen("subgroup")
	p.check("kiosk-subgroup")
	p.tap(`[data-service="pension-age"]`)
	p.onScreen("service")
	p.check("kiosk-service-portrait")

	// A double tap on "take a ticket" is one intent: one ticket.
	p.eval(`(() => { const b = document.querySelector(".take"); b.click(); b.click(); })()`)
	p.onScreen("ticket")
	if got := p.text(".number"); got != "П001" {
		t.Fatalf("ticket screen shows %q", got)
	}
	p.wait("the QR code drawn", `document.querySelector(".qr img").complete && document.querySelector(".qr img").naturalWidth > 0`)
	p.check("kiosk-ticket")
	if n := len(r.dev.Tickets()); n != 1 {
		t.Fatalf("%d tickets printed for one double tap", n)
	}
	if called, _, err := r.office.Queue.Next(9); err != nil || called.Number != "П001" {
		t.Fatalf("queued does not hold the ticket: %v %v", called, err)
	}
	if p := <-r.dev.Printed(); p.Headline != "П001" {
		t.Fatalf("printed %q", p.Headline)
	}

	// The ticket screen stays while touched, then goes home.
	p.eval(`document.querySelector(".number").dispatchEvent(new PointerEvent("pointerdown", {bubbles: true}))`)
	p.eval(`kiosk.advance(60 * 60 * 1000)`)
	if s := p.eval(`kiosk.state().screen`); s != "ticket" {
		t.Fatalf("the ticket screen left while touched: %v", s)
	}
	p.eval(`document.querySelector(".number").dispatchEvent(new PointerEvent("pointerup", {bubbles: true}))`)
	p.eval(`kiosk.advance(16000)`)
	p.onScreen("home")

	// English, then left alone: the question, then the reset.
	p.tap("#lang")
	p.wait("English", `document.documentElement.lang === "en" && document.querySelector("h1").textContent === "Choose a service" &&
		document.querySelector('[data-group="pensions"]').textContent.includes("Pensions")`)
	p.check("kiosk-home-en")
	p.eval(`kiosk.advance(59000)`)
	if p.eval(`kiosk.state().warning`) != false {
		t.Fatal("the idle question came early")
	}
	p.eval(`kiosk.advance(1000)`)
	p.wait("the idle question", `!document.querySelector("#idle").hidden && document.querySelector("#idle-text").textContent.includes("30")`)
	p.check("kiosk-idle")
	p.tap("#idle-continue")
	p.wait("continued", `document.querySelector("#idle").hidden && document.documentElement.lang === "en"`)
	p.eval(`kiosk.advance(60000)`)
	p.wait("asked again", `!document.querySelector("#idle").hidden`)
	p.eval(`kiosk.advance(30000)`)
	p.wait("reset to Ukrainian", `document.querySelector("#idle").hidden && document.documentElement.lang === "uk" &&
		kiosk.state().screen === "home" && document.querySelector("h1").textContent === "Оберіть послугу"`)

	// Search with the on-screen keyboard.
	p.tapText("Пошук послуги")
	p.onScreen("search")
	for _, c := range []string{"п", "е", "н", "с"} {
		p.tapText(c)
	}
	p.wait("results", `document.querySelector(".query").textContent === "пенс" &&
		document.querySelector('.results [data-service="pension-age"]') !== null`)
	p.check("kiosk-search")
	p.tap(`.results [data-service="pension-age"]`)
	p.onScreen("service")

	// High contrast and large text: still 7:1, still no scrolling.
	p.tap("#contrast")
	p.tap("#large")
	p.wait("modes on", `document.body.classList.contains("contrast") && document.body.classList.contains("large")`)
	p.check("kiosk-service-contrast-large")
	p.tapText("← Назад")
	p.onScreen("search")
	p.check("kiosk-search-contrast-large")
}

// Bookings at the kiosk: by the keypad, a used code refused with the
// option of a normal ticket, and by a scan on a serial scanner (a
// pseudo-terminal) while the page shows something else; garbage and an
// over-long code are said plainly, never half-handled.
func TestBookingInChromium(t *testing.T) {
	master, slave, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { master.Close(); slave.Close() })
	sc := devices.OpenSerialScanner(devices.SerialScannerConfig{Name: "scanner", Port: slave.Name(), Baud: 9600, Log: quiet})
	t.Cleanup(func() { sc.Close() })
	kyiv, _ := time.LoadLocation("Europe/Kyiv")
	r := newRig(t, true, rigClock{time.Date(2026, 11, 23, 10, 0, 0, 0, kyiv)}, withScanner{sc})
	b1, err := r.office.Queue.Book("pension-age", "2026-11-23", "10:15")
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := r.office.Queue.Book("certificate-income", "2026-11-23", "10:00")
	p := openPage(t, r, 1080, 1920)

	p.tapText("Маю попередній запис")
	p.onScreen("booking")
	p.check("kiosk-booking")
	for _, d := range strings.ReplaceAll(b1.Code, "-", "") {
		p.tapText(string(d))
	}
	p.wait("code typed", fmt.Sprintf(`document.querySelector("#code").textContent === %q && !document.querySelector(".key.ok").disabled`, b1.Code))
	p.tap(".key.ok")
	p.onScreen("ticket")
	if got := p.text("main"); !strings.Contains(got, "Попередній запис на 10:15") {
		t.Fatalf("ticket screen %q", got)
	}
	p.tapText("Готово")
	p.onScreen("home")

	// The same code again: refused, with the way to a normal ticket.
	p.tapText("Маю попередній запис")
	p.onScreen("booking")
	p.eval(fmt.Sprintf(`(() => { for (const d of %q) document.dispatchEvent(new KeyboardEvent("keydown", {key: d})); })()`,
		strings.ReplaceAll(b1.Code, "-", "")))
	p.tap(".key.ok")
	p.onScreen("refused")
	if got := p.text("main"); !strings.Contains(got, "За цим записом талон уже видано") {
		t.Fatalf("refusal %q", got)
	}
	p.check("kiosk-refused")
	p.tapText("Взяти звичайний талон")
	p.onScreen("service")
	if got := p.text("h1"); got != "Призначення пенсії за віком" {
		t.Fatalf("normal ticket for %q", got)
	}

	// Scans arrive whatever the screen: garbage is said plainly, a code of
	// 10 KB is dropped whole, a booking gives its ticket.
	p.tapText("← Назад")
	p.onScreen("home")
	if _, err := master.Write([]byte("https://example.com/promo\r")); err != nil {
		t.Fatal(err)
	}
	p.wait("garbage refused politely", `!document.querySelector("#toast").hidden && kiosk.state().screen === "home"`)
	p.check("kiosk-scan-not-booking")
	if _, err := master.Write([]byte(strings.Repeat("7", 10<<10) + "\r" + b2.Code + "\r")); err != nil {
		t.Fatal(err)
	}
	p.onScreen("ticket")
	if got := p.text("main"); !strings.Contains(got, "Попередній запис на 10:00") {
		t.Fatalf("scanned booking: %q", got)
	}
	if n := len(r.dev.Tickets()); n != 2 {
		t.Errorf("%d tickets printed, want 2", n)
	}
}

// Printer trouble and a lost server, said on screen: out of paper, the
// number is shown large with its QR code ("photograph or remember"); with
// queued gone, tickets still come and the waits are called approximate.
func TestTroubleInChromium(t *testing.T) {
	sp, ok := announce.FindEspeak()
	if !ok {
		t.Fatal("espeak-ng is not installed: make test installs it")
	}
	r := newRig(t, true, withSpeech{sp})
	p := openPage(t, r, 1920, 1080)

	// A USB keypad's arrow turns voice guidance on; the screen and then
	// each choice reached are spoken, by kioskd, in the page's language.
	p.eval(`document.dispatchEvent(new KeyboardEvent("keydown", {key: "ArrowDown"}))`)
	p.wait("voice guidance on", `kiosk.state().modes.voice && kiosk.state().speaking.includes("lang=uk")`)
	p.eval(`document.dispatchEvent(new KeyboardEvent("keydown", {key: "ArrowDown"}))`)
	p.wait("the focused choice spoken", `kiosk.state().speaking.includes("text=" + document.activeElement.textContent)`)
	p.wait("the speech played", `kiosk.state().speaking !== "" && !document.querySelector("#voice").hidden &&
		document.querySelector("#voice").getAttribute("aria-pressed") === "true"`)
	p.tap("#voice")
	p.wait("voice guidance off", `!kiosk.state().modes.voice`)

	r.dev.SetCondition(simprinter.PaperOut)
	p.wait("the printer banner", `!document.querySelector("#noprinter").hidden`)
	p.toService("pensions", "pensions-assign", "pension-age")
	p.tap(".take")
	p.onScreen("ticket")
	if got := p.text("main"); !strings.Contains(got, "П001") || !strings.Contains(got, "Сфотографуйте або запам'ятайте") {
		t.Fatalf("ticket screen without paper: %q", got)
	}
	p.wait("the QR code drawn", `document.querySelector(".qr img").naturalWidth > 0`)
	p.check("kiosk-no-paper")

	r.dev.SetCondition(simprinter.Ready)
	p.wait("the printer back", `document.querySelector("#noprinter").hidden`)
	r.office.Stop()
	p.wait("the offline banner", `!document.querySelector("#offline").hidden`)
	p.tapText("Готово")
	p.onScreen("home")
	p.toService("pensions", "pensions-assign", "pension-age")
	if got := p.text("main"); !strings.Contains(got, "приблизні") {
		t.Fatalf("offline service screen: %q", got)
	}
	p.check("kiosk-offline")
	p.tap(".take")
	p.onScreen("ticket")
	if got := p.text("main"); !strings.Contains(got, "без зв'язку з сервером") {
		t.Fatalf("offline ticket: %q", got)
	}
	if n := len(r.dev.Tickets()); n != 1 {
		t.Errorf("%d tickets printed, want 1 (the first had no paper)", n)
	}
}

// A full disk, said on screen: with the kiosk's bbolt file on a tiny file
// system that fills up, taking a ticket says, in the page's language, that
// the terminal cannot issue tickets now and to ask staff, and a banner
// says so until there is room again.
func TestDiskFullInChromium(t *testing.T) {
	dir, ok := linktest.TinyFS(t, 1<<20)
	if !ok {
		return
	}
	r := newRig(t, true, withDataDir(dir))
	p := openPage(t, r, 1920, 1080)
	p.onScreen("home")
	filler := linktest.Fill(t, dir)
	// The outbox file has room inside for a few events; then it must
	// grow, and cannot.
	for i := 0; !r.store.DiskFull(); i++ {
		if i == 10_000 {
			t.Fatal("the disk never filled up")
		}
		_, _ = r.store.Append(&proto.Message{Type: proto.TypeDeviceStatus, Status: &proto.DeviceStatus{At: time.Now(),
			Devices: []proto.DeviceState{{Name: "x", Kind: "x", State: "ok", Detail: strings.Repeat("x", 900)}}}})
	}
	p.toService("pensions", "pensions-assign", "pension-age")
	p.tap(".take")
	p.onScreen("failure")
	if got := p.text("main"); !strings.Contains(got, "не може видавати талони") || !strings.Contains(got, "працівника") {
		t.Fatalf("failure screen on a full disk: %q", got)
	}
	p.wait("the disk-full banner", `!document.querySelector("#diskfull").hidden`)
	if got := p.text("#diskfull"); !strings.Contains(got, "зверніться до працівника центру") {
		t.Errorf("banner: %q", got)
	}
	p.check("kiosk-disk-full")
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if err := r.store.Probe(); err != nil {
		t.Fatal(err)
	}
	p.wait("the banner gone with room again", `document.querySelector("#diskfull").hidden`)
}

// The page's clock on its own, in the kiosk page: held, its timers run
// only when it is advanced, in time order, each at its own time (one a
// timer sets included); real time passing changes nothing; released, it
// runs on real time again.
func TestPageClockInChromium(t *testing.T) {
	r := newRig(t, true)
	p := openPage(t, r, 1080, 1920)
	got := p.eval(`(() => {
		const c = pageClock, log = [], t0 = c.now();
		const at = (name) => () => log.push(name + "@" + (c.now() - t0));
		c.setTimeout(at("b"), 200);
		c.setTimeout(at("a"), 100);
		const every = c.setInterval(at("i"), 150);
		c.clearTimeout(c.setTimeout(at("cleared"), 120));
		c.setTimeout(() => { at("c")(); c.setTimeout(at("d"), 10); }, 250);
		c.advance(300);
		c.clearInterval(every);
		c.advance(1000);
		return log.join(" ") + " now@" + (c.now() - t0);
	})()`)
	if want := "a@100 i@150 b@200 c@250 d@260 i@300 now@1300"; got != want {
		t.Errorf("timers ran %q\nwant       %q", got, want)
	}

	// Half a second of real time, measured by the browser's own timer:
	// the held clock has not moved, and neither has the page.
	p.eval(`(() => {
		const before = pageClock.now(), screen = kiosk.state().screen;
		pageClock.setTimeout(() => { window.clockFired = true; }, 1);
		setTimeout(() => { window.heldFor = {moved: pageClock.now() - before, fired: !!window.clockFired,
			same: kiosk.state().screen === screen}; }, 500);
	})()`)
	p.wait("real time to pass", `window.heldFor !== undefined`)
	if got := p.eval(`JSON.stringify(window.heldFor)`); got != `{"moved":0,"fired":false,"same":true}` {
		t.Errorf("while held, over real time: %v", got)
	}

	// Released, the clock runs on real time, from where it stood.
	p.eval(`(() => { const before = pageClock.now(); pageClock.release(); window.releasedFrom = before; })()`)
	p.wait("the timer set while held to run", `window.clockFired === true && pageClock.now() > window.releasedFrom`)
}
