"use strict";
// The operator's desk: sign in to one of the account's windows, then call,
// serve, transfer and pause at it, with the window's queue beside. Live
// through queued's event stream, polling while the stream is down.
//
// One visitor per intent: every action is refused while another runs (the
// buttons are disabled for it), and "next" names the ticket shown, so a
// second click from a page that has not yet seen the first answer calls
// nobody (queued answers "repeated").
//
// Shortcut keys match e.code (the key's place), so N is N in the
// Ukrainian layout too (where it types "т"); never while typing.

const $ = (id) => document.getElementById(id);
const t = (k, a) => I18N.t(k, a);

// Pause reasons when queued does not list the office's own.
const FIXED_REASONS = ["break", "meeting", "technical", "other"];
const POLL_MS = 5000;

const S = {
  screen: "loading",  // loading | choose | desk
  me: null,           // GET /api/v1/me
  office: {},         // GET /api/v1/office, if queued has it
  cat: { groups: [], services: [] },
  windows: [],        // every window's state
  window: 0,          // the window signed in to
  state: null,        // that window's state
  queue: [],          // its queue, in call order
  queueAt: 0,         // when the queue was read (page clock)
  queueTotal: null,   // how many wait for the window (the queue read is cut at 50)
  busy: false,        // a request runs: no other action starts
  lastAction: "",     // the last action and how it ended, for tests
  stream: null,
  dialogTicket: null, // the ticket the priority dialog is for
};

// ---- catalogue look-ups ----

const serviceById = (id) => S.cat.services.find((s) => s.id === id);
const groupById = (id) => S.cat.groups.find((g) => g.id === id);
const serviceName = (id) => { const s = serviceById(id); return s ? Q.name(s.name, id) : id || ""; };
const groupName = (id) => { const g = groupById(id); return g ? Q.name(g.name, id) : id || ""; };

function reasons() {
  const list = S.office.pause_reasons;
  if (Array.isArray(list) && list.length) return list.map((r) => ({ id: r.id, name: Q.name(r.name, r.id) }));
  return FIXED_REASONS.map((id) => ({ id, name: t("operator.pause." + id) }));
}
function reasonName(id) {
  const r = reasons().find((x) => x.id === id);
  return r ? r.name : id || "";
}
const priorities = () => (Array.isArray(S.office.priorities) ? S.office.priorities : []);

// priorityName names a ticket's priority: the office's level of that
// number (or id), else the number itself (a booked visitor's).
function priorityName(p) {
  if (!p) return "";
  const found = priorities().find((x) => x.id === p || x.level === p);
  return found ? Q.name(found.name, found.id) : t("operator.priority.number", { n: p });
}

// windowsOf normalises GET /api/v1/windows: state objects in number order
// (a server still answering bare numbers gives closed windows).
function windowsOf(body) {
  const list = Array.isArray(body) ? body : (body && body.windows) || [];
  return list.map((w) => (typeof w === "number" ? { window: w, state: "closed" } : w))
    .sort((a, b) => a.window - b.window);
}

function allowed(n) {
  const mine = (S.me && S.me.windows) || [];
  return mine.length === 0 || mine.includes(n);
}

// officeZone is the office's time zone (a ticket's day follows it).
function officeZone() {
  return (S.office.office && S.office.office.timezone) || S.office.timezone || undefined;
}

// dayOf is a ticket's office day (YYYY-MM-DD), for its priority's address.
function dayOf(tk) {
  if (tk.day) return tk.day;
  const d = new Date(tk.issued_at || Q.now());
  try {
    return new Intl.DateTimeFormat("en-CA", { timeZone: officeZone(), year: "numeric", month: "2-digit", day: "2-digit" }).format(d);
  } catch (e) {
    return d.toISOString().slice(0, 10);
  }
}

// ---- screens ----

function show(screen) {
  S.screen = screen;
  $("loading").hidden = screen !== "loading";
  $("choose").hidden = screen !== "choose";
  $("desk").hidden = screen !== "desk";
  drawWhere();
}

function drawWhere() {
  const who = S.me ? (S.me.display_name || S.me.name) : "";
  $("where").textContent = S.screen === "desk" ? t("operator.where", { n: S.window, name: who }) : who;
  $("logout").hidden = !S.me;
}

// ---- choosing a window ----

async function refreshWindows() {
  const r = await Q.api("GET", "/api/v1/windows");
  if (r.leaving) return;
  if (!r.ok) { Q.say($("choose-error"), () => Q.errorText(r)); return; }
  S.windows = windowsOf(r.body);
  if (S.screen === "choose") drawWindows();
}

function windowStateText(w) {
  const mine = S.me && w.operator === S.me.name;
  if (w.state === "closed" || !w.operator) return t("operator.choose.free");
  if (mine) return t("operator.choose.yours");
  return t("operator.choose.taken", { name: w.operator_name || w.operator });
}

function drawWindows() {
  const box = $("windows");
  const focused = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.window : null;
  const buttons = S.windows.filter((w) => allowed(w.window)).map((w) => {
    const b = Q.el("button", "win");
    b.type = "button";
    b.dataset.window = w.window;
    const taken = w.state !== "closed" && w.operator && !(S.me && w.operator === S.me.name);
    if (taken) b.classList.add("taken");
    b.append(Q.el("span", "wn", t("operator.window_n", { n: w.window })), Q.el("span", "ws", windowStateText(w)));
    b.addEventListener("click", () => signIn(w.window));
    return b;
  });
  box.replaceChildren(...buttons);
  if (!buttons.length) box.append(Q.el("p", "hint", t("operator.choose.none")));
  if (focused) { const b = box.querySelector(`[data-window="${focused}"]`); if (b) b.focus(); }
}

// showChoose shows the windows to choose from; note (a function making
// the text) says why, when the desk was left.
async function showChoose(note) {
  const want = S.window || Number(new URLSearchParams(location.search).get("window")) || 0;
  S.window = 0;
  S.state = null;
  show("choose");
  Q.say($("choose-note"), note);
  Q.say($("choose-error"));
  await refreshWindows();
  drawWindows();
  const first = $("windows").querySelector(`[data-window="${want}"]`) || $("windows").querySelector("button");
  if (first) first.focus();
}

async function signIn(n) {
  if (S.busy) return;
  S.busy = true;
  $("windows").querySelectorAll("button").forEach((b) => { b.disabled = true; });
  Q.say($("choose-error"));
  try {
    const r = await Q.api("POST", `/api/v1/windows/${n}/sign-in`);
    if (r.leaving) return;
    if (r.ok) {
      S.lastAction = "sign-in ok";
      await enterDesk(n);
      return;
    }
    S.lastAction = "sign-in " + (r.body.code || r.status);
    await refreshWindows();
    if (r.body.code === "window_taken") {
      const w = S.windows.find((x) => x.window === n) || {};
      const who = r.body.operator_name || w.operator_name || r.body.operator || w.operator || "";
      Q.say($("choose-error"), () => who ? t("operator.error.window_taken_by", { n, name: who }) : Q.errorText(r));
    } else {
      Q.say($("choose-error"), () => Q.errorText(r));
    }
  } finally {
    S.busy = false;
    $("windows").querySelectorAll("button").forEach((b) => { b.disabled = false; });
  }
}

// ---- the desk ----

async function enterDesk(n) {
  S.window = n;
  history.replaceState(null, "", location.pathname + "?window=" + n);
  show("desk");
  Q.say($("error"));
  Q.say($("note"));
  await refreshDesk();
  $("next").focus();
}

const refreshDesk = Q.coalesce(async () => {
  if (!S.window) return;
  const n = S.window;
  const [w, q] = await Promise.all([
    Q.api("GET", `/api/v1/windows/${n}`),
    Q.api("GET", `/api/v1/windows/${n}/queue?limit=50`),
  ]);
  if (w.leaving || q.leaving || S.window !== n) return;
  if (w.ok) {
    S.state = w.body;
    // Someone else (a supervisor) signed us out of the window.
    if (S.me && !S.busy && (S.state.state === "closed" || (S.state.operator && S.state.operator !== S.me.name))) {
      showChoose(() => t("operator.signed_out_elsewhere", { n }));
      return;
    }
  } else {
    Q.say($("error"), () => Q.errorText(w));
  }
  if (q.ok) {
    S.queue = Array.isArray(q.body) ? q.body : (q.body.tickets || q.body.queue || []);
    S.queueTotal = typeof q.body.waiting === "number" ? q.body.waiting : null;
    S.queueAt = Q.now();
  }
  drawDesk();
});

function current() { return S.state && S.state.ticket && S.state.ticket.number ? S.state.ticket : null; }

function drawDesk() {
  const w = S.state || {};
  const tk = current();
  $("number").textContent = tk ? tk.number : "—";
  $("number").classList.toggle("none", !tk);
  $("service").textContent = tk ? serviceName(tk.service) : t("operator.nobody");
  $("tstate").textContent = tk ? t("operator.state." + (tk.state === "serving" ? "serving" : "called")) : "";
  $("tstate").className = "tstate " + (tk ? tk.state : "");
  $("facts").hidden = !tk;
  if (tk) {
    $("recalls").textContent = String(tk.recalls || 0);
    $("tprio-row").hidden = !tk.priority;
    $("tprio").textContent = priorityName(tk.priority);
  }
  const paused = w.state === "paused";
  $("paused").hidden = !paused;
  $("paused").textContent = paused ? t("operator.paused", { reason: reasonName(w.reason) }) : "";
  drawTimer();
  drawButtons();
  drawQueue();
}

function drawTimer() {
  const tk = current();
  if (!tk) return;
  const serving = tk.state === "serving";
  $("timer-label").textContent = t(serving ? "operator.since_came" : "operator.since_call");
  const ms = Q.since(serving ? tk.came_at || tk.called_at : tk.called_at);
  $("timer").textContent = ms === null ? "—" : Q.clockTime(ms);
}

// drawButtons enables what the window's state allows; while a request
// runs, nothing.
function drawButtons() {
  const w = S.state || {};
  const tk = current();
  const paused = w.state === "paused";
  const called = tk && tk.state !== "serving";
  const need = Number(S.office.no_show_after) || 0;
  const early = called && (tk.recalls || 0) < need;
  const enable = {
    next: !paused,
    recall: !!tk && !paused,
    came: !!called,
    finish: !!tk,
    noshow: !!called && !early,
    transfer: !!tk,
    pause: !paused,
    resume: paused,
    signout: true,
  };
  $("pause").hidden = paused;
  $("resume").hidden = !paused;
  for (const [id, on] of Object.entries(enable)) $(id).disabled = S.busy || !on;
  $("noshow-hint").hidden = !early;
  $("noshow-hint").textContent = early ? t("operator.no_show.after", { n: need - (tk.recalls || 0) }) : "";
  document.querySelectorAll(".prio-col, .prio-cell").forEach((e) => { e.hidden = priorities().length === 0; });
  document.querySelectorAll(".prio-cell button").forEach((b) => { b.disabled = S.busy; });
}

function drawQueue() {
  const w = S.state || {};
  const total = S.queueTotal !== null ? S.queueTotal : typeof w.waiting === "number" ? w.waiting : S.queue.length;
  $("waiting").textContent = t("operator.queue.waiting", { n: total });
  const elapsed = Q.now() - S.queueAt;
  const rows = S.queue.map((e, i) => {
    const tr = Q.el("tr");
    tr.dataset.number = e.number;
    const only = e.for_window !== undefined ? e.for_window : e.window;
    const marks = Q.el("td", "marks");
    // A booked visitor's precedence is the booking's, said by its own mark.
    const named = priorities().some((x) => x.level === e.priority || x.id === e.priority);
    if (e.priority && (named || !e.booked)) marks.append(Q.el("span", "mark prio", "★ " + priorityName(e.priority)));
    if (e.booked) marks.append(Q.el("span", "mark booked", t("operator.mark.booked")));
    if (only) marks.append(Q.el("span", "mark only", t(only === S.window ? "operator.mark.only_here" : "operator.mark.only_window", { n: only })));
    const waited = (Number(e.waiting_s) || 0) * 1000 + elapsed;
    const td = Q.el("td", "prio-cell");
    if (priorities().length) {
      const b = Q.el("button", "small", t("operator.priority.set"));
      b.type = "button";
      b.setAttribute("aria-label", t("operator.priority.for", { number: e.number }));
      b.addEventListener("click", () => openPriority(e));
      b.disabled = S.busy;
      td.append(b);
    } else {
      td.hidden = true;
    }
    tr.append(Q.el("td", "place", String(i + 1)), Q.el("td", "tnum", e.number), Q.el("td", "svc", serviceName(e.service)),
      Q.el("td", "wait", Q.minutes(waited)), marks, td);
    return tr;
  });
  // Keep focus on a row's button across a redraw.
  const focusedRow = document.activeElement && document.activeElement.closest && document.activeElement.closest("#queue tr");
  const keep = focusedRow ? focusedRow.dataset.number : null;
  $("queue").replaceChildren(...rows);
  $("queue-empty").hidden = rows.length > 0;
  if (keep) { const b = $("queue").querySelector(`tr[data-number="${keep}"] button`); if (b) b.focus(); }
}

function tickQueue() {
  const elapsed = Q.now() - S.queueAt;
  $("queue").querySelectorAll("tr").forEach((tr, i) => {
    const e = S.queue[i];
    if (e) tr.querySelector(".wait").textContent = Q.minutes((Number(e.waiting_s) || 0) * 1000 + elapsed);
  });
}

// act runs one action at the window. It returns at once when another is
// still running: a double click is one intent.
async function act(kind, body) {
  if (S.busy || !S.window) return false;
  S.busy = true;
  const focused = document.activeElement;
  drawButtons();
  Q.say($("error"));
  Q.say($("note"));
  let ok = false;
  try {
    const r = await Q.api("POST", `/api/v1/windows/${S.window}/${kind}`, body);
    if (r.leaving) return false;
    ok = r.ok;
    S.lastAction = kind + " " + (r.ok ? "ok" : r.body.code || r.status);
    if (r.ok && (kind === "next" || kind === "recall") && r.body && r.body.number) {
      S.state = Object.assign({}, S.state, { ticket: r.body });
      if (r.body.repeated) Q.say($("note"), () => t("operator.repeated", { number: r.body.number }));
      drawDesk();
    }
    if (!r.ok) Q.say($("error"), () => Q.errorText(r));
    if (r.ok && kind === "sign-out") {
      S.busy = false;
      const left = S.window;
      await showChoose(() => t("operator.signed_out", { n: left }));
      return true;
    }
    await refreshDesk();
  } finally {
    S.busy = false;
    if (S.screen === "desk") {
      drawButtons();
      // The button pressed was disabled meanwhile: give focus back.
      if (focused && document.body.contains(focused) && !focused.disabled && document.activeElement !== focused && !document.querySelector("dialog[open]")) focused.focus();
      else if (document.activeElement === document.body) $("next").focus();
    }
  }
  return ok;
}

function next() {
  const tk = current();
  return act("next", { current: tk ? tk.number : "" });
}

// ---- dialogs ----

function openDialog(d, focus) {
  d.querySelectorAll(".error").forEach((e) => Q.say(e));
  d.showModal();
  if (focus) focus.focus();
}

function radio(name, value, label, checked) {
  const l = Q.el("label", "radio");
  const i = Q.el("input");
  i.type = "radio";
  i.name = name;
  i.value = value;
  i.checked = !!checked;
  l.append(i, Q.el("span", "", label));
  return l;
}

function openTransfer() {
  const tk = current();
  if (!tk || S.busy) return;
  $("transfer-title").textContent = t("operator.transfer.title", { number: tk.number });
  $("transfer-filter").value = "";
  const box = $("transfer-services");
  const groups = S.cat.groups.map((g) => {
    const div = Q.el("div", "group");
    div.dataset.group = g.id;
    const h = Q.el("h3", "", Q.name(g.name, g.id));
    h.id = "tg-" + g.id;
    div.setAttribute("role", "group");
    div.setAttribute("aria-labelledby", h.id);
    div.append(h);
    for (const s of S.cat.services.filter((x) => x.group === g.id)) {
      const l = radio("transfer-service", s.id, Q.name(s.name, s.id), false);
      l.dataset.service = s.id;
      l.dataset.search = [s.name.uk, s.name.en, g.name.uk, g.name.en, s.id].join(" ").toLowerCase();
      if (s.id === tk.service) l.append(Q.el("span", "mark", t("operator.transfer.now")));
      div.append(l);
    }
    return div;
  });
  const keep = radio("transfer-service", "", t("operator.transfer.same"), true);
  keep.classList.add("keep");
  box.replaceChildren(keep, ...groups);
  const sel = $("transfer-window");
  const any = Q.el("option", "", t("operator.transfer.any_window"));
  any.value = "";
  sel.replaceChildren(any, ...S.windows.filter((w) => w.window !== S.window).map((w) => {
    const o = Q.el("option", "", w.operator_name || w.operator
      ? t("operator.transfer.window_who", { n: w.window, name: w.operator_name || w.operator })
      : t("operator.window_n", { n: w.window }));
    o.value = w.window;
    return o;
  }));
  openDialog($("transfer-dialog"), $("transfer-filter"));
}

function filterServices() {
  const q = $("transfer-filter").value.trim().toLowerCase();
  $("transfer-services").querySelectorAll(".group").forEach((g) => {
    let shown = 0;
    g.querySelectorAll("label.radio").forEach((l) => {
      const hit = !q || l.dataset.search.includes(q);
      l.hidden = !hit;
      if (hit) shown++;
    });
    g.hidden = shown === 0;
  });
}

async function doTransfer() {
  const svc = ($("transfer-services").querySelector("input:checked") || {}).value || "";
  const win = Number($("transfer-window").value) || 0;
  if (!svc && !win) { Q.say($("transfer-error"), () => t("operator.transfer.choose")); return; }
  const body = {};
  if (svc) body.service = svc;
  if (win) body.window = win;
  $("transfer-dialog").close();
  await act("transfer", body);
}

function openPause() {
  if (S.busy) return;
  const box = $("pause-reasons");
  box.replaceChildren(...reasons().map((r, i) => radio("pause-reason", r.id, r.name, i === 0)));
  openDialog($("pause-dialog"), box.querySelector("input"));
}

async function doPause() {
  const r = ($("pause-reasons").querySelector("input:checked") || {}).value;
  if (!r) { Q.say($("pause-error"), () => t("operator.pause.choose")); return; }
  $("pause-dialog").close();
  await act("pause", { reason: r });
}

function openPriority(tk) {
  if (!tk || S.busy || !priorities().length) return;
  S.dialogTicket = tk;
  $("priority-title").textContent = t("operator.priority.title", { number: tk.number });
  const box = $("priority-levels");
  const now = priorities().find((p) => p.id === tk.priority || p.level === tk.priority);
  box.replaceChildren(radio("priority-level", "", t("operator.priority.none"), !now),
    ...priorities().map((p) => radio("priority-level", p.id, Q.name(p.name, p.id), now && now.id === p.id)));
  openDialog($("priority-dialog"), box.querySelector("input:checked"));
}

async function doPriority() {
  const tk = S.dialogTicket;
  const level = ($("priority-levels").querySelector("input:checked") || {}).value || "";
  if (!tk || S.busy) return;
  S.busy = true;
  drawButtons();
  try {
    const r = await Q.api("POST", `/api/v1/tickets/${dayOf(tk)}/${encodeURIComponent(tk.number)}/priority`, { priority: level });
    if (r.leaving) return;
    S.lastAction = "priority " + (r.ok ? "ok" : r.body.code || r.status);
    if (!r.ok) { Q.say($("priority-error"), () => Q.errorText(r)); return; }
    $("priority-dialog").close();
  } finally {
    S.busy = false;
    drawButtons();
  }
  await refreshDesk();
}

// ---- keys ----

function onKey(e) {
  if (e.ctrlKey || e.altKey || e.metaKey || S.screen !== "desk") return;
  if (document.querySelector("dialog[open]")) return;
  const target = e.target;
  if (target && target.closest && target.closest("input, textarea, select, [contenteditable]")) return;
  const b = [...document.querySelectorAll(`#desk button[data-key="${e.code}"]`)].find((x) => !x.hidden);
  if (!b) return;
  e.preventDefault();
  if (e.repeat || b.disabled) return;
  b.click();
}

// ---- start ----

async function main() {
  await I18N.load();
  Q.initLang();
  I18N.apply();
  const me = await Q.api("GET", "/api/v1/me");
  if (me.leaving) return;
  if (!me.ok) { $("loading").textContent = Q.errorText(me); return; }
  S.me = me.body;
  const [office, cat] = await Promise.all([Q.api("GET", "/api/v1/office"), Q.api("GET", "/api/v1/services")]);
  if (office.ok) S.office = office.body;
  if (cat.ok) S.cat = { groups: cat.body.groups || [], services: cat.body.services || [] };

  $("lang").addEventListener("click", () => {
    Q.switchLang();
    drawWhere();
    if (S.screen === "desk") drawDesk(); else if (S.screen === "choose") drawWindows();
  });
  $("logout").addEventListener("click", async () => {
    if (S.window) await Q.api("POST", `/api/v1/windows/${S.window}/sign-out`);
    await Q.api("POST", "/api/v1/logout");
    location.assign("/login");
  });
  $("next").addEventListener("click", next);
  $("recall").addEventListener("click", () => act("recall"));
  $("came").addEventListener("click", () => act("came"));
  $("finish").addEventListener("click", () => act("finish"));
  $("noshow").addEventListener("click", () => act("no-show"));
  $("resume").addEventListener("click", () => act("resume"));
  $("signout").addEventListener("click", () => act("sign-out"));
  $("transfer").addEventListener("click", openTransfer);
  $("pause").addEventListener("click", openPause);
  $("transfer-filter").addEventListener("input", filterServices);
  $("transfer-go").addEventListener("click", doTransfer);
  $("transfer-cancel").addEventListener("click", () => $("transfer-dialog").close());
  $("pause-go").addEventListener("click", doPause);
  $("pause-cancel").addEventListener("click", () => $("pause-dialog").close());
  $("priority-go").addEventListener("click", doPriority);
  $("priority-cancel").addEventListener("click", () => $("priority-dialog").close());
  document.addEventListener("keydown", onKey);

  await refreshWindows();
  const mine = S.windows.find((w) => w.operator === S.me.name && w.state !== "closed");
  if (mine) await enterDesk(mine.window); else await showChoose();

  S.stream = Q.live("/api/v1/stream", "change", (d) => {
    if (S.screen === "desk") {
      if (!d.windows || d.queues || d.windows.includes(S.window)) refreshDesk();
      else if (d.windows.length) refreshWindows();
    } else if (S.screen === "choose") {
      refreshWindows();
    }
  }, () => {
    if (S.screen === "desk") { refreshDesk(); refreshWindows(); } else if (S.screen === "choose") refreshWindows();
  }, POLL_MS, (up) => { $("conn-text").hidden = up; });

  setInterval(() => { if (S.screen === "desk") { drawTimer(); tickQueue(); } }, 1000);
}

// For tests and the technician's console: what the desk shows, and the
// page's clock moved forward.
window.desk = {
  state() {
    const tk = current();
    return {
      screen: S.screen, window: S.window, busy: S.busy, lastAction: S.lastAction,
      ticket: tk ? tk.number : "", ticketState: tk ? tk.state : "", windowState: S.state ? S.state.state : "",
      queue: S.queue.map((e) => e.number), streamUp: !!(S.stream && S.stream.up),
      error: ($("error").textContent || $("choose-error").textContent),
    };
  },
  advance(ms) { Q.clock.offset += ms; if (S.screen === "desk") { drawTimer(); tickQueue(); } },
};

main();
