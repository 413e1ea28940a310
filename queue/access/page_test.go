package access

import (
	"regexp"
	"strings"
	"testing"

	"github.com/cherga/kiosk/i18n"
)

// The sign-in page must work under the CSP Protect sets: no inline script
// or style, every text from the catalogue, labelled fields the browser's
// password manager recognises.
func TestLoginPage(t *testing.T) {
	o := newOffice(t, nil)
	page := o.do("GET", "/login", "", nil)
	if page.status != 200 || page.header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("%d %v", page.status, page.header)
	}
	html := string(page.body)
	js := o.do("GET", "/login/login.js", "", nil)
	css := o.do("GET", "/login/login.css", "", nil)
	if js.status != 200 || !strings.HasPrefix(js.header.Get("Content-Type"), "text/javascript") ||
		css.status != 200 || !strings.HasPrefix(css.header.Get("Content-Type"), "text/css") {
		t.Fatalf("assets: %d %v, %d %v", js.status, js.header, css.status, css.header)
	}
	for _, re := range []string{
		`<script>`, `<script(?: [^>]*)?>[^<]`, // inline script
		`<style`, ` style=`, // inline style
		` on[a-z]+=`, // inline handlers
		`https?://`,  // a CDN or any other site
	} {
		if m := regexp.MustCompile(re).FindString(html); m != "" {
			t.Errorf("the page has %q, which the CSP refuses", m)
		}
	}
	for _, want := range []string{
		`<script src="/i18n.js"></script>`,
		`<label for="name"`, `<input id="name" name="name" type="text" autocomplete="username"`,
		`<label for="password"`, `type="password" autocomplete="current-password"`,
		`role="alert"`, `type="submit"`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	keys := regexp.MustCompile(`data-i18n="([\w.]+)"|I18N\.t\("([\w.]+)"`)
	found := 0
	for _, m := range keys.FindAllStringSubmatch(html+string(js.body), -1) {
		key := m[1] + m[2]
		found++
		for _, lang := range i18n.Languages {
			if got := i18n.T(lang, key); strings.HasPrefix(got, "[") {
				t.Errorf("messages.json lacks %s", key)
			}
		}
	}
	if found < 10 {
		t.Errorf("found only %d texts", found)
	}
	// Cyrillic or English words in page code would bypass the catalogue.
	if m := regexp.MustCompile(`>[^<\s][^<]*<`).FindString(html); m != "" {
		t.Errorf("text in the page itself: %q", m)
	}
	if a := o.do("GET", "/login/secret.go", "", nil); a.status != 404 {
		t.Errorf("/login/ serves other files: %d", a.status)
	}
}
