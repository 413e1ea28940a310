"use strict";
// The sign-in page: posts the name and password as JSON to
// /api/v1/login, shows what went wrong in the alert line, and on success
// goes on to ?next= (one of this server's own pages) or the operator's
// desk. Texts come from the catalogue; none lives here.
const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);

// nextPage keeps ?next= only when it is a path on this server: "//host"
// or "/\host" would take the user, just signed in, to another site.
function nextPage() {
  const next = params.get("next") || "";
  let target = "/operator/";
  if (next.startsWith("/") && !next.startsWith("//") && !next.startsWith("/\\")) {
    try {
      const u = new URL(next, location.origin);
      if (u.origin === location.origin) target = u.pathname + u.search + u.hash;
    } catch (e) {
      // not a URL: the default stays
    }
  }
  if (I18N.lang !== "uk") {
    const u = new URL(target, location.origin);
    if (!u.searchParams.has("lang")) u.searchParams.set("lang", I18N.lang);
    target = u.pathname + u.search + u.hash;
  }
  return target;
}

function errorText(code, retryAfter) {
  switch (code) {
    case "empty": return I18N.t("login.error.empty");
    case "bad_login": return I18N.t("login.error.bad_login");
    case "locked_out": return I18N.t("login.error.locked_out", { s: retryAfter || "60" });
    case "offline": return I18N.t("login.error.offline");
    default: return I18N.t("login.error.internal");
  }
}

// shown is the error on screen, kept so a language switch can say it again.
let shown = null;

function showError(code, retryAfter) {
  shown = code ? { code, retryAfter } : null;
  $("error").textContent = code ? errorText(code, retryAfter) : "";
}

function applyLang() {
  I18N.apply();
  $("lang").textContent = I18N.t("lang.switch");
}

async function submit(ev) {
  ev.preventDefault();
  const name = $("name").value.trim();
  const password = $("password").value;
  $("name").setAttribute("aria-invalid", String(!name));
  $("password").setAttribute("aria-invalid", String(!password));
  if (!name || !password) {
    showError("empty");
    (name ? $("password") : $("name")).focus();
    return;
  }
  showError(null);
  $("submit").disabled = true;
  $("submit").textContent = I18N.t("login.busy");
  try {
    const r = await fetch("/api/v1/login", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ name, password }),
      credentials: "same-origin",
    });
    if (r.ok) {
      location.assign(nextPage());
      return;
    }
    const body = await r.json().catch(() => ({}));
    showError(body.code, r.headers.get("Retry-After"));
    if (body.code === "bad_login") {
      $("password").value = "";
      $("password").setAttribute("aria-invalid", "true");
      $("password").focus();
    }
  } catch (e) {
    showError("offline");
  } finally {
    $("submit").disabled = false;
    $("submit").textContent = I18N.t("login.submit");
  }
}

async function main() {
  await I18N.load();
  I18N.lang = params.get("lang") === "en" ? "en" : "uk";
  applyLang();
  $("lang").addEventListener("click", () => {
    I18N.lang = I18N.lang === "uk" ? "en" : "uk";
    params.set("lang", I18N.lang);
    history.replaceState(null, "", "?" + params);
    applyLang();
    if (shown) showError(shown.code, shown.retryAfter);
  });
  $("form").addEventListener("submit", submit);
  $("name").focus();
}

main();
