"use strict";
// Shows what every simulated LED board displays now and, on a terminal
// whose RS-485 bus the device emulator plays (buses[].emulator), each bus
// device's face by window, with keys that press on the emulated devices:
// GET /api/v1/sim/bus twice a second, POST /api/v1/sim/bus/{bus}/{addr}/press.
// The faces are drawn by the emulator's own drawing, /bus-faces.js, loaded
// only when there is such a bus.
const $ = (id) => document.getElementById(id);
const langs = ["uk", "en"];

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function showBoards(m) {
  if (m.type !== "boards") return;
  $("boards").replaceChildren(...m.boards.map((b) => {
    const div = el("div", "board");
    const led = el("div", "led", (b.lines || []).join("\n"));
    div.append(el("h2", "", b.name), led);
    return div;
  }));
}

// load adds one of this server's scripts or stylesheets and waits for it.
function load(tag, attrs) {
  return new Promise((resolve, reject) => {
    const e = document.createElement(tag);
    Object.assign(e, attrs);
    e.onload = resolve;
    e.onerror = () => reject(new Error(attrs.src || attrs.href));
    document.head.append(e);
  });
}

const bus = { cards: new Map(), windows: new Map() };

// busAnswer is GET /api/v1/sim/bus; null when this terminal has no
// emulated bus (404).
async function busAnswer() {
  const r = await fetch("/api/v1/sim/bus", { cache: "no-store" });
  if (r.status === 404) return null;
  const body = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(body.error || r.statusText);
  return body;
}

async function press(b, d, body) {
  try {
    const r = await fetch("/api/v1/sim/bus/" + encodeURIComponent(b) + "/" + d + "/press", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    const reply = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error(reply.error || r.statusText);
    $("bus-error").textContent = "";
  } catch (e) {
    $("bus-error").textContent = I18N.both("emu.error", { msg: e.message });
  }
  refreshBus();
}

// windowBox is the box of window n's devices (0: devices no window has),
// in the order of the windows.
function windowBox(n) {
  let w = bus.windows.get(n);
  if (w) return w;
  w = el("div", "bus-window");
  w.dataset.window = n;
  w.append(el("h3", "", n ? I18N.both("boards.bus.window", { n }) : I18N.both("boards.bus.other")));
  w.devices = el("div", "bus-devices");
  w.append(w.devices);
  const order = (k) => (k === 0 ? Infinity : k);
  const next = [...bus.windows.keys()].filter((k) => order(k) > order(n)).sort((a, b) => order(a) - order(b))[0];
  $("bus-windows").insertBefore(w, next === undefined ? null : bus.windows.get(next));
  bus.windows.set(n, w);
  return w;
}

function deviceCard(b, d) {
  const id = b.name + "/" + d.address + "/" + d.type;
  let c = bus.cards.get(id);
  if (c) return c;
  c = { node: el("div", "bus-device") };
  c.node.dataset.bus = b.name;
  c.node.dataset.addr = d.address;
  c.node.dataset.type = d.type;
  c.title = el("h4");
  c.note = el("p", "bus-note");
  c.face = BusFaces.make(d.type, { langs, press: (body) => press(b.name, d.address, body) });
  c.node.append(c.title, c.face.node, c.note);
  windowBox(d.window).devices.append(c.node);
  bus.cards.set(id, c);
  return c;
}

function showBus(answer) {
  const problems = [];
  for (const b of answer.buses) {
    if (b.error) problems.push(I18N.both("boards.bus.unreachable", { bus: b.name, addr: b.emulator }));
    for (const d of b.devices) {
      const c = deviceCard(b, d);
      c.title.textContent = [I18N.both("emu.type." + d.type.replace("-", "_")), (d.name ? d.name + ", " : "") + b.name,
        I18N.both("emu.addr", { addr: d.address })].join(" · ");
      if (d.face) {
        c.face.draw(d.face);
        c.note.textContent = d.face.power === "on" ? "" : I18N.both("emu.power." + d.face.power);
      } else {
        c.note.textContent = b.error ? "" : I18N.both("boards.bus.missing");
      }
      c.node.classList.toggle("absent", !d.face);
    }
  }
  $("bus-status").textContent = problems.join(" ");
}

let busTimer = null; // on the page clock (clock.js), as every timer of ours

async function refreshBus() {
  pageClock.clearTimeout(busTimer);
  try {
    const a = await busAnswer();
    if (a) showBus(a);
  } catch (e) {
    $("bus-status").textContent = I18N.both("boards.bus.no_kioskd");
  }
  busTimer = pageClock.setTimeout(refreshBus, 500);
}

async function startBus() {
  let a;
  try {
    a = await busAnswer();
  } catch (e) {
    a = null;
  }
  if (!a) return;
  await Promise.all([load("link", { rel: "stylesheet", href: "/bus-faces.css" }), load("script", { src: "/bus-faces.js" })]);
  $("bus").hidden = false;
  showBus(a);
  busTimer = pageClock.setTimeout(refreshBus, 500);
}

async function main() {
  await I18N.load();
  I18N.apply();
  live("/boards/ws", showBoards, (up) => { $("offline").hidden = up; });
  startBus();
}
main();
