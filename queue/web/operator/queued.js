"use strict";
// What the operator's desk and the supervisor's overview share: requests
// to queued's JSON API (a 401 goes to the login page), the live stream with
// its polling fallback, the language switch, an injectable clock, and
// error answers put into plain words from the message catalogue.
//
// No user-facing text lives here: every text comes from /i18n.json.

const Q = {
  // The page's clock. Timers read Q.now(); tests move it with offset.
  // skew is the server's clock minus ours (from the Date header), so a
  // timer since a call is right even on a desk PC whose clock is off.
  clock: { offset: 0, skew: 0 },
  now() { return Date.now() + this.clock.skew + this.clock.offset; },

  // loginURL is the login page, coming back here after sign-in.
  loginURL() {
    const next = encodeURIComponent(location.pathname + location.search).replace(/%2F/g, "/");
    return "/login?next=" + next;
  },

  // api sends one request and answers {ok, status, body}. A network
  // failure answers status 0 and the code "offline". 401 means the session
  // ended: the page goes to the login page.
  async api(method, path, body) {
    const opts = { method, headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" };
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    let r;
    try {
      r = await fetch(path, opts);
    } catch (e) {
      return { ok: false, status: 0, body: { code: "offline" } };
    }
    const date = Date.parse(r.headers.get("Date") || "");
    if (!isNaN(date)) {
      // The header has whole seconds: only a clock clearly off is corrected.
      const skew = date - Date.now();
      this.clock.skew = Math.abs(skew) > 3000 ? skew : 0;
    }
    const b = await r.json().catch(() => ({}));
    if (r.status === 401) {
      location.assign(this.loginURL());
      return { ok: false, status: 401, body: b, leaving: true };
    }
    return { ok: r.ok, status: r.status, body: b };
  },

  // errorText says in plain words what an error answer means: the
  // catalogue's text for its code, else the server's own message.
  errorText(r) {
    const code = (r.body && r.body.code) || (r.status === 0 ? "offline" : "internal");
    const args = { status: r.status, window: (r.body && r.body.window) || "" };
    if (I18N.texts["operator.error." + code]) return I18N.t("operator.error." + code, args);
    if (r.body && r.body.error) return r.body.error;
    return I18N.t("operator.error.internal", args);
  },

  // name picks a {uk, en} text in the current language.
  name(x, fallback) {
    if (x && typeof x === "object") return x[I18N.lang] || x.uk || fallback || "";
    return x || fallback || "";
  },

  // lang sets the page's language: ?lang= first, then the one chosen last
  // time on this desk, then Ukrainian.
  initLang() {
    const p = new URLSearchParams(location.search).get("lang");
    let saved = null;
    try { saved = localStorage.getItem("cherga.lang"); } catch (e) { /* private mode */ }
    I18N.lang = (p || saved) === "en" ? "en" : "uk";
    if (p) try { localStorage.setItem("cherga.lang", I18N.lang); } catch (e) { /* private mode */ }
  },
  switchLang() {
    I18N.lang = I18N.lang === "uk" ? "en" : "uk";
    try { localStorage.setItem("cherga.lang", I18N.lang); } catch (e) { /* private mode */ }
    I18N.apply();
    for (const [el, fn] of this.said) el.textContent = fn();
  },

  // say puts the text fn makes into el, and makes it again when the
  // language changes; say(el) empties it.
  said: new Map(),
  say(el, fn) {
    if (fn) { this.said.set(el, fn); el.textContent = fn(); } else { this.said.delete(el); el.textContent = ""; }
  },

  // minutes is a duration in whole minutes, like "12 хв".
  minutes(ms) { return I18N.t("operator.minutes", { n: Math.max(0, Math.floor(ms / 60000)) }); },

  // clockTime is m:ss, or h:mm:ss from an hour on.
  clockTime(ms) {
    const s = Math.max(0, Math.floor(ms / 1000));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    const two = (n) => String(n).padStart(2, "0");
    return h > 0 ? h + ":" + two(m) + ":" + two(sec) : m + ":" + two(sec);
  },

  // since is how long ago an RFC 3339 time was, by the page's clock.
  since(iso) {
    const t = Date.parse(iso || "");
    return isNaN(t) ? null : this.now() - t;
  },

  // live keeps the page up to date: an EventSource on url, onEvent(data)
  // for each event of that name; while the stream is down, poll() every
  // `every` ms and onState(false); when it is back, onState(true) and one
  // poll() for what was missed.
  live(url, event, onEvent, poll, every, onState) {
    let es = null, timer = null, retry = null, up = null;
    const setUp = (v) => { if (up !== v) { up = v; onState(v); } };
    const startPolling = () => { if (!timer) timer = setInterval(poll, every); };
    const stopPolling = () => { if (timer) { clearInterval(timer); timer = null; } };
    const connect = () => {
      retry = null;
      es = new EventSource(url);
      es.addEventListener("open", () => { stopPolling(); setUp(true); poll(); });
      es.addEventListener(event, (e) => {
        let d = {};
        try { d = JSON.parse(e.data); } catch (err) { /* a change without data: read everything */ }
        onEvent(d);
      });
      es.addEventListener("error", () => {
        setUp(false);
        startPolling();
        // A refused stream (a 401, a proxy's error page) is closed for
        // good; the browser retries any other by itself.
        if (es.readyState === EventSource.CLOSED && !retry) retry = setTimeout(connect, every);
      });
    };
    connect();
    return {
      close() { stopPolling(); if (retry) clearTimeout(retry); if (es) es.close(); },
      get up() { return up === true; },
    };
  },

  // coalesce makes fn run once at a time: a call while it runs makes it
  // run once more afterwards, never twice at once. Every call's promise
  // settles when a run that started after the call has ended, so an
  // awaited refresh never answers with data read before it was asked.
  coalesce(fn) {
    let running = null, again = false;
    return () => {
      if (running) { again = true; return running; }
      running = (async () => {
        try {
          do { again = false; await fn(); } while (again);
        } finally {
          running = null;
        }
      })();
      return running;
    };
  },

  el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  },
};

// Pages never set inline styles (the CSP forbids them); a violation in a
// test would be a bug, so it is counted where a test can see it.
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
