"use strict";
// Search of the service catalogue, the kiosk's fourth way to a service
// (after group, subgroup, service). A query's words each match the start
// of a word: of the service's name in either language, or of one of its
// keywords. "пенс" finds "пенсії" and "Пенсійне", never "Компенсація".
// Case and the apostrophe's forms (' ’ ʼ ` ‘) do not matter.
//
// Ranked: services whose name holds every word first, those found only
// through keywords after; then the earlier in the name the first word
// matched; then the catalogue's order.

const ServiceSearch = (() => {
  const APOSTROPHES = /['’ʼ`‘ʹ′]/g;

  // fold makes text comparable: lowercase, one apostrophe.
  const fold = (s) => String(s || "").normalize("NFC").toLowerCase().replace(APOSTROPHES, "'");

  // words splits text into its words (letters, digits, an apostrophe
  // inside a word as in "сім'ї"); a hyphen or slash separates words.
  const words = (s) => fold(s).split(/[^\p{L}\p{N}']+/u).map((w) => w.replace(/^'+|'+$/g, "")).filter(Boolean);

  // build indexes a catalogue's services once.
  function build(services) {
    return services.map((s, order) => ({
      s,
      order,
      name: [...words(s.name && s.name.uk), ...words(s.name && s.name.en)],
      keys: [...((s.keywords && s.keywords.uk) || []), ...((s.keywords && s.keywords.en) || [])].flatMap(words),
    }));
  }

  // find returns the services matching query, best first.
  function find(index, query) {
    const q = words(query);
    if (!q.length) return [];
    const hits = [];
    for (const e of index) {
      let score = 0;
      let first = -1;
      let ok = true;
      for (const [i, w] of q.entries()) {
        const at = e.name.findIndex((n) => n.startsWith(w));
        if (at >= 0) {
          if (i === 0) first = at;
          continue;
        }
        if (e.keys.some((k) => k.startsWith(w))) {
          score++;
          continue;
        }
        ok = false;
        break;
      }
      if (ok) hits.push({ e, score, first: first < 0 ? 1e6 : first });
    }
    hits.sort((a, b) => a.score - b.score || a.first - b.first || a.e.order - b.e.order);
    return hits.map((h) => h.e.s);
  }

  return { fold, words, build, find };
})();
