package kiosk

import (
	"strings"
	"testing"
	"time"

	"github.com/cherga/kiosk/i18n"
)

// The ticket and the ticket screen say the same thing, in the same words:
// the caption over the number, the footer (what to do now) and the number
// itself, in Ukrainian and in English, are the printed ticket's lines as
// the simulated printer printed them, read off the screen in Chromium.
func TestTicketSaysWhatTheScreenSays(t *testing.T) {
	r := newRig(t, true)
	p := openPage(t, r, 1080, 1920)
	p.toService("pensions", "pensions-assign", "pension-age")
	p.tap(".take")
	p.onScreen("ticket")

	var printed []string
	select {
	case tk := <-r.dev.Printed():
		printed = strings.Split(tk.Text, "\n")
	case <-time.After(20 * time.Second):
		t.Fatal("no ticket printed")
	}
	has := func(line string) bool {
		for _, l := range printed {
			if strings.TrimSpace(l) == line {
				return true
			}
		}
		return false
	}
	screen := map[string][3]string{} // language → caption, number, footer
	for _, lang := range []string{"uk", "en"} {
		if lang == "en" {
			p.tap("#lang")
			p.wait("English", `document.documentElement.lang === "en"`)
			p.onScreen("ticket")
		}
		screen[lang] = [3]string{strings.TrimSpace(p.text("h1")), strings.TrimSpace(p.text(".number")),
			strings.TrimSpace(p.text(".notes .footer"))}
		// Who is ahead: the ticket's own line.
		if ahead := strings.TrimSpace(p.text(".notes .ahead")); ahead != i18n.T(lang, "ticket.ahead", "n", 0) || !has(ahead) {
			t.Errorf("%s: the screen says %q ahead; the ticket:\n%s", lang, ahead, strings.Join(printed, "\n"))
		}
		if got, want := screen[lang][2], i18n.T(lang, "ticket.footer"); got != want {
			t.Errorf("%s: the screen says %q, the catalogue's ticket.footer is %q", lang, got, want)
		}
	}
	// The caption: one line "Ваш номер / Your number" on paper.
	if caption := screen["uk"][0] + " / " + screen["en"][0]; !has(caption) {
		t.Errorf("the screen's caption %q is not on the ticket:\n%s", caption, strings.Join(printed, "\n"))
	}
	if !has(screen["uk"][1]) || screen["uk"][1] != screen["en"][1] {
		t.Errorf("the screen's number %q/%q is not the ticket's:\n%s", screen["uk"][1], screen["en"][1], strings.Join(printed, "\n"))
	}
	// The footer: Ukrainian, then English, the last lines of the ticket.
	n := len(printed)
	if n < 2 || strings.TrimSpace(printed[n-2]) != screen["uk"][2] || strings.TrimSpace(printed[n-1]) != screen["en"][2] {
		t.Errorf("the ticket ends\n%s\nand the screen says %q / %q", strings.Join(printed[max(0, n-2):], "\n"), screen["uk"][2], screen["en"][2])
	}
}
