"use strict";
// Fitting a screen's lists to the screen it is on, whatever its shape and
// text size: nothing scrolls, nothing is cut, no word is broken.
//
// A grid of tiles (fitGrid) fills its box: it takes the first column
// count, of those the screen's shape offers, at which every tile shows
// its whole text at full size; failing that the text shrinks a step at a
// time, down to a floor (in large-text mode the floor is still the normal
// size); failing that, the longest service names (never a group's or a
// subgroup's) are clamped to the lines
// their tile has, with an ellipsis (data-clamped; the service's own
// screen always shows its whole name). A title (fitTitle) shrinks to at
// most three lines, never clamped. A text panel (pagedPanel) that holds
// more than its box is laid out in columns of the box's size and shown
// one column, a page, at a time.

const Fit = (() => {
  const STEP = 0.05;
  const LAST = 0.6;
  const EPS = 1;

  // Whole pixels, as a browser reports them: no tolerance.
  const over = (e) => e.scrollHeight > e.clientHeight || e.scrollWidth > e.clientWidth;

  // fitGrid lays box's tiles out; cols lists the column counts to try, in
  // order of preference; floor is the smallest text scale allowed. It
  // returns what it chose.
  function fitGrid(box, cols, floor) {
    const tiles = [...box.children];
    for (const t of tiles) unclamp(t);
    const fits = () => !over(box) && tiles.every((t) => !over(t));
    const set = (c, s, capped) => {
      box.style.setProperty("--cols", c);
      box.style.setProperty("--fit", s.toFixed(2));
      box.classList.toggle("capped", !!capped);
    };
    // Rows grow to fill the box, up to a cap (.capped) when their text
    // fits in it, so a page of three is not three walls.
    for (let s = 1; s >= floor - 1e-9; s -= STEP) {
      for (const c of cols) {
        set(c, s, true);
        if (fits()) return done(box, c, s, 0);
        set(c, s, false);
        if (fits()) return done(box, c, s, 0);
      }
    }
    // At the floor, clamp the names that do not fit: to the lines a row
    // can hold, then fewer, down to two; with the column count that keeps
    // the most lines.
    // Only services' names: a group's or a subgroup's is never cut.
    const names = tiles.filter((t) => t.classList.contains("service")).map((t) => t.querySelector(".name")).filter(Boolean);
    // The last resort (a short screen with banners up, in large text):
    // below the floor, to LAST.
    const below = () => {
      for (let s = floor - STEP; s >= LAST - 1e-9; s -= STEP) {
        for (const c of cols) {
          set(c, s, false);
          if (fits()) return done(box, c, s, 0);
        }
      }
      return null;
    };
    if (!names.length) {
      const r = below();
      if (r) return r;
      set(cols[0], floor);
      return done(box, cols[0], floor, 0);
    }
    const clampAt = (c) => {
      set(c, floor);
      for (const t of tiles) unclamp(t);
      const rows = Math.ceil(tiles.length / c);
      const gap = parseFloat(getComputedStyle(box).rowGap) || 0;
      const rowHeight = (box.clientHeight - gap * (rows - 1)) / rows;
      const lh = lineHeight(names[0]);
      // The tallest name's tile is as tall as its content: what is not its
      // name (padding, borders, a count line) is what each tile needs more.
      const tallest = names.reduce((a, n) => (n.getBoundingClientRect().height > a.getBoundingClientRect().height ? n : a));
      const extra = tallest.parentElement.getBoundingClientRect().height - tallest.getBoundingClientRect().height;
      for (let lines = Math.max(2, Math.floor((rowHeight - extra) / lh)); lines >= 2; lines--) {
        for (const n of names) {
          unclamp(n.closest(".tile") || n.parentElement);
          if (n.getBoundingClientRect().height > lines * lh + EPS) clamp(n, lines);
        }
        if (fits()) return lines;
      }
      return 0;
    };
    let best = cols[0];
    let most = 0;
    for (const c of cols) {
      const lines = clampAt(c);
      if (lines > most) {
        most = lines;
        best = c;
      }
    }
    if (!most) {
      for (const t of tiles) unclamp(t);
      const r = below();
      if (r) return r;
    }
    clampAt(best);
    return done(box, best, floor, Math.max(most, 2));
  }

  function clamp(name, lines) {
    name.classList.add("clamped");
    name.style.setProperty("--lines", lines);
    (name.closest(".tile") || name.parentElement).dataset.clamped = String(lines);
  }

  function unclamp(tile) {
    const n = tile.querySelector(".name");
    if (n) {
      n.classList.remove("clamped");
      n.style.removeProperty("--lines");
    }
    delete tile.dataset.clamped;
  }

  function done(box, cols, scale, clamped) {
    box.dataset.cols = String(cols);
    box.dataset.fit = scale.toFixed(2);
    if (clamped) box.dataset.clamped = String(clamped);
    else delete box.dataset.clamped;
    return { cols, scale, clamped };
  }

  // lineHeight is an element's line height in px ("normal" taken as 1.2).
  function lineHeight(e) {
    const cs = getComputedStyle(e);
    return parseFloat(cs.lineHeight) || parseFloat(cs.fontSize) * 1.2;
  }

  // fitTitle shrinks a heading through sizes (rem) until it takes at most
  // maxLines lines.
  function fitTitle(h, sizes, maxLines) {
    for (const size of sizes) {
      h.style.fontSize = size + "rem";
      const lh = lineHeight(h);
      if (h.getBoundingClientRect().height <= maxLines * lh + EPS && !over(h)) return size;
    }
    return sizes[sizes.length - 1];
  }

  // pagedPanel shows a panel's content as large as it fits, through sizes
  // (rem, largest first), and a page at a time when it holds more than
  // its box at the smallest: the content flows into columns as wide and
  // as tall as the box (lines are never cut between pages) and the panel
  // is turned to the column asked for. It returns {pages, show(i)}.
  function pagedPanel(panel, sizes) {
    const inner = panel.firstElementChild;
    inner.style.columnWidth = "";
    inner.style.height = "";
    inner.classList.remove("paged");
    panel.style.removeProperty("--page-h");
    panel.scrollLeft = 0;
    // The largest text that fits on one page; else the smallest, paged.
    for (const size of sizes || []) {
      inner.style.fontSize = size + "rem";
      if (!over(panel) && !over(inner)) return { pages: 1, show() {} };
    }
    if (!over(panel) && !over(inner)) return { pages: 1, show() {} };
    const cs = getComputedStyle(panel);
    const w = panel.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
    const h = panel.clientHeight - parseFloat(cs.paddingTop) - parseFloat(cs.paddingBottom);
    panel.style.setProperty("--page-h", h + "px");
    const gap = 48;
    inner.classList.add("paged");
    inner.style.height = h + "px";
    inner.style.columnWidth = w + "px";
    inner.style.columnGap = gap + "px";
    const pages = Math.max(1, Math.round((inner.scrollWidth + gap) / (w + gap)));
    return {
      pages,
      show(i) { panel.scrollLeft = i * (w + gap); },
    };
  }

  return { fitGrid, fitTitle, pagedPanel, over };
})();
