// What the TV pages (hall, window) share besides their connection: text
// fitted to its box on any screen, and the office's clock (on the page
// clock, clock.js, loaded before this).
"use strict";

// fitText sets el's font as large as its style sheet says and, if its
// content then overflows el's box or any box inside it, shrinks the font
// until nothing does (and ok(el), if given, holds: say, at most two
// lines). el's box must not grow with its content — a grid cell of a
// fixed share, say — and the sizes inside it must follow el's font (em).
// Returns the size in px. An element fitted before, whose box, class,
// inline custom properties and text are as they were, keeps its size
// without a search: a new call does not refit the header. With tabular
// figures every digit is as wide as any other, so "К017 → 4" keeps the
// size "К016 → 3" was given.
function fitText(el, ok) {
  const good = () => fitsBox(el) && (!ok || ok(el));
  const key = () => {
    const tabular = getComputedStyle(el).fontVariantNumeric.includes("tabular-nums");
    const vars = [...el.style].filter((p) => p.startsWith("--")).map((p) => p + ":" + el.style.getPropertyValue(p));
    return [el.clientWidth, el.clientHeight, el.className, ...vars, tabular ? el.textContent.replace(/\d/g, "0") : el.textContent].join("|");
  };
  if (el.dataset.fitted === key() && good()) return parseFloat(getComputedStyle(el).fontSize);
  el.style.fontSize = "";
  const max = parseFloat(getComputedStyle(el).fontSize);
  let px = max;
  if (!good()) {
    // A first guess from how far the content overflows (right for one
    // line of text), then halving the gap down to 1 %.
    let r = 1;
    for (const e of [el, ...el.querySelectorAll("*")]) {
      if (e.scrollWidth > e.clientWidth && e.clientWidth > 0) r = Math.min(r, e.clientWidth / e.scrollWidth);
      if (e.scrollHeight > e.clientHeight && e.clientHeight > 0) r = Math.min(r, e.clientHeight / e.scrollHeight);
    }
    let lo = Math.min(6, max), hi = max;
    const guess = Math.max(lo, max * r * 0.995);
    el.style.fontSize = guess + "px";
    if (good()) lo = guess;
    else hi = guess;
    while (hi - lo > Math.max(0.25, lo * 0.01)) {
      const mid = (lo + hi) / 2;
      el.style.fontSize = mid + "px";
      if (good()) lo = mid;
      else hi = mid;
    }
    el.style.fontSize = lo + "px";
    px = lo;
  }
  el.dataset.fitted = key();
  return px;
}

// fitsBox: nothing in el (el included) is wider or taller than its box.
// Inline boxes measure 0 × 0 and always pass: what they hold counts in the
// block around them.
function fitsBox(el) {
  if (el.scrollWidth > el.clientWidth || el.scrollHeight > el.clientHeight) return false;
  for (const e of el.querySelectorAll("*")) {
    if (e.scrollWidth > e.clientWidth || e.scrollHeight > e.clientHeight) return false;
  }
  return true;
}

// lineCount is how many lines el's text takes.
function lineCount(el) {
  const r = document.createRange();
  r.selectNodeContents(el);
  return new Set([...r.getClientRects()].map((x) => Math.round(x.top))).size;
}

// officeClock is the time the page shows: the page clock (clock.js)
// set to the queue server's time (kioskd sends it in each snapshot),
// shown in the office's time zone (the server's office data names it),
// whatever the TV's own clock and zone are. Until the first snapshot it
// shows the browser's time. With the page clock held (webtest's
// HoldClock), it stands at the server's time of the last snapshot and
// moves only as far as the test advances the page clock, so a test sees
// one moment however slow the machine.
const officeClock = {
  // skew is how far the office's time, in ms since 1970, is ahead of the
  // page clock: at first the browser's clock, then the server's.
  skew: performance.timeOrigin,
  zone: undefined, // IANA name; undefined: the browser's
  els: null,
  onDate: null,
  shownDate: "",

  now() { return pageClock.now() + this.skew; },

  // serverTime takes the server's time now, in ms since 1970.
  serverTime(ms) {
    if (Number.isFinite(ms) && ms > 0) this.skew = ms - pageClock.now();
    this.tick();
  },

  // timeZone sets the office's zone; one the browser does not know leaves
  // the browser's, said in the console for a technician.
  timeZone(zone) {
    if (!zone || zone === this.zone) return;
    try {
      new Intl.DateTimeFormat("uk-UA", { timeZone: zone });
      this.zone = zone;
    } catch (e) {
      console.warn("office time zone " + zone + " unknown to this browser; showing its own", e);
    }
    this.tick();
  },

  // start shows the time in timeEl, the weekday in weekdayEl and the day
  // and month in dayEl, and calls onDate when the date shown changes (its
  // width may change the layout).
  start(timeEl, weekdayEl, dayEl, onDate) {
    this.els = { timeEl, weekdayEl, dayEl };
    this.onDate = onDate;
    this.tick();
    pageClock.setInterval(() => this.tick(), 1000);
  },

  tick() {
    if (!this.els) return;
    const at = new Date(this.now());
    const opt = this.zone ? { timeZone: this.zone } : {};
    const fmt = (o) => new Intl.DateTimeFormat("uk-UA", { ...opt, ...o }).format(at);
    this.els.timeEl.textContent = fmt({ hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
    // "1 грудня" is one word to the eye: never broken between lines.
    const weekday = fmt({ weekday: "long" }), day = fmt({ day: "numeric", month: "long" }).replace(/\s+/g, "\u00a0");
    if (weekday + day === this.shownDate) return;
    this.shownDate = weekday + day;
    this.els.weekdayEl.textContent = weekday;
    this.els.dayEl.textContent = day;
    if (this.onDate) this.onDate();
  },
};
