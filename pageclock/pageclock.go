// Package pageclock serves clock.js, the one clock every page of ours runs
// its timers on: the kiosk, the hall and window TVs, the simulated boards.
// A page loads it before its other scripts and asks window.pageClock for
// the time and its timeouts and intervals, never the browser directly.
// Running, the clock follows the browser's monotonic clock; a test holds it
// from the page's first line (webtest's HoldClock) and moves it by hand
// (AdvanceClock), so what the page does with time is tested without
// waiting on real time.
package pageclock

import (
	_ "embed"
	"net/http"
)

//go:embed clock.js
var script []byte

// Handler serves clock.js, under whatever path a page loads it from
// (kioskd's TV pages load /clock.js, the kiosk /kiosk/clock.js).
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		_, _ = w.Write(script)
	})
}
