package webtest

import (
	"encoding/json"
	"fmt"

	"github.com/chromedp/chromedp"
)

// Layout is what CheckLayout measured on the page as it is now.
type Layout struct {
	// Problems says, one line each, what is off the screen, out of its
	// box, overflowing or overlapping, naming the element and its text.
	Problems []string `json:"problems"`
	// Texts is how many elements with text were checked.
	Texts int `json:"texts"`
	// ScrollWidth and ScrollHeight are the page's (the document's, or its
	// body's, whichever is larger); a page that does not scroll, and
	// clips nothing at its body, has the viewport's (Width, Height).
	ScrollWidth  int `json:"scrollWidth"`
	ScrollHeight int `json:"scrollHeight"`
	Width        int `json:"width"`
	Height       int `json:"height"`
}

// layoutCheck measures every element shown. Each element with text of its
// own: its box inside the viewport and inside its parent's box, and the
// text itself (a range over each of its text nodes) inside its box. Every
// element: no content wider or taller than its box (scrollWidth >
// clientWidth), and no two sibling boxes overlapping. Every pair of
// elements with text, neither inside the other: their texts do not
// overlap. The document scrolls neither way. Inside a clipping element
// (clipped: selectors, like a running line's band) nothing is checked but
// that the element clips its content (overflow hidden or clip).
// Tolerance: 1 px, for subpixel rounding.
const layoutCheck = `((clipped) => {
	const eps = 1, vw = innerWidth, vh = innerHeight, out = [];
	const view = new DOMRect(0, 0, vw, vh);
	const desc = (e) => {
		let s = e.tagName.toLowerCase();
		if (e.id) s += "#" + e.id;
		else if (typeof e.className === "string" && e.className.trim()) s += "." + e.className.trim().split(/\s+/).join(".");
		const t = e.textContent.trim().replace(/\s+/g, " ");
		return s + (t ? " «" + (t.length > 40 ? t.slice(0, 40) + "…" : t) + "»" : "");
	};
	const r4 = (r) => Math.round(r.left) + "," + Math.round(r.top) + " " + Math.round(r.width) + "×" + Math.round(r.height);
	const inside = (r, b) => r.left >= b.left - eps && r.top >= b.top - eps && r.right <= b.right + eps && r.bottom <= b.bottom + eps;
	const overlap = (a, b) => Math.min(a.right, b.right) - Math.max(a.left, b.left) > eps &&
		Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > eps;
	const clippers = clipped.flatMap((sel) => [...document.querySelectorAll(sel)]);
	const inClipper = (e) => clippers.some((c) => c !== e && c.contains(e));
	const shown = (e) => e.getClientRects().length > 0;
	const all = [document.documentElement, document.body, ...document.body.querySelectorAll("*")].filter((e) => shown(e) && !inClipper(e));
	const ownText = (e) => [...e.childNodes].filter((n) => n.nodeType === Node.TEXT_NODE && n.textContent.trim() !== "");
	const texts = all.filter((e) => ownText(e).length > 0);
	const range = document.createRange();
	const textRect = (n) => { range.selectNodeContents(n); return range.getBoundingClientRect(); };
	const union = (rs) => rs.reduce((a, r) => a ? new DOMRect(Math.min(a.left, r.left), Math.min(a.top, r.top),
		Math.max(a.right, r.right) - Math.min(a.left, r.left), Math.max(a.bottom, r.bottom) - Math.min(a.top, r.top)) : r, null);

	for (const c of clippers) {
		if (!shown(c)) continue;
		const s = getComputedStyle(c);
		if (!/^(hidden|clip)$/.test(s.overflowX) || !/^(hidden|clip)$/.test(s.overflowY)) out.push(desc(c) + ": does not clip its content (overflow " + s.overflowX + " " + s.overflowY + ")");
		if (!inside(c.getBoundingClientRect(), view)) out.push(desc(c) + ": box " + r4(c.getBoundingClientRect()) + " not inside the " + vw + "×" + vh + " screen");
	}
	const textBoxes = new Map();
	for (const e of texts) {
		const box = e.getBoundingClientRect();
		if (!inside(box, view)) out.push(desc(e) + ": box " + r4(box) + " not inside the " + vw + "×" + vh + " screen");
		const p = e.parentElement;
		if (p && !inside(box, p.getBoundingClientRect())) out.push(desc(e) + ": box " + r4(box) + " not inside its parent " + desc(p) + " " + r4(p.getBoundingClientRect()));
		const t = union(ownText(e).map(textRect));
		textBoxes.set(e, t);
		if (!inside(t, box)) out.push(desc(e) + ": its text " + r4(t) + " runs out of its box " + r4(box));
	}
	for (const e of all) {
		if (!clippers.includes(e)) {
			if (e.scrollWidth > e.clientWidth && e.clientWidth > 0) out.push(desc(e) + ": content " + e.scrollWidth + " px wide in a box of " + e.clientWidth);
			if (e.scrollHeight > e.clientHeight && e.clientHeight > 0) out.push(desc(e) + ": content " + e.scrollHeight + " px tall in a box of " + e.clientHeight);
		}
		const sibs = [...e.parentElement ? e.parentElement.children : []].filter((s) => s !== e && all.includes(s));
		for (const s of sibs) {
			if (e.compareDocumentPosition(s) & Node.DOCUMENT_POSITION_PRECEDING) continue; // each pair once
			const a = e.getBoundingClientRect(), b = s.getBoundingClientRect();
			if (a.width > 0 && a.height > 0 && b.width > 0 && b.height > 0 && overlap(a, b)) out.push(desc(e) + " " + r4(a) + " overlaps its sibling " + desc(s) + " " + r4(b));
		}
	}
	for (let i = 0; i < texts.length; i++) {
		for (let j = i + 1; j < texts.length; j++) {
			const a = texts[i], b = texts[j];
			if (a.contains(b) || b.contains(a)) continue;
			if (overlap(textBoxes.get(a), textBoxes.get(b))) out.push("the text of " + desc(a) + " " + r4(textBoxes.get(a)) + " overlaps that of " + desc(b) + " " + r4(textBoxes.get(b)));
		}
	}
	// The page's size: the document's, or the body's when it clips.
	const sw = Math.max(document.documentElement.scrollWidth, document.body.scrollWidth);
	const sh = Math.max(document.documentElement.scrollHeight, document.body.scrollHeight);
	if (sw > vw) out.push("the page is " + sw + " px wide on a " + vw + " px screen");
	if (sh > vh) out.push("the page is " + sh + " px tall on a " + vh + " px screen");
	return {problems: out, texts: texts.length, scrollWidth: sw, scrollHeight: sh, width: vw, height: vh};
})`

// CheckLayout measures the page as it is now (see layoutCheck): every text
// on the screen, inside its box and its parent's, nothing overflowing or
// overlapping, no scrolling. clipped are CSS selectors of elements that
// clip what they hold on purpose, like a running line's band: only their
// own box and their clipping are checked.
func (b *Browser) CheckLayout(clipped ...string) (Layout, error) {
	if clipped == nil {
		clipped = []string{}
	}
	arg, err := json.Marshal(clipped)
	if err != nil {
		return Layout{}, err
	}
	l, err := chromedp.Run(b.ctx, chromedp.Evaluate[Layout](layoutCheck+"("+string(arg)+")"))
	if err != nil {
		return Layout{}, fmt.Errorf("check layout: %w", err)
	}
	return l, nil
}
