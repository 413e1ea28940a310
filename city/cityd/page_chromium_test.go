package cityd

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cherga/kiosk/city"
	"github.com/cherga/kiosk/display/webtest"
	"github.com/cherga/kiosk/i18n"
)

// belowScreen is CheckLayout's complaint about an element below the
// screen's bottom edge, or about the page being taller than the screen:
// the city's page scrolls down (fifty centres do not fit a screen), but
// nothing may stick out sideways, overflow, or overlap.
var belowScreen = regexp.MustCompile(`: box (-?\d+),(-?\d+) (\d+)×(\d+) not inside the (\d+)×(\d+) screen$`)

func layoutProblems(l webtest.Layout) []string {
	var out []string
	for _, p := range l.Problems {
		if strings.HasPrefix(p, "the page is ") && strings.HasSuffix(p, " px screen") && strings.Contains(p, " px tall ") {
			continue
		}
		if strings.HasPrefix(p, "html ") && strings.Contains(p, fmt.Sprintf(" px tall in a box of %d", l.Height)) {
			continue // the document scrolls down
		}
		if m := belowScreen.FindStringSubmatch(p); m != nil {
			x, _ := strconv.Atoi(m[1])
			y, _ := strconv.Atoi(m[2])
			w, _ := strconv.Atoi(m[3])
			if x >= 0 && x+w <= l.Width && y >= 0 {
				continue // within the width, only further down
			}
		}
		out = append(out, p)
	}
	return out
}

// TestStatusPage: the public page in a real Chromium with fifty centres
// of ten groups each, at a TV's, a laptop's, a portrait screen's and a
// phone's size; it refreshes on its page clock every 5 s.
func TestStatusPage(t *testing.T) {
	f := newFixture(t, nil)
	f.srv.clock = nil // the page's freshness by real time; the page clock is held instead
	f.srv.clock = realClock{}
	names := groupNames(10)
	now := time.Now()
	for i := range 50 {
		id := fmt.Sprintf("cnap-%02d", i+1)
		register(t, f.db, id, fmt.Sprintf("ЦНАП №%d «Прозорий офіс» %s району", i+1, []string{"Дарницького", "Оболонського", "Подільського", "Святошинського", "Печерського"}[i%5]))
		if i == 49 {
			continue // one that never sent a status
		}
		waiting, wait := map[string]int{}, map[string]int{}
		for g := range 10 {
			id := fmt.Sprintf("g%02d", g)
			waiting[id] = (i*7 + g*3) % 40
			wait[id] = (i + g) % 90
		}
		putStatus(t, f.db, city.Status{Office: id, At: now, Open: i%6 != 0, WindowsOpen: i % 12, Waiting: waiting,
			WaitMinutes: wait, GroupNames: names})
	}

	b := webtest.Start(t, 1920, 1080)
	console, err := b.WatchConsole()
	if err != nil {
		t.Fatal(err)
	}
	must(t, b.HoldClock())
	must(t, b.Open(f.http.URL+"/"))
	must(t, b.WaitTrue(`document.body.dataset.polls === "1"`, 20*time.Second))
	n, err := webtest.Eval[int](b, `document.querySelectorAll("li.office").length * 100 + document.querySelectorAll("li.office:first-child tbody tr").length`)
	must(t, err)
	if n != 50*100+10 {
		t.Fatalf("%d centres and %d groups in the first", n/100, n%100)
	}
	title, err := webtest.Eval[string](b, `document.querySelector("h1").textContent`)
	must(t, err)
	if title != i18n.T("uk", "city.title") {
		t.Errorf("title %q", title)
	}
	never, err := webtest.Eval[string](b, `document.querySelector('li[data-office="cnap-50"] .note').textContent`)
	must(t, err)
	if never != i18n.T("uk", "city.never") {
		t.Errorf("the centre without a status says %q", never)
	}

	for _, size := range []struct{ w, h int }{{1920, 1080}, {1080, 1920}, {1366, 768}, {1280, 720}, {3840, 2160}, {360, 740}} {
		name := fmt.Sprintf("city-%dx%d", size.w, size.h)
		must(t, b.Resize(size.w, size.h))
		l, err := b.CheckLayout()
		must(t, err)
		if ps := layoutProblems(l); len(ps) > 0 {
			b.Screenshot(t, name)
			t.Errorf("%s: %d layout problems:\n%s", name, len(ps), strings.Join(ps, "\n"))
		}
		if l.ScrollWidth > l.Width {
			t.Errorf("%s: the page scrolls sideways (%d px on %d)", name, l.ScrollWidth, l.Width)
		}
		if l.Texts < 500 {
			t.Errorf("%s: only %d texts checked", name, l.Texts)
		}
		b.Screenshot(t, name)
	}
	must(t, b.Resize(1920, 1080))
	if vs := b.Audit(t, "city"); len(vs) > 0 {
		t.Errorf("accessibility:\n%s", webtest.FormatViolations(vs))
	}

	// The page clock drives the refresh: nothing new until 5 s pass on it.
	waiting := map[string]int{"g00": 123}
	putStatus(t, f.db, city.Status{Office: "cnap-02", At: time.Now(), Open: true, WindowsOpen: 4, Waiting: waiting,
		WaitMinutes: map[string]int{"g00": 61}, GroupNames: names})
	cell := `document.querySelector('li[data-office="cnap-02"] tr[data-group="g00"] td.waiting').textContent`
	must(t, b.AdvanceClock(4999*time.Millisecond))
	if got, err := webtest.Eval[string](b, cell); err != nil || got == "123" {
		t.Fatalf("refreshed before 5 s on the page clock: %q %v", got, err)
	}
	must(t, b.AdvanceClock(time.Millisecond))
	must(t, b.WaitTrue(cell+` === "123"`, 20*time.Second))
	wait, err := webtest.Eval[string](b, `document.querySelector('li[data-office="cnap-02"] tr[data-group="g00"] td.wait').textContent`)
	must(t, err)
	if wait != i18n.T("uk", "city.minutes", "n", 61) {
		t.Errorf("wait %q", wait)
	}

	// English on request, from the catalogue.
	must(t, b.Tap("#lang"))
	must(t, b.WaitTrue(fmt.Sprintf(`document.querySelector("h1").textContent === %q`, i18n.T("en", "city.title")), 10*time.Second))
	must(t, b.WaitTrue(fmt.Sprintf(`document.querySelector('li[data-office="cnap-01"] h2').textContent === %q`, "Centre cnap-01"), 10*time.Second))
	b.Screenshot(t, "city-en-1920x1080")

	// The server gone: the page says so and keeps what it had.
	f.http.Close()
	must(t, b.AdvanceClock(5*time.Second))
	must(t, b.WaitTrue(fmt.Sprintf(`document.getElementById("conn-text").textContent === %q`, i18n.T("en", "city.offline")), 20*time.Second))
	if n, err := webtest.Eval[int](b, `document.querySelectorAll("li.office").length`); err != nil || n != 50 {
		t.Errorf("%d centres shown with the server gone (%v)", n, err)
	}
	for _, e := range console.Errors() {
		if !strings.Contains(e, "Failed to fetch") && !strings.Contains(e, "ERR_CONNECTION_REFUSED") {
			t.Errorf("console: %s", e)
		}
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
