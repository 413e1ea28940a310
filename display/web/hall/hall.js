"use strict";
// The hall TV page: the current call large, the recent ones below, queue
// lengths, clock. State comes from kioskd over a websocket.
const $ = (id) => document.getElementById(id);
const state = { calls: [], groups: [], queues: [], recent: 6, highlightMS: 10000, voice: false };
// How long each call took from kioskd to the screen, in ms: kept for the
// benchmark that reads it, and for a technician's console.
window.callLatency = [];
const fresh = new Map(); // call id → time its highlight ends

function callRow(c, big) {
  const el = document.createElement(big ? "div" : "li");
  el.className = "call" + (big ? " big" : "");
  for (const [cls, text] of [["ticket", c.ticket], ["arrow", "→"], ["window", String(c.window)]]) {
    const s = document.createElement("span");
    s.className = cls;
    s.textContent = text;
    el.appendChild(s);
  }
  if ((fresh.get(c.id) || 0) > Date.now()) el.classList.add("fresh");
  return el;
}

function render() {
  const [first, ...rest] = state.calls;
  const cur = first ? callRow(first, true) : callRow({ ticket: "—", window: "—" }, true);
  cur.id = "current";
  $("current").replaceWith(cur);
  $("recent").replaceChildren(...rest.slice(0, state.recent).map((c) => callRow(c, false)));
  const names = new Map(state.groups.map((g) => [g.id, g.name.uk]));
  $("queues").replaceChildren(...state.queues.map((q) => {
    const li = document.createElement("li");
    const b = document.createElement("b");
    b.textContent = q.waiting;
    li.append((names.get(q.group) || q.group) + ": ", b);
    return li;
  }));
}

function highlight(id) {
  fresh.set(id, Date.now() + state.highlightMS);
  render();
  setTimeout(render, state.highlightMS + 50);
}

// showMessage runs the centre's announcement line, Ukrainian then English,
// until its end time if it has one.
let messageTimer = null;
function showMessage(msg) {
  clearTimeout(messageTimer);
  const left = msg && msg.until ? Date.parse(msg.until) - Date.now() : Infinity;
  const text = msg && left > 0 ? [msg.text.uk, msg.text.en].filter(Boolean).join("   •   ") : "";
  $("message").textContent = text;
  $("ticker").hidden = text === "";
  if (text && left !== Infinity) messageTimer = setTimeout(() => showMessage(null), Math.min(left, 2147483647));
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
      if (m.office && m.office.name) $("office").textContent = m.office.name.uk;
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
  clock($("time"), $("date"));
  live("/hall/ws", onMessage, (up) => {
    $("offline").hidden = up;
    // Without kioskd, what it said of the server is stale too (and its
    // banner would cover this one); the next snapshot says it again.
    if (!up) $("serverdown").hidden = true;
    document.body.classList.toggle("stale", !up);
  });
}
main();
