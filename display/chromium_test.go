package display

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/cherga/kiosk/display/webtest"
	"github.com/cherga/kiosk/i18n"
	"github.com/cherga/kiosk/link/proto"
)

// hallServer serves a hall role's pages as kioskd does.
func hallServer(t testing.TB, voice Announcer) (*Hall, *httptest.Server) {
	t.Helper()
	h := NewHall(HallConfig{RecentCalls: 6, Highlight: 30 * time.Second}, voice, nil, quiet)
	mux := http.NewServeMux()
	i18n.Register(mux)
	RegisterAssets(mux)
	h.Register(mux)
	ts := httptest.NewServer(mux)
	t.Cleanup(func() { h.Close(); ts.Close() })
	return h, ts
}

func welcome() *proto.Welcome {
	w := &proto.Welcome{
		Office: proto.Office{ID: "o", Name: proto.Text{UK: "Прозорий офіс", EN: "Transparent Office"}},
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

// The hall page in a real Chromium, on a landscape and a portrait TV: the
// current call large and readable, nothing cut off, a new call at once, its
// blinking from when it is spoken, a recalled ticket back on top, and a
// lost connection said on screen. Both orientations and the offline page
// pass the accessibility audit (axe-core, WCAG 2.2 AA and 7:1 contrast),
// and are saved as screenshots.
func TestHallPageInChromium(t *testing.T) {
	v := make(voice, 8)
	h, ts := hallServer(t, v)
	h.Welcome(welcome())
	h.Link(true)
	b := webtest.Start(t, 1920, 1080)

	for _, size := range []struct {
		name        string
		w, h, minPx int
	}{{"hall-landscape", 1920, 1080, 200}, {"hall-portrait", 1080, 1920, 180}} {
		if err := b.Resize(size.w, size.h); err != nil {
			t.Fatal(err)
		}
		if err := b.Open(ts.URL + "/hall/"); err != nil {
			t.Fatal(err)
		}
		must(t, b.WaitTrue(`document.querySelector("#current .ticket").textContent === "Є107" && document.querySelectorAll("#recent li").length === 6`, 10*time.Second))
		layout, err := webtest.Eval[hallLayout](b, `(() => {
			const cur = document.querySelector("#current");
			const items = document.querySelectorAll("#recent li");
			const last = items[items.length - 1].getBoundingClientRect();
			const over = [...document.querySelectorAll("#current, #recent li")].some((e) => e.scrollWidth > e.clientWidth + 1);
			return {
				font: parseFloat(getComputedStyle(cur).fontSize),
				recent: parseFloat(getComputedStyle(items[0]).fontSize),
				overflow: over || document.documentElement.scrollWidth > innerWidth,
				lastInside: last.bottom <= document.querySelector("footer").getBoundingClientRect().top + 1,
				office: document.querySelector("#office").textContent,
				queues: document.querySelector("#queues").textContent,
				captions: document.querySelector(".current .captions").textContent,
			};
		})()`)
		if err != nil {
			t.Fatal(err)
		}
		if layout.Font < float64(size.minPx) || layout.Recent < 60 || layout.Overflow || !layout.LastInner {
			t.Errorf("%d×%d: ticket %.0f px (want ≥ %d), recent %.0f px, overflow %v, last call on screen %v",
				size.w, size.h, layout.Font, size.minPx, layout.Recent, layout.Overflow, layout.LastInner)
		}
		if layout.Office != "Прозорий офіс" || layout.Queues != "Пенсії: 12Соціальна допомога: 3" ||
			layout.Captions != "Талон / TicketВікно / Window" {
			t.Errorf("%d×%d: %+v", size.w, size.h, layout)
		}
		b.Screenshot(t, size.name)
		audit(t, b, size.name)
	}

	// A new call shows at once; it blinks from when the voice starts.
	c := call("n1", "Ж200", 4)
	h.Call(c)
	<-v
	must(t, b.WaitTrue(`document.querySelector("#current .ticket").textContent === "Ж200" && !document.querySelector("#current").classList.contains("fresh")`, 5*time.Second))
	h.Speaking(c)
	must(t, b.WaitTrue(`document.querySelector("#current").classList.contains("fresh")`, 5*time.Second))

	// A recalled ticket goes back to the top, listed once.
	again := call("n2", "Г104", 13)
	again.Recall = true
	h.Call(again)
	must(t, b.WaitTrue(`document.querySelector("#current .ticket").textContent === "Г104" &&
		[...document.querySelectorAll("#recent .ticket")].every((e) => e.textContent !== "Г104") &&
		document.querySelector("#recent .ticket").textContent === "Ж200"`, 5*time.Second))

	// The server out of reach, then kioskd gone: both said on screen.
	h.Link(false)
	must(t, b.WaitTrue(`!document.querySelector("#serverdown").hidden`, 5*time.Second))
	h.Close()
	must(t, b.WaitTrue(`!document.querySelector("#offline").hidden && document.querySelector("#serverdown").hidden && document.body.classList.contains("stale")`, 5*time.Second))
	b.Screenshot(t, "hall-offline")
	audit(t, b, "hall-offline")
}

// The window page in a real Chromium: this window's number and the ticket
// called to it, a new call at once, a withdrawn one cleared, and a lost
// connection said on screen; audited and saved as screenshots, online and
// offline, like the hall page.
func TestWindowPageInChromium(t *testing.T) {
	w := NewWindow(3, nil, quiet)
	mux := http.NewServeMux()
	i18n.Register(mux)
	RegisterAssets(mux)
	w.Register(mux)
	ts := httptest.NewServer(mux)
	t.Cleanup(func() { w.Close(); ts.Close() })
	w.Welcome(welcome()) // its calls 0…6 go to windows 10…16
	w.Call(call("w1", "А017", 3))
	b := webtest.Start(t, 1920, 1080)
	if err := b.Resize(1920, 1080); err != nil {
		t.Fatal(err)
	}
	if err := b.Open(ts.URL + "/window/"); err != nil {
		t.Fatal(err)
	}
	must(t, b.WaitTrue(`document.querySelector("#ticket").textContent === "А017" && document.querySelector("#number").textContent === "3"`, 10*time.Second))
	fit, err := webtest.Eval[bool](b, `(() => {
		const r = document.querySelector("#ticket").getBoundingClientRect();
		return parseFloat(getComputedStyle(document.querySelector("#ticket")).fontSize) >= 300 &&
			r.right <= innerWidth && r.bottom <= innerHeight && document.documentElement.scrollWidth <= innerWidth;
	})()`)
	if err != nil || !fit {
		t.Errorf("ticket not large and on screen: %v %v", fit, err)
	}
	b.Screenshot(t, "window")
	audit(t, b, "window")

	w.Call(call("w2", "Б018", 3))
	must(t, b.WaitTrue(`document.querySelector("#ticket").textContent === "Б018"`, 5*time.Second))
	w.Cancel(proto.Cancel{Call: "w2", Ticket: "Б018"})
	must(t, b.WaitTrue(`document.querySelector("#ticket").textContent === "—"`, 5*time.Second))
	w.Call(call("w3", "В019", 3))
	must(t, b.WaitTrue(`document.querySelector("#ticket").textContent === "В019"`, 5*time.Second))
	w.Close()
	must(t, b.WaitTrue(`!document.querySelector("#offline").hidden && document.body.classList.contains("stale")`, 5*time.Second))
	b.Screenshot(t, "window-offline")
	audit(t, b, "window-offline")
}

// audit fails the test with whatever accessibility rules the page, as it
// is now, breaks.
func audit(t *testing.T, b *webtest.Browser, name string) {
	t.Helper()
	if v := b.Audit(t, name); len(v) > 0 {
		t.Errorf("%s: %d accessibility rules broken:\n%s", name, len(v), webtest.FormatViolations(v))
	}
}

// hallLayout is what the layout check measures on the page.
type hallLayout struct {
	Font      float64 `json:"font"`
	Recent    float64 `json:"recent"`
	Overflow  bool    `json:"overflow"`
	LastInner bool    `json:"lastInside"`
	Office    string  `json:"office"`
	Queues    string  `json:"queues"`
	Captions  string  `json:"captions"`
}

func must(t *testing.T, err error) {
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
