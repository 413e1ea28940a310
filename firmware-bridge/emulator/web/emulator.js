// The emulator's page: draws every device's face from /api/v1/devices
// twice a second and sends presses, faults and power cuts. Texts come
// from the message catalogue (I18N), Ukrainian first.
"use strict";

const keypadKeys = ["next", "recall", "came", "finish", "no-show", "transfer", "pause"];
const ledColours = ["green", "yellow", "red", "red"];
const ledNames = ["emu.led.ready", "emu.led.serving", "emu.led.paused", "emu.led.offline"];
const cards = new Map();
let last = null;

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

async function post(path, body) {
  const r = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  const reply = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(reply.error || r.statusText);
  return reply;
}

function say(key, args) {
  document.getElementById("status").textContent = key ? I18N.t(key, args) : "";
}

async function act(path, body) {
  try {
    await post(path, body);
    say("");
    refresh();
  } catch (e) {
    say("emu.error", { msg: e.message });
  }
}

function keyLabel(k) {
  return I18N.t("emu.key." + k.replace("-", "_"));
}

function card(face) {
  let c = cards.get(face.spec);
  if (c) return c;
  const node = document.getElementById("card").content.firstElementChild.cloneNode(true);
  I18N.apply(node);
  c = { node, addr: face.addr };
  node.querySelector(".fault-apply").addEventListener("click", () => {
    act("/api/v1/devices/" + c.addr + "/fault", { kind: node.querySelector(".fault-kind").value });
  });
  node.querySelector(".power-cut").addEventListener("click", () => {
    act("/api/v1/devices/" + c.addr + "/power-cut", { for: "2s" });
  });
  const faceBox = node.querySelector(".face");
  if (face.type === "keypad") {
    c.lcd = el("div", "lcd");
    c.leds = el("div", "leds");
    c.ledEls = ledNames.map((n, i) => {
      const wrap = el("span");
      const dot = el("span", "led " + ledColours[i]);
      wrap.append(dot, I18N.t(n));
      c.leds.append(wrap);
      return dot;
    });
    const keys = el("div", "keys");
    const long = el("label");
    c.long = el("input");
    c.long.type = "checkbox";
    long.append(c.long, " " + I18N.t("emu.long"));
    keypadKeys.forEach((k) => {
      const b = el("button", "", keyLabel(k));
      b.type = "button";
      b.addEventListener("click", () => act("/api/v1/devices/" + c.addr + "/press", { key: k, long: c.long.checked }));
      keys.append(b);
    });
    keys.append(long);
    c.beep = el("p", "beep");
    faceBox.append(c.lcd, c.leds, keys, c.beep);
  } else if (face.type === "rating") {
    c.prompt = el("p");
    const row = el("div", "rating");
    c.buttons = [1, 2, 3, 4, 5].map((n) => {
      const b = el("button", "", String(n));
      b.type = "button";
      b.setAttribute("aria-label", I18N.t("emu.rating.button", { n }));
      b.addEventListener("click", () => act("/api/v1/devices/" + c.addr + "/press", { key: n }));
      const dot = el("span", "led");
      const wrap = el("span");
      wrap.append(b, dot);
      row.append(wrap);
      return dot;
    });
    c.thanks = el("span", "thanks", I18N.t("emu.rating.thanks"));
    row.append(c.thanks);
    faceBox.append(c.prompt, row);
  } else {
    c.matrix = el("div", "matrix");
    c.text = el("span", "text");
    c.number = el("span", "number");
    c.matrix.append(c.text, c.number);
    faceBox.append(c.matrix);
  }
  document.getElementById("devices").append(node);
  cards.set(face.spec, c);
  return c;
}

function draw(face) {
  const c = card(face);
  c.addr = face.addr;
  const n = c.node;
  n.classList.toggle("off", face.power !== "on");
  n.querySelector(".name").textContent =
    I18N.t("emu.type." + face.type.replace("-", "_")) + " · " + I18N.t("emu.addr", { addr: face.addr });
  n.querySelector(".about").textContent = [
    face.product,
    I18N.t("emu.serial", { serial: face.serial }),
    I18N.t("emu.firmware", { version: face.firmware, slot: face.slot }),
    I18N.t("emu.power." + face.power),
    face.on_line ? face.line : I18N.t("emu.wrong_line", { line: face.line }),
  ].join(" · ");
  const h = face.health;
  n.querySelector(".health").textContent =
    I18N.t("emu.health", { boots: h.boot_count, crc: h.crc_errors, pending: h.ev_pending, lost: h.ev_lost }) + " · " +
    I18N.t("emu.update", { state: I18N.t("emu.upd." + h.update.state), held: h.update.chunks_held }) +
    (h.fault.kind !== "none" ? " · " + I18N.t("emu.fault") + ": " + I18N.t("emu.fault." + h.fault.kind) : "");
  const sel = n.querySelector(".fault-kind");
  if (document.activeElement !== sel) sel.value = h.fault.kind;
  const dim = face.brightness === 0 ? "dim0" : face.brightness < 5 ? "dim1" : "";
  if (face.display) {
    const d = face.display;
    c.matrix.className = "matrix " + dim + (d.blinking ? " blink" : "") + (face.identify ? " identify" : "");
    c.text.textContent = d.text || d.clock || "";
    c.number.textContent = (d.arrow ? "→ " : "") + (d.window ? String(d.window) : "");
  } else if (face.keypad) {
    const k = face.keypad;
    c.lcd.className = "lcd " + dim + (face.identify ? " identify" : "");
    c.lcd.textContent = k.lines.join("\n");
    k.leds.forEach((l, i) => {
      c.ledEls[i].className = "led " + ledColours[i] + (l.on ? " on" : "") + (l.blink ? " blinking" : "");
    });
    c.beep.textContent = k.beep ? I18N.t("emu.beep", { kind: I18N.t("emu.beep." + k.beep.kind), ms: k.beep.ms }) : "";
  } else if (face.rating) {
    const r = face.rating;
    c.prompt.textContent = r.prompt ? I18N.t("emu.rating.prompt", { s: r.prompt_left }) : I18N.t("emu.rating.idle");
    r.buttons.forEach((l, i) => {
      c.buttons[i].className = "led" + (l.breathe ? " breathe" : l.on ? " on green" : "");
    });
    c.thanks.classList.toggle("on", r.thanks);
  } else {
    n.querySelector(".face").classList.add(dim);
  }
}

async function refresh() {
  try {
    const r = await fetch("/api/v1/devices", { cache: "no-store" });
    if (!r.ok) throw new Error(r.statusText);
    last = await r.json();
    document.getElementById("where").textContent = I18N.t("emu.where", { link: last.link, line: last.line });
    last.devices.forEach(draw);
    if (document.getElementById("status").dataset.offline) {
      document.getElementById("status").dataset.offline = "";
      say("");
    }
  } catch (e) {
    document.getElementById("status").dataset.offline = "1";
    say("emu.no_answer");
  }
}

async function start() {
  await I18N.load();
  I18N.apply();
  document.getElementById("lang").addEventListener("click", () => {
    I18N.lang = I18N.lang === "uk" ? "en" : "uk";
    I18N.apply();
    cards.forEach((c) => c.node.remove());
    cards.clear();
    if (last) last.devices.forEach(draw);
  });
  await refresh();
  setInterval(refresh, 500);
}

document.addEventListener("DOMContentLoaded", start);
