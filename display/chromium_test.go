package display

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/cherga/kiosk/configs"
	"github.com/cherga/kiosk/display/webtest"
	"github.com/cherga/kiosk/i18n"
	"github.com/cherga/kiosk/link/proto"
	"github.com/cherga/kiosk/queue"
)

// hallNow is the time on kioskd's clock in the hall tests: it stands
// still, so the page's office clock moves only with the page clock.
var hallNow = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

// highlight is how long a new call blinks in the hall tests.
const highlight = 30 * time.Second

// newHall is a hall role on a clock standing at hallNow, and its routes
// as kioskd serves them.
func newHall(voice Announcer) (*Hall, *http.ServeMux) {
	h := NewHall(HallConfig{RecentCalls: 6, Highlight: highlight, Clock: clockwork.NewFakeClockAt(hallNow)}, voice, nil, quiet)
	mux := http.NewServeMux()
	i18n.Register(mux)
	RegisterAssets(mux)
	h.Register(mux)
	return h, mux
}

// hallServer serves a hall role's pages as kioskd does.
func hallServer(t testing.TB, voice Announcer) (*Hall, *httptest.Server) {
	t.Helper()
	h, mux := newHall(voice)
	ts := httptest.NewServer(mux)
	t.Cleanup(func() { h.Close(); ts.Close() })
	return h, ts
}

func welcome() *proto.Welcome {
	w := &proto.Welcome{
		Office: proto.Office{ID: "o", Name: proto.Text{UK: "Прозорий офіс", EN: "Transparent Office"}, Timezone: "Europe/Kyiv"},
		Catalogue: proto.Catalogue{Groups: []proto.Group{
			{ID: "pension", Name: proto.Text{UK: "Пенсії", EN: "Pensions"}},
			{ID: "social", Name: proto.Text{UK: "Соціальна допомога", EN: "Social assistance"}},
		}},
		Queues: []proto.QueueLen{{Group: "pension", Waiting: 12}, {Group: "social", Waiting: 3}},
	}
	for i, tk := range []string{"А101", "Б102", "В103", "Г104", "Д105", "Е106", "Є107"} {
		w.RecentCalls = append(w.RecentCalls, call(strconv.Itoa(i), tk, 10+i))
	}
	return w
}

// The hall and window pages in one real headless Chromium (one tab, its
// viewport resized between screens): what they do, and that they fit
// every TV. The page clock is held (HoldClock): every timer of the pages
// (a call's highlight, the running line's end, the office clock,
// reconnecting) moves only when the test advances it. The TV's own zone is
// not the office's. Run with -screenshots DIR, it also writes the README's
// pictures of the pages into DIR (webtest.SaveScreenshot).
func TestDisplayPagesInChromium(t *testing.T) {
	b := webtest.Start(t, 1920, 1080)
	must(t, b.HoldClock())
	must(t, b.TimeZone("America/New_York"))
	t.Run("checker", func(t *testing.T) { testLayoutChecker(t, b) })
	t.Run("hall", func(t *testing.T) { testHallPage(t, b) })
	t.Run("reconnect", func(t *testing.T) { testReconnect(t, b) })
	t.Run("window", func(t *testing.T) { testWindowPage(t, b) })
	t.Run("fit", func(t *testing.T) { testPagesFit(t, b) })
}

// The hall page: the current call large and readable, a new call at once,
// its blinking from when it is spoken until exactly hall.highlight later
// on the page clock, a recalled ticket back on top, a running line gone
// the moment the office clock passes its end, and a lost connection said
// on screen, in visitors' words. Online and offline pass the accessibility
// audit (axe-core, WCAG 2.2 AA and 7:1 contrast).
func testHallPage(t *testing.T, b *webtest.Browser) {
	v := make(voice, 8)
	h, ts := hallServer(t, v)
	h.Welcome(welcome())
	h.Link(true)
	must(t, b.Resize(1920, 1080))
	must(t, b.Open(ts.URL+"/hall/"))
	must(t, b.WaitTrue(`document.documentElement.dataset.layout === "1920x1080" &&
		document.querySelector("#current .ticket").textContent === "Є107" && document.querySelectorAll("#recent li").length === 6`, 10*time.Second))
	if held, err := webtest.Eval[bool](b, `pageClock.held`); err != nil || !held {
		t.Fatalf("the page clock is not held (%v)", err)
	}
	got, err := webtest.Eval[struct {
		Font     float64 `json:"font"`
		Office   string  `json:"office"`
		Queues   string  `json:"queues"`
		Captions string  `json:"captions"`
	}](b, `({
		font: parseFloat(getComputedStyle(document.querySelector("#current")).fontSize),
		office: document.querySelector("#office").textContent,
		queues: [...document.querySelectorAll("#queues li")].map((li) => li.querySelector(".name").textContent + ": " + li.querySelector(".count").textContent).join(", "),
		captions: document.querySelector(".current .captions").textContent,
	})`)
	if err != nil {
		t.Fatal(err)
	}
	if got.Font < 200 || got.Office != "Прозорий офіс" || got.Queues != "Пенсії: 12, Соціальна допомога: 3" ||
		got.Captions != "Талон / TicketВікно / Window" {
		t.Errorf("hall page: %+v (want the ticket ≥ 200 px)", got)
	}

	must(t, b.Resize(1080, 1920))
	must(t, b.WaitTrue(`document.documentElement.dataset.layout === "1080x1920"`, 5*time.Second))
	if font, err := webtest.Eval[float64](b, `parseFloat(getComputedStyle(document.querySelector("#current")).fontSize)`); err != nil || font < 180 {
		t.Errorf("portrait: the ticket %.0f px, want ≥ 180 (%v)", font, err)
	}
	must(t, b.Resize(1920, 1080))

	// A new call shows at once; it blinks from when the voice starts, for
	// hall.highlight on the page clock: still a millisecond before, not
	// any more at the end.
	c := call("n1", "Ж200", 4)
	h.Call(c)
	<-v
	must(t, b.WaitTrue(`document.querySelector("#current .ticket").textContent === "Ж200" && !document.querySelector("#current").classList.contains("fresh")`, 5*time.Second))
	h.Speaking(c)
	const fresh = `document.querySelector("#current").classList.contains("fresh")`
	must(t, b.WaitTrue(fresh, 5*time.Second))
	must(t, b.AdvanceClock(highlight-time.Millisecond))
	if blinks, err := webtest.Eval[bool](b, fresh); err != nil || !blinks {
		t.Errorf("the call stopped blinking before hall.highlight (%v)", err)
	}
	must(t, b.AdvanceClock(time.Millisecond))
	if blinks, err := webtest.Eval[bool](b, fresh); err != nil || blinks {
		t.Errorf("the call still blinks after hall.highlight (%v)", err)
	}

	// A recalled ticket goes back to the top, listed once.
	again := call("n2", "Г104", 13)
	again.Recall = true
	h.Call(again)
	must(t, b.WaitTrue(`document.querySelector("#current .ticket").textContent === "Г104" &&
		[...document.querySelectorAll("#recent .ticket")].every((e) => e.textContent !== "Г104") &&
		document.querySelector("#recent .ticket").textContent === "Ж200"`, 5*time.Second))

	// A running line until 10:01:30 on the server's clock (10:00:00 now,
	// as kioskd's clock stands): shown until the office clock, on the page
	// clock, passes its end, and gone from that moment, the calls laid
	// out again in the band's room.
	until := hallNow.Add(90 * time.Second)
	h.HallMessage(&proto.HallMessage{Text: proto.Text{UK: "Сьогодні прийом до 17:00", EN: "Open until 17:00 today"}, Until: &until})
	const running = `!document.querySelector("#ticker").hidden && !document.body.classList.contains("no-ticker") &&
		document.querySelector("#message").textContent === "Сьогодні прийом до 17:00   •   Open until 17:00 today"`
	must(t, b.WaitTrue(running+` && document.documentElement.dataset.layout === "1920x1080"`, 5*time.Second))
	must(t, b.AdvanceClock(90*time.Second-time.Millisecond))
	if shown, err := webtest.Eval[bool](b, running); err != nil || !shown {
		t.Errorf("the running line went before its end (%v)", err)
	}
	must(t, b.AdvanceClock(time.Millisecond))
	if gone, err := webtest.Eval[bool](b, `document.querySelector("#ticker").hidden && document.body.classList.contains("no-ticker") &&
		document.querySelector("#message").textContent === "" && document.documentElement.dataset.layout === "1920x1080"`); err != nil || !gone {
		t.Errorf("the running line is still there at its end (%v)", err)
	}
	if clock, err := webtest.Eval[string](b, `document.querySelector("#time").textContent`); err != nil || clock != "12:01" {
		t.Errorf("the office clock says %q at 10:01:30 UTC, want 12:01, Kyiv's (%v)", clock, err)
	}

	// The server out of reach, then kioskd gone: both said, in visitors'
	// words, in the header's status place.
	h.Link(false)
	must(t, b.WaitTrue(`!document.querySelector("#serverdown").hidden && document.querySelector("#serverdown").textContent === "Табло оновлюється… / Display updating…"`, 5*time.Second))
	h.Close()
	must(t, b.WaitTrue(`!document.querySelector("#offline").hidden && document.querySelector("#serverdown").hidden && document.body.classList.contains("stale")`, 5*time.Second))
	audit(t, b, "hall-offline")
}

// The hall page reconnects by itself on the backoff schedule, on the page
// clock: kioskd gone (its hall closed, its websocket refused), the page
// tries again 0.5 s after it lost the connection, then 1, 2 and 4 s after
// each refusal, then every 5 s, never a millisecond earlier; every try
// reaches kioskd. kioskd back, the next try connects: the new kioskd's
// calls are shown, the status line goes, and the next loss starts from
// 0.5 s again.
func testReconnect(t *testing.T, b *webtest.Browser) {
	var kioskd atomic.Pointer[http.ServeMux] // nil while kioskd is down
	tries := make(chan struct{}, 64)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hall/ws" {
			tries <- struct{}{}
		}
		mux := kioskd.Load()
		if mux == nil {
			http.Error(w, "kioskd is restarting", http.StatusServiceUnavailable)
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	start := func(calls ...proto.Call) *Hall {
		h, mux := newHall(nil)
		t.Cleanup(h.Close)
		w := welcome()
		w.RecentCalls = append(w.RecentCalls, calls...)
		h.Welcome(w)
		h.Link(true)
		kioskd.Store(mux)
		return h
	}
	stop := func(h *Hall) float64 {
		t.Helper()
		kioskd.Store(nil)
		at, err := webtest.Eval[float64](b, `pageClock.now()`)
		must(t, err)
		h.Close()
		must(t, b.WaitTrue(`!document.querySelector("#offline").hidden && document.body.classList.contains("stale")`, 5*time.Second))
		return at
	}
	reached := func() {
		t.Helper()
		select {
		case <-tries:
		case <-time.After(10 * time.Second):
			t.Fatal("the page's try did not reach kioskd")
		}
	}
	// try advances the page clock to a millisecond before the next try is
	// due at lost+due ms, checks the page has not tried yet, then to the
	// due time, and checks it tried then.
	try := func(lost, due float64) {
		t.Helper()
		now, err := webtest.Eval[float64](b, `pageClock.now()`)
		must(t, err)
		n, err := webtest.Eval[int](b, `pageTries.length`)
		must(t, err)
		must(t, b.AdvanceClock(time.Duration(lost+due-now-1)*time.Millisecond))
		if early, err := webtest.Eval[int](b, `pageTries.length`); err != nil || early != n {
			t.Fatalf("the page tried again before %v ms (%v)", due, err)
		}
		must(t, b.AdvanceClock(time.Millisecond))
		at, err := webtest.Eval[[]float64](b, `pageTries.map((x) => x.at)`)
		must(t, err)
		if len(at) != n+1 || at[n]-lost != due {
			t.Fatalf("tries at %v ms, want one more at %v ms after the loss at %v", at, due, lost)
		}
		reached()
	}

	h := start()
	must(t, b.Resize(1920, 1080))
	must(t, b.Open(ts.URL+"/hall/"))
	must(t, b.WaitTrue(`document.querySelector("#current .ticket").textContent === "Є107" && document.querySelector("#offline").hidden`, 10*time.Second))
	reached() // the first connection
	// Every websocket the page opens from now on, with the page clock's
	// time it was opened at and whether it has closed.
	_, err := webtest.Eval[bool](b, `(() => {
		window.pageTries = [];
		window.WebSocket = class extends WebSocket {
			constructor(...args) {
				super(...args);
				const t = {at: pageClock.now(), closed: false};
				pageTries.push(t);
				this.addEventListener("close", () => { t.closed = true; });
			}
		};
		return true;
	})()`)
	must(t, err)

	lost := stop(h)
	for i, due := range []float64{500, 1500, 3500, 7500, 12500, 17500} {
		try(lost, due)
		must(t, b.WaitTrue(fmt.Sprintf(`pageTries[%d].closed`, i), 5*time.Second)) // refused
	}
	h = start(call("r1", "К300", 2))
	try(lost, 22500)
	must(t, b.WaitTrue(`document.querySelector("#offline").hidden && !document.body.classList.contains("stale") &&
		document.querySelector("#current .ticket").textContent === "К300"`, 10*time.Second))
	lost = stop(h)
	try(lost, 500)
}

// The window page: this window's number and the ticket called to it, a
// new call at once, a withdrawn one cleared, a lost connection said;
// audited offline (online in the fit test).
func testWindowPage(t *testing.T, b *webtest.Browser) {
	w := NewWindow(3, nil, quiet)
	mux := http.NewServeMux()
	i18n.Register(mux)
	RegisterAssets(mux)
	w.Register(mux)
	ts := httptest.NewServer(mux)
	t.Cleanup(func() { w.Close(); ts.Close() })
	w.Welcome(welcome()) // its calls 0…6 go to windows 10…16
	w.Call(call("w1", "А017", 3))
	must(t, b.Resize(1920, 1080))
	must(t, b.Open(ts.URL+"/window/"))
	must(t, b.WaitTrue(`document.querySelector("#ticket").textContent === "А017" && document.querySelector("#number").textContent === "3" &&
		document.documentElement.dataset.layout === "1920x1080"`, 10*time.Second))
	font, err := webtest.Eval[float64](b, `parseFloat(getComputedStyle(document.querySelector("#ticket")).fontSize)`)
	if err != nil || font < 300 {
		t.Errorf("ticket %.0f px, want ≥ 300: %v", font, err)
	}
	w.Call(call("w2", "Б018", 3))
	must(t, b.WaitTrue(`document.querySelector("#ticket").textContent === "Б018"`, 5*time.Second))
	w.Cancel(proto.Cancel{Call: "w2", Ticket: "Б018"})
	must(t, b.WaitTrue(`document.querySelector("#ticket").textContent === "—"`, 5*time.Second))
	w.Call(call("w3", "В019", 3))
	must(t, b.WaitTrue(`document.querySelector("#ticket").textContent === "В019"`, 5*time.Second))
	w.Close()
	must(t, b.WaitTrue(`!document.querySelector("#offline").hidden && document.body.classList.contains("stale") &&
		document.querySelector("#offline").textContent === "Табло оновлюється… / Display updating…"`, 5*time.Second))
	audit(t, b, "window-offline")
}

// The layout check finds what it looks for: a text running out of its box
// and widening the page, sibling boxes overlapping, a text off the screen,
// a box sticking out of its parent, a text covering another; a band that
// clips its running text on purpose passes, as does a clean page.
func testLayoutChecker(t *testing.T, b *webtest.Browser) {
	must(t, b.Resize(800, 600))
	open := func(body string) webtest.Layout {
		t.Helper()
		must(t, b.Open("data:text/html;charset=utf-8,"+url.PathEscape(`<!doctype html><html lang="uk"><body style="margin:0;font:20px/1.25 'DejaVu Sans'">`+body+`</body></html>`)))
		l, err := b.CheckLayout("#band")
		must(t, err)
		return l
	}
	l := open(`<p id="wide" style="margin:0;width:200px;white-space:nowrap">Рядок, довший за свою рамку в двісті пікселів і навіть за весь екран шириною вісімсот пікселів</p>
		<div id="a" style="position:absolute;top:100px;left:10px;width:150px;height:40px">Перший</div>
		<div id="b" style="position:absolute;top:110px;left:60px;width:150px;height:40px">Другий</div>
		<div id="off" style="position:absolute;top:200px;left:-40px">За краєм</div>
		<div style="position:absolute;top:300px;left:10px;width:100px;height:50px"><span id="child" style="display:block;width:300px">Ширший за батька</span></div>
		<div style="position:absolute;top:400px;left:10px"><span id="under">Нижній текст</span></div>
		<div style="position:absolute;top:405px;left:30px"><i id="over">Верхній</i></div>
		<div id="band" style="position:absolute;bottom:0;width:100%;height:30px;overflow:hidden;white-space:nowrap"><span style="padding-left:100%">Біжучий рядок, довший за екран, але обрізаний своєю смугою</span></div>`)
	for _, want := range [][]string{{"p#wide", "its text", "runs out of its box"}, {"p#wide", "px wide in a box of 200"},
		{"div#a", "overlaps its sibling div#b"}, {"div#off", "not inside the 800×600 screen"}, {"span#child", "not inside its parent"},
		{"the text of span#under", "overlaps that of i#over"}, {"the page is", "px wide on a 800 px screen"}} {
		found := false
		for _, p := range l.Problems {
			all := true
			for _, w := range want {
				all = all && strings.Contains(p, w)
			}
			found = found || all
		}
		if !found {
			t.Errorf("the check missed %q; it found:\n%s", want, strings.Join(l.Problems, "\n"))
		}
	}
	for _, p := range l.Problems {
		if strings.Contains(p, "Біжучий") {
			t.Errorf("the clipped band's text was checked: %s", p)
		}
	}
	if l := open(`<main style="display:grid;place-items:center;height:100vh"><h1 style="margin:0">Вікно 5</h1></main>`); len(l.Problems) > 0 || l.Texts != 1 {
		t.Errorf("a clean page: %d texts, problems %q", l.Texts, l.Problems)
	}
}

// tvs are the screens hall and window pages must fit.
var tvs = []struct{ w, h int }{{1920, 1080}, {1080, 1920}, {1366, 768}, {1280, 720}, {3840, 2160}}

// longMessage is a running line longer than any screen is wide.
var longMessage = proto.Text{
	UK: "Шановні відвідувачі! Центр працює з понеділка по п'ятницю з 8:00 до 20:00, у суботу з 9:00 до 16:00. " +
		"Заяву на житлову субсидію можна подати також онлайн, через портал «Дія». Зберігайте талон до кінця обслуговування.",
	EN: "Dear visitors, the centre is open Monday to Friday 8:00–20:00 and Saturday 9:00–16:00. " +
		"Keep your ticket until you have been served.",
}

// The hall and window pages fit every TV: the office as shipped
// (configs/office.yaml, read now, through queued's own queue: the welcome
// a hall terminal gets, with its catalogue and the running line set on
// the server), seven calls with the widest ticket numbers the office's
// prefixes make (one in the fallback form an offline kiosk prints) to its
// longest window number, three-digit queue lengths. On each of 1920×1080,
// 1080×1920, 1366×768, 1280×720 and 3840×2160, with and without the status
// line: every text on screen, in its box and its parent's, nothing
// overflowing or overlapping, no scrolling (webtest.CheckLayout); the six
// recent calls all shown; the running line scrolling in its own band; the
// office name on at most two lines; the clock in the office's time zone
// from the server's clock (the TV's is another zone, kioskd's clock hours
// behind), the date unbroken. Photographed at 1920×1080 and 1080×1920,
// audited there.
func testPagesFit(t *testing.T, b *webtest.Browser) {
	root, err := webtest.ModuleRoot()
	must(t, err)
	office, err := configs.LoadOffice(filepath.Join(root, "configs", "office.yaml"))
	must(t, err)
	// Monday 30 November, 01:30 in Kyiv: still Sunday in New York and UTC.
	serverNow := time.Date(2026, 11, 29, 23, 30, 0, 0, time.UTC)
	q, err := queue.Open(filepath.Join(t.TempDir(), "queued.db"), office, queue.Options{Clock: clockwork.NewFakeClockAt(serverNow)})
	must(t, err)
	t.Cleanup(func() { q.Close() })
	_, err = q.SetHallMessage(proto.HallMessage{Text: longMessage})
	must(t, err)
	kioskNow := serverNow.Add(-3*time.Hour - 7*time.Minute)
	wel, _, _, err := q.Connect(&proto.Hello{Device: "hall-fit", Roles: []string{"hall", "window"}, Time: kioskNow, Epoch: "fit"})
	must(t, err)
	if office.Timezone != "Europe/Kyiv" || wel.Office.Timezone != office.Timezone || wel.HallMessage == nil {
		t.Fatalf("the shipped office's zone %q, welcomed with %q and running line %v; this test expects Europe/Kyiv",
			office.Timezone, wel.Office.Timezone, wel.HallMessage)
	}

	h := NewHall(HallConfig{RecentCalls: 6, Highlight: 30 * time.Second, Clock: clockwork.NewFakeClockAt(kioskNow)}, nil, nil, quiet)
	mux := http.NewServeMux()
	i18n.Register(mux)
	RegisterAssets(mux)
	h.Register(mux)
	ts := httptest.NewServer(mux)
	t.Cleanup(func() { h.Close(); ts.Close() })

	// The calls: the widest tickets, measured in the pages' own font.
	must(t, b.Resize(1920, 1080))
	must(t, b.Open(ts.URL+"/hall/"))
	must(t, b.WaitTrue(`document.documentElement.dataset.layout === "1920x1080"`, 10*time.Second))
	var prefixes []string
	windows := 0
	for _, g := range wel.Catalogue.Groups {
		prefixes = append(prefixes, g.Prefix)
		for _, n := range g.Windows {
			windows = max(windows, n)
		}
	}
	widths, err := webtest.Eval[[]float64](b, fmt.Sprintf(`(() => {
		const ctx = document.createElement("canvas").getContext("2d");
		ctx.font = "800 100px " + getComputedStyle(document.body).fontFamily;
		return %s.map((p) => ctx.measureText(p).width);
	})()`, jsList(prefixes)))
	must(t, err)
	byWidth := slices.Clone(prefixes)
	sort.SliceStable(byWidth, func(i, j int) bool {
		return widths[slices.Index(prefixes, byWidth[i])] > widths[slices.Index(prefixes, byWidth[j])]
	})
	var tickets []string
	for i := range 7 {
		tickets = append(tickets, byWidth[i%len(byWidth)]+"999")
	}
	tickets[5] = byWidth[0] + "12-999" // an offline kiosk's fallback number (link/numbers.go)
	wel.RecentCalls = nil
	for i := len(tickets) - 1; i >= 0; i-- { // oldest first, as the server lists them
		wel.RecentCalls = append(wel.RecentCalls, proto.Call{ID: "fit" + strconv.Itoa(i), Ticket: tickets[i], Window: windows, At: serverNow})
	}
	h.Welcome(wel)
	h.Link(true)
	var lengths []proto.QueueLen
	for i, g := range wel.Catalogue.Groups {
		lengths = append(lengths, proto.QueueLen{Group: g.ID, Waiting: 100 + 11*i})
	}
	h.Queues(lengths)

	win := NewWindow(windows, nil, quiet)
	win.Register(mux)
	t.Cleanup(win.Close)
	win.Welcome(wel)
	win.Call(proto.Call{ID: "fit-w", Ticket: tickets[5], Window: windows, At: serverNow})

	ready := fmt.Sprintf(`document.querySelector("#current .ticket").textContent === %q &&
		document.querySelectorAll("#recent li").length === 6 && document.querySelectorAll("#queues li").length === %d &&
		!document.querySelector("#ticker").hidden`, tickets[0], len(lengths))
	for _, tv := range tvs {
		size := fmt.Sprintf("%dx%d", tv.w, tv.h)
		must(t, b.Resize(tv.w, tv.h))
		must(t, b.WaitTrue(fmt.Sprintf(`document.documentElement.dataset.layout === %q && %s`, size, ready), 10*time.Second))
		checkHall(t, b, tv.w, tv.h, tickets, windows, office.Name.UK)
		if tv.w == 1920 || tv.w == 1080 {
			screenshot(t, b, "hall-"+size, true)
			audit(t, b, "hall-"+size)
		}
		// The status line, when the server is away, takes its own place.
		h.Link(false)
		must(t, b.WaitTrue(fmt.Sprintf(`!document.querySelector("#serverdown").hidden && document.documentElement.dataset.layout === %q`, size), 5*time.Second))
		checkHall(t, b, tv.w, tv.h, tickets, windows, office.Name.UK)
		if tv.w == 1920 || tv.w == 1080 {
			screenshot(t, b, "hall-"+size+"-updating", false)
		}
		h.Link(true)
		must(t, b.WaitTrue(`document.querySelector("#serverdown").hidden`, 5*time.Second))
	}

	must(t, b.Open(ts.URL+"/window/"))
	for _, tv := range tvs {
		size := fmt.Sprintf("%dx%d", tv.w, tv.h)
		must(t, b.Resize(tv.w, tv.h))
		must(t, b.WaitTrue(fmt.Sprintf(`document.documentElement.dataset.layout === %q && document.querySelector("#ticket").textContent === %q &&
			document.querySelector("#number").textContent === "%d"`, size, tickets[5], windows), 10*time.Second))
		l, err := b.CheckLayout()
		must(t, err)
		for _, p := range l.Problems {
			t.Errorf("window %s: %s", size, p)
		}
		if l.ScrollWidth != tv.w || l.ScrollHeight != tv.h {
			t.Errorf("window %s: the page is %d×%d", size, l.ScrollWidth, l.ScrollHeight)
		}
		font, err := webtest.Eval[float64](b, `parseFloat(getComputedStyle(document.querySelector("#ticket")).fontSize)`)
		must(t, err)
		if minPx := 0.18 * float64(min(tv.w, tv.h)); font < minPx {
			t.Errorf("window %s: the ticket %s is %.0f px, want ≥ %.0f", size, tickets[5], font, minPx)
		}
		switch {
		case tv.w == 1920:
			webtest.SaveScreenshot(t, b, "window-"+size) // the README's
		case tv.w == 1080:
			b.Screenshot(t, "window-"+size)
		}
		if tv.w == 1920 {
			audit(t, b, "window-"+size)
		}
	}
}

// screenshot saves the page as it is now, the running line stopped where
// its text starts at the band's left edge; for the README (docs: with
// webtest.SaveScreenshot) or only as an artefact.
func screenshot(t *testing.T, b *webtest.Browser, name string, docs bool) {
	t.Helper()
	_, err := webtest.Eval[bool](b, `(() => {
		const band = document.querySelector("#ticker"), msg = document.querySelector("#message");
		for (const a of document.getAnimations()) {
			if (a.animationName !== "ticker") continue;
			a.pause();
			a.currentTime = a.effect.getComputedTiming().duration * band.clientWidth / msg.offsetWidth;
		}
		return true;
	})()`)
	must(t, err)
	if docs {
		webtest.SaveScreenshot(t, b, name)
	} else {
		b.Screenshot(t, name)
	}
	_, err = webtest.Eval[bool](b, `(document.getAnimations().forEach((a) => a.animationName === "ticker" && a.play()), true)`)
	must(t, err)
}

// checkHall checks the hall page as it is now on a w×h screen.
func checkHall(t *testing.T, b *webtest.Browser, w, h int, tickets []string, window int, office string) {
	t.Helper()
	size := fmt.Sprintf("%dx%d", w, h)
	l, err := b.CheckLayout("#ticker")
	must(t, err)
	for _, p := range l.Problems {
		t.Errorf("hall %s: %s", size, p)
	}
	if l.ScrollWidth != w || l.ScrollHeight != h || l.Width != w || l.Height != h {
		t.Errorf("hall %s: the page is %d×%d in a %d×%d viewport", size, l.ScrollWidth, l.ScrollHeight, l.Width, l.Height)
	}
	if l.Texts < 30 {
		t.Errorf("hall %s: only %d texts checked", size, l.Texts)
	}
	got, err := webtest.Eval[struct {
		Current       []string `json:"current"`
		Recent        []string `json:"recent"`
		Font          float64  `json:"font"`
		RecentFont    float64  `json:"recentFont"`
		OfficeLines   int      `json:"officeLines"`
		Office        string   `json:"office"`
		Time          string   `json:"time"`
		Weekday       string   `json:"weekday"`
		Day           string   `json:"day"`
		DateLines     int      `json:"dateLines"`
		Ticker        string   `json:"ticker"`
		TickerRunning bool     `json:"tickerRunning"`
		TickerInBand  bool     `json:"tickerInBand"`
	}](b, `(() => {
		const lines = (el) => { const r = document.createRange(); r.selectNodeContents(el); return new Set([...r.getClientRects()].map((x) => Math.round(x.top))).size; };
		const row = (el) => el.querySelector(".ticket").textContent + "→" + el.querySelector(".window").textContent;
		const band = document.querySelector("#ticker").getBoundingClientRect(), msg = document.querySelector("#message");
		return {
			current: [row(document.querySelector("#current"))],
			recent: [...document.querySelectorAll("#recent li")].map(row),
			font: parseFloat(getComputedStyle(document.querySelector("#current")).fontSize),
			recentFont: parseFloat(getComputedStyle(document.querySelector("#recent")).fontSize),
			officeLines: lines(document.querySelector("#office")),
			office: document.querySelector("#office").textContent,
			time: document.querySelector("#time").textContent,
			weekday: document.querySelector("#weekday").textContent,
			day: document.querySelector("#day").textContent,
			dateLines: lines(document.querySelector("#day")),
			ticker: msg.textContent,
			tickerRunning: getComputedStyle(msg).animationName === "ticker" && getComputedStyle(msg).animationPlayState === "running",
			tickerInBand: msg.getBoundingClientRect().top >= band.top - 1 && msg.getBoundingClientRect().bottom <= band.bottom + 1,
		};
	})()`)
	must(t, err)
	var want []string
	for _, tk := range tickets {
		want = append(want, tk+"→"+strconv.Itoa(window))
	}
	if !slices.Equal(append(got.Current, got.Recent...), want) {
		t.Errorf("hall %s: calls %q + %q, want %q", size, got.Current, got.Recent, want)
	}
	// The current call as large as the README promises on full HD (200 px
	// landscape, 180 portrait), in proportion elsewhere; the recent ones
	// readable from the back of the hall.
	short, minPx := float64(min(w, h)), 180.0
	if h > w {
		minPx = 160 // a portrait TV is narrow for "Ж999 → 10"
	}
	if minPx *= short / 1080; got.Font < minPx || got.RecentFont < short*56/1080 {
		t.Errorf("hall %s: current ticket %.0f px (want ≥ %.0f), recent %.0f px (want ≥ %.0f)", size, got.Font, minPx, got.RecentFont, short*56/1080)
	}
	if got.Office != office || got.OfficeLines > 2 {
		t.Errorf("hall %s: office name %q on %d lines, want %q on at most 2", size, got.Office, got.OfficeLines, office)
	}
	if got.Time != "01:30" || got.Weekday != "понеділок" || got.Day != "30\u00a0листопада" || got.DateLines != 1 {
		t.Errorf("hall %s: clock %q %q %q (day on %d lines), want 01:30 понеділок 30 листопада, Kyiv time, the day on one line",
			size, got.Time, got.Weekday, got.Day, got.DateLines)
	}
	if !strings.HasPrefix(got.Ticker, longMessage.UK) || !got.TickerRunning || !got.TickerInBand {
		t.Errorf("hall %s: running line %q, scrolling %v, in its band %v", size, got.Ticker, got.TickerRunning, got.TickerInBand)
	}
}

func jsList(ss []string) string {
	var q []string
	for _, s := range ss {
		q = append(q, strconv.Quote(s))
	}
	return "[" + strings.Join(q, ",") + "]"
}

// audit fails the test with whatever accessibility rules the page, as it
// is now, breaks.
func audit(t *testing.T, b *webtest.Browser, name string) {
	t.Helper()
	if v := b.Audit(t, name); len(v) > 0 {
		t.Errorf("%s: %d accessibility rules broken:\n%s", name, len(v), webtest.FormatViolations(v))
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// BenchmarkHallCallToDOM: a call received by the hall until the page in
// headless Chromium has it in its DOM, over loopback. The page measures
// each call from the time kioskd stamped on it to after its render.
func BenchmarkHallCallToDOM(b *testing.B) {
	h, ts := hallServer(b, nil)
	h.Welcome(welcome())
	br := webtest.Start(b, 1920, 1080)
	if err := br.Open(ts.URL + "/hall/"); err != nil {
		b.Fatal(err)
	}
	if err := br.WaitTrue(`document.querySelector("#current .ticket").textContent === "Є107"`, 10*time.Second); err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		i++
		ticket := fmt.Sprintf("К%03d", i%1000)
		h.Call(call(fmt.Sprint("b", i), ticket, 1+i%30))
		if err := br.WaitTrue(fmt.Sprintf(`document.querySelector("#current .ticket").textContent === %q`, ticket), 10*time.Second); err != nil {
			b.Fatal(err)
		}
	}
	lat, err := webtest.Eval[[]float64](br, `window.callLatency`)
	if err != nil || len(lat) == 0 {
		b.Fatalf("latencies %v: %v", lat, err)
	}
	sort.Float64s(lat)
	b.ReportMetric(lat[len(lat)/2], "p50-ms")
	b.ReportMetric(lat[len(lat)*99/100], "p99-ms")
}
