"use strict";
// The public status page: for every service group, how many wait, the
// estimated wait and how many windows are open, with the time of the data.
// No sign-in and nothing personal. Live through /api/v1/public/stream;
// while that is down, it reads /api/v1/public/status every 30 s and says
// the data may be old.

const $ = (id) => document.getElementById(id);
const t = (k, a) => I18N.t(k, a);
const POLL_MS = 30000;

const S = { data: null, up: null, failed: false, updates: 0 };

function name(x, fallback) {
  return (x && (x[I18N.lang] || x.uk)) || fallback || "";
}

function timeOf(iso) {
  const d = new Date(iso || "");
  if (isNaN(d)) return "";
  const tz = S.data && S.data.office && S.data.office.timezone;
  const opts = { hour: "2-digit", minute: "2-digit", second: "2-digit" };
  try {
    return d.toLocaleTimeString(I18N.lang === "en" ? "en-GB" : "uk-UA", tz ? Object.assign({ timeZone: tz }, opts) : opts);
  } catch (e) {
    return d.toLocaleTimeString(undefined, opts);
  }
}

function fact(label, value) {
  const div = document.createElement("div");
  const dt = document.createElement("dt");
  dt.textContent = label;
  const dd = document.createElement("dd");
  dd.textContent = value;
  div.append(dt, dd);
  return div;
}

function draw() {
  const d = S.data;
  if (!d) return;
  const office = name(d.office && d.office.name, "");
  $("office").textContent = office || t("status.title");
  document.title = office ? t("status.title_of", { office }) : t("status.title");
  $("open").textContent = typeof d.open_windows === "number" ? t("status.open_windows", { n: d.open_windows }) : "";
  $("at").textContent = d.at ? t("status.at", { time: timeOf(d.at) }) : "";
  const groups = d.groups || [];
  $("groups").replaceChildren(...groups.map((g) => {
    const li = document.createElement("li");
    li.className = "group";
    li.dataset.group = g.group;
    const h = document.createElement("h2");
    const p = document.createElement("span");
    p.className = "prefix";
    p.textContent = g.prefix || "";
    const n = document.createElement("span");
    n.textContent = name(g.name, g.group);
    h.append(p, n);
    const dl = document.createElement("dl");
    const open = Number(g.windows_open) || 0;
    dl.append(
      fact(t("status.waiting"), String(g.waiting || 0)),
      fact(t("status.wait"), g.waiting && open ? t("status.minutes", { n: g.wait_min || 0 }) : "—"),
      fact(t("status.windows_open"), String(open)));
    li.append(h, dl);
    if (!open) {
      const c = document.createElement("p");
      c.className = "closed";
      c.textContent = t("status.no_windows");
      li.append(c);
    }
    return li;
  }));
  $("empty").hidden = groups.length > 0;
  if (!groups.length) $("empty").textContent = t("status.no_groups");
}

function drawConn() {
  const down = S.up === false || S.failed;
  const at = S.data && S.data.at ? timeOf(S.data.at) : "";
  $("conn-text").hidden = !down;
  $("conn-text").textContent = down ? (at ? t("status.stale", { time: at }) : t("status.offline")) : "";
}

function take(d) {
  if (!d || !Array.isArray(d.groups)) return;
  S.data = d;
  S.updates++;
  draw();
  drawConn();
}

async function poll() {
  try {
    const r = await fetch("/api/v1/public/status", { cache: "no-store", headers: { Accept: "application/json" } });
    if (!r.ok) throw new Error(r.status);
    S.failed = false;
    take(await r.json());
  } catch (e) {
    S.failed = true;
    drawConn();
  }
}

function live() {
  let es = null, timer = null, retry = null;
  const startPolling = () => { if (!timer) timer = setInterval(poll, POLL_MS); };
  const connect = () => {
    retry = null;
    es = new EventSource("/api/v1/public/stream");
    es.addEventListener("open", () => {
      S.up = true;
      if (timer) { clearInterval(timer); timer = null; }
      poll();
    });
    es.addEventListener("status", (e) => {
      let d = null;
      try { d = JSON.parse(e.data); } catch (err) { poll(); return; }
      S.failed = false;
      take(d);
    });
    es.addEventListener("error", () => {
      S.up = false;
      drawConn();
      startPolling();
      if (es.readyState === EventSource.CLOSED && !retry) retry = setTimeout(connect, POLL_MS);
    });
  };
  connect();
}

async function main() {
  await I18N.load();
  const p = new URLSearchParams(location.search).get("lang");
  let saved = null;
  try { saved = localStorage.getItem("cherga.lang"); } catch (e) { /* private mode */ }
  I18N.lang = (p || saved) === "en" ? "en" : "uk";
  I18N.apply();
  $("lang").addEventListener("click", () => {
    I18N.lang = I18N.lang === "uk" ? "en" : "uk";
    try { localStorage.setItem("cherga.lang", I18N.lang); } catch (e) { /* private mode */ }
    I18N.apply();
    draw();
    drawConn();
  });
  await poll();
  live();
}

// For tests: what the page shows.
window.statusPage = {
  state() {
    return {
      updates: S.updates, up: S.up === true, at: S.data ? S.data.at : "",
      groups: S.data ? (S.data.groups || []).map((g) => ({ group: g.group, waiting: g.waiting, windows_open: g.windows_open })) : [],
    };
  },
};

main();
