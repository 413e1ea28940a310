package configs

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The kiosk shows every level of the catalogue on one screen page, so no
// visitor pages through a list: home holds the groups, a group's page its
// subgroups (life situations) and the services that belong to none, a
// subgroup's page its services. Any service is then at most three touches
// from home: group, subgroup, service. These are the page capacities the
// catalogue is checked against; link/proto repeats them for the terminals.
const (
	// KioskHomeItems is how many group tiles the home screen holds: the
	// ten groups of a Transparent Office.
	KioskHomeItems = 10
	// KioskPageItems is how many entries a group's or a subgroup's page
	// holds: eight of the longest service names fit one page of the
	// smallest kiosk screen (1280×1024).
	KioskPageItems = 8
)

// Bounds on the catalogue's texts, in characters, so that every terminal
// can lay them out and the welcome stays small.
const (
	maxGroupName      = 80   // a home tile or a subgroup tile
	maxServiceName    = 300  // the longest shipped (a real name) has 250
	maxDocumentName   = 250  // one line of the documents to bring
	maxFormName       = 150  // a sample form's caption
	maxDescription    = 1200 // a few sentences: who may apply, what for
	maxShortText      = 80   // term, cost
	maxKeyword        = 40
	maxKeywords       = 12 // per language and service
	maxServiceDocs    = 16
	maxServiceForms   = 4
	maxFormFileBytes  = 2 << 20
	maxFormFileLength = 80
)

// MaxCatalogueBytes bounds the catalogue as terminals receive it: the
// welcome and the update carry it whole, in one link message of at most
// 1 MiB (link/proto.MaxMessageBytes), beside the rest of the snapshot.
const MaxCatalogueBytes = 768 << 10

// CatalogueBytes is an upper estimate of the catalogue's size on the
// link: every text and id, and room for the field names around them.
func (o *Office) CatalogueBytes() int {
	n := 0
	text := func(t Text) { n += len(t.UK) + len(t.EN) + 24 }
	for _, g := range o.Groups {
		n += len(g.ID) + len(g.Prefix) + 80 + 8*len(o.Windows)
		text(g.Name)
		for _, sg := range g.Subgroups {
			n += len(sg.ID) + 24
			text(sg.Name)
		}
	}
	for _, s := range o.Services {
		n += len(s.ID) + len(s.Group) + len(s.Subgroup) + 160
		text(s.Name)
		text(s.Description)
		text(s.Term)
		text(s.Cost)
		for _, w := range append(append([]string{}, s.Keywords.UK...), s.Keywords.EN...) {
			n += len(w) + 3
		}
		for _, id := range append(append([]string{}, s.Documents...), s.Forms...) {
			n += len(id) + 3
		}
	}
	for _, doc := range o.Documents {
		n += len(doc.ID) + 24
		text(doc.Name)
	}
	for _, f := range o.Forms {
		n += len(f.ID) + len(f.File) + 36
		text(f.Name)
	}
	return n
}

// Group is one of the about ten service groups shown as the kiosk's home
// tiles. Its ticket numbers start with Prefix.
type Group struct {
	ID     string `yaml:"id"`
	Name   Text   `yaml:"name"`
	Prefix string `yaml:"prefix"`
	// Minutes is the usual time a window spends on one visitor of this
	// group; wait estimates start from it.
	Minutes int `yaml:"minutes"`
	// Subgroups are the group's life situations, in the order its page
	// shows them; after them the page lists the group's services that
	// name no subgroup.
	Subgroups []Subgroup `yaml:"subgroups"`
}

func (g *Group) setDefaults() { g.Minutes = 10 }

// Subgroup is a life situation within a group ("birth of a child"): a
// page of the services a visitor in it may need.
type Subgroup struct {
	ID   string `yaml:"id"`
	Name Text   `yaml:"name"`
}

// OfficeService is one service a visitor can take a ticket for, with what
// the information terminal shows about it.
type OfficeService struct {
	ID    string `yaml:"id"`
	Group string `yaml:"group"`
	// Subgroup is the id of one of the group's subgroups; empty: the
	// service is listed on the group's page itself.
	Subgroup string `yaml:"subgroup"`
	Name     Text   `yaml:"name"`
	// Code is the service's number in booking codes, 1 to 999; 0: its
	// place in this list. Set it before reordering the list while
	// bookings are outstanding.
	Code int `yaml:"code"`
	// Keywords are more words search finds the service by: what visitors
	// call it ("прописка"), abbreviations ("ВПО").
	Keywords Words `yaml:"keywords"`
	// The information terminal's part, each optional: what the service is
	// and who may apply, the documents to bring (ids of documents), how
	// long it takes, what it costs, and sample forms (ids of forms).
	Description Text     `yaml:"description"`
	Documents   []string `yaml:"documents"`
	Term        Text     `yaml:"term"`
	Cost        Text     `yaml:"cost"`
	Forms       []string `yaml:"forms"`
}

// Words are search words in Ukrainian and English.
type Words struct {
	UK []string `yaml:"uk"`
	EN []string `yaml:"en"`
}

// Document is one paper a visitor brings, named once and listed by id in
// every service that needs it.
type Document struct {
	ID   string `yaml:"id"`
	Name Text   `yaml:"name"`
}

// Form is a sample form (a filled-in example or a blank): a PNG, JPEG or
// PDF file in the office's forms_dir, shown by the information terminal.
type Form struct {
	ID   string `yaml:"id"`
	File string `yaml:"file"`
	Name Text   `yaml:"name"`
}

var formFileRe = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*\.(png|jpg|jpeg|pdf)$`)

// formMagic is how each kind of form file begins.
var formMagic = map[string][]byte{
	".png":  []byte("\x89PNG\r\n\x1a\n"),
	".jpg":  {0xff, 0xd8, 0xff},
	".jpeg": {0xff, 0xd8, 0xff},
	".pdf":  []byte("%PDF-"),
}

// checkCatalogue checks groups, subgroups, services, documents and forms,
// and that every level fits one kiosk page. It returns the group ids.
func (o *Office) checkCatalogue(d *decoder) map[string]bool {
	if len(o.Groups) == 0 {
		d.errorf("groups", "required: at least one service group")
	} else if len(o.Groups) > KioskHomeItems {
		d.errorf("groups", "got %d groups, expected at most %d: the kiosk's home screen holds %d group tiles", len(o.Groups), KioskHomeItems, KioskHomeItems)
	}
	groups := map[string]bool{}
	prefixes := map[string]string{}
	subgroupOf := map[string]string{} // subgroup id → group id
	subgroupAt := map[string]string{} // subgroup id → its path
	for i, g := range o.Groups {
		p := fmt.Sprintf("groups[%d]", i)
		checkID(d, p+".id", g.ID, groups)
		checkName(d, p+".name", g.Name, maxGroupName)
		if !isPrefix(g.Prefix) {
			d.errorf(p+".prefix", "got %q, expected one capital Ukrainian letter like А, the first character of this group's ticket numbers", g.Prefix)
		} else if other, dup := prefixes[g.Prefix]; dup {
			d.errorf(p+".prefix", "prefix %s is already used by group %s; ticket numbers would collide", g.Prefix, other)
		}
		prefixes[g.Prefix] = g.ID
		if g.Minutes < 1 || g.Minutes > 240 {
			d.errorf(p+".minutes", "got %d, expected 1 to 240 minutes per visitor", g.Minutes)
		}
		for j, sg := range g.Subgroups {
			sp := fmt.Sprintf("%s.subgroups[%d]", p, j)
			if !deviceIDRe.MatchString(sg.ID) {
				d.errorf(sp+".id", "got %q, expected lowercase letters, digits and dashes", sg.ID)
			} else if other, dup := subgroupOf[sg.ID]; dup {
				d.errorf(sp+".id", "id %q is already a subgroup of group %s; subgroup ids are unique in the office", sg.ID, other)
			} else {
				subgroupOf[sg.ID] = g.ID
				subgroupAt[sg.ID] = sp
			}
			checkName(d, sp+".name", sg.Name, maxGroupName)
		}
	}
	documents := map[string]bool{}
	for i, doc := range o.Documents {
		p := fmt.Sprintf("documents[%d]", i)
		checkID(d, p+".id", doc.ID, documents)
		checkName(d, p+".name", doc.Name, maxDocumentName)
	}
	forms := o.checkForms(d)
	if len(o.Services) == 0 {
		d.errorf("services", "required: at least one service")
	}
	services := map[string]bool{}
	codes := map[int]string{}
	direct := map[string]int{} // group → services outside any subgroup
	inSub := map[string]int{}  // subgroup → its services
	misplaced := false         // a service names an unknown group or subgroup
	for i := range o.Services {
		s := &o.Services[i]
		p := fmt.Sprintf("services[%d]", i)
		checkID(d, p+".id", s.ID, services)
		if !groups[s.Group] {
			d.errorf(p+".group", "got %q, expected the id of a group listed under groups", s.Group)
			misplaced = true
		}
		switch g, ok := subgroupOf[s.Subgroup]; {
		case s.Subgroup == "":
			direct[s.Group]++
		case !ok:
			d.errorf(p+".subgroup", "got %q, expected the id of one of group %s's subgroups", s.Subgroup, s.Group)
			misplaced = true
		case g != s.Group:
			d.errorf(p+".subgroup", "subgroup %s belongs to group %s, not %s", s.Subgroup, g, s.Group)
			misplaced = true
		default:
			inSub[s.Subgroup]++
		}
		checkName(d, p+".name", s.Name, maxServiceName)
		if s.Code == 0 {
			s.Code = i + 1
		}
		if s.Code < 1 || s.Code > 999 {
			d.errorf(p+".code", "got %d, expected 1 to 999 (the service's number in booking codes)", s.Code)
		} else if other, dup := codes[s.Code]; dup {
			d.errorf(p+".code", "code %d is also service %s's; booking codes would be ambiguous", s.Code, other)
		}
		codes[s.Code] = s.ID
		checkKeywords(d, p+".keywords.uk", s.Keywords.UK)
		checkKeywords(d, p+".keywords.en", s.Keywords.EN)
		checkOptionalText(d, p+".description", s.Description, maxDescription, true)
		checkOptionalText(d, p+".term", s.Term, maxShortText, false)
		checkOptionalText(d, p+".cost", s.Cost, maxShortText, false)
		checkRefs(d, p+".documents", s.Documents, documents, maxServiceDocs, "documents")
		checkRefs(d, p+".forms", s.Forms, forms, maxServiceForms, "forms")
	}
	if n := o.CatalogueBytes(); n > MaxCatalogueBytes {
		d.errorf("services", "the catalogue comes to about %d KiB, expected at most %d KiB: terminals receive it in one message; shorten descriptions or documents' names", n>>10, MaxCatalogueBytes>>10)
	}
	// Every page fits one screen: the three-touch rule. (Empty pages are
	// not reported while a service names a group or subgroup wrongly:
	// that one mistake is the cause.)
	for i, g := range o.Groups {
		if n := len(g.Subgroups) + direct[g.ID]; n > KioskPageItems {
			d.errorf(fmt.Sprintf("groups[%d]", i), "group %s's page would list %d entries (%d subgroups and %d services in none), expected at most %d, what one kiosk page holds: put services into subgroups, or merge subgroups",
				g.ID, n, len(g.Subgroups), direct[g.ID], KioskPageItems)
		} else if n == 0 && !misplaced {
			d.errorf(fmt.Sprintf("groups[%d]", i), "group %s has no services; a tile leading nowhere would stay on the kiosk", g.ID)
		}
		for _, sg := range g.Subgroups {
			if n := inSub[sg.ID]; n > KioskPageItems {
				d.errorf(subgroupAt[sg.ID], "subgroup %s would list %d services, expected at most %d, what one kiosk page holds: split it", sg.ID, n, KioskPageItems)
			} else if n == 0 && !misplaced && subgroupAt[sg.ID] != "" {
				d.errorf(subgroupAt[sg.ID], "subgroup %s has no services (name it in a service's subgroup, or remove it)", sg.ID)
			}
		}
	}
	return groups
}

// checkForms checks the forms and their files; it returns the form ids.
func (o *Office) checkForms(d *decoder) map[string]bool {
	ids := map[string]bool{}
	dirOK := false
	if o.FormsDir != "" {
		if fi, err := os.Stat(o.FormsDir); err != nil || !fi.IsDir() {
			d.errorf("forms_dir", "%s is not a directory (relative paths start at the office file's directory)", o.FormsDir)
		} else {
			dirOK = true
		}
	} else if len(o.Forms) > 0 {
		d.errorf("forms_dir", "required when forms are listed: the directory that holds their files")
	}
	for i, f := range o.Forms {
		p := fmt.Sprintf("forms[%d]", i)
		checkID(d, p+".id", f.ID, ids)
		checkName(d, p+".name", f.Name, maxFormName)
		if len(f.File) > maxFormFileLength || !formFileRe.MatchString(f.File) {
			d.errorf(p+".file", "got %q, expected a file name in forms_dir of lowercase letters, digits, dots, dashes and underscores, ending .png, .jpg or .pdf (at most %d characters)", f.File, maxFormFileLength)
			continue
		}
		if dirOK {
			if err := checkFormFile(filepath.Join(o.FormsDir, f.File)); err != nil {
				d.errorf(p+".file", "%v", err)
			}
		}
	}
	return ids
}

// checkFormFile checks that a form's file is there, small enough for a
// kiosk to show, and what its name says it is.
func checkFormFile(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("%s: no such file", path)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", path)
	}
	if fi.Size() > maxFormFileBytes {
		return fmt.Errorf("%s has %d bytes, expected at most %d (2 MiB): a kiosk shows it at once", path, fi.Size(), maxFormFileBytes)
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	defer f.Close()
	magic := formMagic[strings.ToLower(filepath.Ext(path))]
	head := make([]byte, len(magic))
	if _, err := io.ReadFull(f, head); err != nil || !bytes.Equal(head, magic) {
		return fmt.Errorf("%s is not a %s file", path, strings.ToUpper(strings.TrimPrefix(filepath.Ext(path), ".")))
	}
	return nil
}

// checkName checks a required one-line text in both languages.
func checkName(d *decoder, path string, t Text, limit int) {
	checkText(d, path, t)
	checkLine(d, path+".uk", t.UK, limit, false)
	checkLine(d, path+".en", t.EN, limit, false)
}

// checkOptionalText checks a text that may be absent, but not in one
// language only.
func checkOptionalText(d *decoder, path string, t Text, limit int, multiline bool) {
	if t.UK == "" && t.EN == "" {
		return
	}
	checkText(d, path, t)
	checkLine(d, path+".uk", t.UK, limit, multiline)
	checkLine(d, path+".en", t.EN, limit, multiline)
}

func checkLine(d *decoder, path, s string, limit int, multiline bool) {
	if n := utf8.RuneCountInString(s); n > limit {
		d.errorf(path, "has %d characters, expected at most %d", n, limit)
	}
	for _, r := range s {
		if r == utf8.RuneError || (unicode.IsControl(r) && !(multiline && r == '\n')) {
			d.errorf(path, "contains a control character (%U); write it on one line without tabs", r)
			return
		}
	}
	if strings.TrimSpace(s) != s {
		d.errorf(path, "starts or ends with spaces")
	}
}

func checkKeywords(d *decoder, path string, words []string) {
	if len(words) > maxKeywords {
		d.errorf(path, "got %d keywords, expected at most %d", len(words), maxKeywords)
	}
	for i, w := range words {
		p := fmt.Sprintf("%s[%d]", path, i)
		if w == "" {
			d.errorf(p, "empty keyword")
			continue
		}
		checkLine(d, p, w, maxKeyword, false)
	}
}

// checkRefs checks a service's list of document or form ids.
func checkRefs(d *decoder, path string, refs []string, known map[string]bool, limit int, list string) {
	if len(refs) > limit {
		d.errorf(path, "got %d, expected at most %d", len(refs), limit)
	}
	seen := map[string]bool{}
	for i, id := range refs {
		p := fmt.Sprintf("%s[%d]", path, i)
		switch {
		case !known[id]:
			d.errorf(p, "got %q, expected the id of an entry under %s", id, list)
		case seen[id]:
			d.errorf(p, "%q is listed twice", id)
		}
		seen[id] = true
	}
}
