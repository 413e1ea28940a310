package stats

import (
	"bytes"
	"encoding/csv"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// The test day's CSV for every by, against testdata/day-<by>.csv.
func TestWriteCSVGolden(t *testing.T) {
	for _, by := range Bys {
		t.Run(by, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteCSV(&buf, computeDay(t, by)); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "day-"+by+".csv")
			if *update {
				if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./queue/stats -run TestWriteCSVGolden -update)", err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("%s differs:\n%s", golden, buf.Bytes())
			}

			b := buf.Bytes()
			if !bytes.HasPrefix(b, []byte("\xEF\xBB\xBF")) {
				t.Fatal("no byte order mark")
			}
			recs, err := csv.NewReader(bytes.NewReader(b[3:])).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			r := computeDay(t, by)
			if len(recs) != len(r.Rows)+2 || strings.Join(recs[0], ",") != strings.Join(csvHeader, ",") || recs[len(recs)-1][0] != "total" {
				t.Errorf("records: %q", recs)
			}
			for _, rec := range recs {
				if len(rec) != 21 {
					t.Errorf("%d columns: %q", len(rec), rec)
				}
			}
		})
	}
}

func TestCSVFormula(t *testing.T) {
	r := &Report{Rows: []Row{{Key: "=1+1", Name: "@SUM(A1)"}, {Key: "ok", Name: "Петро, \"Шевченко\""}}}
	var buf bytes.Buffer
	_ = WriteCSV(&buf, r)
	recs, err := csv.NewReader(bytes.NewReader(buf.Bytes()[3:])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if recs[1][0] != "'=1+1" || recs[1][1] != "'@SUM(A1)" || recs[2][1] != "Петро, \"Шевченко\"" {
		t.Errorf("%q", recs)
	}
}
