"use strict";
// The city's public status page: every centre, open or not, how many wait
// in each service group and how long, how many windows are open, and how
// fresh the centre's data is. Reads /api/v1/city/status every 5 s on the
// page clock (clock.js: a test holds and advances it). No sign-in and
// nothing personal.

const $ = (id) => document.getElementById(id);
const t = (k, a) => I18N.t(k, a);
const POLL_MS = 5000;

// polls counts the answers taken, for tests and for the curious.
const S = { data: null, failed: false, polls: 0 };
window.cityPage = S;

function name(x, fallback) {
  return (x && (x[I18N.lang] || x.uk)) || fallback || "";
}

function timeOf(iso) {
  const d = new Date(iso || "");
  if (isNaN(d)) return "";
  const tz = S.data && S.data.timezone;
  const opts = { hour: "2-digit", minute: "2-digit", second: "2-digit" };
  const locale = I18N.lang === "en" ? "en-GB" : "uk-UA";
  try {
    return d.toLocaleTimeString(locale, tz ? Object.assign({ timeZone: tz }, opts) : opts);
  } catch (e) {
    return d.toLocaleTimeString(locale, opts);
  }
}

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function waitText(g, o) {
  return g.waiting && o.windows_open ? t("city.minutes", { n: g.wait_min || 0 }) : "—";
}

function officeCard(o) {
  const li = el("li", "office" + (o.stale ? " stale" : ""));
  li.dataset.office = o.id;
  li.append(el("h2", "", name(o.name, o.id)));
  if (o.reported) {
    const st = el("p", "state");
    st.append(el("span", "badge " + (o.open ? "open" : "closed"), t(o.open ? "city.open" : "city.closed")),
      el("span", "windows", t("city.windows_open", { n: Number(o.windows_open) || 0 })));
    li.append(st);
  }
  const groups = o.groups || [];
  if (groups.length) {
    const table = el("table");
    const head = el("thead");
    const hr = el("tr");
    for (const [k, cls] of [["city.group", "g"], ["city.waiting", "n"], ["city.wait", "w"]]) {
      const th = el("th", cls, t(k));
      th.scope = "col";
      hr.append(th);
    }
    head.append(hr);
    const body = el("tbody");
    for (const g of groups) {
      const tr = el("tr");
      tr.dataset.group = g.id;
      const th = el("th", "", name(g.name, g.id));
      th.scope = "row";
      tr.append(th, el("td", "waiting", String(g.waiting || 0)), el("td", "wait", waitText(g, o)));
      body.append(tr);
    }
    table.append(head, body);
    li.append(table);
  } else if (o.reported) {
    li.append(el("p", "fresh", t("city.nobody")));
  }
  if (!o.reported) {
    li.append(el("p", "note", t("city.never")));
  } else if (o.stale) {
    li.append(el("p", "note", t("city.stale", { time: timeOf(o.status_at) })));
  } else {
    li.append(el("p", "fresh", t("city.updated", { time: timeOf(o.status_at) })));
  }
  return li;
}

function draw() {
  const d = S.data;
  if (!d) return;
  const city = name(d.name, "");
  document.title = city ? t("city.title") + " — " + city : t("city.title");
  const offices = d.offices || [];
  $("offices").replaceChildren(...offices.map(officeCard));
  const open = offices.filter((o) => o.open && !o.stale).length;
  const waiting = offices.reduce((n, o) => n + (Number(o.waiting) || 0), 0);
  $("summary").textContent = offices.length ? t("city.summary", { open, n: offices.length, waiting }) : "";
  $("empty").hidden = offices.length > 0;
  if (!offices.length) $("empty").textContent = t("city.none");
}

function drawConn() {
  $("conn-text").hidden = !S.failed;
  $("conn-text").textContent = S.failed ? t("city.offline") : "";
}

async function poll() {
  try {
    const r = await fetch("/api/v1/city/status", { cache: "no-store", headers: { Accept: "application/json" } });
    if (!r.ok) throw new Error(String(r.status));
    const d = await r.json();
    if (!d || !Array.isArray(d.offices)) throw new Error("bad answer");
    S.data = d;
    S.failed = false;
    S.polls++;
    draw();
  } catch (e) {
    S.failed = true;
  }
  drawConn();
  document.body.dataset.polls = String(S.polls);
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
  pageClock.setInterval(poll, POLL_MS);
}

main();
