// BusFaces draws what an emulated bus device shows, from its face (the
// emulator's Face JSON, GET /api/v1/devices): the window display's LED
// matrix with its window number and blink, the keypad's 2×20 LCD, four
// LEDs and seven keys, the rating panel's five buttons (breathing while
// it invites a mark) and its thank-you lamp. The emulator's page and
// kioskd's /boards/ page both draw with it (firmware-bridge/emulator/
// faceweb); every text comes from the message catalogue.
"use strict";
const BusFaces = (() => {
  const keypadKeys = ["next", "recall", "came", "finish", "no-show", "transfer", "pause"];
  const ledColours = ["green", "yellow", "red", "red"];
  const ledNames = ["emu.led.ready", "emu.led.serving", "emu.led.paused", "emu.led.offline"];

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // texts gives catalogue texts in langs (null: the page's language),
  // joined by " / "; an argument given as {key} is a text itself, in the
  // same language.
  function texts(langs) {
    return (key, args) => (langs || [I18N.lang]).map((lang) => {
      const a = {};
      for (const [k, v] of Object.entries(args || {})) a[k] = v && typeof v === "object" ? I18N.t(v.key, null, lang) : v;
      return I18N.t(key, a, lang);
    }).join(" / ");
  }

  function key(label, name, onClick) {
    const b = el("button", "bf-key", label);
    b.type = "button";
    b.dataset.key = String(name);
    b.addEventListener("click", onClick);
    return b;
  }

  function keypad(c, text, press) {
    c.lcd = el("div", "bf-lcd");
    const leds = el("div", "bf-leds");
    c.ledEls = ledNames.map((n, i) => {
      const wrap = el("span");
      const dot = el("span", "bf-led " + ledColours[i]);
      wrap.append(dot, text(n));
      leds.append(wrap);
      return dot;
    });
    const keys = el("div", "bf-keys");
    const long = el("label");
    c.long = el("input");
    c.long.type = "checkbox";
    long.append(c.long, " " + text("emu.long"));
    keypadKeys.forEach((k) => {
      keys.append(key(text("emu.key." + k.replace("-", "_")), k, () => press({ key: k, long: c.long.checked })));
    });
    keys.append(long);
    c.beep = el("p", "bf-beep");
    c.node.append(c.lcd, leds, keys, c.beep);
  }

  function rating(c, text, press) {
    c.prompt = el("p", "bf-prompt");
    const row = el("div", "bf-buttons");
    c.lamps = [1, 2, 3, 4, 5].map((n) => {
      const b = key(String(n), n, () => press({ key: n }));
      b.setAttribute("aria-label", text("emu.rating.button", { n }));
      const lamp = el("span", "bf-led");
      const wrap = el("span");
      wrap.append(b, lamp);
      row.append(wrap);
      return lamp;
    });
    c.thanks = el("span", "bf-thanks", text("emu.rating.thanks"));
    row.append(c.thanks);
    c.node.append(c.prompt, row);
  }

  function windowDisplay(c) {
    c.matrix = el("div", "bf-matrix");
    c.text = el("span", "bf-text");
    c.number = el("span", "bf-number");
    c.matrix.append(c.text, c.number);
    c.node.append(c.matrix);
  }

  // draw shows face; a device without power shows nothing lit.
  function draw(c, face, text) {
    const on = face.power === "on";
    const dim = !on || face.brightness === 0 ? " bf-dim0" : face.brightness < 5 ? " bf-dim1" : "";
    const identify = face.identify ? " bf-identify" : "";
    c.node.classList.toggle("bf-off", !on);
    if (c.matrix) {
      const d = face.display || {};
      c.matrix.className = "bf-matrix" + dim + (d.blinking ? " bf-blink" : "") + identify;
      c.text.textContent = d.text || d.clock || "";
      c.number.textContent = (d.arrow ? "→ " : "") + (d.window ? String(d.window) : "");
    } else if (c.lcd) {
      const k = face.keypad || { lines: ["", ""], leds: [{}, {}, {}, {}] };
      c.lcd.className = "bf-lcd" + dim + identify;
      c.lcd.textContent = k.lines.join("\n");
      k.leds.forEach((l, i) => {
        c.ledEls[i].className = "bf-led " + ledColours[i] + (l.on ? " on" : "") + (l.blink ? " blinking" : "");
      });
      c.beep.textContent = k.beep ? text("emu.beep", { kind: { key: "emu.beep." + k.beep.kind }, ms: k.beep.ms }) : "";
    } else if (c.prompt) {
      const r = face.rating || { buttons: [{}, {}, {}, {}, {}] };
      c.prompt.textContent = r.prompt ? text("emu.rating.prompt", { s: r.prompt_left }) : text("emu.rating.idle");
      r.buttons.forEach((l, i) => {
        c.lamps[i].className = "bf-led" + (l.breathe ? " breathe" : l.on ? " on green" : "");
      });
      c.thanks.classList.toggle("on", !!r.thanks);
    }
  }

  // make builds the face of a device of type ("window-display", "keypad",
  // "rating"). opts.press({key, long}) sends a key pressed on it;
  // opts.langs are the languages its texts are in, each after the other
  // (["uk", "en"]; default: the page's I18N.lang).
  function make(type, opts) {
    const o = opts || {};
    const text = texts(o.langs);
    const press = o.press || (() => {});
    const c = { type, node: el("div", "bf-face bf-" + type) };
    if (type === "keypad") keypad(c, text, press);
    else if (type === "rating") rating(c, text, press);
    else windowDisplay(c);
    c.draw = (face) => draw(c, face, text);
    return c;
  }

  return { make };
})();
