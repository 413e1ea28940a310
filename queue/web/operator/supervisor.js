"use strict";
// The supervisor's overview: every window's state in one dense table
// (sorted by number, up to the 320 windows of a large centre), the queue
// of every group beside it, live through queued's event stream. A
// supervisor may sign an operator out of a window.
//
// Rows are updated in place, keyed by window number, so a redraw never
// takes the keyboard focus away from a row's button.

const $ = (id) => document.getElementById(id);
const t = (k, a) => I18N.t(k, a);
const POLL_MS = 5000;
const FIXED_REASONS = ["break", "meeting", "technical", "other"];

const S = {
  me: null,
  office: {},
  cat: { groups: [], services: [] },
  windows: [],
  queues: [],
  rows: new Map(), // window number → {tr, cells, button}
  stream: null,
  signOut: 0,      // the window the confirmation is for
};

function reasonName(id) {
  const list = S.office.pause_reasons;
  if (Array.isArray(list)) {
    const r = list.find((x) => x.id === id);
    if (r) return Q.name(r.name, id);
  }
  return FIXED_REASONS.includes(id) ? t("operator.pause." + id) : id || "";
}

function groupName(id) {
  const g = S.cat.groups.find((x) => x.id === id);
  return g ? Q.name(g.name, id) : id;
}

function windowsOf(body) {
  const list = Array.isArray(body) ? body : (body && body.windows) || [];
  return list.map((w) => (typeof w === "number" ? { window: w, state: "closed" } : w))
    .sort((a, b) => a.window - b.window);
}

const refreshWindows = Q.coalesce(async () => {
  const r = await Q.api("GET", "/api/v1/windows");
  if (r.leaving) return;
  if (!r.ok) { Q.say($("error"), () => Q.errorText(r)); return; }
  S.windows = windowsOf(r.body);
  drawWindows();
});

const refreshQueues = Q.coalesce(async () => {
  const r = await Q.api("GET", "/api/v1/queues");
  if (r.leaving) return;
  if (!r.ok) { Q.say($("error"), () => Q.errorText(r)); return; }
  S.queues = Array.isArray(r.body) ? r.body : r.body.queues || [];
  drawQueues();
});

function stateText(w) {
  if (w.state === "paused") return w.reason ? t("supervisor.paused_for", { reason: reasonName(w.reason) }) : t("supervisor.state.paused");
  return t(w.state === "open" ? "supervisor.state.open" : "supervisor.state.closed");
}

function ticketText(w) {
  const tk = w.ticket;
  if (!tk || !tk.number) return "";
  return t(tk.state === "serving" ? "supervisor.ticket.serving" : "supervisor.ticket.called", { number: tk.number });
}

// forHow is how long the window's ticket has been called or served, or how
// long the window has been paused.
function forHow(w) {
  const tk = w.ticket;
  let ms = null;
  if (tk && tk.number) ms = Q.since(tk.state === "serving" ? tk.came_at || tk.called_at : tk.called_at);
  else if (w.state === "paused") ms = Q.since(w.since);
  return ms === null ? "" : Q.clockTime(ms);
}

function set(el, text) { if (el.textContent !== text) el.textContent = text; }

function row(n) {
  let r = S.rows.get(n);
  if (r) return r;
  const tr = Q.el("tr");
  tr.dataset.window = n;
  const th = Q.el("th", "num", String(n));
  th.scope = "row";
  const cells = { state: Q.el("td", "state"), operator: Q.el("td", "op"), ticket: Q.el("td", "tk"), for: Q.el("td", "for"), waiting: Q.el("td", "waiting"), action: Q.el("td", "action") };
  const badge = Q.el("span", "badge");
  cells.state.append(badge);
  const button = Q.el("button", "small");
  button.type = "button";
  button.addEventListener("click", () => confirmSignOut(n));
  cells.action.append(button);
  tr.append(th, ...Object.values(cells));
  r = { tr, cells, badge, button };
  S.rows.set(n, r);
  return r;
}

function drawWindows() {
  const filter = $("filter").value;
  const seen = new Set();
  const counts = { open: 0, paused: 0, closed: 0 };
  const order = [];
  for (const w of S.windows) {
    seen.add(w.window);
    counts[w.state in counts ? w.state : "closed"]++;
    const r = row(w.window);
    r.w = w;
    set(r.badge, stateText(w));
    r.badge.className = "badge " + (w.state || "closed");
    set(r.cells.operator, w.operator_name || w.operator || "");
    set(r.cells.ticket, ticketText(w));
    set(r.cells.for, forHow(w));
    set(r.cells.waiting, typeof w.waiting === "number" ? String(w.waiting) : "");
    const who = w.operator_name || w.operator;
    r.button.hidden = !who;
    set(r.button, t("supervisor.sign_out"));
    r.button.setAttribute("aria-label", t("supervisor.sign_out.for", { n: w.window, name: who || "" }));
    r.tr.hidden = !!filter && w.state !== filter;
    order.push(r.tr);
  }
  for (const [n, r] of S.rows) if (!seen.has(n)) { r.tr.remove(); S.rows.delete(n); }
  // Reorder only when the set of windows changed: moving a row would
  // take the focus from its button.
  const body = $("windows");
  const same = body.children.length === order.length && order.every((tr, i) => body.children[i] === tr);
  if (!same) body.replaceChildren(...order);
  set($("summary"), t("supervisor.summary", { open: counts.open, paused: counts.paused, closed: counts.closed }));
}

function tick() {
  for (const r of S.rows.values()) if (r.w) set(r.cells.for, forHow(r.w));
}

function drawQueues() {
  const rows = S.queues.map((q) => {
    const tr = Q.el("tr");
    tr.dataset.group = q.group;
    const th = Q.el("th", "", groupName(q.group));
    th.scope = "row";
    tr.append(th, Q.el("td", "num", String(q.waiting)),
      Q.el("td", "num", q.waiting ? t("operator.minutes", { n: q.wait_min }) : "—"),
      Q.el("td", "num", q.windows_open === undefined ? "" : String(q.windows_open)));
    return tr;
  });
  $("queues").replaceChildren(...rows);
}

function confirmSignOut(n) {
  const r = S.rows.get(n);
  if (!r || !r.w) return;
  S.signOut = n;
  $("signout-text").textContent = t("supervisor.sign_out.text", { n, name: r.w.operator_name || r.w.operator || "" });
  Q.say($("signout-error"));
  $("signout-dialog").showModal();
  $("signout-cancel").focus();
}

async function doSignOut() {
  const n = S.signOut;
  const go = $("signout-go");
  if (!n || go.disabled) return;
  go.disabled = true;
  try {
    const r = await Q.api("POST", `/api/v1/windows/${n}/sign-out`);
    if (r.leaving) return;
    if (!r.ok) { Q.say($("signout-error"), () => Q.errorText(r)); return; }
    $("signout-dialog").close();
    Q.say($("note"), () => t("supervisor.signed_out", { n }));
    await refreshWindows();
  } finally {
    go.disabled = false;
  }
}

async function main() {
  await I18N.load();
  Q.initLang();
  I18N.apply();
  const me = await Q.api("GET", "/api/v1/me");
  if (me.leaving) return;
  if (!me.ok) { Q.say($("error"), () => Q.errorText(me)); return; }
  S.me = me.body;
  $("where").textContent = S.me.display_name || S.me.name || "";
  const [office, cat] = await Promise.all([Q.api("GET", "/api/v1/office"), Q.api("GET", "/api/v1/services")]);
  if (office.ok) S.office = office.body;
  if (cat.ok) S.cat = { groups: cat.body.groups || [], services: cat.body.services || [] };

  $("lang").addEventListener("click", () => { Q.switchLang(); drawWindows(); drawQueues(); });
  $("filter").addEventListener("change", drawWindows);
  $("signout-go").addEventListener("click", doSignOut);
  $("signout-cancel").addEventListener("click", () => $("signout-dialog").close());

  await Promise.all([refreshWindows(), refreshQueues()]);
  const all = () => { refreshWindows(); refreshQueues(); };
  S.stream = Q.live("/api/v1/stream", "change", (d) => {
    if (!d.windows || d.windows.length || d.queues) refreshWindows();
    if (!d.windows || d.queues) refreshQueues();
  }, all, POLL_MS, (up) => { $("conn-text").hidden = up; });
  setInterval(tick, 1000);
}

window.overview = {
  state() {
    return {
      windows: S.windows.map((w) => ({ window: w.window, state: w.state, operator: w.operator || "", ticket: (w.ticket && w.ticket.number) || "" })),
      queues: S.queues, streamUp: !!(S.stream && S.stream.up),
    };
  },
  advance(ms) { Q.clock.offset += ms; tick(); },
};

main();
