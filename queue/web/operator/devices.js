"use strict";
// The supervisors' devices page: the alerts on top (paper near end or
// out, a device at fault, a terminal without its link, events a terminal
// could not deliver), then every terminal of the office with its devices,
// each state in words, a sign and a colour, and since when. Live through
// queued's devices stream (GET /api/v1/devices/stream), polling while it
// is down. Times run on the page's clock (Q.now), which tests move.
//
// Cards are updated in place, keyed by terminal id, so a redraw neither
// jumps the scroll nor takes the focus.

const $ = (id) => document.getElementById(id);
const t = (k, a) => I18N.t(k, a);
const POLL_MS = 5000;
const SIGN = { ok: "✓", connected: "✓", warning: "!", fault: "✖", offline: "✖", stopped: "■", starting: "…", unknown: "?" };
const URGENT = ["paper_out", "device_fault", "terminal_offline"];

const S = {
  me: null,
  zone: undefined, // the office's time zone
  data: { terminals: [], alerts: [], states: {} },
  cards: new Map(), // terminal id → {el, h3, badge, meta, body, rows}
  stream: null,
  updates: 0,
};

const refresh = Q.coalesce(async () => {
  const r = await Q.api("GET", "/api/v1/devices");
  if (r.leaving) return;
  if (!r.ok) { Q.say($("error"), () => Q.errorText(r)); return; }
  Q.say($("error"));
  S.data = { terminals: r.body.terminals || [], alerts: r.body.alerts || [], states: r.body.states || {} };
  S.updates++;
  draw();
});

function set(el, text) { if (el.textContent !== text) el.textContent = text; }

// word is a state in words from the catalogue, the raw word if unknown.
function word(prefix, state) {
  const key = prefix + state;
  return I18N.texts[key] ? t(key) : state || t(prefix + "unknown");
}

// badge fills a state's badge: a sign (hidden from screen readers: the
// word says it) and the word.
function badge(el, cls, sign, text) {
  el.className = "st " + cls;
  if (el.dataset.text === text && el.dataset.cls === cls) return;
  el.dataset.text = text;
  el.dataset.cls = cls;
  const s = Q.el("span", "", sign);
  s.setAttribute("aria-hidden", "true");
  el.replaceChildren(s, " " + text);
}

// whenParts is a time as the office's clock shows it (with the date when
// it is not today) and how long ago it was; null for none.
function whenParts(iso) {
  const ms = Q.since(iso);
  if (ms === null || Date.parse(iso) <= 0) return null;
  const d = new Date(Date.parse(iso));
  const locale = I18N.lang === "en" ? "en-GB" : "uk-UA";
  const day = (x) => x.toLocaleDateString(locale, { timeZone: S.zone });
  let at = d.toLocaleTimeString(locale, { hour: "2-digit", minute: "2-digit", timeZone: S.zone });
  if (day(d) !== day(new Date(Q.now()))) at = day(d) + " " + at;
  return { at, ago: ago(ms) };
}

// when is "since 10:15 (12 min)".
function when(iso) {
  const p = whenParts(iso);
  return p ? t("devices.since", p) : "";
}

function ago(ms) {
  const m = Math.max(0, Math.floor(ms / 60000));
  if (m < 1) return t("devices.ago.now");
  if (m < 60) return t("devices.ago.min", { n: m });
  const h = Math.floor(m / 60);
  if (h < 48) return t("devices.ago.hours", { h, m: m % 60 });
  return t("devices.ago.days", { n: Math.floor(h / 24) });
}

function alertWhere(a) {
  return a.device ? t("devices.alert.where_device", { terminal: a.terminal, device: a.device }) : a.terminal;
}

function alertDetail(a) {
  if (a.kind === "terminal_offline") return a.detail === "stopped" ? t("devices.alert.stopped") : "";
  return a.detail || "";
}

function drawAlerts() {
  const list = S.data.alerts;
  set($("alerts-count"), t("devices.alerts.count", { n: list.length }));
  $("no-alerts").hidden = list.length > 0;
  $("alerts-scroll").hidden = list.length === 0;
  const items = list.map((a) => {
    const li = Q.el("li", URGENT.includes(a.kind) ? "urgent" : "soon");
    li.dataset.kind = a.kind;
    li.dataset.terminal = a.terminal;
    if (a.device) li.dataset.device = a.device;
    const b = Q.el("span");
    badge(b, a.kind, URGENT.includes(a.kind) ? "✖" : "!", word("devices.alert.", a.kind));
    li.append(b, Q.el("span", "where", alertWhere(a)), Q.el("span", "when", when(a.since)), Q.el("p", "detail", alertDetail(a)));
    li.whenEl = li.children[2];
    li.since = a.since;
    return li;
  });
  $("alerts").replaceChildren(...items);
}

function card(id) {
  let c = S.cards.get(id);
  if (c) return c;
  const el = Q.el("section", "term");
  el.dataset.terminal = id;
  const hid = "term-" + S.cards.size;
  el.setAttribute("aria-labelledby", hid);
  const h3 = Q.el("h3");
  h3.id = hid;
  const name = Q.el("span", "tid", id);
  const b = Q.el("span");
  h3.append(name, b);
  const meta = Q.el("p", "meta");
  const table = Q.el("table");
  const head = Q.el("thead");
  const hr = Q.el("tr");
  for (const k of ["devices.col.device", "devices.col.state", "devices.col.detail", "devices.col.since"]) {
    const th = Q.el("th", "", t(k));
    th.scope = "col";
    th.dataset.i18n = k;
    hr.append(th);
  }
  head.append(hr);
  const body = Q.el("tbody");
  table.append(head, body);
  const none = Q.el("p", "nodevices", t("devices.no_devices"));
  none.dataset.i18n = "devices.no_devices";
  el.append(h3, meta, table, none);
  c = { el, h3, badge: b, meta, table, body, none, rows: new Map() };
  S.cards.set(id, c);
  return c;
}

function metaText(tm) {
  const parts = [];
  if (tm.roles && tm.roles.length) parts.push(tm.roles.map((r) => word("devices.role.", r)).join(", "));
  if (tm.version) parts.push(t("devices.version", { v: tm.version }));
  const seen = !tm.connected && whenParts(tm.last_seen);
  if (seen) parts.push(t("devices.last_seen", seen));
  if (tm.outbox && tm.outbox.events > 0) parts.push(t("devices.outbox", { n: tm.outbox.events }));
  return parts.join(" · ");
}

function deviceRow(c, d) {
  let r = c.rows.get(d.name);
  if (!r) {
    const tr = Q.el("tr");
    tr.dataset.device = d.name;
    const name = Q.el("td", "dname", d.name);
    const st = Q.el("td", "dstate");
    const b = Q.el("span");
    st.append(b);
    const detail = Q.el("td", "ddetail");
    const text = Q.el("span");
    const err = Q.el("span", "lasterr");
    detail.append(text, err);
    const since = Q.el("td", "dsince");
    tr.append(name, st, detail, since);
    r = { tr, badge: b, text, err, since };
    c.rows.set(d.name, r);
  }
  r.d = d;
  badge(r.badge, d.state || "unknown", SIGN[d.state] || "?", word("devices.state.", d.state));
  set(r.text, d.detail || "");
  set(r.err, d.last_error ? t("devices.last_error", { error: d.last_error }) : "");
  r.err.hidden = !d.last_error;
  set(r.since, when(d.since));
  return r.tr;
}

function drawTerminals() {
  const filter = $("filter").value;
  const seen = new Set();
  const order = [];
  for (const tm of S.data.terminals) {
    seen.add(tm.id);
    const c = card(tm.id);
    c.tm = tm;
    const trouble = tm.alerts > 0 || !tm.connected;
    c.el.classList.toggle("trouble", trouble);
    c.el.dataset.state = tm.state;
    badge(c.badge, tm.state, SIGN[tm.state] || "?", word("devices.terminal.", tm.state) + (tm.since ? " " + when(tm.since) : ""));
    set(c.meta, metaText(tm));
    const names = new Set();
    const rows = (tm.devices || []).map((d) => { names.add(d.name); return deviceRow(c, d); });
    for (const [n, r] of c.rows) if (!names.has(n)) { r.tr.remove(); c.rows.delete(n); }
    const same = c.body.children.length === rows.length && rows.every((tr, i) => c.body.children[i] === tr);
    if (!same) c.body.replaceChildren(...rows);
    c.table.hidden = rows.length === 0;
    c.none.hidden = rows.length > 0;
    c.el.hidden = filter === "trouble" && !trouble;
    order.push(c.el);
  }
  for (const [id, c] of S.cards) if (!seen.has(id)) { c.el.remove(); S.cards.delete(id); }
  const box = $("terms");
  const same = box.children.length === order.length && order.every((el, i) => box.children[i] === el);
  if (!same) box.replaceChildren(...order);
  const st = S.data.states;
  set($("summary"), t("devices.summary", { connected: st.connected || 0, offline: st.offline || 0, stopped: st.stopped || 0 }));
}

function draw() { drawAlerts(); drawTerminals(); }

// tick moves the "since" texts on with the page's clock.
function tick() {
  for (const li of $("alerts").children) set(li.whenEl, when(li.since));
  for (const c of S.cards.values()) {
    if (!c.tm) continue;
    const tm = c.tm;
    badge(c.badge, tm.state, SIGN[tm.state] || "?", word("devices.terminal.", tm.state) + (tm.since ? " " + when(tm.since) : ""));
    set(c.meta, metaText(tm));
    for (const r of c.rows.values()) set(r.since, when(r.d.since));
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
  const office = await Q.api("GET", "/api/v1/office");
  if (office.ok && office.body.office && office.body.office.timezone) S.zone = office.body.office.timezone;

  $("lang").addEventListener("click", () => { Q.switchLang(); draw(); });
  $("filter").addEventListener("change", drawTerminals);

  await refresh();
  S.stream = Q.live("/api/v1/devices/stream", "devices", () => refresh(), () => refresh(), POLL_MS,
    (up) => { $("conn-text").hidden = up; });
  setInterval(tick, 1000);
}

window.devicesPage = {
  state() {
    return {
      terminals: S.data.terminals.map((tm) => ({ id: tm.id, state: tm.state, devices: (tm.devices || []).map((d) => d.name + "=" + d.state) })),
      alerts: S.data.alerts.map((a) => a.kind + ":" + a.terminal + (a.device ? "/" + a.device : "")),
      streamUp: !!(S.stream && S.stream.up), updates: S.updates,
    };
  },
  advance(ms) { Q.clock.offset += ms; tick(); },
};

main();
