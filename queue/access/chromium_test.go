package access

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/cherga/kiosk/display/webtest"
	"github.com/cherga/kiosk/i18n"
)

// cspWatch runs before the page's own scripts and collects what the
// Content-Security-Policy blocked.
const cspWatch = `window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => window.__csp.push(e.violatedDirective + " " + e.blockedURI));`

// The sign-in page in a real Chromium, used with the keyboard only,
// under the CSP Protect sets.
func TestLoginPageInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	o := newOffice(t, nil)
	o.addUser("olena", RoleOperator)
	mux := http.NewServeMux()
	o.guard.Routes(mux)
	i18n.Register(mux)
	landing := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte("<!doctype html><title>landed</title>"))
	}
	mux.HandleFunc("GET /operator/", landing)
	mux.HandleFunc("GET /reports/", landing)
	srv := httptest.NewServer(o.guard.Protect(mux))
	defer srv.Close()

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(webtest.Find(t)), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1024, 768),
		chromedp.Flag("disable-component-update", true))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, time.Minute)
	defer cancelTimeout()
	err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: cspWatch})
		return err
	}))
	if err != nil {
		t.Fatal(err)
	}
	wait := func(what, expr string) {
		t.Helper()
		var err error
		// A poll running while the page navigates away fails (-32000:
		// target navigated, context gone); poll again
		// on the new page.
		for range 5 {
			_, err = chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(20*time.Second)))
			if err == nil || !strings.Contains(err.Error(), "(-32000)") {
				break
			}
		}
		if err != nil {
			state, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + " | " + document.activeElement.id + " | " + (document.getElementById("error") || {}).textContent`))
			t.Fatalf("%s: %v (%s)", what, err, state)
		}
	}
	keys := func(s string, opts ...chromedp.KeyOption) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.KeyEvent(s, opts...)); err != nil {
			t.Fatal(err)
		}
	}
	ready := `document.getElementById("submit").textContent !== "" && document.activeElement.id === "name"`

	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/login?next=%2Freports%2F%3Fday%3D2026-11-23")); err != nil {
		t.Fatal(err)
	}
	wait("page ready in Ukrainian", ready+` && document.documentElement.lang === "uk" && document.getElementById("submit").textContent === "Увійти"`)
	audit(t, ctx)

	// Name, Tab, a wrong password, Enter: the error is announced and the
	// password field is ready for another try.
	keys("olena")
	keys("\t")
	keys("not the password")
	keys("\r")
	wait("wrong password shown", `document.getElementById("error").textContent === "Неправильне ім'я користувача або пароль." && document.activeElement.id === "password"`)

	// Shift+Tab twice reaches the language switch; Enter switches and the
	// error is said again in English.
	keys("\t", chromedp.KeyModifiers(chromedp.ModifierShift))
	keys("\t", chromedp.KeyModifiers(chromedp.ModifierShift))
	wait("on the switch", `document.activeElement.id === "lang"`)
	keys("\r")
	wait("English", `document.documentElement.lang === "en" && document.getElementById("submit").textContent === "Sign in" && document.getElementById("error").textContent === "Wrong user name or password."`)

	keys("\t")
	keys("\t")
	wait("back on the password", `document.activeElement.id === "password"`)
	keys(testPassword)
	keys("\r")
	wait("went to next", `location.pathname === "/reports/" && new URLSearchParams(location.search).get("day") === "2026-11-23" && new URLSearchParams(location.search).get("lang") === "en"`)

	// A next= to another site is not followed.
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/login?next=%2F%2Fevil.example%2F")); err != nil {
		t.Fatal(err)
	}
	wait("page ready", ready)
	keys("olena\t" + testPassword + "\r")
	wait("went to the desk", `location.pathname === "/operator/"`)

	violations, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`window.__csp`))
	if err != nil || len(violations) > 0 {
		t.Errorf("the CSP blocked: %v %v", violations, err)
	}
}

// audit runs axe-core on the page, with WCAG AAA's 7:1 contrast.
func audit(t *testing.T, ctx context.Context) {
	t.Helper()
	root, err := webtest.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(filepath.Join(root, ".tools", "axe-core", "axe.min.js"))
	if err != nil {
		t.Fatalf("axe-core missing: run make test (scripts/test-deps.sh fetches it): %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](string(src))); err != nil {
		t.Fatal(err)
	}
	found, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`axe.run(document, {
		runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]},
		rules: {"color-contrast-enhanced": {enabled: true}},
	}).then((r) => r.violations.map((v) => v.id + ": " + v.help + " " + v.nodes.map((n) => n.target).join(", ")))`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range found {
		t.Errorf("accessibility: %s", v)
	}
}
