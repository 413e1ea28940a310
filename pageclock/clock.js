"use strict";
// The page's clock: the only source of time for what a page does. Every
// timer, interval and timestamp its logic looks at goes through it (the
// kiosk's idle question and reset, ticket screen and notices; the hall's
// highlight of a new call, the running line's end and the office clock;
// every page's reconnecting, live.js); nothing in a page calls setTimeout,
// setInterval or performance.now for its logic.
//
// Running, it follows the browser's monotonic clock. Held, it stands
// still and moves only when advanced: a test holds it from the page's
// first line (webtest's HoldClock sets window.pageClockHeld before any
// script runs; AdvanceClock moves it), so a slow machine changes nothing
// the test sees. Held, it starts on a whole millisecond, so a test that
// advances by whole milliseconds lands on a timer's due time exactly.
// Advanced by ms, it runs every timer due meanwhile in time order, each
// seeing now() at its own due time, as if that time had passed.
//
// One file for every page (package pageclock serves it).
class PageClock {
  constructor(held) {
    this.offset = 0; // running: now() is performance.now() + offset
    this.heldAt = held ? Math.floor(performance.now()) : null; // held: now()
    this.timers = new Map(); // id → {due, every (0: once), fn}
    this.lastID = 0;
    this.wake = 0; // running: the one real timeout, for the earliest timer
  }

  get held() { return this.heldAt !== null; }

  now() { return this.held ? this.heldAt : performance.now() + this.offset; }

  setTimeout(fn, ms) { return this.add(fn, ms, 0); }

  setInterval(fn, ms) { return this.add(fn, ms, Math.max(1, ms)); }

  clearTimeout(id) { this.clear(id); }

  clearInterval(id) { this.clear(id); }

  clear(id) {
    if (this.timers.delete(id)) this.schedule();
  }

  // hold stops the clock where it is.
  hold() {
    if (this.held) return;
    this.heldAt = this.now();
    this.schedule();
  }

  // release lets it run on from where it stands.
  release() {
    if (!this.held) return;
    this.offset = this.heldAt - performance.now();
    this.heldAt = null;
    this.schedule();
  }

  // advance moves the clock ms forward, running what fell due meanwhile.
  advance(ms) {
    if (!(ms >= 0)) throw new RangeError("advance: expected a duration ≥ 0, got " + ms);
    if (this.held) {
      const until = this.heldAt + ms;
      this.run(until);
      this.heldAt = until;
      return;
    }
    this.offset += ms;
    this.run(this.now());
    this.schedule();
  }

  add(fn, ms, every) {
    const id = ++this.lastID;
    this.timers.set(id, { due: this.now() + Math.max(0, Number(ms) || 0), every, fn });
    this.schedule();
    return id;
  }

  // run calls every timer due by until, earliest first; a timer a callback
  // sets is run too if it falls due by then. A callback that throws is
  // reported, as the browser reports a timer's, and the others still run.
  run(until) {
    for (let n = 0; ; n++) {
      if (n === 1e6) throw new Error("page clock: a timer keeps setting itself again at the same time");
      let id = 0;
      let next = null;
      for (const [i, t] of this.timers) {
        if (t.due <= until && (next === null || t.due < next.due)) {
          id = i;
          next = t;
        }
      }
      if (next === null) return;
      const due = next.due;
      if (next.every) next.due += next.every;
      else this.timers.delete(id);
      if (this.held) this.heldAt = Math.max(this.heldAt, due);
      try {
        next.fn();
      } catch (e) {
        reportError(e);
      }
    }
  }

  // schedule keeps one real timeout for the earliest timer while the clock
  // runs, and none while it is held.
  schedule() {
    clearTimeout(this.wake);
    this.wake = 0;
    if (this.held || this.timers.size === 0) return;
    let due = Infinity;
    for (const t of this.timers.values()) due = Math.min(due, t.due);
    // A browser runs a timeout of more than 2^31 - 1 ms (24.8 days: a
    // running line's end, say) at once; one that long wakes early, finds
    // nothing due and sleeps again.
    this.wake = setTimeout(() => {
      this.wake = 0;
      this.run(this.now());
      this.schedule();
    }, Math.min(2147483647, Math.max(0, due - this.now())));
  }
}

window.pageClock = new PageClock(window.pageClockHeld === true);
