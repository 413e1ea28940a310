"use strict";
// A window's own display: the ticket called to this window, large. After
// every change and resize the text is fitted to its rows (screen.js), then
// <html data-layout> says the screen size it was laid out for.
const $ = (id) => document.getElementById(id);

function layout() {
  const root = document.documentElement;
  delete root.dataset.layout;
  fitText($("label"));
  fitText($("ticket"));
  root.dataset.layout = innerWidth + "x" + innerHeight;
}

async function main() {
  await I18N.load();
  I18N.apply();
  addEventListener("resize", layout);
  document.fonts.ready.then(layout);
  layout();
  live("/window/ws", (m) => {
    if (m.type !== "snapshot") return;
    $("number").textContent = m.window;
    $("ticket").textContent = m.call ? m.call.ticket : "—";
    layout();
  }, (up) => {
    $("offline").hidden = up;
    document.body.classList.toggle("stale", !up);
  });
}
main();
