package announce

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// say is what a list of segments says in l.
func say(l *Language, keys []string) string {
	words := make([]string, len(keys))
	for i, k := range keys {
		w, ok := l.Texts[k]
		if !ok {
			return fmt.Sprintf("<no text for %s>", k)
		}
		words[i] = w
	}
	return strings.Join(words, " ")
}

// Every number 0–999 and every letter, against a table read by a person.
// Run with -update after an intended change, and read the diff.
func TestNumbersAndLetters(t *testing.T) {
	for _, code := range []string{"uk", "en"} {
		l := Languages[code]
		var b strings.Builder
		for n := range 1000 {
			fmt.Fprintf(&b, "%d\t%s\n", n, say(l, l.Number(n)))
		}
		for _, n := range []int{1000, 1001, 2000, 2022, 3500, 4999, 5000, 9999} {
			fmt.Fprintf(&b, "%d\t%s\n", n, say(l, l.Number(n)))
		}
		for _, r := range "АБВГҐДЕЄЖЗИІЇЙКЛМНОПРСТУФХЦЧШЩЬЮЯ" {
			keys, unspoken := l.Ticket(string(r))
			if len(keys) != 1 || len(unspoken) != 0 {
				t.Errorf("%s: letter %c: segments %v, unspoken %q", code, r, keys, unspoken)
			}
			fmt.Fprintf(&b, "%c\t%s\n", r, say(l, keys))
		}
		golden := filepath.Join("testdata", "words-"+code+".txt")
		if *update {
			if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run go test ./display/announce -update)", err)
		}
		if got := b.String(); got != string(want) {
			gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
			for i := range min(len(gl), len(wl)) {
				if gl[i] != wl[i] {
					t.Fatalf("%s line %d: got %q, want %q", golden, i+1, gl[i], wl[i])
				}
			}
			t.Fatalf("%s: %d lines, want %d", golden, len(gl), len(wl))
		}
	}
}

// The forms people get wrong, checked by hand beside the golden table.
func TestUkrainianForms(t *testing.T) {
	uk := Languages["uk"]
	for n, want := range map[int]string{
		0: "нуль", 1: "один", 2: "два", 11: "одинадцять", 14: "чотирнадцять", 19: "дев'ятнадцять",
		40: "сорок", 90: "дев'яносто", 100: "сто", 101: "сто один", 200: "двісті", 300: "триста",
		400: "чотириста", 500: "п'ятсот", 912: "дев'ятсот дванадцять", 999: "дев'ятсот дев'яносто дев'ять",
		1000: "тисяча", 2000: "дві тисячі", 3001: "три тисячі один", 5000: "п'ять тисяч",
	} {
		if got := say(uk, uk.Number(n)); got != want {
			t.Errorf("%d: %q, want %q", n, got, want)
		}
	}
}

func TestTicketSegments(t *testing.T) {
	uk := Languages["uk"]
	for _, tc := range []struct {
		ticket, want, unspoken string
	}{
		{"А123", "а сто двадцять три", ""},
		{"Б007", "бе сім", ""}, // leading zeros are not spoken
		{"В000", "ве нуль", ""},
		{"ґ5", "ґе п'ять", ""}, // lower case is read as the letter
		{"Й-12", "йот дванадцять", ""},
		{"Q12", "дванадцять", "Q"}, // a Latin letter no pack says
		{"Ж1#", "же один", "#"},
		{"", "", ""},
	} {
		keys, unspoken := uk.Ticket(tc.ticket)
		if got := say(uk, keys); got != tc.want || string(unspoken) != tc.unspoken {
			t.Errorf("%q: %q (unspoken %q), want %q (unspoken %q)", tc.ticket, got, string(unspoken), tc.want, tc.unspoken)
		}
	}
	// About forty segments say every number below a thousand.
	seen := map[string]bool{}
	for n := range 1000 {
		for _, k := range uk.Number(n) {
			seen[k] = true
		}
	}
	if len(seen) < 36 || len(seen) > 40 {
		t.Errorf("%d number segments", len(seen))
	}
}
