// live keeps a page connected to kioskd's websocket at path: it calls
// onMessage for every JSON message and onState(true/false) when the
// connection comes and goes, and reconnects by itself with a growing pause
// on the page clock (clock.js, loaded before this): 0.5 s after a
// connection closes, then 1, 2 and 4 s, then every 5 s, back to 0.5 s once
// one opens. A page that lost its connection says so; it never shows stale
// data as if it were live.
"use strict";
function live(path, onMessage, onState) {
  let delay = 500;
  function connect() {
    const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + path);
    ws.onopen = () => { delay = 500; onState(true); };
    ws.onmessage = (ev) => {
      let m;
      try { m = JSON.parse(ev.data); } catch (e) { return; }
      onMessage(m);
    };
    ws.onclose = () => {
      onState(false);
      pageClock.setTimeout(connect, delay);
      delay = Math.min(delay * 2, 5000);
    };
  }
  connect();
}
