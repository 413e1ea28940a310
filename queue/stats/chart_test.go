package stats

import (
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// luminance is a colour's relative luminance (WCAG 2).
func luminance(hex string) float64 {
	var c [3]float64
	for i := range c {
		v, _ := strconv.ParseUint(hex[1+2*i:3+2*i], 16, 8)
		x := float64(v) / 255
		if x <= 0.03928 {
			c[i] = x / 12.92
		} else {
			c[i] = math.Pow((x+0.055)/1.055, 2.4)
		}
	}
	return 0.2126*c[0] + 0.7152*c[1] + 0.0722*c[2]
}

func contrast(a, b string) float64 {
	la, lb := luminance(a), luminance(b)
	return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)
}

// Every colour pair on the page and in the charts is at least 7:1 (WCAG
// AAA), bars included although 3:1 would do for graphics.
func TestContrast(t *testing.T) {
	pairs := [][2]string{
		{colourInk, "#ffffff"}, {colourBar, "#ffffff"}, {colourBarAlt, "#ffffff"}, // charts, on their white background
		{"#111111", "#f4f6f8"}, {"#111111", "#ffffff"}, {"#111111", "#e8ecf3"}, // text on the page, sections, table heads
		{"#ffffff", "#0b3d91"}, // header, button
		{"#0b3d91", "#ffffff"}, // links
		{"#8a1c00", "#ffffff"}, // errors
		{"#555555", "#ffffff"}, // table rules
	}
	known := map[string]bool{}
	for _, p := range pairs {
		known[p[0]], known[p[1]] = true, true
		if r := contrast(p[0], p[1]); r < 7 {
			t.Errorf("%s on %s: %.2f:1", p[0], p[1], r)
		}
	}
	// A colour added to the stylesheet must be added above.
	css, _ := os.ReadFile("reports.css")
	html, _ := os.ReadFile("reports.html")
	for _, c := range regexp.MustCompile(`#[0-9a-fA-F]{6}\b`).FindAllString(string(css)+string(html), -1) {
		if !known[strings.ToLower(c)] {
			t.Errorf("colour %s is in no checked pair", c)
		}
	}
}

func TestCharts(t *testing.T) {
	long := strings.Repeat("Довга назва послуги ", 5)
	rows := []chartRow{
		{Name: long, Visitors: 0, WaitMedian: 0, WaitP90: 0},
		{Name: "B", Visitors: 1000, WaitMedian: 0.01, WaitP90: 120},
	}
	c := visitorsChart("en", "Visitors", rows)
	if len(c.Rects) != 1 || c.Rects[0].W != barSpan || !strings.Contains(c.Label, "Most: B, 1000. Total: 1000.") {
		t.Errorf("%+v", c)
	}
	if s := c.Texts[0].S; !strings.HasSuffix(s, "…") || len([]rune(s)) > labelRunes {
		t.Errorf("label %q", s)
	}
	// A tiny figure is still a visible bar; the tooltip keeps the whole name.
	w := waitChart("uk", "Очікування", rows)
	var tiny, tip bool
	for _, r := range w.Rects {
		tiny = tiny || r.W == 1
		tip = tip || strings.Contains(r.Tip, "B, медіана: 0,0 хв")
	}
	if !tiny || !tip || !strings.Contains(w.Label, "B: медіана 0,0 хв, 90-й процентиль 120,0 хв") {
		t.Errorf("%+v", w)
	}
	// Nobody served: no bars, and the summary says so.
	z := visitorsChart("en", "Visitors", []chartRow{{Name: "A"}})
	if len(z.Rects) != 0 || !strings.Contains(z.Label, "No visitors were served.") {
		t.Errorf("%+v", z)
	}
	// Hours: the gap at 12 is a column of 0; ties go to the earlier hour.
	h := hoursChart("en", "Hours", map[int]int{9: 3, 11: 3, 13: 1})
	var labels []string
	for _, tx := range h.Texts {
		if tx.Y > 250 { // under the baseline
			labels = append(labels, tx.S)
		}
	}
	if strings.Join(labels, " ") != "09 10 11 12 13" || len(h.Rects) != 3 || !strings.Contains(h.Label, "Busiest hour: 09:00–10:00, 3 visitors. Total: 7.") {
		t.Errorf("labels %v, %+v", labels, h)
	}
	for _, ch := range []svgChart{c, w, z, h} {
		for _, r := range ch.Rects {
			if r.X < 0 || r.Y < 0 || r.X+r.W > ch.W || r.Y+r.H > ch.H {
				t.Errorf("%s: %+v outside %dx%d", ch.Title, r, ch.W, ch.H)
			}
		}
	}
}
