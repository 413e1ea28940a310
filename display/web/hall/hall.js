"use strict";
// The hall TV page: the current call large, the recent ones beside or
// below it, queue lengths, the office's clock, the running line. State
// comes from kioskd over a websocket. After every change and every resize
// the text is fitted to its boxes (screen.js), then <html data-layout>
// says the screen size it was laid out for: tests wait on it. Every timer
// (a new call's highlight, the running line's end, the office clock,
// reconnecting) runs on the page clock (clock.js), which tests hold and
// advance.
const $ = (id) => document.getElementById(id);
const state = { calls: [], groups: [], queues: [], recent: 6, highlightMS: 10000, voice: false };
// How long each call took from kioskd to the screen, in ms: kept for the
// benchmark that reads it, and for a technician's console. A measurement
// of real time, so the browser's own clock, not the page clock.
window.callLatency = [];
const fresh = new Map(); // call id → time its highlight ends, on the page clock

function callRow(c, big) {
  const el = document.createElement(big ? "div" : "li");
  el.className = "call" + (big ? " big" : "");
  for (const [cls, text] of [["ticket", c.ticket], ["arrow", "→"], ["window", String(c.window)]]) {
    const s = document.createElement("span");
    s.className = cls;
    s.textContent = text;
    el.appendChild(s);
  }
  if ((fresh.get(c.id) || 0) > pageClock.now()) el.classList.add("fresh");
  return el;
}

function render() {
  const [first, ...rest] = state.calls;
  // #current stays the same element (its fitted size is kept while the
  // calls have the same shape); only what it holds changes.
  const cur = first ? callRow(first, true) : callRow({ ticket: "—", window: "—" }, true);
  $("current").className = cur.className;
  $("current").replaceChildren(...cur.childNodes);
  $("recent").style.setProperty("--rows", state.recent);
  $("recent").replaceChildren(...rest.slice(0, state.recent).map((c) => callRow(c, false)));
  const names = new Map(state.groups.map((g) => [g.id, g.name.uk]));
  $("queues").replaceChildren(...state.queues.map((q) => {
    const li = document.createElement("li");
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = names.get(q.group) || q.group;
    const n = document.createElement("b");
    n.className = "count";
    n.textContent = q.waiting;
    li.append(name, n);
    return li;
  }));
  layout();
}

// layout fits every text to its box for the screen as it is now.
function layout() {
  const root = document.documentElement;
  delete root.dataset.layout;
  fitText($("when"));
  fitText($("office"), (el) => lineCount(el) <= 2);
  for (const el of document.querySelectorAll(".captions")) fitText(el);
  fitText($("current"));
  fitText($("recent"));
  fitQueues();
  pace();
  root.dataset.layout = innerWidth + "x" + innerHeight;
}

// fitQueues lays the queue lengths out in the number of columns that
// gives them the largest type. The search is redone only when what it
// depends on changed (the screen, the names, the counts' widths), not on
// every ticket issued.
let queuesFitFor = "";
function fitQueues() {
  const ul = $("queues"), n = Math.max(1, ul.children.length);
  const key = [innerWidth, innerHeight, document.body.className,
    ...[...ul.children].map((li) => li.querySelector(".name").textContent + ":" + li.querySelector(".count").textContent.length)].join("|");
  if (key === queuesFitFor && fitsBox(ul)) return;
  queuesFitFor = key;
  let best = { px: -1, cols: 1 };
  for (let cols = 1; cols <= Math.min(4, n); cols++) {
    ul.style.setProperty("--qcols", cols);
    ul.style.setProperty("--qrows", Math.ceil(n / cols));
    const px = fitText(ul);
    if (px > best.px + 0.5) best = { px, cols };
  }
  ul.style.setProperty("--qcols", best.cols);
  ul.style.setProperty("--qrows", Math.ceil(n / best.cols));
  fitText(ul);
}

// pace sets the running line's speed: about four letters' heights a
// second, however long the text and wide the screen.
function pace() {
  const span = $("message");
  if ($("ticker").hidden || !span.textContent) return;
  const px = parseFloat(getComputedStyle(span).fontSize) || 20;
  span.style.setProperty("--ticker-s", (span.offsetWidth / (4 * px)).toFixed(1) + "s");
}

// highlight makes call id blink for highlightMS from now, and ends it
// exactly then.
function highlight(id) {
  const until = pageClock.now() + state.highlightMS;
  fresh.set(id, until);
  render();
  pageClock.setTimeout(() => {
    if (fresh.get(id) === until) fresh.delete(id); // not if highlighted again since
    render();
  }, state.highlightMS);
}

// showMessage runs the centre's announcement line, Ukrainian then English,
// until its end time if it has one.
let messageTimer = null;
function showMessage(msg) {
  pageClock.clearTimeout(messageTimer);
  const left = msg && msg.until ? Date.parse(msg.until) - officeClock.now() : Infinity;
  const text = msg && left > 0 ? [msg.text.uk, msg.text.en].filter(Boolean).join("   •   ") : "";
  if ($("message").textContent !== text) $("message").textContent = text;
  $("ticker").hidden = text === "";
  document.body.classList.toggle("no-ticker", text === "");
  if (text && left !== Infinity) messageTimer = pageClock.setTimeout(() => { showMessage(null); layout(); }, left);
}

function onMessage(m) {
  switch (m.type) {
    case "snapshot":
      state.calls = m.calls || [];
      state.groups = m.groups || [];
      state.queues = m.queues || [];
      state.recent = m.recent_calls || 6;
      state.highlightMS = m.highlight_ms || 10000;
      state.voice = !!m.voice;
      if (m.office) {
        if (m.office.name) $("office").textContent = m.office.name.uk;
        officeClock.timeZone(m.office.timezone);
      }
      officeClock.serverTime(m.now);
      showMessage(m.message);
      $("serverdown").hidden = m.server_up;
      render();
      break;
    case "call":
      state.calls = [m.call, ...state.calls.filter((c) => c.ticket !== m.call.ticket)].slice(0, state.recent + 1);
      if (state.voice) render();
      else highlight(m.call.id); // nothing to wait for
      if (m.sent) window.callLatency.push(performance.timeOrigin + performance.now() - m.sent);
      break;
    case "speaking":
      // The highlight starts with the voice, so eyes and ears meet.
      highlight(m.id);
      break;
    case "queues":
      state.queues = m.queues || [];
      render();
      break;
  }
}

async function main() {
  await I18N.load();
  I18N.apply();
  officeClock.start($("time"), $("weekday"), $("day"), layout);
  addEventListener("resize", layout);
  document.fonts.ready.then(layout);
  live("/hall/ws", onMessage, (up) => {
    $("offline").hidden = up;
    // Without kioskd, what it said of the server is stale too; the next
    // snapshot says it again.
    if (!up) $("serverdown").hidden = true;
    document.body.classList.toggle("stale", !up);
    layout();
  });
}
main();
