"use strict";
// The operator's desk page: pick the window, call the next visitor, call
// again. It talks to queued's JSON API and refreshes every few seconds.
const $ = (id) => document.getElementById(id);
let catalogue = { groups: [], services: [] };

function windowNumber() { return Number($("window").value); }

async function api(method, path) {
  const r = await fetch(path, { method });
  const body = await r.json().catch(() => ({}));
  return { ok: r.ok, status: r.status, body };
}

function serviceName(id) {
  const s = catalogue.services.find((x) => x.id === id);
  return s ? (s.name[I18N.lang] || s.name.uk) : "";
}

function groupName(id) {
  const g = catalogue.groups.find((x) => x.id === id);
  return g ? (g.name[I18N.lang] || g.name.uk) : id;
}

function showTicket(t) {
  $("current").textContent = t ? t.number : "—";
  $("service").textContent = t ? serviceName(t.service) : "";
}

async function refresh() {
  const [w, q] = await Promise.all([api("GET", "/api/v1/windows/" + windowNumber()), api("GET", "/api/v1/queues")]);
  if (w.ok) showTicket(w.body.ticket);
  if (q.ok) {
    const rows = q.body.map((l) => {
      const tr = document.createElement("tr");
      for (const v of [groupName(l.group), l.waiting, I18N.t("operator.minutes", { n: l.wait_min })]) {
        const td = document.createElement("td");
        td.textContent = v;
        tr.appendChild(td);
      }
      return tr;
    });
    $("queues").replaceChildren(...rows);
  }
}

async function act(kind) {
  $("next").disabled = $("recall").disabled = true;
  $("message").textContent = "";
  try {
    const r = await api("POST", "/api/v1/windows/" + windowNumber() + "/" + kind);
    if (r.ok) showTicket(r.body);
    else $("message").textContent = I18N.t("operator.error." + (r.body.code || "internal"));
    await refresh();
  } catch (e) {
    $("message").textContent = I18N.t("operator.error.offline");
  } finally {
    $("next").disabled = $("recall").disabled = false;
  }
}

async function main() {
  await I18N.load();
  const params = new URLSearchParams(location.search);
  I18N.lang = params.get("lang") === "en" ? "en" : "uk";
  I18N.apply();
  $("lang").textContent = I18N.t("lang.switch");
  catalogue = (await api("GET", "/api/v1/services")).body;
  const windows = (await api("GET", "/api/v1/windows")).body;
  for (const n of windows) {
    const o = document.createElement("option");
    o.value = n;
    o.textContent = n;
    $("window").appendChild(o);
  }
  if (params.get("window")) $("window").value = params.get("window");
  $("window").addEventListener("change", () => {
    params.set("window", windowNumber());
    history.replaceState(null, "", "?" + params);
    refresh();
  });
  $("lang").addEventListener("click", () => {
    params.set("lang", I18N.lang === "uk" ? "en" : "uk");
    location.search = params;
  });
  $("next").addEventListener("click", () => act("next"));
  $("recall").addEventListener("click", () => act("recall"));
  await refresh();
  setInterval(refresh, 3000);
}
main();
