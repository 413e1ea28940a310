// Package webtest opens our pages in a real headless Chromium (Debian's
// chromium, which make test installs), driven from Go with chromedp, for
// tests and benchmarks of what a visitor sees.
package webtest

import (
	"context"
	"fmt"
	"os/exec"
	"testing"
	"time"

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
