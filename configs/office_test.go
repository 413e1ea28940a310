package configs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

const minimalOffice = `id: test-office
name: {uk: Офіс, en: Office}
data_dir: /tmp/q
groups:
  - {id: pensions, name: {uk: Пенсії, en: Pensions}, prefix: П}
services:
  - {id: pension-age, group: pensions, name: {uk: Пенсія за віком, en: Old-age pension}}
windows:
  - {number: 1}
`

func TestOfficeDemo(t *testing.T) {
	o, err := LoadOffice("office.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Groups) != 10 {
		t.Errorf("demo office has %d groups, want the ten of a Transparent Office", len(o.Groups))
	}
	if o.Location().String() != "Europe/Kyiv" {
		t.Errorf("location %s", o.Location())
	}
	if o.Groups[0].Minutes != 12 || o.Listen != "127.0.0.1:8090" {
		t.Errorf("unexpected values %+v", o.Groups[0])
	}
}

// The shipped catalogue is a real centre's: about 400 services in the
// ten groups, every one of them reachable in at most three touches from
// the kiosk's home screen with every page on one screen, and what the
// information terminal shows filled in for the most used ones.
func TestOfficeDemoCatalogue(t *testing.T) {
	o, err := LoadOffice("office.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(o.Services); n < 380 || n > 420 {
		t.Errorf("%d services, want about 400 like the seed centres", n)
	}
	touches, widest := walkKiosk(o)
	for _, s := range o.Services {
		switch n, ok := touches[s.ID]; {
		case !ok:
			t.Errorf("service %s cannot be reached from the home screen", s.ID)
		case n > 3:
			t.Errorf("service %s takes %d touches, want at most 3", s.ID, n)
		}
	}
	if widest > KioskPageItems {
		t.Errorf("a page lists %d entries, more than the %d one kiosk page holds", widest, KioskPageItems)
	}
	full, docs, keywords, forms := 0, 0, 0, 0
	longest := 0
	for _, s := range o.Services {
		if s.Description.UK != "" && len(s.Documents) > 0 && s.Term.UK != "" && s.Cost.UK != "" {
			full++
		}
		if len(s.Documents) > 0 {
			docs++
		} else {
			t.Errorf("service %s lists no documents to bring", s.ID)
		}
		if len(s.Keywords.UK) > 0 {
			keywords++
		}
		if len(s.Forms) > 0 {
			forms++
		}
		longest = max(longest, utf8.RuneCountInString(s.Name.UK))
	}
	if full < 60 {
		t.Errorf("%d services carry description, documents, term and cost; want at least the 60 most used", full)
	}
	if longest < 200 {
		t.Errorf("the longest service name has %d characters; the catalogue should keep the long official names (layout tests' worst case)", longest)
	}
	t.Logf("%d services (%d fully described, %d with documents, %d with keywords, %d with sample forms), %d documents, %d forms, longest name %d characters, widest page %d entries",
		len(o.Services), full, docs, keywords, forms, len(o.Documents), len(o.Forms), longest, widest)
}

// walkKiosk walks the catalogue as the kiosk shows it: home (the groups),
// a group's page (its subgroups, then its services in none), a
// subgroup's page (its services). It returns each service's touches from
// home and the most entries any page below home lists.
func walkKiosk(o *Office) (map[string]int, int) {
	touches := map[string]int{}
	widest := 0
	for _, g := range o.Groups { // touch 1: the group's tile
		var direct []string
		inSub := map[string][]string{}
		for _, s := range o.Services {
			if s.Group != g.ID {
				continue
			}
			if s.Subgroup == "" {
				direct = append(direct, s.ID)
			} else {
				inSub[s.Subgroup] = append(inSub[s.Subgroup], s.ID)
			}
		}
		widest = max(widest, len(g.Subgroups)+len(direct))
		for _, id := range direct { // touch 2: the service
			touches[id] = 2
		}
		for _, sg := range g.Subgroups { // touch 2: the subgroup's tile
			widest = max(widest, len(inSub[sg.ID]))
			for _, id := range inSub[sg.ID] { // touch 3: the service
				touches[id] = 3
			}
		}
	}
	return touches, widest
}

func TestOfficeErrors(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string
	}{
		{"minimal is fine", minimalOffice, nil},
		{"latin prefix", strings.Replace(minimalOffice, "prefix: П", "prefix: P", 1),
			[]string{`5:62: groups[0].prefix: got "P", expected one capital Ukrainian letter`}},
		{"missing translation", strings.Replace(minimalOffice, ", en: Old-age pension", "", 1),
			[]string{`7:46: services[0].name.en: required: the English text`}},
		{"unknown group", strings.Replace(minimalOffice, "group: pensions", "group: pension", 1),
			[]string{`7:30: services[0].group: got "pension"`}},
		{"window serves unknown group", strings.Replace(minimalOffice, "{number: 1}", "{number: 1, serves: [x]}", 1),
			[]string{`9:26: windows[0].serves[0]: got "x"`}},
		{"bad time zone", minimalOffice + "timezone: Mars/Base\n",
			[]string{`10:11: timezone: got "Mars/Base"`}},
		{"network without TLS or credentials", strings.Replace(minimalOffice, "data_dir: /tmp/q", "data_dir: /tmp/q\nlisten: 0.0.0.0:8090", 1),
			[]string{`1:1: tls.cert_file: required when listen`, `1:1: names: required when listen`, `1:1: terminals: required when listen`}},
		{"bad token hash", minimalOffice + "terminals: [{device: kiosk-01, token_sha256: abc}]\n",
			[]string{`10:46: terminals[0].token_sha256: expected 64 lowercase hex digits`}},
		{"lease size", minimalOffice + "lease_size: 0\n",
			[]string{`10:13: lease_size: got 0`}},
		{"duplicate window", minimalOffice + "  - {number: 1}\n",
			[]string{`10:14: windows[1].number: window 1 is listed twice`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseOffice("o.yaml", []byte(tt.yaml))
			if tt.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var errs Errors
			if !errors.As(err, &errs) || len(errs) != len(tt.want) {
				t.Fatalf("got %v, want %d errors", err, len(tt.want))
			}
			for i, w := range tt.want {
				if !strings.Contains(errs[i].Error(), w) {
					t.Errorf("error %d = %q, want %q", i, errs[i], w)
				}
			}
		})
	}
}

func FuzzParseOffice(f *testing.F) {
	b, err := os.ReadFile("office.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(minimalOffice))
	f.Fuzz(func(t *testing.T, data []byte) {
		o, err := ParseOffice("fuzz.yaml", data)
		if err == nil && (len(o.Groups) == 0 || len(o.Windows) == 0) {
			t.Fatalf("accepted an office without groups or windows")
		}
	})
}

const catalogueOffice = `id: test-office
name: {uk: Офіс, en: Office}
data_dir: /tmp/q
groups:
  - id: pensions
    name: {uk: Пенсії, en: Pensions}
    prefix: П
    subgroups:
      - {id: pension-assign, name: {uk: Призначення, en: Applying}}
services:
  - id: pension-age
    group: pensions
    subgroup: pension-assign
    name: {uk: Пенсія за віком, en: Old-age pension}
    keywords: {uk: [пенсія], en: [pension]}
    description: {uk: "Для тих, кому 60.", en: For those aged 60.}
    documents: [passport]
    term: {uk: до 10 робочих днів, en: up to 10 working days}
    cost: {uk: безоплатно, en: free of charge}
documents:
  - {id: passport, name: {uk: Паспорт, en: Passport}}
windows:
  - {number: 1}
`

// service returns a service entry of the catalogue office's group.
func service(i int, extra string) string {
	return fmt.Sprintf("  - {id: s%d, group: pensions, name: {uk: Послуга %d, en: Service %d}%s}\n", i, i, i, extra)
}

func TestCatalogueErrors(t *testing.T) {
	many := func(n int, extra string) string {
		var b strings.Builder
		for i := range n {
			b.WriteString(service(i, extra))
		}
		return b.String()
	}
	withServices := func(s string) string {
		return strings.Replace(catalogueOffice, "documents:\n  - {id: passport", s+"documents:\n  - {id: passport", 1)
	}
	tests := []struct {
		name, yaml string
		want       []string
	}{
		{"the catalogue office is fine", catalogueOffice, nil},
		{"unknown key in a service", strings.Replace(catalogueOffice, "    term:", "    terms:", 1),
			[]string{`o.yaml:18:5: services[0].terms: unknown key; did you mean "term"?`}},
		{"unknown subgroup", strings.Replace(catalogueOffice, "subgroup: pension-assign", "subgroup: pension-asign", 1),
			[]string{`13:15: services[0].subgroup: got "pension-asign", expected the id of one of group pensions's subgroups`}},
		{"unknown document", strings.Replace(catalogueOffice, "documents: [passport]", "documents: [pasport]", 1),
			[]string{`17:17: services[0].documents[0]: got "pasport", expected the id of an entry under documents`}},
		{"document listed twice", strings.Replace(catalogueOffice, "documents: [passport]", "documents: [passport, passport]", 1),
			[]string{`17:27: services[0].documents[1]: "passport" is listed twice`}},
		{"a comma in an unquoted text", strings.Replace(catalogueOffice, `"Для тих, кому 60."`, "Для тих, кому 60.", 1),
			[]string{`16:32: services[0].description.кому 60.: unknown key; expected one of: en, uk; in {…} a comma ends a value: put a text with commas in quotes`}},
		{"description in one language", strings.Replace(catalogueOffice, ", en: For those aged 60.", "", 1),
			[]string{`16:18: services[0].description.en: required: the English text`}},
		{"a name too long", strings.Replace(catalogueOffice, "Пенсія за віком", strings.Repeat("дуже ", 61), 1),
			[]string{`14:16: services[0].name.uk: has 304 characters, expected at most 300`}},
		{"a tab in a name", strings.Replace(catalogueOffice, "en: Old-age pension", `en: "Old-age\tpension"`, 1),
			[]string{`14:37: services[0].name.en: contains a control character (U+0009)`}},
		{"keyword of a number", strings.Replace(catalogueOffice, "en: [pension]", "en: [60]", 1),
			[]string{`15:35: services[0].keywords.en[0]: expected text, got a whole number "60"`}},
		{"an empty subgroup", strings.Replace(catalogueOffice, "    subgroup: pension-assign\n", "", 1),
			[]string{`9:9: groups[0].subgroups[0]: subgroup pension-assign has no services`}},
		{"a group page over one screen", withServices(many(8, "")),
			[]string{`5:5: groups[0]: group pensions's page would list 9 entries (1 subgroups and 8 services in none), expected at most 8`}},
		{"a subgroup over one screen", withServices(many(8, ", subgroup: pension-assign")),
			[]string{`9:9: groups[0].subgroups[0]: subgroup pension-assign would list 9 services, expected at most 8`}},
		{"forms without forms_dir", catalogueOffice + "forms:\n  - {id: f, file: f.png, name: {uk: Зразок, en: Sample}}\n",
			[]string{`1:1: forms_dir: required when forms are listed`}},
		{"a form file with a path", catalogueOffice + "forms_dir: /tmp\nforms:\n  - {id: f, file: ../etc/passwd.png, name: {uk: Зразок, en: Sample}}\n",
			[]string{`26:19: forms[0].file: got "../etc/passwd.png", expected a file name in forms_dir`}},
		{"a service naming an unknown form", strings.Replace(catalogueOffice, "documents: [passport]", "documents: [passport]\n    forms: [nope]", 1),
			[]string{`18:13: services[0].forms[0]: got "nope", expected the id of an entry under forms`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseOffice("o.yaml", []byte(tt.yaml))
			if tt.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var errs Errors
			if !errors.As(err, &errs) || len(errs) != len(tt.want) {
				t.Fatalf("got %v, want %d errors", err, len(tt.want))
			}
			for i, w := range tt.want {
				if !strings.Contains(errs[i].Error(), w) {
					t.Errorf("error %d = %q, want %q", i, errs[i], w)
				}
			}
		})
	}
}

// A form's file is looked for in forms_dir, relative to the office file,
// and must be what its name says.
func TestCatalogueFormFiles(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "forms"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "forms", "ok.pdf"), []byte("%PDF-1.4\n%%EOF\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "forms", "fake.png"), []byte("GIF89a"), 0o644)
	office := catalogueOffice + `forms_dir: forms
forms:
  - {id: ok, file: ok.pdf, name: {uk: Зразок, en: Sample}}
  - {id: fake, file: fake.png, name: {uk: Зразок, en: Sample}}
  - {id: gone, file: gone.jpg, name: {uk: Зразок, en: Sample}}
`
	path := filepath.Join(dir, "office.yaml")
	if err := os.WriteFile(path, []byte(office), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := LoadOffice(path)
	var errs Errors
	if !errors.As(err, &errs) || len(errs) != 2 {
		t.Fatalf("got %v, want 2 errors", err)
	}
	if !strings.Contains(errs[0].Error(), "forms[1].file: "+filepath.Join(dir, "forms", "fake.png")+" is not a PNG file") ||
		!strings.Contains(errs[1].Error(), "forms[2].file: "+filepath.Join(dir, "forms", "gone.jpg")+": no such file") {
		t.Errorf("errors:\n%v", err)
	}
}

// A catalogue that would not fit one link message is refused, even when
// each of its texts is within bounds.
func TestCatalogueTooBig(t *testing.T) {
	var b strings.Builder
	b.WriteString("id: big\nname: {uk: Офіс, en: Office}\ndata_dir: /tmp/q\nwindows: [{number: 1}]\ngroups:\n")
	letters := []rune("АБВГДЕЖКМП")
	long := string([]rune(strings.Repeat("Опис послуги ", 90))[:1100])
	for g := range 10 {
		fmt.Fprintf(&b, "  - {id: g%d, name: {uk: Група, en: Group}, prefix: %c, subgroups: [", g, letters[g])
		for s := range 8 {
			fmt.Fprintf(&b, "{id: g%d-s%d, name: {uk: Підгрупа, en: Subgroup}},", g, s)
		}
		b.WriteString("]}\n")
	}
	b.WriteString("services:\n")
	for g := range 10 {
		for s := range 8 {
			for i := range 8 {
				fmt.Fprintf(&b, "  - {id: s%d-%d-%d, group: g%d, subgroup: g%d-s%d, name: {uk: Послуга, en: Service}, description: {uk: %s, en: %s}}\n", g, s, i, g, g, s, long, long)
			}
		}
	}
	_, err := ParseOffice("big.yaml", []byte(b.String()))
	if err == nil || !strings.Contains(err.Error(), "services: the catalogue comes to about") {
		t.Fatalf("got %v", err)
	}
}
