package pageclock_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cherga/kiosk/display/webtest"
	"github.com/cherga/kiosk/pageclock"
)

func TestServed(t *testing.T) {
	ts := httptest.NewServer(pageclock.Handler())
	defer ts.Close()
	resp, err := http.Get(ts.URL + "/clock.js")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/javascript; charset=utf-8" ||
		!strings.Contains(string(body), "window.pageClock = new PageClock(") {
		t.Errorf("%s %q: %.60q", resp.Status, resp.Header.Get("Content-Type"), body)
	}
}

// The running clock in a real Chromium, on a page of its own: a timer
// further off than a browser's timeout can hold (2^31 - 1 ms, 24.8 days;
// a running line's end a month away) is not run at once, its wake-up is
// set no further than that, and it runs when its time comes. Held, the
// same timer runs at its time to the millisecond.
func TestClockInChromium(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle("GET /clock.js", pageclock.Handler())
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, `<!doctype html><html lang="uk"><head><title>clock</title><script src="/clock.js"></script></head><body></body></html>`)
	})
	ts := httptest.NewServer(mux)
	defer ts.Close()
	b := webtest.Start(t, 800, 600)
	if err := b.Open(ts.URL + "/"); err != nil {
		t.Fatal(err)
	}

	const month = 30 * 24 * 60 * 60 * 1000
	got, err := webtest.Eval[struct {
		Held  bool      `json:"held"`
		Waits []float64 `json:"waits"`
		RanAt float64   `json:"ranAt"`
	}](b, `(() => {
		const waits = [], real = window.setTimeout;
		window.setTimeout = (fn, ms) => { waits.push(ms); return real(fn, ms); };
		let ranAt = -1;
		const t0 = pageClock.now();
		pageClock.setTimeout(() => { ranAt = pageClock.now() - t0; }, `+strconv.Itoa(month)+`);
		pageClock.advance(`+strconv.Itoa(month-60000)+`); // running, real time moves it on a little too
		const early = ranAt;
		pageClock.advance(60000);
		window.setTimeout = real;
		return {held: pageClock.held, waits, ranAt: early >= 0 ? -2 : ranAt};
	})()`)
	if err != nil {
		t.Fatal(err)
	}
	if got.Held || got.RanAt < month || len(got.Waits) == 0 {
		t.Errorf("running: %+v, want the month's timer run once advanced a month, not a minute before (ranAt -2)", got)
	}
	for _, w := range got.Waits {
		if w > 1<<31-1 {
			t.Errorf("a browser timeout of %.0f ms set: a browser runs it at once", w)
		}
	}

	if err := b.HoldClock(); err != nil {
		t.Fatal(err)
	}
	if err := b.Open(ts.URL + "/"); err != nil {
		t.Fatal(err)
	}
	if _, err := webtest.Eval[bool](b, `(window.ran = [], pageClock.setTimeout(() => ran.push(pageClock.now()), 1500), true)`); err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		by   time.Duration
		runs int
	}{{1499 * time.Millisecond, 0}, {time.Millisecond, 1}, {time.Hour, 1}} {
		if err := b.AdvanceClock(step.by); err != nil {
			t.Fatal(err)
		}
		if n, err := webtest.Eval[int](b, `ran.length`); err != nil || n != step.runs {
			t.Errorf("held, advanced by %v more: %d runs, want %d (%v)", step.by, n, step.runs, err)
		}
	}
}
