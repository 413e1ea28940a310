"use strict";
// The touch kiosk: home (groups, often chosen services, search, booking)
// → a group's services, page by page → a service with the people ahead →
// the ticket, large, with its QR code. Scanned booking codes arrive on
// /kiosk/ws whatever the screen. All text comes from the message catalogue
// (/i18n.json) and the service catalogue; none lives here.
//
// Every timed behaviour (idle question, reset, the ticket screen, notices,
// reconnecting) runs on the page's clock (clock.js): its timers, checked
// against clock.now() on one ticker. A test holds that clock and moves it
// forward instead of waiting, and real time changes nothing meanwhile.

const $ = (id) => document.getElementById(id);
const t = (k, a) => I18N.t(k, a);

const clock = window.pageClock;

const S = {
  cat: null,
  status: { online: true, can_print: true },
  screen: "loading",
  render: null,        // draws the current screen again (language, text size)
  back: null,          // the current screen's "back", for Escape on a keypad
  busy: false,         // a ticket is being issued: every other tap waits
  pendingScan: null,   // a scan outcome that arrived while busy
  lastActivity: 0,
  warnSince: 0,        // the idle question is showing since then (0: not)
  ticketUntil: 0,      // the ticket screen goes home then, unless touched
  held: false,         // a finger is on the screen
  toastUntil: 0,
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

const name = (x) => (x.name && (x.name[I18N.lang] || x.name.uk)) || x.id;
const serviceById = (id) => S.cat.services.find((s) => s.id === id);
const groupById = (id) => S.cat.groups.find((g) => g.id === id);

function queueOf(groupId) {
  return (S.cat.queues || []).find((q) => q.group === groupId) || { waiting: 0, wait_min: 0 };
}

function clockTime(iso) {
  const d = new Date(iso);
  if (isNaN(d)) return "";
  return d.toLocaleTimeString("uk-UA", { hour: "2-digit", minute: "2-digit", timeZone: S.cat.office.timezone || undefined });
}

// show replaces the screen. build returns its elements; it is called again
// when the language or the text size changes.
function show(screen, build, back) {
  S.screen = screen;
  S.render = build;
  S.back = back || null;
  S.keys = null; // booking and search take typed keys after this
  draw();
}

function draw() {
  const main = $("screen");
  main.dataset.screen = S.screen;
  const parts = S.render();
  main.replaceChildren(...parts);
  main.querySelectorAll("[data-pager]").forEach((box) => box.layout());
  const title = main.querySelector("h1");
  if (title) {
    title.tabIndex = -1;
    title.focus({ preventScroll: true });
  }
  if (S.modes.voice) speak(screenText());
}

function screenText() {
  const main = $("screen");
  return [...main.querySelectorAll("h1, .say")].map((e) => e.textContent).join(". ");
}

// pager lays items out in a box that fills the rest of the screen, as
// many as fit, with "previous" and "more" buttons: no screen scrolls.
function pager(items, make, cls) {
  const box = el("div", "pages " + cls);
  box.dataset.pager = "";
  const nav = el("div", "pager");
  const prev = button("secondary", t("kiosk.prev"), () => go(page - 1));
  const label = el("span", "pageno");
  const next = button("secondary", t("kiosk.next"), () => go(page + 1));
  nav.append(prev, label, next);
  let starts = [0];
  let page = 0;
  function fill(from) {
    box.replaceChildren();
    let i = from;
    for (; i < items.length; i++) {
      const e = make(items[i]);
      box.appendChild(e);
      if (i > from && box.scrollHeight > box.clientHeight + 1) {
        box.removeChild(e);
        break;
      }
    }
    return i;
  }
  function go(p) {
    page = Math.max(0, Math.min(p, starts.length - 1));
    fill(starts[page]);
    nav.hidden = starts.length < 2;
    prev.disabled = page === 0;
    next.disabled = page === starts.length - 1;
    label.textContent = t("kiosk.page", { n: page + 1, of: starts.length });
    if (S.modes.voice && p !== 0) speak(label.textContent);
  }
  box.layout = () => {
    starts = [];
    for (let i = 0; i < items.length || starts.length === 0;) {
      starts.push(i);
      const next = fill(i);
      if (next === i) break;
      i = next;
    }
    go(0);
  };
  return [box, nav];
}

function serviceButton(s) {
  const b = button("item", "", () => service(s));
  b.dataset.service = s.id;
  b.append(el("span", "", name(s)));
  return b;
}

function navRow(...buttons) {
  const nav = el("div", "nav");
  nav.append(...buttons);
  return nav;
}

// ---- screens ----

async function loadCatalogue() {
  try {
    const r = await fetch("/api/v1/services", { cache: "no-store" });
    if (!r.ok) throw new Error(String(r.status));
    S.cat = await r.json();
    setStatus({ online: S.cat.online, can_print: S.cat.can_print });
    $("office").textContent = name(S.cat.office);
    $("voice").hidden = !S.cat.page.speech;
  } catch (e) {
    if (!S.cat) S.cat = null;
  }
}

async function home() {
  S.ticketUntil = 0;
  await loadCatalogue();
  if (!S.cat) {
    show("nocatalogue", () => [el("h1", "", t("kiosk.no_catalogue"))]);
    return;
  }
  show("home", () => {
    const parts = [el("h1", "", t("kiosk.choose_group"))];
    const actions = el("div", "actions");
    if (S.cat.page.bookings) actions.append(button("action", t("kiosk.have_booking"), booking));
    actions.append(button("action", t("kiosk.search"), () => search("")));
    parts.push(actions);
    const popular = (S.cat.popular || []).map(serviceById).filter(Boolean).slice(0, S.modes.large ? 2 : 4);
    if (popular.length) {
      const row = el("div", "popular");
      row.append(...popular.map(serviceButton));
      parts.push(el("h2", "", t("kiosk.popular")), row);
    }
    parts.push(el("h2", "", t("kiosk.groups")));
    parts.push(...pager(S.cat.groups, groupTile, "tiles"));
    return parts;
  });
}

function groupTile(g) {
  const b = button("tile", "", () => group(g));
  b.dataset.group = g.id;
  if (g.prefix) b.append(el("span", "prefix", g.prefix));
  b.append(el("span", "", name(g)));
  return b;
}

function group(g) {
  const services = S.cat.services.filter((s) => s.group === g.id);
  show("group", () => [
    el("h1", "", name(g)),
    el("p", "say sub", t("kiosk.group_services", { n: services.length })),
    ...pager(services, serviceButton, "list"),
    navRow(button("secondary", t("kiosk.back"), home)),
  ], home);
}

function service(s) {
  const g = groupById(s.group) || { id: s.group, name: {} };
  const q = queueOf(g.id);
  show("service", () => {
    const facts = el("div", "facts say");
    facts.append(el("p", "", t("kiosk.ahead", { n: q.waiting })));
    facts.append(el("p", "", q.waiting > 0 && q.wait_min > 0 ? t("kiosk.wait", { n: q.wait_min }) : t("kiosk.no_wait")));
    if (!S.status.online) facts.append(el("p", "approx", t("kiosk.wait_approx")));
    const take = button("primary take", t("kiosk.take"), () => takeTicket(s));
    return [el("h1", "", name(s)), el("p", "sub", name(g)), facts, take,
      navRow(button("secondary", t("kiosk.back"), () => (g.name ? group(g) : home())))];
  }, () => group(g));
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
    const parts = [el("h1", "center", t("ticket.your_number")), el("div", "number say", tk.number)];
    if (svc) parts.push(el("p", "center sub", name(svc)));
    if (tk.booking) parts.push(el("p", "center", t("kiosk.booked_for", { time: tk.booking.slot })));
    const row = el("div", "ticketrow");
    const notes = el("div", "notes");
    // The ticket's own words (ticket.*), as printed on it.
    if (tk.printed) notes.append(el("p", "ok say", t("kiosk.take_paper")));
    else notes.append(el("p", "warn say", t("kiosk.not_printed")));
    notes.append(el("p", "say footer", t("ticket.footer")));
    if (tk.offline) notes.append(el("p", "sub", t("ticket.offline")));
    row.append(notes);
    if (tk.track_url) {
      const fig = el("figure", "qr");
      const img = el("img");
      img.src = "/api/v1/qr?text=" + encodeURIComponent(tk.track_url);
      img.alt = t("kiosk.qr");
      fig.append(img, el("figcaption", "", t("kiosk.qr_hint")));
      row.append(fig);
    }
    parts.push(row, navRow(button("primary", t("kiosk.done"), home)));
    return parts;
  }, home);
  S.ticketUntil = clock.now() + S.cat.page.ticket_s * 1000;
}

function failure(key, reload) {
  show("failure", () => [el("h1", "warn", t(key)), navRow(button("primary", t("kiosk.done"), home))], home);
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
    pad.append(erase, button("key", "0", () => press("0")));
    ok = button("key ok", t("kiosk.booking.ok"), () => checkIn(digits));
    pad.append(ok);
    update();
    return [el("h1", "", t("kiosk.booking.title")), el("p", "say sub", t("kiosk.booking.hint")), code, count, pad,
      navRow(button("secondary", t("kiosk.back"), home))];
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
    actions.append(button("primary", t("kiosk.normal_ticket"), () => (svc ? service(svc) : home())));
    actions.append(button("secondary", t("kiosk.try_again"), booking));
    parts.push(actions, navRow(button("secondary", t("kiosk.home"), home)));
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
    case "ticket": ticketScreen(m.ticket); break;
    case "refused": refusedScreen(m.refusal); break;
    case "not_booking": toast("kiosk.scan.not_booking"); break;
    default: toast("kiosk.scan.error");
  }
}

// ---- search with the on-screen keyboard ----

const LAYOUTS = {
  uk: ["йцукенгшщзхї", "фівапролджєʼ", "ячсмитьбюґ"],
  en: ["qwertyuiop", "asdfghjkl", "zxcvbnm"],
};

const fold = (s) => s.toLowerCase().replace(/[’'`ʼ]/g, "ʼ");

function matches(q) {
  const words = fold(q).split(/\s+/).filter(Boolean);
  if (!words.length) return [];
  const hits = [];
  for (const s of S.cat.services) {
    const names = [name(s), s.name.uk || "", s.name.en || ""].map(fold);
    if (!words.every((w) => names.some((n) => n.includes(w)))) continue;
    const first = names[0].split(/[\s,.()«»"-]+/).some((w) => w.startsWith(words[0]));
    hits.push({ s, rank: first ? 0 : 1 });
  }
  hits.sort((a, b) => a.rank - b.rank);
  return hits.map((h) => h.s);
}

function search(initial) {
  let q = initial;
  let layout = I18N.lang === "en" ? "en" : "uk";
  let field, results, found, keyboard;
  const refresh = () => {
    field.textContent = q || t("kiosk.search.hint");
    field.classList.toggle("empty", !q);
    const list = matches(q);
    found.textContent = q ? (list.length ? t("kiosk.search.found", { n: list.length }) : t("kiosk.search.none")) : "";
    const [box, nav] = pager(list, serviceButton, "list");
    results.replaceChildren(box, nav);
    box.layout();
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
    field = el("output", "query");
    field.setAttribute("aria-label", t("kiosk.search.field"));
    found = el("p", "sub");
    found.setAttribute("aria-live", "polite");
    results = el("div", "results");
    keyboard = el("div", "keyboard");
    keyboard.setAttribute("role", "group");
    keyboard.setAttribute("aria-label", t("kiosk.keyboard"));
    drawKeys();
    return [el("h1", "", t("kiosk.search.title")), field, found, results, keyboard,
      navRow(button("secondary", t("kiosk.back"), home))];
  }, home);
  refresh();
  S.keys = (e) => {
    if (e.key.length === 1 && /\p{L}|\s/u.test(e.key)) type(e.key.toLowerCase());
    else if (e.key === "Backspace") { q = q.slice(0, -1); refresh(); }
    else return false;
    return true;
  };
}

// ---- notices, status, idle ----

function toast(key) {
  const box = $("toast");
  box.textContent = t(key);
  box.hidden = false;
  S.toastUntil = clock.now() + TOAST_MS;
  if (S.modes.voice) speak(box.textContent);
}

function setStatus(st) {
  S.status = st;
  $("offline").hidden = st.online;
  $("noprinter").hidden = st.can_print;
}

function dirty() {
  return !["home", "nocatalogue", "loading"].includes(S.screen) || I18N.lang !== "uk" ||
    S.modes.contrast || S.modes.large || S.modes.voice;
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
}

function redraw() {
  applyModes();
  if (S.render && S.screen !== "printing") draw();
}

const label = (b) => b.getAttribute("aria-label") || b.textContent;

function speak(text) {
  if (!S.modes.voice || !text) return;
  const src = "/api/v1/speech?lang=" + I18N.lang + "&text=" + encodeURIComponent(text.slice(0, 500));
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
    const all = [...document.querySelectorAll("header button:not([hidden]), main button")].filter((b) => !b.disabled);
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
  $("lang").addEventListener("click", () => { I18N.lang = I18N.lang === "uk" ? "en" : "uk"; redraw(); });
  $("contrast").addEventListener("click", () => { S.modes.contrast = !S.modes.contrast; applyModes(); });
  $("large").addEventListener("click", () => { S.modes.large = !S.modes.large; redraw(); });
  $("voice").addEventListener("click", () => {
    setVoice(!S.modes.voice);
    applyModes();
    if (S.modes.voice) speak(t("kiosk.voice.on") + " " + screenText());
  });
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
      speaking: S.audio ? decodeURIComponent(S.audio.src) : "" };
  },
  // readyAt: ms from the start of the page's load until the home screen
  // took taps.
  readyAt() { return S.readyAt || 0; },
};

main();
