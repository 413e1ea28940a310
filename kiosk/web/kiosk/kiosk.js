"use strict";
// The touch kiosk, an information terminal: home (the groups, often
// chosen services, search, booking) → a group's page (its subgroups, its
// services in none) → a subgroup's page (its services) → the service:
// what it is, the documents to bring (printed on request), the term, the
// cost, sample forms, the people ahead → the ticket, large, with its QR
// code. Every page is one screen: any service is at most three touches
// from home. Scanned booking codes arrive on /kiosk/ws whatever the
// screen. All text comes from the message catalogue (/i18n.json) and the
// service catalogue; none lives here.
//
// The catalogue (about 260 KB for 400 services) is kept in the page and
// asked for again only by its version: each home screen gets the queue
// lengths and, if the catalogue changed, the new one.
//
// Every timed behaviour (idle question, reset, the ticket screen, notices,
// reconnecting) runs on the page's clock (clock.js): its timers, checked
// against clock.now() on one ticker. A test holds that clock and moves it
// forward instead of waiting, and real time changes nothing meanwhile.
// After each screen is drawn and fitted, main's data-rendered counts up
// and data-size says for which screen size: tests wait on those.

const $ = (id) => document.getElementById(id);
const t = (k, a) => I18N.t(k, a);

const clock = window.pageClock;

const S = {
  cat: null,
  idx: null,           // the catalogue by id, and the search index
  forms: {},           // form id → {ok, pdf, url}: what GET /api/v1/forms says kioskd keeps
  status: { online: true, can_print: true },
  screen: "loading",
  render: null,        // draws the current screen again (language, text size, screen size)
  layouts: [],         // the current screen's fitting, run after it is drawn
  back: null,          // the current screen's "back", for Escape on a keypad
  nav: true,           // the current screen has a "back" button
  shown: {},           // what the screen shows: {group, subgroup, service}
  renders: 0,
  busy: false,         // a ticket is being issued: every other tap waits
  printing: false,     // a list of documents is being printed
  pendingScan: null,   // a scan outcome that arrived while busy
  lastActivity: 0,
  warnSince: 0,        // the idle question is showing since then (0: not)
  ticketUntil: 0,      // the ticket screen goes home then, unless touched
  held: false,         // a finger is on the screen
  toastUntil: 0,
  viewer: null,        // the sample form shown full screen
  modes: { contrast: false, large: false, voice: false },
  audio: null,
  keys: null,          // the screen's own handling of typed keys
};

const TOAST_MS = 8000;

// ---- building blocks ----

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

const name = (x) => (x && x.name && (x.name[I18N.lang] || x.name.uk)) || (x && x.id) || "";
const text = (x) => (x && (x[I18N.lang] || x.uk)) || "";
const serviceById = (id) => S.idx && S.idx.services.get(id);
const groupById = (id) => S.idx && S.idx.groups.get(id);
const portrait = () => innerHeight > innerWidth;
// The smallest text scale a list may shrink to: in large-text mode never
// below the normal size.
const floor = () => (S.modes.large ? 0.8 : 0.75);

function queueOf(groupId) {
  return (S.cat.queues || []).find((q) => q.group === groupId) || { waiting: 0, wait_min: 0 };
}

function clockTime(iso) {
  const d = new Date(iso);
  if (isNaN(d)) return "";
  return d.toLocaleTimeString("uk-UA", { hour: "2-digit", minute: "2-digit", timeZone: S.cat.office.timezone || undefined });
}

// show replaces the screen. build returns its elements; it is called again
// when the language, the text size or the screen's size changes. back is
// the screen's way back (the bottom bar's button, Escape).
function show(screen, build, back, opts) {
  S.screen = screen;
  S.render = build;
  S.back = back || null;
  S.nav = !!back && !(opts && opts.nav === false);
  S.shown = (opts && opts.shown) || {};
  S.keys = null; // booking and search take typed keys after this
  draw();
}

// later registers a fitting to run once the screen's elements are in
// place (they must be laid out to be measured).
function later(fn) {
  S.layouts.push(fn);
}

function draw() {
  const main = $("screen");
  main.dataset.screen = S.screen;
  for (const k of ["group", "subgroup", "service"]) {
    if (S.shown[k]) main.dataset[k] = S.shown[k];
    else delete main.dataset[k];
  }
  S.layouts = [];
  const parts = S.render();
  main.replaceChildren(...parts);
  const slot = $("navslot");
  slot.replaceChildren();
  if (S.nav) slot.append(button("navbtn back", t("kiosk.back"), () => S.back()));
  for (const fn of S.layouts) fn();
  const title = main.querySelector("h1");
  if (title) {
    title.tabIndex = -1;
    title.focus({ preventScroll: true });
  }
  main.dataset.size = innerWidth + "x" + innerHeight;
  main.dataset.rendered = String(++S.renders);
  if (S.modes.voice) speak(screenText());
}

function screenText() {
  const main = $("screen");
  return [...main.querySelectorAll("h1, .say")].map((e) => e.textContent).join(". ");
}

// tiles makes a grid of tiles that fills the rest of the screen; cols are
// the column counts to try, best first.
function tiles(items, cols, cls, fitted) {
  const box = el("div", "grid " + (cls || ""));
  box.append(...items);
  if (fitted !== false) later(() => Fit.fitGrid(box, cols, floor()));
  return box;
}

// Column counts to try for a page of up to eight entries, and for the
// home screen's groups.
const listCols = () => (portrait() ? [1, 2] : [2, 3]);
const groupCols = () => (portrait() ? [2, 1] : [3, 2, 4]);

function serviceTile(s, back) {
  const b = button("tile service", "", () => service(s, back));
  b.dataset.service = s.id;
  b.append(nameSpan(name(s)));
  return b;
}

// nameSpan holds a tile's name; its text in a span of its own, so that a
// name clamped to fewer lines is a box that clips what it holds.
function nameSpan(text) {
  const n = el("span", "name");
  n.append(el("span", "", text));
  return n;
}

// clampedTile is a service's tile whose name shows at most two lines, for
// lists that are paged (search) or extra (often chosen): the service's
// screen shows its whole name. Once it is on the screen, markClamped says
// (data-clamped) whether its name was cut.
function clampedTile(s, back) {
  const b = serviceTile(s, back);
  const n = b.querySelector(".name");
  n.classList.add("clamped");
  n.style.setProperty("--lines", 2);
  return b;
}

function markClamped(tile) {
  const n = tile.querySelector(".name");
  if (n.scrollHeight > n.clientHeight + 1) tile.dataset.clamped = "2";
  else delete tile.dataset.clamped;
}

// ---- the catalogue ----

// loadCatalogue asks for the queue lengths and the kiosk's state, and
// for the catalogue only if the page's copy is not the kiosk's.
async function loadCatalogue() {
  try {
    const have = S.cat ? "?have=" + encodeURIComponent(S.cat.version) : "";
    const r = await fetch("/api/v1/services" + have, { cache: "no-store" });
    if (!r.ok) throw new Error(String(r.status));
    const v = await r.json();
    if (S.cat && v.version === S.cat.version && !v.services) {
      for (const k of ["queues", "popular", "page", "online", "can_print"]) S.cat[k] = v[k];
    } else {
      S.cat = v;
      indexCatalogue();
    }
    checkForms(); // kioskd may have downloaded more since
    setStatus({ online: S.cat.online, can_print: S.cat.can_print });
    $("office").textContent = name(S.cat.office);
    $("voice").hidden = !S.cat.page.speech;
  } catch (e) {
    if (!S.cat) S.cat = null;
  }
}

function indexCatalogue() {
  const c = S.cat;
  for (const k of ["groups", "services", "documents", "forms"]) c[k] = c[k] || [];
  S.idx = {
    groups: new Map(c.groups.map((g) => [g.id, g])),
    services: new Map(c.services.map((s) => [s.id, s])),
    documents: new Map(c.documents.map((d) => [d.id, d])),
    forms: new Map(c.forms.map((f) => [f.id, f])),
    search: ServiceSearch.build(c.services),
  };
}

// checkForms asks kioskd which sample forms it keeps (GET /api/v1/forms;
// it downloads them from queued): a form it does not have is not shown.
async function checkForms() {
  const found = {};
  try {
    const r = await fetch("/api/v1/forms", { cache: "no-store" });
    const v = r.ok ? await r.json() : { forms: [] };
    for (const f of v.forms || []) {
      found[f.id] = { ok: f.cached === true && /^(image\/(png|jpeg)|application\/pdf)/.test(f.type || ""),
        pdf: (f.type || "").startsWith("application/pdf"), url: f.url || "/forms/" + encodeURIComponent(f.id) };
    }
  } catch (e) {
    // None shown until kioskd answers.
  }
  const changed = JSON.stringify(found) !== JSON.stringify(S.forms);
  S.forms = found;
  document.body.dataset.forms = "checked";
  if (changed && S.screen === "service") draw();
}

// groupPage is what a group's page lists: its subgroups that have
// services, then its services in none (or in a subgroup it does not have),
// as kioskd's catalogue orders them (proto.Catalogue.GroupPage).
function groupPage(g) {
  const known = new Set((g.subgroups || []).map((sg) => sg.id));
  const used = new Set();
  const direct = [];
  for (const s of S.cat.services) {
    if (s.group !== g.id) continue;
    if (known.has(s.subgroup)) used.add(s.subgroup);
    else direct.push(s);
  }
  return { subgroups: (g.subgroups || []).filter((sg) => used.has(sg.id)), direct };
}

const subgroupServices = (g, sg) => S.cat.services.filter((s) => s.group === g.id && s.subgroup === sg.id);

// ---- screens ----

async function home() {
  S.ticketUntil = 0;
  await loadCatalogue();
  if (!S.cat) {
    show("nocatalogue", () => [el("h1", "", t("kiosk.no_catalogue"))]);
    return;
  }
  showHome();
}

// showHome draws the home screen from the catalogue the page has.
function showHome() {
  show("home", () => {
    const parts = [el("h1", "", t("kiosk.choose_group"))];
    // The groups, then the other ways to a ticket: search and a booking.
    const ways = [wayTile("search", t("kiosk.search"), () => search(""))];
    if (S.cat.page.bookings) ways.push(wayTile("booking", t("kiosk.have_booking"), booking));
    const groups = tiles([...S.cat.groups.map(groupTile), ...ways], groupCols(), "groups", false);
    const popular = (S.cat.popular || []).map(serviceById).filter(Boolean).slice(0, 4);
    let extra = [];
    if (popular.length) {
      const row = el("div", "grid popular");
      row.style.setProperty("--cols", portrait() ? 2 : popular.length);
      row.append(...popular.map((s) => clampedTile(s, home)));
      extra = [el("h2", "", t("kiosk.popular")), row];
      parts.push(...extra);
    }
    parts.push(groups);
    // The often chosen services only if the groups still fit whole beside
    // them; their names may be clamped (the service's screen has it all).
    later(() => {
      const r = Fit.fitGrid(groups, groupCols(), floor());
      if (extra.length && (r.scale < 1 || r.clamped)) {
        for (const e of extra) e.remove();
        Fit.fitGrid(groups, groupCols(), floor());
      } else if (extra.length) {
        for (const tile of extra[1].children) markClamped(tile);
      }
    });
    return parts;
  });
}

function wayTile(way, label, onClick) {
  const b = button("tile way", "", onClick);
  b.dataset.way = way;
  b.append(nameSpan(label));
  return b;
}

function groupTile(g) {
  const b = button("tile group", "", () => group(g));
  b.dataset.group = g.id;
  if (g.prefix) {
    const p = el("span", "prefix", g.prefix);
    p.setAttribute("aria-hidden", "true");
    b.append(p);
  }
  b.append(nameSpan(name(g)));
  return b;
}

function group(g) {
  const back = () => group(g);
  show("group", () => {
    const page = groupPage(g);
    const entries = [...page.subgroups.map((sg) => subgroupTile(g, sg)), ...page.direct.map((s) => serviceTile(s, back))];
    return [el("h1", "", name(g)), el("p", "say sub", t("kiosk.group_hint")), tiles(entries, listCols(), "entries")];
  }, home, { shown: { group: g.id } });
}

function subgroupTile(g, sg) {
  const b = button("tile subgroup", "", () => subgroup(g, sg));
  b.dataset.subgroup = sg.id;
  const txt = el("span", "text");
  txt.append(nameSpan(name(sg)), el("span", "count", t("kiosk.count", { n: subgroupServices(g, sg).length })));
  const more = el("span", "more", "›");
  more.setAttribute("aria-hidden", "true");
  b.append(txt, more);
  return b;
}

function subgroup(g, sg) {
  const back = () => subgroup(g, sg);
  show("subgroup", () => [el("h1", "", name(sg)), el("p", "sub", name(g)),
    tiles(subgroupServices(g, sg).map((s) => serviceTile(s, back)), listCols(), "entries")],
  () => group(g), { shown: { group: g.id, subgroup: sg.id } });
}

// service is the information terminal's page of one service: its whole
// name, what it is, the documents to bring, the term and the cost, sample
// forms; then the people ahead and "take a ticket". back is the screen
// it was chosen on.
function service(s, back) {
  const g = groupById(s.group) || { id: s.group, name: {} };
  const sg = (g.subgroups || []).find((x) => x.id === s.subgroup);
  back = back || home;
  show("service", () => {
    const q = queueOf(g.id);
    const info = s.info || {};
    const title = el("h1", "svcname", name(s));
    later(() => Fit.fitTitle(title, [2.1, 1.8, 1.55, 1.35, 1.2, 1.05], 3));
    const path = el("p", "sub", sg ? name(g) + " › " + name(sg) : name(g));

    const body = el("div", "infotext");
    if (text(info.description)) body.append(el("p", "desc", text(info.description)));
    const docs = (info.documents || []).map((id) => S.idx.documents.get(id)).filter(Boolean);
    if (docs.length) {
      const list = el("ol", "docs");
      list.append(...docs.map((d) => el("li", "", name(d))));
      body.append(el("h2", "", t("kiosk.info.documents")), list);
    }
    if (text(info.term) || text(info.cost)) {
      const dl = el("dl", "terms");
      if (text(info.term)) dl.append(el("dt", "", t("kiosk.info.term")), el("dd", "", text(info.term)));
      if (text(info.cost)) dl.append(el("dt", "", t("kiosk.info.cost")), el("dd", "", text(info.cost)));
      body.append(dl);
    }
    const forms = (info.forms || []).map((id) => S.idx.forms.get(id)).filter((f) => f && S.forms[f.id] && S.forms[f.id].ok);
    if (forms.length) {
      const row = el("div", "forms");
      row.append(...forms.map(formButton));
      body.append(el("h2", "", t("kiosk.info.forms")), row);
    }
    const panel = el("div", "info");
    panel.append(body);
    const nav = el("div", "infonav");
    nav.hidden = true;
    const prev = button("secondary", t("kiosk.info.prev"), () => turn(-1));
    const label = el("span", "pageno");
    const next = button("secondary", t("kiosk.info.next"), () => turn(1));
    nav.append(prev, label, next);
    let pages = { pages: 1, show() {} };
    let at = 0;
    const turn = (d) => {
      at = Math.max(0, Math.min(pages.pages - 1, at + d));
      pages.show(at);
      prev.disabled = at === 0;
      next.disabled = at === pages.pages - 1;
      label.textContent = t("kiosk.page", { n: at + 1, of: pages.pages });
      panel.dataset.page = String(at);
      if (S.modes.voice && d) speak(label.textContent);
    };
    later(() => {
      if (!body.childElementCount) return;
      pages = Fit.pagedPanel(panel, INFO_SIZES);
      if (pages.pages > 1) {
        nav.hidden = false;
        pages = Fit.pagedPanel(panel, INFO_SIZES.slice(-1)); // the buttons took some of its height
      }
      panel.dataset.pages = String(pages.pages);
      at = 0;
      turn(0);
    });
    const infocol = el("div", "infocol");
    if (body.childElementCount) infocol.append(panel, nav);

    const facts = el("div", "facts say");
    facts.append(el("p", "", t("kiosk.ahead", { n: q.waiting })));
    facts.append(el("p", "", q.waiting > 0 && q.wait_min > 0 ? t("kiosk.wait", { n: q.wait_min }) : t("kiosk.no_wait")));
    if (!S.status.online) facts.append(el("p", "approx", t("kiosk.wait_approx")));
    const buttons = el("div", "svcbuttons");
    if (docs.length && S.status.can_print) {
      const pb = button("secondary printdocs", t("kiosk.print_documents"), () => printDocuments(s, pb));
      buttons.append(pb);
    }
    buttons.append(button("primary take", t("kiosk.take"), () => takeTicket(s)));
    const side = el("div", "side");
    side.append(facts, buttons);
    const box = el("div", "svc");
    box.append(infocol, side);
    return [title, path, box];
  }, back, { shown: { group: g.id, subgroup: s.subgroup || "", service: s.id } });
}

// INFO_SIZES are the sizes (rem) a service's information is shown at: the
// largest that fits the screen.
const INFO_SIZES = [2, 1.8, 1.6, 1.45, 1.3, 1.2];

// formButton shows a sample form small (a picture, or a page marked PDF)
// and full screen on a touch.
function formButton(f) {
  const st = S.forms[f.id];
  const b = button("form", "", () => openForm(f));
  b.dataset.form = f.id;
  b.setAttribute("aria-label", t("kiosk.form.sample") + ": " + name(f));
  if (st.pdf) {
    const icon = el("span", "pdf", "PDF");
    icon.setAttribute("aria-hidden", "true");
    b.append(icon);
  } else {
    const img = el("img");
    img.alt = "";
    img.src = st.url;
    img.addEventListener("error", () => {
      // Listed, answered once, and now gone: shown no more.
      S.forms[f.id] = { ok: false, pdf: false };
      if (S.screen === "service") draw();
    });
    b.append(img);
  }
  b.append(el("span", "", t("kiosk.form.sample")));
  return b;
}

function openForm(f) {
  const st = S.forms[f.id];
  if (!st || !st.ok) return;
  S.viewer = f;
  const body = $("viewer-body");
  const src = st.url;
  if (st.pdf) {
    const frame = el("iframe");
    frame.src = src + "#toolbar=0&navpanes=0";
    frame.title = name(f);
    body.replaceChildren(frame);
  } else {
    const img = el("img");
    img.src = src;
    img.alt = name(f);
    body.replaceChildren(img);
  }
  $("viewer-title").textContent = name(f);
  $("viewer").hidden = false;
  $("viewer-close").focus();
  if (S.modes.voice) speak(name(f));
}

function closeViewer() {
  if (!S.viewer) return;
  S.viewer = null;
  $("viewer").hidden = true;
  $("viewer-body").replaceChildren();
}

// printDocuments prints the service's list of documents on the ticket
// printer, in the page's language, and says how it went.
async function printDocuments(s, b) {
  if (S.printing || S.busy) return;
  S.printing = true;
  b.disabled = true;
  b.textContent = t("kiosk.print.busy");
  let status = 0;
  let answer = {};
  try {
    const r = await fetch("/api/v1/print/documents", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ service: s.id, lang: I18N.lang }),
    });
    status = r.status;
    answer = await r.json().catch(() => ({}));
  } catch (e) {
    status = 0;
  }
  S.printing = false;
  b.disabled = false;
  b.textContent = t("kiosk.print_documents");
  const printed = status === 200 && answer.printed === true;
  $("screen").dataset.print = printed ? "printed" : "failed";
  toast(printed ? "kiosk.print.printed" : printErrorKey(answer));
}

// The refusals of POST /api/v1/print/documents, by code, in the visitor's
// words ("kiosk.print.<code>").
const PRINT_REFUSALS = ["unknown_service", "no_documents", "too_many", "paper_out", "printer_fault", "no_catalogue"];

// printErrorKey says why a list was not printed: the refusal's own words
// for a code kioskd gives, else that it could not be printed.
function printErrorKey(answer) {
  const code = (answer && (typeof answer.code === "string" ? answer.code : answer.error && answer.error.code)) || "";
  return PRINT_REFUSALS.includes(code) ? "kiosk.print." + code : "kiosk.print.failed";
}

function busyScreen(key) {
  show("printing", () => [el("h1", "center", t(key))]);
  $("screen").setAttribute("aria-busy", "true");
}

// issue sends one request for a ticket; every tap while it runs is
// ignored, so one intent gives one ticket.
async function issue(path, body, busyKey) {
  if (S.busy) return null;
  S.busy = true;
  closeViewer();
  busyScreen(busyKey);
  let r, answer;
  try {
    r = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    answer = await r.json().catch(() => ({}));
  } catch (e) {
    r = { status: 0 };
    answer = {};
  } finally {
    S.busy = false;
    $("screen").removeAttribute("aria-busy");
  }
  return { status: r.status, body: answer };
}

async function takeTicket(s) {
  const res = await issue("/api/v1/tickets", { service: s.id }, "kiosk.printing");
  if (!res) return;
  if (res.status === 201) ticketScreen(res.body);
  else if (res.status === 404) failure("kiosk.error.generic", true);
  else failure(errorKey(res.body.code));
  afterIssue();
}

function errorKey(code) {
  if (code === "offline" || code === "no_catalogue") return "kiosk.error.offline";
  if (code === "buffer_full") return "kiosk.error.full";
  if (code === "disk_full") return "kiosk.error.disk_full";
  return "kiosk.error.generic";
}

function afterIssue() {
  const m = S.pendingScan;
  S.pendingScan = null;
  if (m) scanned(m);
}

function ticketScreen(tk) {
  show("ticket", () => {
    const svc = serviceById(tk.service);
    const main = el("div", "tmain");
    const number = el("div", "number say", tk.number);
    main.append(el("h1", "center", t("ticket.your_number")), number);
    later(() => Fit.fitTitle(number, [10, 8.5, 7, 6, 5], 1));
    if (svc) {
      const sn = el("p", "center sub svcline", name(svc));
      main.append(sn);
      later(() => Fit.fitTitle(sn, [1.3, 1.1, 0.95], 4));
    }
    if (tk.booking) main.append(el("p", "center", t("kiosk.booked_for", { time: tk.booking.slot })));
    const side = el("div", "ticketrow");
    const notes = el("div", "notes");
    // The ticket's own words (ticket.*), as printed on it.
    if (tk.printed) notes.append(el("p", "ok say", t("kiosk.take_paper")));
    else notes.append(el("p", "warn say", t("kiosk.not_printed")));
    // Who is ahead, as the ticket says it (offline: the kiosk's own count).
    notes.append(el("p", "say ahead", t("ticket.ahead", { n: tk.ahead })));
    if (tk.ahead > 0) notes.append(el("p", "say wait", t("ticket.wait", { n: tk.wait_min })));
    notes.append(el("p", "say footer", t("ticket.footer")));
    if (tk.offline) notes.append(el("p", "sub", t("ticket.offline")));
    side.append(notes);
    if (tk.track_url) {
      const fig = el("figure", "qr");
      const img = el("img");
      img.src = "/api/v1/qr?text=" + encodeURIComponent(tk.track_url);
      img.alt = t("kiosk.qr");
      fig.append(img, el("figcaption", "", t("kiosk.qr_hint")));
      side.append(fig);
    }
    const box = el("div", "ticketbox");
    box.append(main, side);
    // On a short screen the notes and the QR code give way, never the number.
    later(() => {
      const fits = () => !Fit.over(box) && !Fit.over(side) && !Fit.over(main);
      for (const size of [1, 0.9, 0.8, 0.7]) {
        side.style.fontSize = size + "rem";
        if (fits()) return;
      }
      // Still too tall: the number too, down to half its size.
      for (const size of [8, 7, 6, 5]) {
        number.style.fontSize = size + "rem";
        if (fits()) return;
      }
    });
    return [box, button("primary done", t("kiosk.done"), home)];
  }, home, { nav: false, shown: { service: tk.service } });
  S.ticketUntil = clock.now() + S.cat.page.ticket_s * 1000;
}

function failure(key, reload) {
  show("failure", () => [el("h1", "warn", t(key)), el("div", "grow"), button("primary done", t("kiosk.done"), home)], home, { nav: false });
  if (reload) loadCatalogue();
}

// ---- booking check-in ----

function formatCode(d) {
  let s = "";
  for (let i = 0; i < 12; i++) {
    if (i > 0 && i % 4 === 0) s += "-";
    s += i < d.length ? d[i] : "_";
  }
  return s;
}

function booking() {
  let digits = "";
  let code, ok, count;
  const update = () => {
    code.textContent = formatCode(digits);
    count.textContent = t("kiosk.booking.entered", { n: digits.length });
    ok.disabled = digits.length !== 12;
  };
  const press = (d) => {
    if (digits.length < 12) digits += d;
    update();
  };
  show("booking", () => {
    code = el("output", "code");
    code.id = "code";
    code.setAttribute("aria-label", t("kiosk.booking.code"));
    count = el("p", "sub");
    count.setAttribute("aria-live", "polite");
    const pad = el("div", "keypad");
    pad.setAttribute("role", "group");
    pad.setAttribute("aria-label", t("kiosk.keypad"));
    for (const d of "123456789") pad.append(button("key", d, () => press(d)));
    const erase = button("key", "⌫", () => { digits = digits.slice(0, -1); update(); });
    erase.setAttribute("aria-label", t("kiosk.booking.erase"));
    pad.append(erase, button("key zero", "0", () => press("0")));
    ok = button("key ok", t("kiosk.booking.ok"), () => checkIn(digits));
    pad.append(ok);
    update();
    const info = el("div", "bookinfo");
    info.append(el("h1", "", t("kiosk.booking.title")), el("p", "say sub", t("kiosk.booking.hint")), code, count);
    const box = el("div", "bookbox");
    box.append(info, pad);
    return [box];
  }, home);
  S.keys = (e) => {
    if (/^[0-9]$/.test(e.key)) press(e.key);
    else if (e.key === "Backspace") { digits = digits.slice(0, -1); update(); }
    else return false;
    return true;
  };
}

async function checkIn(code) {
  const res = await issue("/api/v1/checkin", { code }, "kiosk.booking.checking");
  if (!res) return;
  if (res.status === 201) ticketScreen(res.body);
  else if (res.status === 409) refusedScreen(res.body);
  else failure(errorKey(res.body.code));
  afterIssue();
}

const REFUSALS = ["booking_unknown", "booking_used", "booking_early", "booking_late", "booking_other_day",
  "booking_cancelled", "booking_unverified"];

function refusedScreen(r) {
  const b = r.booking || null;
  const svc = b && serviceById(b.service);
  show("refused", () => {
    const why = REFUSALS.includes(r.code) ? "kiosk.refused." + r.code : "kiosk.refused.other";
    const args = b ? { opens: clockTime(b.opens), closes: clockTime(b.closes), date: b.date } : {};
    const parts = [el("h1", "", t("kiosk.refused.title")), el("p", "warn say", t(why, args))];
    if (svc) parts.push(el("p", "sub", t("kiosk.refused.service", { service: name(svc), time: b.slot })));
    parts.push(el("p", "say", t("kiosk.refused.normal")));
    const actions = el("div", "actions");
    actions.append(button("primary", t("kiosk.normal_ticket"), () => (svc ? service(svc, home) : home())));
    actions.append(button("secondary", t("kiosk.try_again"), booking));
    parts.push(el("div", "grow"), actions);
    return parts;
  }, home);
}

// scanned handles a scan's outcome, pushed by kioskd whatever the screen.
// During an issue it waits for that ticket's screen to be shown first.
function scanned(m) {
  if (S.busy) {
    S.pendingScan = m;
    return;
  }
  hideIdle();
  switch (m.result) {
    case "ticket": closeViewer(); ticketScreen(m.ticket); break;
    case "refused": closeViewer(); refusedScreen(m.refusal); break;
    case "not_booking": toast("kiosk.scan.not_booking"); break;
    default: toast("kiosk.scan.error");
  }
}

// ---- search with the on-screen keyboard ----

const LAYOUTS = {
  uk: ["йцукенгшщзхї", "фівапролджєʼ", "ячсмитьбюґ"],
  en: ["qwertyuiop", "asdfghjkl", "zxcvbnm"],
};

function search(initial, initialPage) {
  let q = initial;
  let page = initialPage || 0;
  let layout = I18N.lang === "en" ? "en" : "uk";
  let field, results, found, keyboard, prev, next, pager;
  const back = () => search(q, page);
  // fill shows the results' page that fits the space between the field
  // and the keyboard: rows of tiles two lines high, as many as fit.
  const fill = () => {
    const list = ServiceSearch.find(S.idx.search, q);
    const cols = portrait() ? 1 : 2;
    results.style.setProperty("--cols", cols);
    results.replaceChildren();
    pager.hidden = true;
    // Every row is as tall (two lines): how many fit is the box's height
    // over a row's, the paging buttons beside them when more are found.
    let per = 0;
    if (list.length) {
      const rows = () => {
        const gap = parseFloat(getComputedStyle(results).rowGap) || 0;
        const rowH = parseFloat(getComputedStyle(results).gridAutoRows) || 88;
        return Math.max(1, Math.floor((results.clientHeight + gap) / (rowH + gap)));
      };
      per = rows() * cols;
      if (list.length > per) {
        pager.hidden = false;
        per = rows() * cols;
      }
    }
    const pages = per ? Math.ceil(list.length / per) : 1;
    page = Math.max(0, Math.min(page, pages - 1));
    const shown = list.slice(page * per, page * per + per).map((s) => clampedTile(s, back));
    results.append(...shown);
    shown.forEach(markClamped);
    prev.disabled = page === 0;
    next.disabled = page >= pages - 1;
    let says = !q ? "" : list.length ? t("kiosk.search.found", { n: list.length }) : t("kiosk.search.none");
    if (pages > 1) says += " · " + t("kiosk.page", { n: page + 1, of: pages });
    found.textContent = says;
    results.dataset.count = String(list.length);
  };
  const refresh = (keepPage) => {
    if (!keepPage) page = 0;
    field.textContent = q || t("kiosk.search.hint");
    field.classList.toggle("empty", !q);
    fill();
    if (S.modes.voice && q) speak(q + ". " + found.textContent);
  };
  const type = (c) => { if (q.length < 40) q += c; refresh(); };
  const drawKeys = () => {
    keyboard.replaceChildren();
    for (const row of LAYOUTS[layout]) {
      const r = el("div", "krow");
      for (const c of row) r.append(button("kkey", c, () => type(c)));
      keyboard.append(r);
    }
    const last = el("div", "krow");
    const sw = button("kkey wide", t("kiosk.key.layout"), () => { layout = layout === "uk" ? "en" : "uk"; drawKeys(); });
    sw.setAttribute("lang", layout === "uk" ? "en" : "uk");
    last.append(sw,
      button("kkey space", t("kiosk.key.space"), () => type(" ")),
      button("kkey wide", t("kiosk.key.erase"), () => { q = q.slice(0, -1); refresh(); }),
      button("kkey wide", t("kiosk.key.clear"), () => { q = ""; refresh(); }));
    keyboard.append(last);
  };
  show("search", () => {
    const head = el("div", "found");
    found = el("p", "sub");
    found.setAttribute("aria-live", "polite");
    head.append(el("h1", "", t("kiosk.search.title")), found);
    field = el("output", "query");
    field.setAttribute("aria-label", t("kiosk.search.field"));
    results = el("div", "grid results");
    prev = button("secondary", t("kiosk.prev"), () => { page--; refresh(true); });
    next = button("secondary", t("kiosk.next"), () => { page++; refresh(true); });
    pager = el("div", "pager");
    pager.append(prev, next);
    const area = el("div", "resultarea");
    area.append(results, pager);
    keyboard = el("div", "keyboard");
    keyboard.setAttribute("role", "group");
    keyboard.setAttribute("aria-label", t("kiosk.keyboard"));
    drawKeys();
    later(() => refresh(true));
    return [head, field, area, keyboard];
  }, home);
  S.keys = (e) => {
    if (e.key.length === 1 && /\p{L}|\s|['’ʼ]/u.test(e.key)) type(e.key.toLowerCase());
    else if (e.key === "Backspace") { q = q.slice(0, -1); refresh(); }
    else return false;
    return true;
  };
}

// ---- notices, status, idle ----

function toast(key) {
  const box = $("toast");
  box.textContent = t(key);
  box.dataset.key = key;
  box.hidden = false;
  S.toastUntil = clock.now() + TOAST_MS;
  if (S.modes.voice) speak(box.textContent);
}

function setStatus(st) {
  const printChanged = S.status.can_print !== st.can_print;
  S.status = st;
  $("offline").hidden = st.online;
  $("noprinter").hidden = st.can_print;
  $("diskfull").hidden = !st.disk_full;
  // The service screen offers to print the documents only while it can.
  if (printChanged && S.screen === "service") draw();
}

function dirty() {
  return !["home", "nocatalogue", "loading"].includes(S.screen) || I18N.lang !== "uk" ||
    S.modes.contrast || S.modes.large || S.modes.voice || !!S.viewer;
}

function showIdle() {
  S.warnSince = clock.now();
  $("idle").hidden = false;
  idleText();
  $("idle-continue").focus();
  if (S.modes.voice) speak($("idle-title").textContent + ". " + $("idle-text").textContent);
}

function idleText() {
  const left = Math.max(0, Math.ceil((S.warnSince + S.cat.page.warn_s * 1000 - clock.now()) / 1000));
  $("idle-text").textContent = t("kiosk.idle.text", { n: left });
  return left;
}

function hideIdle() {
  if (!S.warnSince) return;
  S.warnSince = 0;
  $("idle").hidden = true;
  S.lastActivity = clock.now();
}

// reset puts the kiosk back as the next visitor expects it.
function reset() {
  hideIdle();
  closeViewer();
  I18N.lang = "uk";
  S.modes.contrast = S.modes.large = false;
  setVoice(false);
  applyModes();
  home();
}

function tick() {
  const now = clock.now();
  if (S.toastUntil && now >= S.toastUntil) {
    S.toastUntil = 0;
    $("toast").hidden = true;
  }
  if (!S.cat || S.busy) return;
  if (S.screen === "ticket") {
    if (!S.held && now >= S.ticketUntil) home();
    return;
  }
  if (S.warnSince) {
    if (idleText() <= 0) reset();
    return;
  }
  if (dirty() && now - S.lastActivity >= S.cat.page.idle_s * 1000) showIdle();
}

function activity() {
  S.lastActivity = clock.now();
}

// ---- modes: language, contrast, large text, voice guidance ----

function applyModes() {
  document.body.classList.toggle("contrast", S.modes.contrast);
  document.body.classList.toggle("large", S.modes.large);
  for (const m of ["contrast", "large", "voice"]) $(m).setAttribute("aria-pressed", String(S.modes[m]));
  I18N.apply();
  const other = I18N.lang === "uk" ? "en" : "uk";
  $("lang").textContent = t("lang.switch");
  $("lang").setAttribute("lang", other);
  $("modes").setAttribute("aria-label", t("kiosk.header"));
  if (S.cat) $("office").textContent = name(S.cat.office);
  if (S.viewer) $("viewer-title").textContent = name(S.viewer);
}

function redraw() {
  applyModes();
  if (S.render && S.screen !== "printing") draw();
}

const label = (b) => b.getAttribute("aria-label") || b.textContent;

function speak(text) {
  if (!S.modes.voice || !text) return;
  const src = "/api/v1/speech?lang=" + I18N.lang + "&text=" + encodeURIComponent(text.slice(0, 250));
  if (S.audio && S.audio.src.endsWith(src) && !S.audio.ended) return; // focus and arrow said the same
  if (S.audio) S.audio.pause();
  S.audio = new Audio(src);
  S.audio.play().catch(() => {});
}

function setVoice(on) {
  S.modes.voice = on && !!(S.cat && S.cat.page.speech);
  if (!S.modes.voice && S.audio) {
    S.audio.pause();
    S.audio = null;
  }
}

// A physical keypad drives the page: arrows move between choices (and turn
// voice guidance on), Enter takes one, Escape goes back.
function onKey(e) {
  activity();
  if (S.warnSince) {
    if (e.key === "Enter" || e.key === " ") { e.preventDefault(); hideIdle(); }
    return;
  }
  if (S.viewer) {
    if (e.key === "Escape") { e.preventDefault(); closeViewer(); }
    return;
  }
  if (S.keys && S.keys(e)) { e.preventDefault(); return; }
  const arrows = { ArrowDown: 1, ArrowRight: 1, ArrowUp: -1, ArrowLeft: -1 };
  if (e.key in arrows || e.key === "Tab") {
    if (!S.modes.voice && S.cat && S.cat.page.speech) {
      setVoice(true);
      applyModes();
      speak(t("kiosk.voice.on") + " " + screenText());
    }
    if (e.key === "Tab") return;
    e.preventDefault();
    const all = [...document.querySelectorAll("main button, #controls button")]
      .filter((b) => !b.disabled && !b.hidden && b.offsetParent !== null);
    const i = all.indexOf(document.activeElement);
    const next = all[(i + arrows[e.key] + all.length) % all.length] || all[0];
    if (next) {
      next.focus();
      speak(label(next));
    }
  } else if (e.key === "Escape" && S.back && !S.busy) {
    e.preventDefault();
    S.back();
  }
}

function connect() {
  const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/kiosk/ws");
  ws.onmessage = (ev) => {
    let m;
    try { m = JSON.parse(ev.data); } catch (e) { return; }
    if (m.type === "status") setStatus(m.status);
    else if (m.type === "scan") { activity(); scanned(m); }
  };
  ws.onclose = () => clock.setTimeout(connect, 1000);
}

async function main() {
  await I18N.load();
  // The kiosk page is all there is: no menu, no dragging, no selecting.
  for (const ev of ["contextmenu", "dragstart", "selectstart"]) document.addEventListener(ev, (e) => e.preventDefault());
  document.addEventListener("pointerdown", () => { activity(); S.held = true; }, true);
  const up = () => {
    S.held = false;
    if (S.screen === "ticket") S.ticketUntil = Math.max(S.ticketUntil, clock.now() + S.cat.page.ticket_s * 1000);
  };
  document.addEventListener("pointerup", up, true);
  document.addEventListener("pointercancel", up, true);
  document.addEventListener("keydown", onKey, true);
  document.addEventListener("focusin", (e) => {
    if (S.modes.voice && e.target.matches("button")) speak(label(e.target));
  });
  // A screen turned, or another size: the same screen fitted again.
  addEventListener("resize", () => { if (S.render && S.screen !== "printing") draw(); });
  $("lang").addEventListener("click", () => { I18N.lang = I18N.lang === "uk" ? "en" : "uk"; redraw(); });
  $("contrast").addEventListener("click", () => { S.modes.contrast = !S.modes.contrast; applyModes(); });
  $("large").addEventListener("click", () => { S.modes.large = !S.modes.large; redraw(); });
  $("voice").addEventListener("click", () => {
    setVoice(!S.modes.voice);
    applyModes();
    if (S.modes.voice) speak(t("kiosk.voice.on") + " " + screenText());
  });
  $("viewer-close").addEventListener("click", closeViewer);
  $("idle").addEventListener("click", hideIdle);
  applyModes();
  activity();
  connect();
  clock.setInterval(tick, 250);
  await home();
  // A measurement of the real load, for the benchmark; nothing waits on it.
  S.readyAt = performance.now();
}

// For tests and benchmarks: move the page's clock, read its state.
window.kiosk = {
  // advance moves the clock ms forward, running every tick due meanwhile,
  // and looks at the page's timers once more at the new time.
  advance(ms) { clock.advance(ms); tick(); },
  state() {
    return { screen: S.screen, busy: S.busy, lang: I18N.lang, modes: { ...S.modes }, warning: !!S.warnSince,
      speaking: S.audio ? decodeURIComponent(S.audio.src) : "", viewer: S.viewer ? S.viewer.id : "",
      renders: S.renders, version: S.cat ? S.cat.version : "" };
  },
  // readyAt: ms from the start of the page's load until the home screen
  // took taps.
  readyAt() { return S.readyAt || 0; },
};

main();
