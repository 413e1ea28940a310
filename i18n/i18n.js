// Shared by every page: loads the message catalogue (/i18n.json) and fills
// elements marked data-i18n="key". No user-facing text lives in page code.
"use strict";
const I18N = {
  lang: "uk",
  texts: {},
  async load() {
    const r = await fetch("/i18n.json", { cache: "no-cache" });
    this.texts = await r.json();
  },
  // t returns the text for key in the current language (or lang), with
  // {name} placeholders replaced from args.
  t(key, args, lang) {
    const entry = this.texts[key];
    if (!entry) return "[" + key + "]";
    let s = entry[lang || this.lang] || entry.uk;
    for (const [k, v] of Object.entries(args || {})) s = s.split("{" + k + "}").join(String(v));
    return s;
  },
  // both gives "Ukrainian / English" for captions seen by everyone at once.
  both(key, args) {
    return this.t(key, args, "uk") + " / " + this.t(key, args, "en");
  },
  apply(root) {
    (root || document).querySelectorAll("[data-i18n]").forEach((el) => {
      el.textContent = this.t(el.dataset.i18n);
    });
    (root || document).querySelectorAll("[data-i18n-both]").forEach((el) => {
      el.textContent = this.both(el.dataset.i18nBoth);
    });
    document.documentElement.lang = this.lang;
  },
};
