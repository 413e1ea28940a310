"use strict";
// Shows what every simulated LED board displays now.
const $ = (id) => document.getElementById(id);
async function main() {
  await I18N.load();
  I18N.apply();
  live("/boards/ws", (m) => {
    if (m.type !== "boards") return;
    $("boards").replaceChildren(...m.boards.map((b) => {
      const div = document.createElement("div");
      div.className = "board";
      const h = document.createElement("h2");
      h.textContent = b.name;
      const led = document.createElement("div");
      led.className = "led";
      led.textContent = (b.lines || []).join("\n");
      div.append(h, led);
      return div;
    }));
  }, (up) => { $("offline").hidden = up; });
}
main();
