package cityd

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cherga/kiosk/display/webtest"
	"github.com/cherga/kiosk/i18n"
)

// TestReportsPage: a supervisor signs in on /login and compares the
// centres on /city/reports/: a row and a bar per centre, charts drawn
// by the server, no script, at a desk's screen size.
func TestReportsPage(t *testing.T) {
	d := newCityData(t)
	b := webtest.Start(t, 1920, 1080)
	console, err := b.WatchConsole()
	must(t, err)
	url := fmt.Sprintf("%s%s?from=%s&to=%s", d.f.http.URL, reportsPath, d.days[0], d.days[2])
	must(t, b.Open(url))
	// Sent to the sign-in first.
	must(t, b.WaitTrue(`location.pathname === "/login" && !!document.querySelector("input[type=password]")`, 20*time.Second))
	// Signed in as the sign-in page does (its form is queue/access's,
	// tested there); the session cookie is the browser's.
	_, err = webtest.Eval[bool](b, fmt.Sprintf(`(fetch("/api/v1/login", {method: "POST",
		headers: {"Content-Type": "application/json"}, body: JSON.stringify({name: "olena", password: %q})}).then((r) => { window.signedIn = r.status; }), true)`, testPassword))
	must(t, err)
	must(t, b.WaitTrue(`window.signedIn === 200`, 30*time.Second))
	must(t, b.Open(url))
	if err := b.WaitTrue(`document.querySelectorAll("figure.chart svg").length >= 2`, 20*time.Second); err != nil {
		text, _ := webtest.Eval[string](b, `location.href + " " + document.body.innerText.slice(0, 400)`)
		t.Fatalf("%v: the page shows %s", err, text)
	}
	h1, err := webtest.Eval[string](b, `document.querySelector("h1").textContent`)
	must(t, err)
	if h1 != i18n.T("uk", "reports.city_title") {
		t.Errorf("title %q", h1)
	}
	rows, err := webtest.Eval[[]string](b, `[...document.querySelectorAll("section[aria-labelledby=table] tbody th[scope=row]")].map((e) => e.textContent)`)
	must(t, err)
	if strings.Join(rows, "|") != "ЦНАП darnytsia|ЦНАП obolon|ЦНАП podil" {
		t.Errorf("rows %q", rows)
	}
	bars, err := webtest.Eval[int](b, `document.querySelectorAll("figure.chart:first-of-type svg rect[fill='#0b3d91']").length`)
	must(t, err)
	if bars != 3 {
		t.Errorf("%d bars of visitors, want one per centre", bars)
	}
	for _, size := range []struct{ w, h int }{{1920, 1080}, {1280, 720}} {
		must(t, b.Resize(size.w, size.h))
		// The page is queue/stats' reports page: it scrolls down, and its
		// wide table scrolls in its own box, never the page sideways.
		l, err := b.CheckLayout()
		must(t, err)
		if l.ScrollWidth > l.Width {
			t.Errorf("%dx%d: the page scrolls sideways (%d px)", size.w, size.h, l.ScrollWidth)
		}
		b.Screenshot(t, fmt.Sprintf("city-reports-%dx%d", size.w, size.h))
	}
	if vs := b.Audit(t, "city-reports"); len(vs) > 0 {
		t.Errorf("accessibility:\n%s", webtest.FormatViolations(vs))
	}
	for _, e := range console.Errors() {
		t.Errorf("console: %s", e)
	}
}
