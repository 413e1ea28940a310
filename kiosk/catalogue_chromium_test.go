package kiosk

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cherga/kiosk/display/webtest"
	"github.com/cherga/kiosk/httpapi"
	"github.com/cherga/kiosk/i18n"
	"github.com/cherga/kiosk/link/proto"
	"github.com/cherga/kiosk/queue/queuetest"
)

// The kiosk as an information terminal for the shipped catalogue (400
// services in ten groups and 60 subgroups), in one Chromium tab: every
// service reached by touches from home, each touch a click at the
// middle of what the visitor sees; search; a service's information,
// printed list and sample forms; the catalogue kept in the page; and
// every screen fitted, at every screen size, in both languages and in
// large text.
func TestCatalogueInChromium(t *testing.T) {
	r := newRig(t, true)
	serveForms(t, r)
	snap := r.k.cfg.Tickets.Snapshot()
	if want := len(queuetest.Config(t).Services); len(snap.Catalogue.Services) != want || want < 380 {
		t.Fatalf("the kiosk has %d services, the shipped catalogue %d", len(snap.Catalogue.Services), want)
	}
	p := openPage(t, r, 1080, 1920)
	p.wait("the sample forms looked up", `document.body.dataset.forms === "checked"`)

	t.Run("every service within three touches", func(t *testing.T) { walkEveryService(t, p.with(t), &snap.Catalogue) })
	t.Run("search", func(t *testing.T) { searchRanks(t, p.with(t)) })
	t.Run("information before the ticket", func(t *testing.T) { serviceInformation(t, p.with(t), &snap.Catalogue) })
	t.Run("catalogue kept in the page", func(t *testing.T) { catalogueCached(t, p.with(t)) })
	t.Run("every screen fits every screen", func(t *testing.T) { everyScreenFits(t, p.with(t), &snap.Catalogue) })
	t.Run("screenshots", func(t *testing.T) { kioskScreenshots(t, p.with(t)) })
}

// kioskScreenshots photographs the README's kiosk screens: home on a
// portrait kiosk, a service's information on a landscape one, the page of
// the eight longest names in large text on a 1280×1024 monitor. Run with
// -screenshots ../docs/screenshots, it writes them there.
func kioskScreenshots(t *testing.T, p *page) {
	shots := []struct {
		name   string
		size   [2]int
		large  bool
		screen string
		draw   string
	}{
		{"kiosk-home-1080x1920", [2]int{1080, 1920}, false, "home", `showHome()`},
		{"kiosk-service-1920x1080", [2]int{1920, 1080}, false, "service", `service(serviceById("pension-age"), home)`},
		{"kiosk-subgroup-1280x1024-large", [2]int{1280, 1024}, true, "subgroup", `(() => {
			const g = groupById("assistance");
			subgroup(g, g.subgroups.find((sg) => sg.id === "assistance-families"));
		})()`},
	}
	for _, s := range shots {
		if err := p.TouchScreen(s.size[0], s.size[1]); err != nil {
			t.Fatal(err)
		}
		p.eval(fmt.Sprintf(`(() => { S.modes.large = %v; applyModes(); %s; })()`, s.large, s.draw))
		p.wait(s.name, fmt.Sprintf(`innerWidth === %d && innerHeight === %d && kiosk.state().screen === %q &&
			[...document.querySelectorAll("main img")].every((i) => i.complete && i.naturalWidth > 0)`, s.size[0], s.size[1], s.screen))
		webtest.SaveScreenshot(t, p.Browser, s.name)
	}
	p.eval(`(() => { S.modes.large = false; applyModes(); })()`)
	p.home()
}

// with is the page for a subtest: its failures are the subtest's.
func (p *page) with(t *testing.T) *page {
	q := *p
	q.t = t
	return &q
}

// home asks the page for its home screen, as its own "back" and timers
// do (the catalogue asked for again), and waits until it is drawn.
func (p *page) home() {
	p.t.Helper()
	before := p.eval(`document.querySelector("main").dataset.rendered`)
	p.eval(`home()`)
	p.wait("the home screen drawn again", fmt.Sprintf(`document.querySelector("main").dataset.rendered !== %q && kiosk.state().screen === "home"`, before))
}

// serveForms gives the rig's kiosk the sample forms, downloaded from its
// queued as kioskd does, and serves its routes again with them.
func serveForms(t *testing.T, r *rig) {
	t.Helper()
	tickets := r.k.cfg.Tickets
	forms, err := NewForms(FormsConfig{Dir: filepath.Join(t.TempDir(), "forms"), Source: serverForms{r.office.URL()}, Log: quiet,
		Catalogue: func() *proto.Catalogue {
			if snap := tickets.Snapshot(); snap != nil {
				return &snap.Catalogue
			}
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second) // a guard, never a measurement
	defer cancel()
	if st := forms.Sync(ctx); st.Cached != st.Forms || st.Forms == 0 {
		t.Fatalf("sample forms: %+v", st)
	}
	r.k.cfg.Forms = forms
	mux := httpapi.NewMux()
	i18n.Register(mux)
	r.k.Register(mux)
	r.api.Close()
	r.api = httptest.NewServer(httpapi.Recover(mux, quiet, nil))
	t.Cleanup(r.api.Close)
}

// touchAt is what the page said about the element a touch is for.
type touchAt struct {
	X, Y     float64
	Rendered string
	Problem  string
}

// touch clicks the middle of the element selector names, once it is the
// element the visitor sees there (nothing covers it), and waits until
// the page has drawn screen (none: waits for nothing).
func (p *page) touch(selector, screen string) {
	p.t.Helper()
	at, err := webtest.Eval[touchAt](p.Browser, fmt.Sprintf(`(() => {
		const e = document.querySelector(%q);
		const rendered = document.querySelector("main").dataset.rendered;
		if (!e) return {Problem: "nothing is " + %q, Rendered: rendered};
		const r = e.getBoundingClientRect();
		const x = r.left + r.width / 2, y = r.top + r.height / 2;
		const hit = document.elementFromPoint(x, y);
		if (!hit || !e.contains(hit)) return {Problem: %q + " is covered by " + (hit ? hit.outerHTML.slice(0, 80) : "nothing"), Rendered: rendered};
		return {X: x, Y: y, Rendered: rendered};
	})()`, selector, selector, selector))
	if err != nil {
		p.t.Fatalf("touch %s: %v", selector, err)
	}
	if at.Problem != "" {
		p.t.Fatalf("touch: %s (screen %v)", at.Problem, p.eval(`kiosk.state().screen`))
	}
	if err := p.ClickAt(at.X, at.Y); err != nil {
		p.t.Fatal(err)
	}
	if screen == "" {
		return
	}
	drawn := fmt.Sprintf(`document.querySelector("main").dataset.rendered !== %q && kiosk.state().screen === %q && !kiosk.state().busy`, at.Rendered, screen)
	if ok, err := webtest.Eval[bool](p.Browser, drawn); err == nil && ok {
		return
	}
	p.wait("screen "+screen+" after touching "+selector, drawn)
}

// serviceShown is what a service's screen shows.
type serviceShown struct {
	Service, Title, Path string
	Documents            []string
	Take                 bool
	TakeY, Height        float64
}

const serviceShownJS = `(() => {
	const m = document.querySelector("main"), take = m.querySelector(".take");
	return {Service: m.dataset.service || "", Title: m.querySelector("h1").textContent, Path: m.querySelector(".sub").textContent,
		Documents: [...m.querySelectorAll(".docs li")].map((li) => li.textContent),
		Take: !!take, TakeY: take ? take.getBoundingClientRect().top + take.getBoundingClientRect().height / 2 : 0, Height: innerHeight};
})()`

// walkEveryService touches its way from home to every service of the
// catalogue, as a visitor would: a group's tile (one touch), a
// subgroup's tile (two), a service's tile (two or three); then "back".
// Each service's screen shows its whole name, its documents, and "take a
// ticket" in the lower two thirds of the screen. Touches are counted as
// configs' walkKiosk counts them: from home to the service's screen.
func walkEveryService(t *testing.T, p *page, cat *proto.Catalogue) {
	start := time.Now()
	docs := map[string]string{}
	for _, d := range cat.Documents {
		docs[d.ID] = d.Name.UK
	}
	touches := map[string]int{}
	taps := 0
	arrive := func(s proto.Service, path []string) {
		taps++
		p.touch(fmt.Sprintf(`main [data-service=%q]`, s.ID), "service")
		got, err := webtest.Eval[serviceShown](p.Browser, serviceShownJS)
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		if s.Info != nil {
			for _, id := range s.Info.Documents {
				want = append(want, docs[id])
			}
		}
		switch {
		case got.Service != s.ID || got.Title != s.Name.UK:
			t.Errorf("%s: touched %q, the screen shows %q %q", strings.Join(path, " › "), s.ID, got.Service, got.Title)
		case !slices.Equal(got.Documents, want):
			t.Errorf("service %s lists documents %q, want %q", s.ID, got.Documents, want)
		case !got.Take || got.TakeY < got.Height/3:
			t.Errorf("service %s: \"take a ticket\" at y %.0f of %.0f, want it in the lower two thirds", s.ID, got.TakeY, got.Height)
		}
		if _, twice := touches[s.ID]; twice {
			t.Errorf("service %s is listed twice", s.ID)
		}
		touches[s.ID] = len(path) + 1
	}
	back := func(screen string) {
		p.touch("#navslot .back", screen)
	}
	p.onScreen("home")
	for _, g := range cat.Groups {
		taps++
		p.touch(fmt.Sprintf(`main [data-group=%q]`, g.ID), "group")
		subgroups, direct := cat.GroupPage(g.ID)
		var want, got []string
		for _, sg := range subgroups {
			want = append(want, "subgroup:"+sg.ID)
		}
		for _, s := range direct {
			want = append(want, "service:"+s.ID)
		}
		if err := json.Unmarshal([]byte(p.eval(`JSON.stringify([...document.querySelectorAll("main .grid > button")].map((b) =>
			b.dataset.subgroup ? "subgroup:" + b.dataset.subgroup : "service:" + b.dataset.service))`).(string)), &got); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("group %s's page lists %v, want %v", g.ID, got, want)
		}
		for _, s := range direct {
			arrive(s, []string{g.ID})
			back("group")
		}
		for _, sg := range subgroups {
			taps++
			p.touch(fmt.Sprintf(`main [data-subgroup=%q]`, sg.ID), "subgroup")
			services := cat.SubgroupServices(g.ID, sg.ID)
			if n := p.eval(`document.querySelectorAll("main .grid > button").length`); n != float64(len(services)) {
				t.Errorf("subgroup %s's page lists %v services, want %d", sg.ID, n, len(services))
			}
			for _, s := range services {
				arrive(s, []string{g.ID, sg.ID})
				back("subgroup")
			}
			back("group")
		}
		back("home")
	}
	most := 0
	for _, s := range cat.Services {
		n, ok := touches[s.ID]
		switch {
		case !ok:
			t.Errorf("service %s was not reached from home", s.ID)
		case n > 3:
			t.Errorf("service %s takes %d touches from home, want at most 3", s.ID, n)
		}
		most = max(most, n)
	}
	t.Logf("%d services reached, each in at most %d touches from home; %d touches forward and as many back, in %v",
		len(touches), most, taps, time.Since(start).Round(time.Millisecond))
}

// searchRanks: search finds word starts, in both languages and in
// keywords, ranks names above keywords, and takes any apostrophe and any
// case.
func searchRanks(t *testing.T, p *page) {
	p.home()
	p.touch(`main [data-way="search"]`, "search")
	for _, c := range []string{"п", "е", "н", "с"} {
		p.tapText(c)
	}
	p.wait("results", `document.querySelector(".query").textContent === "пенс" && document.querySelector(".results [data-service]") !== null`)
	p.check("kiosk-search-pension")
	// Every service found, in the page's order; the first page shown.
	var found []struct{ ID, UK, EN string }
	if err := json.Unmarshal([]byte(p.eval(`JSON.stringify(ServiceSearch.find(S.idx.search, "пенс").map((s) => ({ID: s.id, UK: s.name.uk, EN: s.name.en})))`).(string)), &found); err != nil {
		t.Fatal(err)
	}
	shown := p.eval(`[...document.querySelectorAll(".results [data-service]")].map((b) => b.dataset.service).join()`).(string)
	var first []string
	byName := 0
	for i, s := range found {
		if i < len(strings.Split(shown, ",")) {
			first = append(first, s.ID)
		}
		if strings.Contains(strings.ToLower(s.UK), "компенсац") && !hasWordStart(s.UK, "пенс") {
			t.Errorf("\"пенс\" finds %s %q", s.ID, s.UK)
		}
		if hasWordStart(s.UK, "пенс") {
			if byName != i {
				t.Errorf("%s %q, named for the query, ranks %d, after a service found by a keyword", s.ID, s.UK, i)
			}
			byName++
		}
	}
	if shown != strings.Join(first, ",") || byName < 20 || !hasWordStart(found[0].UK, "пенс") {
		t.Errorf("\"пенс\": shown %s of %d found (%d by name)", shown, len(found), byName)
	}
	// Apostrophes and case; English; keywords.
	same := p.eval(`(() => {
		const ids = (q) => ServiceSearch.find(S.idx.search, q).map((s) => s.id).join();
		const a = ids("сім'ї"), out = [];
		for (const q of ["сім’ї", "сімʼї", "СІМ'Ї", "Сім` + "`" + `ї"]) if (ids(q) !== a) out.push(q + " ≠ сім'ї");
		if (!a) out.push("сім'ї finds nothing");
		if (!ids("pension").includes("pension-age")) out.push("pension does not find pension-age");
		if (!ids("ПЕНСІЯ ВІК").includes("pension-age")) out.push("ПЕНСІЯ ВІК does not find pension-age");
		if (ids("енсі")) out.push("енсі (not a word start) finds " + ids("енсі"));
		const kw = ServiceSearch.find(S.idx.search, "прописка");
		if (!kw.length) out.push("the keyword прописка finds nothing");
		return out.join("; ");
	})()`)
	if same != "" {
		t.Errorf("search: %v", same)
	}
	// A result leads to its service; back comes to the same results.
	p.touch(`.results [data-service="`+first[0]+`"]`, "service")
	p.touch("#navslot .back", "search")
	if got := p.text(".query"); got != "пенс" {
		t.Errorf("back to the search shows %q", got)
	}
}

// hasWordStart says whether a word of s starts with prefix.
func hasWordStart(s, prefix string) bool {
	for _, w := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !(r >= 'а' && r <= 'я' || r == 'і' || r == 'ї' || r == 'є' || r == 'ґ' || r == '\'' || r >= 'a' && r <= 'z')
	}) {
		if strings.HasPrefix(w, prefix) {
			return true
		}
	}
	return false
}

// serviceInformation: a service's screen shows its description, the
// documents, the term and the cost, the sample forms kioskd serves (full
// screen on a touch), a list printed on request, and then the ticket.
func serviceInformation(t *testing.T, p *page, cat *proto.Catalogue) {
	p.home()
	p.touch(`main [data-group="pensions"]`, "group")
	p.touch(`main [data-subgroup="pensions-assign"]`, "subgroup")
	p.touch(`main [data-service="pension-age"]`, "service")
	s, _ := cat.Service("pension-age")
	got := p.text("main")
	for _, want := range []string{s.Info.Description.UK, "Документи, які треба мати з собою", "Строк", s.Info.Term.UK, "Вартість", "безоплатно"} {
		if !strings.Contains(got, want) {
			t.Errorf("pension-age's screen lacks %q:\n%s", want, got)
		}
	}
	// The sample form: shown small, full screen on a touch, the picture
	// kioskd keeps.
	if len(s.Info.Forms) != 1 {
		t.Fatalf("pension-age has forms %v", s.Info.Forms)
	}
	form := s.Info.Forms[0]
	p.wait("the form shown", fmt.Sprintf(`(() => { const i = document.querySelector('main [data-form=%q] img'); return i && i.complete && i.naturalWidth > 0; })()`, form))
	p.check("kiosk-service-information")
	p.touch(fmt.Sprintf(`main [data-form=%q]`, form), "")
	p.wait("the form full screen", fmt.Sprintf(`!document.querySelector("#viewer").hidden && kiosk.state().viewer === %q &&
		document.querySelector("#viewer-body img").complete && document.querySelector("#viewer-body img").naturalWidth > 0`, form))
	if fits := p.eval(`(() => { const i = document.querySelector("#viewer-body img").getBoundingClientRect();
		return i.width > innerWidth / 3 && i.right <= innerWidth && i.bottom <= innerHeight; })()`); fits != true {
		t.Error("the form full screen does not fill the screen")
	}
	p.check("kiosk-form")
	p.tap("#viewer-close")
	p.wait("the form closed", `document.querySelector("#viewer").hidden`)
	// A PDF sample: a page marked PDF, opened in the browser's viewer.
	pdf := p.eval(`(() => {
		const s = S.cat.services.find((s) => s.info && (s.info.forms || []).some((id) => S.forms[id] && S.forms[id].pdf));
		if (!s) return "";
		service(s, home);
		const b = document.querySelector("main [data-form]");
		b.click();
		const f = document.querySelector("#viewer-body iframe");
		const out = (b.querySelector(".pdf") ? "marked PDF, " : "not marked, ") + (f ? new URL(f.src).pathname : "no viewer");
		closeViewer();
		return out;
	})()`)
	if got, _ := pdf.(string); !strings.HasPrefix(got, "marked PDF, /forms/") {
		t.Errorf("a PDF sample form: %v", pdf)
	}
	// A form kioskd does not have (not downloaded yet) is not shown.
	p.eval(`(() => { S.forms[` + fmt.Sprintf("%q", form) + `].ok = false; service(serviceById("pension-age"), home); })()`)
	if p.eval(`document.querySelector('main [data-form]') !== null`) == true {
		t.Error("a form kioskd does not have is shown")
	}
	p.eval(`checkForms()`)
	p.wait("the form shown again", fmt.Sprintf(`document.querySelector('main [data-form=%q]') !== null`, form))

	// The list of documents printed: the answer said on screen, whatever
	// it is; a printer that cannot print said in the visitor's words.
	p.touch(`main .printdocs`, "")
	p.wait("the print answered", `document.querySelector("main").dataset.print !== undefined && !document.querySelector("#toast").hidden`)
	if got := p.eval(`document.querySelector("main").dataset.print + " " + document.querySelector("#toast").dataset.key`); got != "printed kiosk.print.printed" {
		t.Errorf("the list of documents: %v", got)
	}
	p.eval(`(() => {
		const real = window.fetch;
		window.fetch = (url, opts) => String(url).includes("/print/documents")
			? Promise.resolve(new Response(JSON.stringify({code: "paper_out", error: "the printer has no paper"}), {status: 503, headers: {"Content-Type": "application/json"}}))
			: real(url, opts);
		window.realFetch = real;
		document.querySelector("#toast").hidden = true;
	})()`)
	p.touch(`main .printdocs`, "")
	p.wait("the failure said", `!document.querySelector("#toast").hidden`)
	if got := p.eval(`document.querySelector("#toast").dataset.key`); got != "kiosk.print.paper_out" {
		t.Errorf("a print refused for want of paper said %v", got)
	}
	p.eval(`window.fetch = window.realFetch`)

	// Then the ticket.
	p.touch("main .take", "ticket")
	if got := p.text(".number"); !strings.HasPrefix(got, "П") {
		t.Errorf("ticket %q", got)
	}
	p.home()
}

// catalogueCached: the page asks for the catalogue once; each home
// screen after gets the queue lengths only.
func catalogueCached(t *testing.T, p *page) {
	p.eval(`performance.clearResourceTimings()`)
	for range 3 {
		p.home()
	}
	got := p.eval(`JSON.stringify(performance.getEntriesByType("resource").filter((e) => e.name.includes("/api/v1/services")).map((e) => [new URL(e.name).search, e.decodedBodySize]))`).(string)
	var loads [][2]any
	if err := json.Unmarshal([]byte(got), &loads); err != nil {
		t.Fatal(err)
	}
	version := p.eval(`kiosk.state().version`).(string)
	if len(loads) != 3 {
		t.Fatalf("%d loads of the catalogue for 3 home screens: %s", len(loads), got)
	}
	for _, l := range loads {
		if l[0] != "?have="+version || l[1].(float64) > 2048 {
			t.Errorf("a home screen loaded %v (%v bytes), want ?have=%s and the queue lengths only", l[0], l[1], version)
		}
	}
}

// The sizes the kiosk is tested on: portrait and landscape full HD, the
// common small panels, and the 5:4 monitor.
var kioskSizes = [][2]int{{1080, 1920}, {1920, 1080}, {1366, 768}, {1280, 720}, {1280, 1024}}

// screenCheck measures the screen as it is now: webtest's layout check
// (nothing off screen, out of its box, overflowing or overlapping; a
// clamped name and a paged text clip on purpose) and every control: at
// least 88 px (the search keyboard's keys 64 wide, and 64 high below a
// screen height of 1000 px), on screen, its content
// and each of its texts inside it, no word broken across lines, a
// clamped name only in a service's tile; the main actions in the lower
// two thirds of the screen; the screen's content reaching its bottom.
const screenCheck = `((name) => {
	const out = [], eps = 1, vw = innerWidth, vh = innerHeight;
	const say = (s) => out.push(name + ": " + s);
	const desc = (e) => e.tagName.toLowerCase() + (e.className && typeof e.className === "string" ? "." + e.className.trim().split(/\s+/).join(".") : "") +
		" «" + e.textContent.trim().replace(/\s+/g, " ").slice(0, 50) + "»";
	const inside = (r, b) => r.left >= b.left - eps && r.top >= b.top - eps && r.right <= b.right + eps && r.bottom <= b.bottom + eps;
	const meets = (a, b) => Math.min(a.right, b.right) > Math.max(a.left, b.left) && Math.min(a.bottom, b.bottom) > Math.max(a.top, b.top);
	const view = new DOMRect(0, 0, vw, vh);
	const layout = LAYOUT([".clamped", ".info"]);
	for (const p of layout.problems) say(p);
	const range = document.createRange();
	const shown = (e) => e.getClientRects().length > 0;
	const controls = [...document.querySelectorAll("button")].filter(shown);
	for (const b of controls) {
		const r = b.getBoundingClientRect();
		const panel = b.closest(".info");
		if (panel) {
			const pr = panel.getBoundingClientRect();
			if (!meets(r, pr)) continue; // on another page of the panel
			if (!inside(r, pr)) say(desc(b) + " cut between the pages of its panel");
		}
		// The search keyboard's twelve keys a row get 64 px, and 88 px of
		// height on a screen 1000 px tall or more.
		const key = b.classList.contains("kkey");
		const minW = key ? 64 : 88, minH = key && vh < 1000 ? 64 : 88;
		if (r.width < minW - eps || r.height < minH - eps) say(desc(b) + " is " + Math.round(r.width) + "×" + Math.round(r.height) + ", want at least " + minW + "×" + minH);
		if (!inside(r, view)) say(desc(b) + " is off the screen");
		if (b.scrollWidth > b.clientWidth + eps || b.scrollHeight > b.clientHeight + eps) say(desc(b) + ": its content " + b.scrollWidth + "×" + b.scrollHeight + " overflows " + b.clientWidth + "×" + b.clientHeight);
		const clamped = [...b.querySelectorAll(".clamped")];
		for (const c of clamped) {
			if (!b.classList.contains("service")) say(desc(b) + ": a name clamped outside a service's tile");
			if (!inside(c.getBoundingClientRect(), r)) say(desc(b) + ": its clamped name runs out of it");
		}
		const walker = document.createTreeWalker(b, NodeFilter.SHOW_TEXT);
		for (let n = walker.nextNode(); n; n = walker.nextNode()) {
			if (!n.textContent.trim()) continue;
			const inClamp = clamped.some((c) => c.contains(n));
			range.selectNodeContents(n);
			if (!inClamp && !inside(range.getBoundingClientRect(), r)) say(desc(b) + ": its text runs out of it");
			// No word broken across lines (a hyphen or a slash may end one).
			const re = /[^\s\-‐–—\/]+/g;
			for (let m; (m = re.exec(n.textContent)); ) {
				range.setStart(n, m.index);
				range.setEnd(n, m.index + m[0].length);
				const tops = new Set([...range.getClientRects()].filter((x) => x.width > 0).map((x) => Math.round(x.top)));
				if (tops.size > 1) { say(desc(b) + ": the word «" + m[0] + "» is broken across lines"); break; }
			}
		}
	}
	// The main actions within reach: in the lower two thirds.
	for (const b of document.querySelectorAll("main .take, main .primary, main .printdocs, main .way, main .key.ok, #controls button, #viewer-close, #idle-continue")) {
		if (!shown(b)) continue;
		const r = b.getBoundingClientRect();
		if (r.top + r.height / 2 < vh / 3) say(desc(b) + " at y " + Math.round(r.top) + ", in the top third of the screen");
	}
	// The screen filled: what main shows reaches its bottom.
	const main = document.querySelector("main"), mr = main.getBoundingClientRect();
	let bottom = mr.top;
	for (const e of main.querySelectorAll("*")) if (shown(e)) bottom = Math.max(bottom, e.getBoundingClientRect().bottom);
	if (bottom < mr.bottom - 0.1 * vh) say("the screen's content ends at y " + Math.round(bottom) + ", " + Math.round(mr.bottom - bottom) + " px above the bottom bar");
	return out;
})`

// everyScreenFits draws every screen of the page (home, every group's and
// subgroup's page, the services with the longest names, texts and lists,
// a page of the eight longest names, search, booking, the ticket, a
// refusal, a failure, the idle question, a form full screen), at every
// size of kioskSizes, in Ukrainian and English, in normal and large text,
// and checks each with screenCheck. The pages' own drawing functions
// draw them; one evaluation per size, language and text size.
func everyScreenFits(t *testing.T, p *page, cat *proto.Catalogue) {
	start := time.Now()
	// The services that strain a screen most.
	longest := func(less func(a, b proto.Service) int, n int) []string {
		s := slices.Clone(cat.Services)
		slices.SortStableFunc(s, less)
		var ids []string
		for _, x := range s[:n] {
			ids = append(ids, x.ID)
		}
		return ids
	}
	runes := func(s string) int { return len([]rune(s)) }
	info := func(s proto.Service) (desc, docs int) {
		if s.Info != nil {
			desc = runes(s.Info.Description.UK)
			docs = len(s.Info.Documents)
		}
		return
	}
	longUK := longest(func(a, b proto.Service) int { return runes(b.Name.UK) - runes(a.Name.UK) }, 8)
	longEN := longest(func(a, b proto.Service) int { return runes(b.Name.EN) - runes(a.Name.EN) }, 8)
	wordy := longest(func(a, b proto.Service) int { x, _ := info(a); y, _ := info(b); return y - x }, 2)
	listy := longest(func(a, b proto.Service) int { _, x := info(a); _, y := info(b); return y - x }, 2)
	services := slices.Compact(slices.Sorted(slices.Values(append(append(append(append([]string{"pension-age"}, longUK[:2]...), longEN[:2]...), wordy...), listy...))))
	ids, _ := json.Marshal(map[string]any{"services": services, "longUK": longUK, "longEN": longEN})
	script := `((plan) => {
		const LAYOUT = ` + webtest.LayoutScript() + `;
		const check = ` + screenCheck + `;
		const out = [];
		let screens = 0;
		// An overlay (the idle question, a form full screen) is checked
		// alone: it covers the page on purpose.
		const page = ["top", "banners", "screen", "controls"].map((id) => document.getElementById(id));
		const at = (name, draw) => {
			document.getElementById("toast").hidden = true;
			draw();
			const overlay = [...document.querySelectorAll(".overlay")].some((o) => !o.hidden);
			if (overlay) for (const e of page) e.style.display = "none";
			screens++;
			out.push(...check(name));
			if (overlay) for (const e of page) e.style.display = "";
		};
		const svc = (id) => serviceById(id);
		at("home", () => showHome());
		for (const g of S.cat.groups) {
			at("group " + g.id, () => group(g));
			for (const sg of groupPage(g).subgroups) at("subgroup " + sg.id, () => subgroup(g, sg));
		}
		for (const id of plan.services) {
			at("service " + id, () => service(svc(id), home));
			const panel = document.querySelector("main .info");
			const pages = panel ? Number(panel.dataset.pages || 1) : 1;
			for (let i = 1; i < pages; i++) {
				document.querySelectorAll("main .infonav .secondary")[1].click();
				screens++;
				out.push(...check("service " + id + " page " + (i + 1)));
			}
		}
		for (const key of ["longUK", "longEN"]) {
			at("the eight " + key + " names", () => show("subgroup", () => [el("h1", "", "Опіка, прийомні сім'ї, аліменти"), el("p", "sub", name(groupById("assistance"))),
				tiles(plan[key].map((id) => serviceTile(svc(id), home)), listCols(), "entries")], home));
			const n = document.querySelectorAll("main .grid > button").length;
			if (n !== 8) out.push("the eight " + key + " names: " + n + " tiles on one page");
		}
		at("search", () => search(""));
		at("search пенс", () => search("пенс"));
		at("search дітей", () => search("дітей"));
		at("booking", () => booking());
		const long = svc(plan.longUK[0]);
		at("ticket", () => ticketScreen({number: "В123", service: long.id, printed: true, offline: true, track_url: "http://127.0.0.1:8090/t/2026-11-23/В123"}));
		at("ticket not printed", () => ticketScreen({number: "В124", service: long.id, printed: false, booking: {slot: "10:15"}, track_url: "http://127.0.0.1:8090/t/2026-11-23/В124"}));
		at("refused", () => refusedScreen({code: "booking_early", booking: {service: long.id, slot: "10:15", opens: "2026-11-23T10:00:00+02:00", closes: "2026-11-23T10:25:00+02:00", date: "2026-11-23"}}));
		at("failure", () => failure("kiosk.error.full"));
		at("idle", () => { showHome(); showIdle(); });
		hideIdle();
		S.ticketUntil = 0;
		const form = S.cat.forms.find((f) => S.forms[f.id] && S.forms[f.id].ok);
		if (form) {
			at("form " + form.id, () => { service(svc("pension-age"), home); openForm(form); });
			closeViewer();
		}
		return {problems: out, screens};
	})(` + string(ids) + `)`
	type result struct {
		Problems []string
		Screens  int
	}
	total, configs := 0, 0
	measure := func(size [2]int, lang string, large, trouble bool) {
		what := fmt.Sprintf("%dx%d %s large=%v", size[0], size[1], lang, large)
		if trouble {
			what += " offline, no printer, high contrast"
		}
		if err := p.TouchScreen(size[0], size[1]); err != nil {
			t.Fatal(err)
		}
		// Voice guidance's toggle shown: the bottom bar at its fullest.
		p.eval(fmt.Sprintf(`(() => { I18N.lang = %q; S.modes.large = %v; S.modes.contrast = %v; document.getElementById("voice").hidden = false;
			document.getElementById("offline").hidden = document.getElementById("noprinter").hidden = %v; applyModes(); })()`, lang, large, trouble, !trouble))
		p.wait("the screen's size", fmt.Sprintf(`innerWidth === %d && innerHeight === %d`, size[0], size[1]))
		res, err := webtest.Eval[result](p.Browser, script)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		for _, pr := range res.Problems {
			t.Errorf("%s: %s", what, pr)
		}
		total += res.Screens
		configs++
	}
	for _, size := range kioskSizes {
		for _, lang := range []string{"uk", "en"} {
			for _, large := range []bool{false, true} {
				measure(size, lang, large, false)
			}
		}
	}
	// Both banners (the server away, the printer out) on the smallest
	// screen, in high contrast: still nothing overflows.
	for _, lang := range []string{"uk", "en"} {
		measure([2]int{1280, 720}, lang, true, true)
	}
	p.eval(`(() => { document.getElementById("voice").hidden = !S.cat.page.speech; S.modes.contrast = false; setStatus(S.status); })()`)
	p.eval(`(() => { I18N.lang = "uk"; S.modes.large = false; applyModes(); home(); })()`)
	t.Logf("%d screens checked in %d combinations of size, language, text size and banners, in %v", total, configs, time.Since(start).Round(time.Millisecond))
}
