package webtest

import (
	"fmt"
	"sync"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Console collects what a page reports as an error: console.error calls,
// uncaught exceptions, and the browser's own error entries (a script or
// style refused by the Content-Security-Policy, a failed load).
type Console struct {
	mu     sync.Mutex
	errors []string
}

// WatchConsole starts collecting the tab's errors; call it before Open.
func (b *Browser) WatchConsole() (*Console, error) {
	c := &Console{}
	err := chromedp.Listen(b.ctx, func(ev any) {
		var msg string
		switch e := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if e.Type != runtime.ConsoleAPICalledTypeError && e.Type != runtime.ConsoleAPICalledTypeAssert {
				return
			}
			msg = "console." + string(e.Type) + ":"
			for _, a := range e.Args {
				if a.Value != nil {
					msg += " " + string(a.Value)
				} else {
					msg += " " + a.Description
				}
			}
		case *runtime.EventExceptionThrown:
			msg = "exception: " + e.ExceptionDetails.Text
			if e.ExceptionDetails.Exception != nil {
				msg += " " + e.ExceptionDetails.Exception.Description
			}
		case *log.EventEntryAdded:
			if e.Entry.Level != log.EntryLevelError {
				return
			}
			msg = fmt.Sprintf("%s: %s %s", e.Entry.Source, e.Entry.Text, e.Entry.URL)
		default:
			return
		}
		c.mu.Lock()
		c.errors = append(c.errors, msg)
		c.mu.Unlock()
	})
	if err != nil {
		return nil, fmt.Errorf("watch the console: %w", err)
	}
	return c, nil
}

// Errors is every error collected so far.
func (c *Console) Errors() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.errors...)
}
