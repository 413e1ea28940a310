"use strict";
// The admin page: device status, paper, scans, link and outbox, refreshed
// every few seconds on the page clock (pageclock), and the technician's
// actions. Every text is from the catalogue (i18n.js); every request goes
// to this listener's own API, with the session's CSRF token on a POST.
const Admin = {
  csrf: "",
  required: false,
  view: "status",
  refreshEvery: 3000,
};
const $ = (id) => document.getElementById(id);
const t = (key, args) => I18N.t(key, args);

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

// clip bounds a text from a device or the server, so that one long error
// does not push the page out of the screen.
function clip(s, n) {
  s = String(s || "");
  return s.length > n ? s.slice(0, n - 1) + "…" : s;
}

function clockTime(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  if (isNaN(d)) return "";
  return d.toLocaleTimeString(I18N.lang === "en" ? "en-GB" : "uk-UA", { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

function duration(seconds) {
  seconds = Math.max(0, Math.round(seconds));
  if (seconds < 60) return t("admin.seconds", { n: seconds });
  if (seconds < 3600) return t("admin.minutes", { n: Math.round(seconds / 60) });
  return t("admin.hours", { n: (seconds / 3600).toFixed(1) });
}

async function api(method, path, body) {
  const headers = {};
  if (method !== "GET") {
    headers["Content-Type"] = "application/json";
    if (Admin.csrf) headers["X-CSRF-Token"] = Admin.csrf;
  }
  const r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: "same-origin", cache: "no-store" });
  let data = null;
  try { data = await r.json(); } catch (e) { data = null; }
  return { status: r.status, data };
}

function say(text, bad) {
  const m = $("message");
  m.textContent = text;
  m.classList.toggle("alarm", !!bad);
}

function showView() {
  const signedIn = !Admin.required || Admin.csrf !== "";
  $("login").hidden = signedIn;
  $("status").hidden = !signedIn || Admin.view !== "status";
  $("config-panel").hidden = !signedIn || Admin.view !== "config";
  $("logout").hidden = !Admin.required || !signedIn;
  $("tab-status").setAttribute("aria-pressed", String(Admin.view === "status"));
  $("tab-config").setAttribute("aria-pressed", String(Admin.view === "config"));
}

function pair(dl, key, value, alarm) {
  dl.append(el("dt", "", t(key)));
  const dd = el("dd", alarm ? "alarm" : "", value);
  dl.append(dd);
}

function renderDevices(st) {
  const ul = $("devices");
  ul.replaceChildren();
  for (const d of st.devices) {
    const li = el("li", "device");
    li.dataset.state = d.state;
    li.dataset.name = d.name;
    const head = el("div", "head");
    head.append(el("span", "name", d.name));
    head.append(el("span", "state", t("admin.state." + d.state)));
    if (d.restartable) {
      const b = el("button", "restart", t("admin.restart"));
      b.type = "button";
      b.dataset.device = d.name;
      b.addEventListener("click", () => restart(d.name));
      head.append(b);
    }
    li.append(head);
    const since = t("admin.since", { time: clockTime(d.since) }) + (d.reopens ? " · " + t("admin.reopens", { n: d.reopens }) : "");
    li.append(el("div", "small", d.kind + " · " + d.driver + " · " + since));
    if (d.detail) li.append(el("div", "small", clip(d.detail, 90)));
    if (d.errors && d.errors.length) {
      const last = d.errors[0];
      li.append(el("div", "small alarm", t("admin.last_error", { time: clockTime(last.at), n: d.errors.length }) + " " + clip(last.error, 80)));
    }
    ul.append(li);
  }
}

function renderPaper(st) {
  const p = $("paper");
  if (!st.printer) p.textContent = t("admin.paper.none");
  else if (!st.paper) p.textContent = t("admin.paper.unknown");
  else {
    let s = t("admin.paper.used", { m: st.paper.used_m.toFixed(1) });
    if (st.paper.left_m !== undefined) s += " · " + t("admin.paper.left", { m: st.paper.left_m.toFixed(1), roll: st.paper.roll_m.toFixed(0) });
    p.textContent = s;
  }
  $("test-print").disabled = !st.printer;
  $("test-speaker").disabled = !st.speaker;
}

function renderScans(st) {
  const ol = $("scans");
  ol.replaceChildren();
  if (!st.scans.length) ol.append(el("li", "small", t("admin.scans.none")));
  for (const s of st.scans.slice(0, 6)) {
    const li = el("li");
    li.append(el("span", "", clockTime(s.at)));
    li.append(el("span", "", t("admin.scan.kind." + s.kind)));
    li.append(el("span", "", s.code));
    li.append(el("span", s.result === "error" || s.result === "refused" ? "alarm" : "", t("admin.scan.result." + s.result) + (s.detail ? " (" + clip(s.detail, 24) + ")" : "")));
    ol.append(li);
  }
}

function renderLink(st) {
  const l = st.link, dl = $("link");
  dl.replaceChildren();
  pair(dl, "admin.link.state", t("admin.link.state." + l.state), l.state !== "up");
  if (l.connected_since) pair(dl, "admin.link.connected_since", clockTime(l.connected_since));
  else pair(dl, "admin.link.down_since", clockTime(l.since));
  pair(dl, "admin.link.reconnects", String(l.reconnects));
  if (l.last_error) pair(dl, "admin.link.last_error", clip(l.last_error, 90));
  const o = st.outbox, ob = $("outbox");
  ob.replaceChildren();
  pair(ob, "admin.outbox.events", t("admin.outbox.count", { n: o.events, max: o.max_events }));
  if (o.events > 0) pair(ob, "admin.outbox.oldest", duration(o.oldest_age_seconds));
  if (o.alarm) pair(ob, "admin.outbox.alarm", clip(o.alarm, 90), true);
}

async function refresh() {
  if (Admin.required && !Admin.csrf) return;
  const r = await api("GET", "/api/v1/admin/status").catch(() => null);
  if (!r) { say(t("admin.unreachable"), true); return; }
  if (r.status === 401) { Admin.csrf = ""; showView(); return; }
  if (r.status !== 200 || !r.data) { say(t("admin.failed", { error: r.data ? clip(r.data.error, 90) : r.status }), true); return; }
  const st = r.data;
  $("device").textContent = st.device + " · " + st.version;
  renderDevices(st);
  renderPaper(st);
  renderScans(st);
  renderLink(st);
  document.body.dataset.refreshes = String(Number(document.body.dataset.refreshes || 0) + 1);
}

async function loadConfig() {
  const r = await api("GET", "/api/v1/admin/config").catch(() => null);
  if (r && r.status === 200) $("config").textContent = JSON.stringify(r.data.config, null, 2);
}

// act asks for an action, shows the new status, then says how it went.
async function act(path, doneKey) {
  const r = await api("POST", path, {}).catch(() => null);
  await refresh();
  if (!r) say(t("admin.unreachable"), true);
  else if (r.status >= 200 && r.status < 300) say(t(doneKey));
  else say(t("admin.failed", { error: r.data ? clip(r.data.error, 100) : r.status }), true);
}

function restart(name) { act("/api/v1/admin/devices/" + encodeURIComponent(name) + "/restart", "admin.done.restart"); }

async function login(ev) {
  ev.preventDefault();
  const r = await api("POST", "/admin/login", { password: $("password").value }).catch(() => null);
  $("password").value = "";
  if (r && r.status === 200) {
    Admin.csrf = r.data.csrf;
    say("");
    showView();
    refresh();
    return;
  }
  if (r && r.status === 429) say(t("admin.locked_out", { error: clip(r.data.error, 80) }), true);
  else say(t("admin.wrong_password"), true);
}

async function logout() {
  await api("POST", "/admin/logout", {}).catch(() => null);
  Admin.csrf = "";
  showView();
}

async function start() {
  await I18N.load();
  I18N.apply();
  const s = await api("GET", "/api/v1/admin/session").catch(() => null);
  if (s && s.data) {
    Admin.required = s.data.password_required;
    if (s.data.csrf) Admin.csrf = s.data.csrf;
  }
  $("login").addEventListener("submit", login);
  $("logout").addEventListener("click", logout);
  $("test-print").addEventListener("click", () => act("/api/v1/admin/printer/test", "admin.done.print"));
  $("test-speaker").addEventListener("click", () => act("/api/v1/admin/speaker/test", "admin.done.speaker"));
  $("tab-status").addEventListener("click", () => { Admin.view = "status"; showView(); refresh(); });
  $("tab-config").addEventListener("click", () => { Admin.view = "config"; showView(); loadConfig(); });
  $("lang").addEventListener("click", () => { I18N.lang = I18N.lang === "uk" ? "en" : "uk"; I18N.apply(); refresh(); });
  showView();
  await refresh();
  document.body.dataset.ready = "true";
  pageClock.setInterval(refresh, Admin.refreshEvery);
}

document.addEventListener("DOMContentLoaded", start);
