// The emulator's page: draws every device's face from /api/v1/devices
// twice a second (the faces themselves with BusFaces, /bus-faces.js, which
// kioskd's /boards/ page shares) and sends presses, faults and power cuts.
// Texts come from the message catalogue (I18N), Ukrainian first.
"use strict";

const cards = new Map();
let last = null;

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
  c.face = BusFaces.make(face.type, { press: (body) => act("/api/v1/devices/" + c.addr + "/press", body) });
  node.querySelector(".face").append(c.face.node);
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
  c.face.draw(face);
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
