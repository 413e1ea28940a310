// Package webtest opens our pages in a real headless Chromium (Debian's
// chromium, which make test installs), driven from Go with chromedp, for
// tests and benchmarks of what a visitor sees.
package webtest

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// Browser is one tab of a headless Chromium with a fresh profile.
type Browser struct {
	ctx context.Context
}

// Find returns the Chromium binary, or fails the test saying how to
// install it.
func Find(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("no Chromium found: make test installs it (apt-get install chromium)")
	return ""
}

// Start launches Chromium with a width×height window; it is closed when
// the test ends.
func Start(t testing.TB, width, height int) *Browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(Find(t)),
		chromedp.NoSandbox, // CI may run as root, where the sandbox refuses to start
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, height),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("lang", "uk-UA"),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	if _, err := chromedp.Run(ctx, chromedp.Steps()); err != nil { // starts the browser
		cancel()
		cancelAlloc()
		t.Fatalf("start chromium: %v", err)
	}
	t.Cleanup(func() { cancel(); cancelAlloc() })
	return &Browser{ctx: ctx}
}

// Resize sets the page's viewport, as a TV of that resolution shows it.
func (b *Browser) Resize(width, height int) error {
	return chromedp.Do(b.ctx, chromedp.EmulateViewport(int64(width), int64(height)))
}

// TimeZone makes the page's own clock run in zone (an IANA name), as a TV
// set to another zone would.
func (b *Browser) TimeZone(zone string) error {
	return chromedp.Do(b.ctx, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: zone})
		return err
	}))
}

// Open loads a page and waits until its document has loaded.
func (b *Browser) Open(url string) error {
	return chromedp.Do(b.ctx, chromedp.Navigate(url))
}

// Eval evaluates a JavaScript expression; the result is decoded into T.
func Eval[T any](b *Browser, expr string) (T, error) {
	return chromedp.Run(b.ctx, chromedp.Evaluate[T](expr))
}

// WaitTrue waits until the JavaScript expression is true, checked by the
// page itself on every animation frame, for at most timeout. The error
// says what was awaited.
func (b *Browser) WaitTrue(expr string, timeout time.Duration) error {
	_, err := chromedp.Run(b.ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(timeout)))
	if err != nil {
		return fmt.Errorf("waiting for %s: %w", expr, err)
	}
	return nil
}

// ModuleRoot is the directory holding go.mod, found by walking up from the
// working directory (a test runs in its own package's directory).
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = up
	}
}

// Violation is one accessibility rule the page breaks, as axe-core
// reports it, with the elements that break it.
type Violation struct {
	ID      string          `json:"id"`
	Impact  string          `json:"impact"` // minor, moderate, serious, critical
	Help    string          `json:"help"`
	HelpURL string          `json:"helpUrl"`
	Nodes   []ViolationNode `json:"nodes"`
}

// ViolationNode is one element that breaks a rule.
type ViolationNode struct {
	Target         string `json:"target"` // CSS selector of the element
	HTML           string `json:"html"`
	FailureSummary string `json:"failureSummary"` // what to fix
}

func (v Violation) String() string {
	var s strings.Builder
	fmt.Fprintf(&s, "%s (%s): %s\n    %s\n", v.ID, v.Impact, v.Help, v.HelpURL)
	for _, n := range v.Nodes {
		fmt.Fprintf(&s, "  - %s\n      %s\n", n.Target, n.HTML)
		for _, line := range strings.Split(strings.TrimSpace(n.FailureSummary), "\n") {
			fmt.Fprintf(&s, "      %s\n", strings.TrimSpace(line))
		}
	}
	return s.String()
}

// FormatViolations lists violations one after the other, for a test's
// failure message.
func FormatViolations(vs []Violation) string {
	var s strings.Builder
	for _, v := range vs {
		s.WriteString(v.String())
	}
	return s.String()
}

// axeRun audits the whole document against WCAG 2.0, 2.1 and 2.2 levels A
// and AA and axe's best practices, and also the AAA enhanced contrast
// (7:1 for text, 4.5:1 for large text), which our pages promise: they are
// read from across a hall. Nested selectors (frames, shadow roots) are
// joined with " >>> ".
const axeRun = `axe.run(document, {
	runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]},
	rules: {"color-contrast-enhanced": {enabled: true}},
}).then((r) => ({
	passes: r.passes.length,
	incomplete: r.incomplete.flatMap((x) => {
		const why = new Map(); // axe's reason → the elements it gave it for
		for (const n of x.nodes) {
			const msg = [...n.any, ...n.all, ...n.none].map((c) => c.message).find(Boolean) || "";
			why.set(msg, [...(why.get(msg) || []), [].concat(n.target).join(" >>> ")]);
		}
		return [...why].map(([msg, targets]) => x.id + ": " + msg + " (" + targets.join(", ") + ")");
	}),
	violations: r.violations.map((v) => ({
		id: v.id, impact: v.impact || "", help: v.help, helpUrl: v.helpUrl,
		nodes: v.nodes.map((n) => ({target: [].concat(n.target).join(" >>> "), html: n.html, failureSummary: n.failureSummary || ""})),
	})),
}))`

// Audit runs axe-core (which scripts/test-deps.sh puts in .tools/axe-core)
// on the page as it is now and returns the rules it breaks. Checks axe
// could not decide (say, a contrast over an image) are logged, not
// returned. name says which page in the log.
func (b *Browser) Audit(t testing.TB, name string) []Violation {
	t.Helper()
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(filepath.Join(root, ".tools", "axe-core", "axe.min.js"))
	if err != nil {
		t.Fatalf("axe-core missing: run make test (scripts/test-deps.sh fetches it): %v", err)
	}
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[chromedp.Void](string(src))); err != nil {
		t.Fatalf("audit %s: load axe-core: %v", name, err)
	}
	res, err := chromedp.Run(b.ctx, chromedp.Evaluate[struct {
		Passes     int         `json:"passes"`
		Incomplete []string    `json:"incomplete"`
		Violations []Violation `json:"violations"`
	}](axeRun, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("audit %s: %v", name, err)
	}
	t.Logf("audit %s: %d rules passed, %d broken", name, res.Passes, len(res.Violations))
	for _, s := range res.Incomplete {
		t.Logf("audit %s: not decided, check by eye: %s", name, s)
	}
	return res.Violations
}

// Screenshot saves the viewport as name.png in $ARTEFACTS_DIR, or else in
// var/artefacts/screenshots/ at the module's root, for a person to look at.
func (b *Browser) Screenshot(t testing.TB, name string) {
	t.Helper()
	b.saveArtefact(t, name, b.capture(t, name))
}

func (b *Browser) capture(t testing.TB, name string) []byte {
	t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	return png
}

func (b *Browser) saveArtefact(t testing.TB, name string, png []byte) {
	t.Helper()
	dir := os.Getenv("ARTEFACTS_DIR")
	if dir == "" {
		root, err := ModuleRoot()
		if err != nil {
			t.Fatal(err)
		}
		dir = filepath.Join(root, "var", "artefacts", "screenshots")
	}
	writeFile(t, dir, name, png)
}

func writeFile(t testing.TB, dir, name string, png []byte) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s: %s (%d KiB)", name, path, len(png)/1024)
}

// screenshots is where SaveScreenshot writes the docs' pictures: a test
// run as `go test ./display/ -run TestDisplayPagesInChromium -screenshots
// ../docs/screenshots` (the path is from the package's directory)
// regenerates the README's. Only packages whose tests import webtest know
// the flag: name those packages alone.
var screenshots = flag.String("screenshots", "", "write the docs' screenshots (webtest.SaveScreenshot) into this directory")

// SaveScreenshot is a screenshot the docs show: saved as Screenshot saves
// it and, when the test runs with -screenshots DIR, also as DIR/name.png,
// made small enough to commit (at most 256 colours, best compression;
// see CompactPNG). Set the page still first: hold its clock, pause its
// animations.
func SaveScreenshot(t testing.TB, b *Browser, name string) {
	t.Helper()
	png := b.capture(t, name)
	b.saveArtefact(t, name, png)
	if *screenshots == "" {
		return
	}
	small, err := CompactPNG(png)
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	writeFile(t, *screenshots, name, small)
}

// AdvanceClock moves the page clock of a page held by HoldClock forward
// by d, running every timer of the page that falls due meanwhile, in time
// order, before it returns.
func (b *Browser) AdvanceClock(d time.Duration) error {
	if _, err := Eval[bool](b, fmt.Sprintf("(pageClock.advance(%s), true)", strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', -1, 64))); err != nil {
		return fmt.Errorf("advance the page clock by %v: %w", d, err)
	}
	return nil
}

// TouchScreen sets the page's viewport to a touch screen of that size:
// taps then reach the page as touch and pointer events, as on a kiosk.
func (b *Browser) TouchScreen(width, height int) error {
	return chromedp.Do(b.ctx, chromedp.EmulateViewport(int64(width), int64(height), chromedp.EmulateTouch))
}

// Tap touches the middle of the first element matching the CSS selector
// (touch start, touch end, then the click the browser makes of them),
// waiting at most 10 s for it to be there.
func (b *Browser) Tap(selector string) error {
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Tap(chromedp.CSS(selector))); err != nil {
		return fmt.Errorf("tap %s: %w", selector, err)
	}
	return nil
}

// HoldClock makes every page opened after it start with its clock held:
// it sets window.pageClockHeld before the page's first script runs, and a
// page on the page clock (package pageclock's clock.js: the kiosk, the
// hall and window TVs, the boards) then moves nothing on real time — no
// timer, no interval, no timestamp — until the test advances it
// (AdvanceClock). So a test on a busy machine sees what it would on an
// idle one. Call it before Open.
func (b *Browser) HoldClock() error {
	return chromedp.Do(b.ctx, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, page.AddScriptToEvaluateOnNewDocument,
			page.AddScriptToEvaluateOnNewDocumentParams{Source: "window.pageClockHeld = true;"})
		return err
	}))
}

// NoCache makes every load fetch each file again, as a kiosk's first
// start after boot does.
func (b *Browser) NoCache() error {
	return chromedp.Do(b.ctx, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, t, network.SetCacheDisabled, network.SetCacheDisabledParams{CacheDisabled: true})
		return err
	}))
}

// ClickAt presses and releases the mouse at (x, y), CSS pixels from the
// viewport's top left, as one quick touch: the element there gets its
// click, and the page's handlers have run when ClickAt returns. Faster
// than Tap, which first finds an element; for tests that touch hundreds
// of times.
func (b *Browser) ClickAt(x, y float64) error {
	if err := chromedp.Do(b.ctx, chromedp.MouseClickXY(x, y)); err != nil {
		return fmt.Errorf("click at %.0f,%.0f: %w", x, y, err)
	}
	return nil
}

// LayoutScript is CheckLayout's measurement as a JavaScript function, for
// a test that measures many screens in one evaluation: called with an
// array of clipped selectors, it returns what CheckLayout decodes into a
// Layout.
func LayoutScript() string { return layoutCheck }
