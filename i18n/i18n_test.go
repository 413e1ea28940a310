package i18n

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestEveryTextInBothLanguages(t *testing.T) {
	for key, texts := range catalogue {
		for _, lang := range Languages {
			if strings.TrimSpace(texts[lang]) == "" {
				t.Errorf("%s has no %s text", key, lang)
			}
		}
		if len(texts) != len(Languages) {
			t.Errorf("%s has languages %v", key, texts)
		}
		// Placeholders must match, or one language shows "{n}" to visitors.
		ph := regexp.MustCompile(`\{\w+\}`)
		if a, b := ph.FindAllString(texts["uk"], -1), ph.FindAllString(texts["en"], -1); strings.Join(a, ",") != strings.Join(b, ",") {
			t.Errorf("%s: placeholders differ: %v vs %v", key, a, b)
		}
	}
}

func TestT(t *testing.T) {
	if got := T("uk", "ticket.ahead", "n", 3); got != "Перед вами: 3" {
		t.Errorf("got %q", got)
	}
	if got := T("de", "ticket.ahead", "n", 3); got != "Перед вами: 3" {
		t.Errorf("unknown language: %q", got)
	}
	if got := Both("ticket.your_number"); got != "Ваш номер / Your number" {
		t.Errorf("got %q", got)
	}
	if got := T("uk", "no.such.key"); got != "[no.such.key]" {
		t.Errorf("got %q", got)
	}
}

// Every key the code and pages use is in the catalogue, and no page carries
// its own visitor-facing text.
func TestKeysUsedExist(t *testing.T) {
	uses := []*regexp.Regexp{
		regexp.MustCompile(`\bT\("\w+", "([\w.]*\w)"`),
		regexp.MustCompile(`\bBoth\("([\w.]*\w)"`),
		regexp.MustCompile(`\bt\("([\w.]*\w)"`),
		regexp.MustCompile(`I18N\.t\("([\w.]*\w)"`),
		regexp.MustCompile(`data-i18n(?:-both)?="([\w.]*\w)"`),
		regexp.MustCompile(`\bt \$lang "([\w.]*\w)"`),
	}
	// Keys made at run time from an API error code.
	dynamic := []string{"operator.error.queue_empty", "operator.error.unknown_window",
		"operator.error.nothing_to_recall", "operator.error.bad_window", "operator.error.internal",
		// The kiosk's refusals of a booking, by the check-in's error code.
		"kiosk.refused.booking_unknown", "kiosk.refused.booking_used", "kiosk.refused.booking_early",
		"kiosk.refused.booking_late", "kiosk.refused.booking_other_day", "kiosk.refused.booking_cancelled",
		"kiosk.refused.booking_unverified",
		// A keypad's refusals, by the window state's code (terminal/bus.go).
		"keypad.refused.nobody_waiting", "keypad.refused.not_signed_in", "keypad.refused.paused",
		"keypad.refused.nothing_to_do", "keypad.refused.too_old",
		// The kiosk's refusals to print a list of documents (kiosk/documents.go).
		"kiosk.print.unknown_service", "kiosk.print.no_documents", "kiosk.print.paper_out",
		"kiosk.print.printer_fault", "kiosk.print.too_many", "kiosk.print.no_catalogue"}
	found := 0
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "var" || d.Name() == "bin" || strings.HasPrefix(d.Name(), ".")) && path != ".." {
			return filepath.SkipDir
		}
		ext := filepath.Ext(path)
		if ext != ".go" && ext != ".js" && ext != ".html" || strings.HasSuffix(path, "_test.go") || d.Name() == "i18n.js" {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, re := range uses {
			for _, m := range re.FindAllStringSubmatch(string(b), -1) {
				found++
				if _, ok := catalogue[m[1]]; !ok {
					t.Errorf("%s uses %q, which messages.json lacks", path, m[1])
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if found < 30 {
		t.Errorf("found only %d uses: the patterns no longer match the code", found)
	}
	for _, k := range dynamic {
		if _, ok := catalogue[k]; !ok {
			t.Errorf("messages.json lacks %s", k)
		}
	}
}
