"use strict";
// The touch kiosk: group → service → take ticket → the number. All text
// comes from the catalogue (/i18n.json) and the service catalogue.
const $ = (id) => document.getElementById(id);
const PAGE = 6;            // services per page: no scrolling to reach a target
const RESULT_MS = 10000;   // the ticket screen's time before going home
let cat = null;
let busy = false;          // one ticket per tap, however fast the taps
let homeTimer = null;

const name = (x) => (x.name[I18N.lang] || x.name.uk);
const t = (k, a) => I18N.t(k, a);

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function button(cls, text, onClick) {
  const b = el("button", cls, text);
  b.type = "button";
  b.addEventListener("click", onClick);
  return b;
}

function show(...children) {
  clearTimeout(homeTimer);
  $("screen").replaceChildren(...children);
}

async function loadCatalogue() {
  try {
    const r = await fetch("/api/v1/services", { cache: "no-store" });
    if (!r.ok) throw new Error(r.status);
    cat = await r.json();
    $("office").textContent = name(cat.office);
    // A printer that cannot print is said plainly, before the visitor
    // chooses: the number will be on the screen instead.
    $("notice").textContent = cat.can_print ? "" : t("kiosk.no_printer");
    $("notice").hidden = cat.can_print;
  } catch (e) {
    $("notice").textContent = t("kiosk.no_catalogue");
    $("notice").hidden = false;
  }
}

function queueOf(groupId) {
  return (cat.queues || []).find((q) => q.group === groupId) || { waiting: 0, wait_min: 0 };
}

async function home() {
  await loadCatalogue();
  if (!cat) { show(el("h1", "", t("kiosk.no_catalogue"))); return; }
  const tiles = el("div", "tiles");
  for (const g of cat.groups) {
    const b = button("tile", "", () => group(g, 0));
    b.append(el("span", "prefix", g.prefix), el("span", "", name(g)));
    tiles.appendChild(b);
  }
  show(el("h1", "", t("kiosk.choose_group")), tiles);
}

function group(g, page) {
  const services = cat.services.filter((s) => s.group === g.id);
  const pages = Math.max(1, Math.ceil(services.length / PAGE));
  const list = el("div", "list");
  for (const s of services.slice(page * PAGE, page * PAGE + PAGE)) {
    list.appendChild(button("item", name(s), () => confirmService(g, s)));
  }
  const nav = el("div", "nav");
  nav.appendChild(button("", t("kiosk.back"), home));
  if (pages > 1) {
    nav.appendChild(el("span", "center", t("kiosk.page", { n: page + 1, of: pages })));
    const prev = button("", t("kiosk.prev"), () => group(g, page - 1));
    const next = button("", t("kiosk.next"), () => group(g, page + 1));
    prev.disabled = page === 0;
    next.disabled = page === pages - 1;
    nav.append(prev, next);
  }
  show(el("h1", "", name(g)), list, nav);
}

function confirmService(g, s) {
  const q = queueOf(g.id);
  const facts = el("div", "facts");
  facts.append(el("div", "", t("kiosk.ahead", { n: q.waiting })));
  if (q.waiting > 0) facts.append(el("div", "", t("kiosk.wait", { n: q.wait_min })));
  const take = button("primary", t("kiosk.take"), () => takeTicket(s));
  const nav = el("div", "nav");
  nav.appendChild(button("", t("kiosk.back"), () => group(g, 0)));
  show(el("h1", "", name(s)), facts, take, nav);
}

async function takeTicket(s) {
  if (busy) return;
  busy = true;
  show(el("p", "center", t("kiosk.printing")));
  try {
    const r = await fetch("/api/v1/tickets", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ service: s.id }),
    });
    const body = await r.json().catch(() => ({}));
    if (r.ok) result(body);
    else failure(body.code === "offline" ? "kiosk.error.offline" : "kiosk.error.generic");
  } catch (e) {
    failure("kiosk.error.generic");
  } finally {
    busy = false;
  }
}

function result(tk) {
  const parts = [el("p", "center", t("kiosk.your_number")), el("div", "number", tk.number)];
  if (tk.printed) parts.push(el("p", "center", t("kiosk.take_paper")));
  else parts.push(el("p", "warn", t("kiosk.not_printed")));
  parts.push(button("secondary", t("kiosk.done"), home));
  show(...parts);
  homeTimer = setTimeout(home, RESULT_MS);
}

function failure(key) {
  show(el("p", "warn", t(key)), button("secondary", t("kiosk.done"), home));
  homeTimer = setTimeout(home, RESULT_MS);
}

async function main() {
  await I18N.load();
  $("lang").addEventListener("click", () => {
    I18N.lang = I18N.lang === "uk" ? "en" : "uk";
    $("lang").textContent = t("lang.switch");
    home();
  });
  $("lang").textContent = t("lang.switch");
  I18N.apply();
  home();
}
main();
