package queue

// The three pages queued serves to people, in a real headless Chromium
// against the real server (queue.Open on a temporary bbolt file with the
// demo office, NewServer in httptest, accounts in a temporary access
// file): the operator's desk, the supervisor's overview and the public
// status page. Every screen is audited with axe-core (WCAG 2.x A/AA, best
// practices, AAA 7:1 contrast), checked for sideways scrolling and small
// targets at the desk screens' sizes, and photographed into
// var/artefacts/screenshots/ (or $ARTEFACTS_DIR) as operator-*,
// supervisor-*, status-*. Tests wait on what the page shows, never on time.
//
// What the pages use of queued (docs/queued-api.md, plus the fields
// marked *, which the document does not list):
//
//	GET  /operator/, /operator/supervisor.html   the pages (no session: 303 to /login?next=<page>)
//	GET  /operator/*.js, *.css                    their scripts and styles
//	GET  /status/ (and /status → /status/)        the public status page, /status/status.{css,js}
//	GET  /i18n.js, /i18n.json                     the message catalogue
//	GET  /api/v1/me                               {name, display_name, role, windows}; 401 → /login?next=
//	POST /api/v1/logout
//	GET  /api/v1/office *                         {office: {id, name, timezone}, pause_reasons: [{id, name}],
//	                                              priorities: [{id, name, level}], no_show_after, windows}
//	GET  /api/v1/services                         {groups: [{id, name, prefix}], services: [{id, group, name}]}
//	GET  /api/v1/queues                           [{group, waiting, wait_min, windows_open *}]
//	GET  /api/v1/windows                          [window state]: window, state, since, operator,
//	                                              operator_name, reason, waiting, ticket {number,
//	                                              service, state, called_at, came_at, recalls, priority}
//	GET  /api/v1/windows/{n}                      one window state
//	GET  /api/v1/windows/{n}/queue?limit=50       {window *, waiting *, tickets: [{number, service,
//	                                              waiting_s, priority, window, booked *}]}
//	POST /api/v1/windows/{n}/sign-in              409 window_taken: holder from operator_name (or GET /windows)
//	POST /api/v1/windows/{n}/sign-out             the operator's own, or a supervisor's
//	POST /api/v1/windows/{n}/next                 {"current": "<the ticket shown>" or "" for nobody}
//	POST /api/v1/windows/{n}/recall, came, finish, no-show, resume
//	POST /api/v1/windows/{n}/transfer             {"service": id} and/or {"window": n}
//	POST /api/v1/windows/{n}/pause                {"reason": id}
//	POST /api/v1/tickets/{date}/{number}/priority {"priority": id or ""}; date = the ticket's issue
//	                                              day in the office's time zone
//	GET  /api/v1/stream                           SSE "change" {windows *omitted when none, queues}
//	GET  /api/v1/public/status                    {office {name, timezone}, at, open_windows, groups:
//	                                              [{group, name, prefix, waiting, wait_min, windows_open}]}
//	GET  /api/v1/public/stream                    SSE "status", the same JSON
//
// Every error answer {code, error} is shown as operator.error.<code> from
// the catalogue, else as the server's message.

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cherga/kiosk/configs"
	"github.com/cherga/kiosk/display/webtest"
	"github.com/cherga/kiosk/queue/access"
)

// webRig is the demo office served for the pages, with an operator and a
// supervisor account and an admin token for the test's own requests.
type webRig struct {
	t     *testing.T
	url   string
	token string
	q     *Queue
	s     *Server
	ts    *httptest.Server

	operator, operatorPassword, operatorName string
	supervisor, supervisorPassword           string
}

// startWebRig serves the demo office, its windows numbered 1 to windows
// (the office's own list when windows is 0).
func startWebRig(t *testing.T, windows int) *webRig {
	t.Helper()
	cfg, err := configs.LoadOffice("../configs/office.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Priorities = []configs.Priority{
		{ID: "disability", Name: configs.Text{UK: "Особа з інвалідністю", EN: "Person with a disability"}, Level: 3},
		{ID: "veteran", Name: configs.Text{UK: "Ветеран війни", EN: "War veteran"}, Level: 2},
	}
	for n := len(cfg.Windows) + 1; n <= windows; n++ {
		cfg.Windows = append(cfg.Windows, configs.OfficeWindow{Number: n})
	}
	q, err := Open(filepath.Join(t.TempDir(), "queued.db"), cfg, Options{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "access.json")
	// Cheap hashes: the tests sign in often, and the machine is shared.
	store, err := access.OpenStore(file, access.StoreOptions{HashParams: access.HashParams{Memory: 64, Time: 1, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	r := &webRig{t: t, q: q,
		operator: "olena", operatorPassword: "olena's long password", operatorName: "Олена Коваль",
		supervisor: "iryna", supervisorPassword: "iryna's long password"}
	if err := store.AddUser(access.User{Name: r.operator, DisplayName: r.operatorName, Role: access.RoleOperator}, r.operatorPassword); err != nil {
		t.Fatal(err)
	}
	if err := store.AddUser(access.User{Name: r.supervisor, DisplayName: "Ірина Бондар", Role: access.RoleSupervisor}, r.supervisorPassword); err != nil {
		t.Fatal(err)
	}
	if r.token, err = store.AddToken("web-tests", []string{access.ScopeAdmin}); err != nil {
		t.Fatal(err)
	}
	s, err := NewServer(q, ServerOptions{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), AccessFile: file})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(func() { s.Close(); ts.CloseClientConnections(); ts.Close(); q.Close() })
	r.url, r.ts, r.s = ts.URL, ts, s
	return r
}

// operatorClient is an HTTP client signed in as the operator (a session,
// as the desk page has).
func (r *webRig) operatorClient() *http.Client {
	r.t.Helper()
	return r.clientAs(r.operator, r.operatorPassword)
}

// clientAs is an HTTP client signed in as an account.
func (r *webRig) clientAs(name, password string) *http.Client {
	r.t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	body := fmt.Sprintf(`{"name":%q,"password":%q}`, name, password)
	resp, err := c.Post(r.url+"/api/v1/login", "application/json", strings.NewReader(body))
	if err != nil {
		r.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		r.t.Fatalf("sign in as %s: %s", name, resp.Status)
	}
	return c
}

// callAs sends one request with c's session.
func (r *webRig) callAs(c *http.Client, method, path, body string) (int, []byte) {
	r.t.Helper()
	req, err := http.NewRequest(method, r.url+path, strings.NewReader(body))
	if err != nil {
		r.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.Do(req)
	if err != nil {
		r.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// call sends one API request with the admin token.
func (r *webRig) call(method, path, body string) (int, []byte) {
	r.t.Helper()
	req, err := http.NewRequest(method, r.url+path, strings.NewReader(body))
	if err != nil {
		r.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+r.token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// webPage is one of the pages open in a real headless Chromium.
type webPage struct {
	*webtest.Browser
	t *testing.T
	r *webRig
}

func (r *webRig) browser(width, height int) *webPage {
	r.t.Helper()
	return &webPage{Browser: webtest.Start(r.t, width, height), t: r.t, r: r}
}

// issue takes a ticket for service as a kiosk would, through the API.
func (r *webRig) issue(service string) string {
	r.t.Helper()
	status, b := r.call("POST", "/api/v1/tickets", fmt.Sprintf(`{"service":%q}`, service))
	var tk struct {
		Number string `json:"number"`
	}
	if err := json.Unmarshal(b, &tk); status != http.StatusCreated || err != nil || tk.Number == "" {
		r.t.Fatalf("issue %s: %d %s", service, status, b)
	}
	return tk.Number
}

// windowQueue is the numbers window n would call, in order.
func (r *webRig) windowQueue(n int) []string {
	r.t.Helper()
	status, b := r.call("GET", fmt.Sprintf("/api/v1/windows/%d/queue", n), "")
	var list struct {
		Tickets []struct {
			Number string `json:"number"`
		} `json:"tickets"`
	}
	if err := json.Unmarshal(b, &list); status != http.StatusOK || err != nil {
		r.t.Fatalf("queue of window %d: %d %s", n, status, b)
	}
	out := []string{}
	for _, e := range list.Tickets {
		out = append(out, e.Number)
	}
	return out
}

func (p *webPage) open(path string) {
	p.t.Helper()
	if err := p.Open(p.r.url + path); err != nil {
		p.t.Fatalf("open %s: %v", path, err)
	}
}

// wait waits until the page's expression is true; on a timeout the
// failure shows the page's own account of its state.
func (p *webPage) wait(what, expr string) {
	p.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		err := p.WaitTrue(expr, time.Until(deadline))
		if err == nil {
			return
		}
		// A page that navigates (the login redirect) ends the poll's
		// context: wait again in the new document.
		if time.Now().Before(deadline) && (strings.Contains(err.Error(), "navigated") || strings.Contains(err.Error(), "context")) {
			continue
		}
		state, _ := webtest.Eval[any](p.Browser, `(window.desk && desk.state()) || (window.overview && overview.state()) || (window.statusPage && statusPage.state()) || location.href`)
		p.t.Fatalf("%s: %v\npage: %v", what, err, state)
	}
}

func (p *webPage) eval(expr string) any {
	p.t.Helper()
	v, err := webtest.Eval[any](p.Browser, expr)
	if err != nil {
		p.t.Fatalf("%s: %v", expr, err)
	}
	return v
}

func (p *webPage) text(selector string) string {
	p.t.Helper()
	s, err := webtest.Eval[string](p.Browser, fmt.Sprintf(`document.querySelector(%q).textContent.trim()`, selector))
	if err != nil {
		p.t.Fatalf("text of %s: %v", selector, err)
	}
	return s
}

// click presses a button as a mouse would (the page cannot tell).
func (p *webPage) click(selector string) {
	p.t.Helper()
	ok, err := webtest.Eval[bool](p.Browser, fmt.Sprintf(`(() => { const b = document.querySelector(%q); if (!b || b.disabled || b.offsetParent === null) return false; b.click(); return true; })()`, selector))
	if err != nil || !ok {
		p.t.Fatalf("click %s: not there or disabled (%v); page %v", selector, err, p.eval(`window.desk ? desk.state() : location.href`))
	}
}

// key presses a key where the focus is: code is the key's place, key what
// the Ukrainian layout types there, as an operator's keyboard sends them.
func (p *webPage) key(code, key string) {
	p.t.Helper()
	p.eval(fmt.Sprintf(`(document.activeElement || document.body).dispatchEvent(new KeyboardEvent("keydown", {code: %q, key: %q, bubbles: true, cancelable: true}))`, code, key))
}

// signIn signs the browser in as an account, through the login API from
// the server's own origin, as the login page does.
func (p *webPage) signIn(name, password string) {
	p.t.Helper()
	p.eval(fmt.Sprintf(`window.__login = 0; fetch("/api/v1/login", {method: "POST", headers: {"Content-Type": "application/json"},
		body: JSON.stringify({name: %q, password: %q})}).then((r) => { window.__login = r.status; }, () => { window.__login = -1; }); 1`, name, password))
	p.wait("signed in as "+name, `window.__login !== 0`)
	if s := p.eval(`window.__login`); s != float64(200) {
		p.t.Fatalf("sign in as %s: %v", name, s)
	}
}

// check audits the page as it is now for accessibility, checks that it
// fits width×height without scrolling sideways and that every target is at
// least 44×44 px, and saves a screenshot.
func (p *webPage) check(name string, width, height int) {
	p.t.Helper()
	if err := p.Resize(width, height); err != nil {
		p.t.Fatal(err)
	}
	p.wait("layout at the new size", fmt.Sprintf(`innerWidth === %d && innerHeight === %d`, width, height))
	if vs := p.Audit(p.t, name); len(vs) > 0 {
		p.t.Errorf("%s: accessibility:\n%s", name, webtest.FormatViolations(vs))
	}
	problems, err := webtest.Eval[[]string](p.Browser, `(() => {
		const out = [];
		const doc = document.documentElement;
		if (doc.scrollWidth > innerWidth + 1) out.push("the page scrolls sideways: " + doc.scrollWidth + " > " + innerWidth);
		const shown = (e) => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== "hidden";
		for (const e of document.querySelectorAll("body *")) {
			if (!shown(e) || e.closest("dialog:not([open])")) continue;
			const r = e.getBoundingClientRect();
			if (r.right > innerWidth + 1 && !e.closest(".sr-only")) out.push("past the right edge: " + e.tagName + "." + e.className + " " + Math.round(r.right));
			const cs = getComputedStyle(e);
			if ((cs.overflowX === "auto" || cs.overflowX === "scroll") && e.scrollWidth > e.clientWidth + 1) out.push("scrolls sideways: " + e.tagName + "." + e.className + " in " + e.parentElement.className + " " + e.scrollWidth + " > " + e.clientWidth);
		}
		for (const e of document.querySelectorAll("button, a[href], select, input:not([type=radio]), label.radio")) {
			if (!shown(e) || e.closest("dialog:not([open])")) continue;
			const r = e.getBoundingClientRect();
			if (r.width < 44 || r.height < 44) out.push("small target " + e.tagName + " " + (e.textContent || e.id).trim() + " " + Math.round(r.width) + "×" + Math.round(r.height));
		}
		if (document.querySelectorAll("h1").length !== 1) out.push("h1 count " + document.querySelectorAll("h1").length);
		if (document.querySelector("[style]")) out.push("an inline style: " + document.querySelector("[style]").outerHTML.slice(0, 80));
		if (window.cspViolations && window.cspViolations.length) out.push("CSP violations: " + window.cspViolations.join(", "));
		return out;
	})()`)
	if err != nil {
		p.t.Fatal(err)
	}
	for _, s := range problems {
		p.t.Errorf("%s at %d×%d: %s", name, width, height, s)
	}
	p.Screenshot(p.t, name)
}

// The operator's desk in a real Chromium against the real server: the
// login redirect, signing in to window 3, next, recall, came, finish,
// pause and resume, transfer, a double click on Next, the keyboard, and an
// audit of every screen at three screen sizes.
func TestOperatorPageInChromium(t *testing.T) {
	r := startWebRig(t, 0)
	p := r.browser(1366, 768)

	// Not signed in: to the login page, coming back here afterwards.
	p.open("/operator/")
	p.wait("the login redirect", `location.pathname === "/login" && new URLSearchParams(location.search).get("next") === "/operator/"`)

	p.signIn(r.operator, r.operatorPassword)
	p.open("/operator/")
	p.wait("the window chooser", `window.desk && desk.state().screen === "choose" && document.querySelector('#windows [data-window="3"]') !== null`)
	if got := p.text("h1"); got != "Робоче місце адміністратора" {
		t.Errorf("h1 %q", got)
	}
	p.check("operator-choose", 1366, 768)

	// A window someone else holds: the chooser says who, and so does the
	// refusal.
	sup := r.clientAs(r.supervisor, r.supervisorPassword)
	if status, b := r.callAs(sup, "POST", "/api/v1/windows/4/sign-in", ""); status != http.StatusOK {
		t.Fatalf("the supervisor's sign-in to window 4: %d %s", status, b)
	}
	p.wait("window 4 taken", `document.querySelector('#windows [data-window="4"]').textContent.includes("Ірина Бондар")`)
	p.click(`#windows [data-window="4"]`)
	p.wait("the refusal", `desk.state().lastAction === "sign-in window_taken" && !desk.state().busy`)
	if got := p.text("#choose-error"); got != "Вікно 4 уже зайняте: Ірина Бондар." {
		t.Errorf("the refusal says %q", got)
	}

	p.click(`#windows [data-window="3"]`)
	p.wait("the desk of window 3", `desk.state().screen === "desk" && desk.state().window === 3 && !desk.state().busy`)
	if got := p.text("#where"); !strings.Contains(got, "3") || !strings.Contains(got, r.operatorName) {
		t.Errorf("the bar says %q", got)
	}
	p.wait("the empty queue", `desk.state().queue.length === 0 && !document.querySelector("#queue-empty").hidden`)

	// The stream breaks: the page says so, polls, and is live again when
	// the stream is back.
	p.wait("the stream", `desk.state().streamUp`)
	r.ts.CloseClientConnections()
	p.wait("the reconnecting note", `!desk.state().streamUp && !document.querySelector("#conn-text").hidden`)
	p.wait("the stream back", `desk.state().streamUp && document.querySelector("#conn-text").hidden`)

	// Next: the ticket issued first is called and shown, big.
	first := r.issue("pension-age")
	p.wait("the queue shows "+first, fmt.Sprintf(`desk.state().queue.includes(%q)`, first))
	p.click("#next")
	p.wait("the call of "+first, fmt.Sprintf(`desk.state().ticket === %q && desk.state().ticketState === "called" && !desk.state().busy`, first))
	if got := p.text("#number"); got != first {
		t.Fatalf("the desk shows %q, want %s", got, first)
	}
	if got := p.text("#service"); got != "Призначення пенсії за віком" {
		t.Errorf("service %q", got)
	}
	if live := p.eval(`document.querySelector("#number").closest("[aria-live]") !== null`); live != true {
		t.Error("the current ticket is not in a live region")
	}
	// The timer runs on the page's clock.
	p.eval(`desk.advance(65000)`)
	if got := p.text("#timer"); !regexp.MustCompile(`^1:0\d$`).MatchString(got) {
		t.Errorf("timer after 65 s: %q", got)
	}
	p.check("operator-called", 1366, 768)

	// Recall counts; came starts service; finish leaves nobody.
	p.click("#recall")
	p.wait("recall", `desk.state().lastAction === "recall ok" && document.querySelector("#recalls").textContent === "1" && !desk.state().busy`)
	p.click("#came")
	p.wait("came", `desk.state().ticketState === "serving" && !desk.state().busy`)
	p.check("operator-serving", 1920, 1080)
	p.click("#finish")
	p.wait("finish", `desk.state().ticket === "" && desk.state().lastAction === "finish ok" && !desk.state().busy`)

	// Pause with a reason, then resume.
	if err := p.Resize(1366, 768); err != nil {
		t.Fatal(err)
	}
	p.click("#pause")
	p.wait("the pause dialog", `document.querySelector("#pause-dialog").open && document.querySelectorAll("#pause-reasons input").length > 0`)
	p.check("operator-pause-dialog", 1366, 768)
	p.eval(`document.querySelector('#pause-reasons input[value="meeting"]').click()`)
	p.click("#pause-go")
	p.wait("paused", `desk.state().windowState === "paused" && !document.querySelector("#resume").hidden && document.querySelector("#next").disabled && !desk.state().busy`)
	if got := p.text("#paused"); !strings.Contains(got, "Нарада") {
		t.Errorf("the pause says %q", got)
	}
	p.check("operator-paused", 1280, 720)
	p.click("#resume")
	p.wait("resumed", `desk.state().windowState === "open" && !document.querySelector("#pause").hidden && !desk.state().busy`)

	// Transfer to another service: the visitor waits again for it.
	second := r.issue("pension-recalc")
	p.wait("the queue shows "+second, fmt.Sprintf(`desk.state().queue.includes(%q)`, second))
	p.click("#next")
	p.wait("the call of "+second, fmt.Sprintf(`desk.state().ticket === %q && !desk.state().busy`, second))
	p.click("#transfer")
	p.wait("the transfer dialog", `document.querySelector("#transfer-dialog").open && document.querySelectorAll("#transfer-services input").length > 1`)
	p.eval(`(() => { const f = document.querySelector("#transfer-filter"); f.value = "соціальних виплат"; f.dispatchEvent(new Event("input")); })()`)
	p.wait("the filter", `[...document.querySelectorAll("#transfer-services label[data-service]")].filter((l) => !l.hidden).map((l) => l.dataset.service).join() === "certificate-income"`)
	p.check("operator-transfer-dialog", 1366, 768)
	p.eval(`document.querySelector('#transfer-services input[value="certificate-income"]').click()`)
	p.eval(`(() => { const s = document.querySelector("#transfer-window"); s.value = "5"; s.dispatchEvent(new Event("change")); })()`)
	p.click("#transfer-go")
	p.wait("transferred", `desk.state().ticket === "" && desk.state().lastAction === "transfer ok" && !desk.state().busy`)
	if q := r.windowQueue(5); len(q) != 1 || q[0] != second {
		t.Errorf("after the transfer to window 5 its queue is %v, want [%s]", q, second)
	}
	if q := r.windowQueue(3); len(q) != 0 {
		t.Errorf("after the transfer to window 5 window 3's queue is %v", q)
	}
	var lengths []struct {
		Group   string `json:"group"`
		Waiting int    `json:"waiting"`
	}
	status, b := r.call("GET", "/api/v1/queues", "")
	if err := json.Unmarshal(b, &lengths); status != http.StatusOK || err != nil {
		t.Fatalf("queues: %d %s", status, b)
	}
	for _, l := range lengths {
		if l.Group == "certificates" && l.Waiting != 1 {
			t.Errorf("after the transfer %d wait for certificates, want 1", l.Waiting)
		}
	}

	// A double click on Next calls one visitor: the second stays waiting.
	a, c := r.issue("pension-age"), r.issue("pension-age")
	p.wait("two waiting", fmt.Sprintf(`desk.state().queue.includes(%q) && desk.state().queue.includes(%q)`, a, c))
	p.eval(`(() => { const b = document.querySelector("#next"); b.click(); b.click(); b.dispatchEvent(new MouseEvent("dblclick", {bubbles: true})); })()`)
	p.wait("the call of "+a, fmt.Sprintf(`desk.state().ticket === %q && !desk.state().busy`, a))
	if q := r.windowQueue(3); len(q) != 1 || q[0] != c {
		t.Fatalf("after a double click window 3's queue is %v, want [%s]", q, c)
	}
	// Two "next" from pages that both still show a (a double click from a
	// second tab, or one the page let through) call one visitor: queued
	// answers the later one with the window's ticket, "repeated".
	e := r.issue("pension-age")
	p.wait("the desk shows "+a+" with "+c+" and "+e+" waiting", fmt.Sprintf(`desk.state().ticket === %q && desk.state().queue.join() === %q`, a, c+","+e))
	p.eval(fmt.Sprintf(`window.__next = null; (() => {
		const next = () => fetch("/api/v1/windows/3/next", {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify({current: %q})}).then((r) => r.json());
		Promise.all([next(), next()]).then((b) => { window.__next = b; });
	})(); 1`, a))
	p.wait("both answers", `window.__next !== null`)
	if rep := p.eval(`window.__next.map((b) => b.number + (b.repeated ? " repeated" : "")).sort().join()`); rep != c+","+c+" repeated" {
		t.Errorf("two nexts naming %s answered %v, want %s called once", a, rep, c)
	}
	if q := r.windowQueue(3); len(q) != 1 || q[0] != e {
		t.Fatalf("after two nexts window 3's queue is %v, want [%s]", q, e)
	}
	p.wait("the desk shows "+c, fmt.Sprintf(`desk.state().ticket === %q && desk.state().queue.join() === %q`, c, e))

	// A priority for a waiting ticket, from its row (queued gives one only
	// to a ticket that waits).
	p.click(fmt.Sprintf(`#queue tr[data-number=%q] .prio-cell button`, e))
	p.wait("the priority dialog", `document.querySelector("#priority-dialog").open && document.querySelectorAll("#priority-levels input").length === 3`)
	p.eval(`document.querySelector('#priority-levels input[value="disability"]').click()`)
	p.check("operator-priority-dialog", 1366, 768)
	p.click("#priority-go")
	p.wait("the priority mark", fmt.Sprintf(`!document.querySelector("#priority-dialog").open && (document.querySelector('#queue tr[data-number=%q] .mark.prio') || {}).textContent === "★ Особа з інвалідністю"`, e))
	p.check("operator-queue", 1366, 768)

	// The keyboard, in the Ukrainian layout (the keys' places, not their
	// letters): R, C, F, N; nothing while typing in a text field.
	// Focus that the keyboard moves shows: a 3 px outline in a 7 px ring.
	// (The browser decides when :focus-visible applies; without real key
	// presses the test can only read the rule.)
	if fv := p.eval(`[...document.styleSheets].flatMap((s) => [...s.cssRules]).some((r) => r.selectorText === ":focus-visible" && r.style.outlineStyle === "solid" && parseFloat(r.style.outlineWidth) >= 3 && r.style.boxShadow !== "")`); fv != true {
		t.Error("no visible focus style")
	}
	p.eval(`document.querySelector("#next").focus()`)
	p.key("KeyR", "к")
	p.wait("R recalls", `desk.state().lastAction === "recall ok" && !desk.state().busy`)
	p.key("KeyC", "с")
	p.wait("C: came", `desk.state().ticketState === "serving" && !desk.state().busy`)
	p.key("KeyF", "а")
	p.wait("F finishes", `desk.state().ticket === "" && !desk.state().busy`)
	p.key("KeyN", "т")
	p.wait("N calls "+e, fmt.Sprintf(`desk.state().ticket === %q && !desk.state().busy`, e))
	p.key("KeyT", "е")
	p.wait("T opens the transfer", `document.querySelector("#transfer-dialog").open`)
	p.key("KeyN", "т") // typed into the filter: no call
	p.eval(`document.querySelector("#transfer-dialog").close()`)
	if got := p.eval(`desk.state().ticket`); got != e {
		t.Errorf("a key typed in the dialog acted: the desk shows %v", got)
	}
	p.key("KeyP", "з")
	p.wait("P opens the pause", `document.querySelector("#pause-dialog").open`)
	p.eval(`document.querySelector("#pause-dialog").close()`)

	// An error answer in plain words: the queue is empty now.
	p.key("KeyN", "т")
	p.wait("the empty queue's error", `desk.state().lastAction === "next queue_empty" && !desk.state().busy`)
	if got := p.text("#error"); got != "Черга до цього вікна порожня." {
		t.Errorf("error %q", got)
	}
	if role := p.eval(`document.querySelector("#error").getAttribute("role")`); role != "alert" {
		t.Errorf("the error is not announced: role %v", role)
	}

	// English, and the desk at every size.
	p.click("#lang")
	p.wait("English", `document.documentElement.lang === "en" && document.querySelector("h1").textContent === "Administrator's desk" &&
		document.querySelector("#error").textContent === "Nobody is waiting for this window."`)
	p.check("operator-desk-en-1920", 1920, 1080)
	p.click("#lang")
	p.wait("Ukrainian", `document.documentElement.lang === "uk"`)
	p.check("operator-desk-1366", 1366, 768)
	p.check("operator-desk-1280", 1280, 720)

	// Opened again (a reload, another tab), the page goes straight to the
	// window the account is signed in to.
	p.open("/operator/")
	p.wait("the desk again", `window.desk && desk.state().screen === "desk" && desk.state().window === 3 && !desk.state().busy`)

	// Leaving the window goes back to the chooser.
	p.click("#signout")
	p.wait("signed out", `desk.state().screen === "choose" && !desk.state().busy`)
}

// The supervisor's overview shows window 3 open with its operator, live,
// and can sign the operator out.
func TestSupervisorPageInChromium(t *testing.T) {
	r := startWebRig(t, 320)
	op := r.operatorClient()
	if status, b := r.callAs(op, "POST", "/api/v1/windows/3/sign-in", ""); status != http.StatusOK {
		t.Fatalf("sign in to window 3: %d %s", status, b)
	}
	p := r.browser(1920, 1080)
	p.open("/operator/supervisor.html")
	p.wait("the login redirect", `location.pathname === "/login" && new URLSearchParams(location.search).get("next") === "/operator/supervisor.html"`)
	p.signIn(r.supervisor, r.supervisorPassword)
	p.open("/operator/supervisor.html")
	p.wait("window 3 open with its operator", fmt.Sprintf(`window.overview && document.querySelector('#windows tr[data-window="3"] .badge.open') !== null &&
		document.querySelector('#windows tr[data-window="3"] .op').textContent === %q`, r.operatorName))
	// All 320 windows, sorted by number, and the way to the other pages.
	if sorted := p.eval(`(() => { const n = [...document.querySelectorAll("#windows tr")].map((tr) => Number(tr.dataset.window)); return n.length === 320 && n.every((x, i) => x === i + 1); })()`); sorted != true {
		t.Error("the table does not hold windows 1 to 320 in number order")
	}
	if links := p.eval(`[...document.querySelectorAll("header a")].map((a) => a.getAttribute("href")).join()`); links != "/operator/devices.html,/reports/,/status" {
		t.Errorf("links %v", links)
	}

	// Live: a call at window 3 shows there.
	tk := r.issue("subsidy-housing")
	if status, b := r.callAs(op, "POST", "/api/v1/windows/3/next", ""); status != http.StatusOK {
		t.Fatalf("next: %d %s", status, b)
	}
	p.wait("the call at window 3", fmt.Sprintf(`document.querySelector('#windows tr[data-window="3"] .tk').textContent.includes(%q)`, tk))
	p.wait("the queues", `document.querySelectorAll("#queues tr").length > 0`)
	p.check("supervisor-1920", 1920, 1080)
	p.check("supervisor-1366", 1366, 768)

	// Sign the operator out of window 3.
	p.click(`#windows tr[data-window="3"] .action button`)
	p.wait("the confirmation", `document.querySelector("#signout-dialog").open`)
	p.check("supervisor-sign-out", 1366, 768)
	p.click("#signout-go")
	p.wait("window 3 closed", `document.querySelector('#windows tr[data-window="3"] .badge.closed') !== null && !document.querySelector("#signout-dialog").open`)
}

// The public status page: the groups without signing in, updated live
// when a ticket is issued; readable on a phone and a TV.
func TestStatusPageInChromium(t *testing.T) {
	r := startWebRig(t, 0)
	op := r.operatorClient()
	if status, b := r.callAs(op, "POST", "/api/v1/windows/9/sign-in", ""); status != http.StatusOK {
		t.Fatalf("sign in to window 9: %d %s", status, b)
	}
	p := r.browser(360, 740)
	p.open("/status")
	p.wait("the groups", `window.statusPage && document.querySelectorAll("#groups li").length > 0 && statusPage.state().up`)
	if got := p.text(`#groups li[data-group="pensions"] h2`); !strings.Contains(got, "Пенсійне забезпечення") {
		t.Errorf("the pensions group shows %q", got)
	}
	before := p.eval(`statusPage.state().updates`)
	r.issue("pension-age")
	p.wait("the new ticket counted", `document.querySelector('#groups li[data-group="pensions"] dd').textContent === "1"`)
	if after := p.eval(`statusPage.state().updates`); after == before {
		t.Error("the page did not update")
	}
	if got := p.text("#at"); !regexp.MustCompile(`\d\d:\d\d`).MatchString(got) {
		t.Errorf("the time of the data: %q", got)
	}
	p.check("status-phone", 360, 740)
	p.check("status-1366", 1366, 768)
	p.check("status-tv", 1920, 1080)
	p.click("#lang")
	p.wait("English", `document.documentElement.lang === "en" && document.querySelector('#groups li[data-group="pensions"] h2').textContent.includes("Pensions")`)
	p.check("status-phone-en", 360, 740)
}
