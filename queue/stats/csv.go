package stats

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
)

// csvHeader is the CSV's first row; the columns are stable.
var csvHeader = []string{
	"key", "name", "visitors", "no_shows", "transfers", "cancelled",
	"wait_count", "wait_mean_s", "wait_median_s", "wait_p90_s",
	"service_count", "service_mean_s", "service_median_s", "service_p90_s",
	"ratings_count", "ratings_mean", "ratings_1", "ratings_2", "ratings_3", "ratings_4", "ratings_5",
}

// utf8BOM makes Excel read the file as UTF-8.
const utf8BOM = "\uFEFF"

// WriteCSV writes r as CSV: UTF-8 with a byte order mark, CRLF line ends
// (RFC 4180), a header row, one row per key (name in Ukrainian), then the
// "total" row.
func WriteCSV(w io.Writer, r *Report) error {
	if _, err := io.WriteString(w, utf8BOM); err != nil {
		return fmt.Errorf("stats: csv: %w", err)
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true // RFC 4180, as spreadsheets expect
	_ = cw.Write(csvHeader)
	for _, row := range r.Rows {
		_ = cw.Write(csvRecord(row.Key, row.Name, &row.Figures))
	}
	_ = cw.Write(csvRecord("total", "", &r.Total.Figures))
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("stats: csv: %w", err)
	}
	return nil
}

func csvRecord(key, name string, f *Figures) []string {
	rec := make([]string, 0, len(csvHeader))
	rec = append(rec, cell(key), cell(name))
	for _, n := range []int{f.Visitors, f.NoShows, f.Transfers, f.Cancelled} {
		rec = append(rec, strconv.Itoa(n))
	}
	for _, d := range []Durations{f.Wait, f.Service} {
		rec = append(rec, strconv.Itoa(d.Count), number(d.MeanS), number(d.MedianS), number(d.P90S))
	}
	rec = append(rec, strconv.Itoa(f.Ratings.Count), number(f.Ratings.Mean))
	for _, n := range f.Ratings.Dist {
		rec = append(rec, strconv.Itoa(n))
	}
	return rec
}

// number writes a figure with a decimal point, as few digits as it needs.
func number(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }

// cell keeps a spreadsheet from taking a name for a formula.
func cell(s string) string {
	if s != "" {
		switch s[0] {
		case '=', '+', '-', '@', '\t', '\r':
			return "'" + s
		}
	}
	return s
}
