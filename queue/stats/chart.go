package stats

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/cherga/kiosk/i18n"
)

// The charts are SVG drawn on the server: the page needs no script, and
// the strict CSP holds (presentation attributes only, no style=). Every
// colour is at least 7:1 against the white background (chart_test.go).
const (
	colourInk    = "#111111" // text and axes
	colourBar    = "#0b3d91" // visitors; median wait
	colourBarAlt = "#8a1c00" // 90th percentile wait
	chartWidth   = 800
	fontSize     = 14
	labelRunes   = 30 // a longer name is cut, with its whole text in the bar's tooltip
)

// svgChart is a chart laid out in a chartWidth-wide viewBox; the template
// "chart" in reports.html draws it, escaping every text.
type svgChart struct {
	Title string // the visible caption and the SVG's <title>
	Label string // aria-label: the title and what the chart shows
	W, H  int
	Rects []svgRect
	Texts []svgText
	Lines []svgLine
}

type svgRect struct {
	X, Y, W, H int
	Fill       string
	Tip        string // <title>: a tooltip with the exact figure
}

type svgText struct {
	X, Y   int
	Anchor string // start, middle or end
	Size   int
	S      string
}

type svgLine struct{ X1, Y1, X2, Y2 int }

// chartRow is what a chart needs of a row.
type chartRow struct {
	Name                string
	Visitors            int
	WaitMedian, WaitP90 float64 // minutes
}

func shorten(s string) string {
	if utf8.RuneCountInString(s) <= labelRunes {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:labelRunes-1])) + "…"
}

// barScale maps a value to a bar length of at most span; a value above
// zero is always at least one unit long, so it is never mistaken for none.
func barScale(v, maxV float64, span int) int {
	if v <= 0 || maxV <= 0 {
		return 0
	}
	return max(int(v/maxV*float64(span)+0.5), 1)
}

// Horizontal bars share this layout: names right-aligned in a column on
// the left, bars from labelW, the figure just after the bar.
const (
	labelW  = 270
	barSpan = 440 // leaves room for the figure after the longest bar
	top     = 8
)

// visitorsChart is a horizontal bar per row: visitors served.
func visitorsChart(lang, title string, rows []chartRow) svgChart {
	const rowH, barH = 28, 18
	c := svgChart{Title: title, W: chartWidth, H: top*2 + len(rows)*rowH}
	maxV, total, most := 0, 0, -1
	for i, r := range rows {
		total += r.Visitors
		if r.Visitors > maxV {
			maxV, most = r.Visitors, i
		}
	}
	for i, r := range rows {
		y := top + i*rowH
		w := barScale(float64(r.Visitors), float64(maxV), barSpan)
		c.Texts = append(c.Texts,
			svgText{X: labelW - 8, Y: y + 14, Anchor: "end", Size: fontSize, S: shorten(r.Name)},
			svgText{X: labelW + w + 6, Y: y + 14, Anchor: "start", Size: fontSize, S: strconv.Itoa(r.Visitors)})
		if w > 0 {
			c.Rects = append(c.Rects, svgRect{X: labelW, Y: y + 1, W: w, H: barH, Fill: colourBar,
				Tip: r.Name + ": " + strconv.Itoa(r.Visitors)})
		}
	}
	c.Lines = append(c.Lines, svgLine{X1: labelW, Y1: top / 2, X2: labelW, Y2: c.H - top/2})
	summary := i18n.T(lang, "reports.summary.none")
	if most >= 0 {
		summary = i18n.T(lang, "reports.summary.most", "name", rows[most].Name, "n", maxV, "total", total)
	}
	c.Label = title + ". " + summary
	return c
}

// waitChart is two horizontal bars per row: the median and the 90th
// percentile wait, in minutes, with a legend above.
func waitChart(lang, title string, rows []chartRow) svgChart {
	const legendH, rowH, barH = 30, 44, 15
	c := svgChart{Title: title, W: chartWidth, H: top*2 + legendH + len(rows)*rowH}
	maxV, longest := 0.0, -1
	for i, r := range rows {
		if r.WaitP90 > maxV || r.WaitMedian > maxV {
			maxV, longest = max(r.WaitP90, r.WaitMedian), i
		}
	}
	median, p90 := i18n.T(lang, "reports.median"), i18n.T(lang, "reports.p90")
	c.Rects = append(c.Rects,
		svgRect{X: labelW, Y: top + 4, W: 14, H: 14, Fill: colourBar, Tip: median},
		svgRect{X: labelW + 200, Y: top + 4, W: 14, H: 14, Fill: colourBarAlt, Tip: p90})
	c.Texts = append(c.Texts,
		svgText{X: labelW + 20, Y: top + 16, Anchor: "start", Size: fontSize, S: median},
		svgText{X: labelW + 220, Y: top + 16, Anchor: "start", Size: fontSize, S: p90})
	for i, r := range rows {
		y := top + legendH + i*rowH
		c.Texts = append(c.Texts, svgText{X: labelW - 8, Y: y + 21, Anchor: "end", Size: fontSize, S: shorten(r.Name)})
		for j, bar := range []struct {
			v    float64
			fill string
			name string
		}{{r.WaitMedian, colourBar, median}, {r.WaitP90, colourBarAlt, p90}} {
			by := y + 4 + j*(barH+3)
			w := barScale(bar.v, maxV, barSpan)
			figure := decimal(lang, bar.v, 1)
			if w > 0 {
				c.Rects = append(c.Rects, svgRect{X: labelW, Y: by, W: w, H: barH, Fill: bar.fill,
					Tip: r.Name + ", " + bar.name + ": " + i18n.T(lang, "reports.minutes", "n", figure)})
			}
			c.Texts = append(c.Texts, svgText{X: labelW + w + 6, Y: by + 12, Anchor: "start", Size: 12, S: figure})
		}
	}
	c.Lines = append(c.Lines, svgLine{X1: labelW, Y1: top + legendH - 4, X2: labelW, Y2: c.H - top/2})
	summary := i18n.T(lang, "reports.summary.no_wait")
	if longest >= 0 {
		r := rows[longest]
		summary = i18n.T(lang, "reports.summary.longest_wait", "name", r.Name,
			"median", decimal(lang, r.WaitMedian, 1), "p90", decimal(lang, r.WaitP90, 1))
	}
	c.Label = title + ". " + summary
	return c
}

// hoursChart is a column per hour of day, from the first hour with
// episodes to the last, empty hours included so that gaps show.
func hoursChart(lang, title string, visitors map[int]int) svgChart {
	const left, right, plotH, topPad, bottom = 40, 20, 220, 28, 30
	c := svgChart{Title: title, W: chartWidth, H: topPad + plotH + bottom}
	first, last, maxV, total, busiest := 24, -1, 0, 0, -1
	for h, n := range visitors {
		first, last = min(first, h), max(last, h)
		total += n
		if n > maxV || n == maxV && h < busiest {
			maxV, busiest = n, h
		}
	}
	summary := i18n.T(lang, "reports.summary.none")
	if last >= 0 {
		n := last - first + 1
		// At most 64 units a column, so a short day's few columns do not
		// swell into blocks.
		colW := min((chartWidth-left-right)/n, 64)
		barW := max(colW*7/10, 2)
		base := topPad + plotH
		for h := first; h <= last; h++ {
			x := left + (h-first)*colW
			v := visitors[h]
			bh := barScale(float64(v), float64(maxV), plotH)
			hour := hourLabel(h)
			if bh > 0 {
				c.Rects = append(c.Rects, svgRect{X: x + (colW-barW)/2, Y: base - bh, W: barW, H: bh, Fill: colourBar,
					Tip: hour + ": " + strconv.Itoa(v)})
			}
			c.Texts = append(c.Texts,
				svgText{X: x + colW/2, Y: base - bh - 6, Anchor: "middle", Size: fontSize, S: strconv.Itoa(v)},
				svgText{X: x + colW/2, Y: base + 20, Anchor: "middle", Size: fontSize, S: hour[:2]})
		}
		c.Lines = append(c.Lines, svgLine{X1: left, Y1: base, X2: left + n*colW, Y2: base})
		if maxV > 0 {
			summary = i18n.T(lang, "reports.summary.busiest_hour", "hour", hourLabel(busiest), "n", maxV, "total", total)
		}
	}
	c.Label = title + ". " + summary
	return c
}

func hourLabel(h int) string {
	_, n := rowName(ByHour, strconv.Itoa(h), Names{})
	return n
}

// decimal writes x with the given decimals and the language's decimal
// separator (a comma in Ukrainian).
func decimal(lang string, x float64, decimals int) string {
	s := strconv.FormatFloat(x, 'f', decimals, 64)
	if lang != "en" {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s
}
