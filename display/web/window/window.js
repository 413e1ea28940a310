"use strict";
// A window's own display: the ticket called to this window, large.
const $ = (id) => document.getElementById(id);
async function main() {
  await I18N.load();
  I18N.apply();
  live("/window/ws", (m) => {
    if (m.type !== "snapshot") return;
    $("number").textContent = m.window;
    $("ticket").textContent = m.call ? m.call.ticket : "—";
  }, (up) => {
    $("offline").hidden = up;
    document.body.classList.toggle("stale", !up);
  });
}
main();
