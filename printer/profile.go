package printer

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Profile is what a printer model can do, as data: its paper widths in
// dots, its code pages and their ESC t numbers, and its features.
// profiles.json holds them; README credits where the facts come from.
type Profile struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Match are what the model calls itself when asked (GS I: maker and
	// model name), as substrings, any case: how kioskctl printer probe
	// knows it. Empty for the generic profiles, which match nothing.
	Match []string `json:"match,omitempty"`
	// DPI is the print head's resolution in dots per inch (203 for 8
	// dots a millimetre, 180 for Epson's TM-T88): it turns dots into
	// millimetres, for a ticket number of a given height.
	DPI int `json:"dpi"`
	// Dots is the printable width in dots, by paper width in mm.
	Dots map[string]int `json:"dots"`
	// CodePages maps a page name (see CodePageNames) to its ESC t number
	// on this model.
	CodePages map[string]int `json:"code_pages"`
	// Prefer lists the pages to try for a line, in order; the first that
	// holds every character of the line is used.
	Prefer []string `json:"prefer"`
	// QR: the model prints QR codes itself (GS ( k); else they are sent as
	// images.
	QR bool `json:"qr"`
	// UserChars: the model takes user-defined characters in font A's
	// 12 × 24 cell (ESC & with y = 3, selected by ESC %), and the ticket
	// number is drawn in them, a few dozen bytes a character. A model
	// without them, or not known to have them, gets the number as an
	// image.
	UserChars bool `json:"user_chars"`
	// Cutter is "partial", "full" or "none".
	Cutter string `json:"cutter"`
	// NearEnd: a paper near-end sensor reports before the paper runs out.
	NearEnd bool `json:"near_end"`
	// Presenter: a kiosk presenter holds the ticket and retracts it if not
	// taken.
	Presenter bool `json:"presenter"`
	// Status is how the model reports: "dle_eot" (answers real-time
	// queries), "asb" (also sends status by itself, GS a), or "none" (a
	// one-way link; tickets are counted against the roll length).
	Status string `json:"status"`
	// Source says where these facts come from.
	Source string `json:"source"`
}

//go:embed profiles.json
var profilesJSON []byte

var profiles = mustProfiles(profilesJSON)

func mustProfiles(b []byte) map[string]*Profile {
	var list []*Profile
	if err := json.Unmarshal(b, &list); err != nil {
		panic(fmt.Sprintf("printer: profiles.json: %v", err))
	}
	out := map[string]*Profile{}
	for _, p := range list {
		if err := p.check(); err != nil {
			panic(fmt.Sprintf("printer: profiles.json: %s: %v", p.ID, err))
		}
		out[p.ID] = p
	}
	return out
}

func (p *Profile) check() error {
	if len(p.Dots) == 0 {
		return fmt.Errorf("no paper widths")
	}
	if p.DPI < 100 || p.DPI > 600 {
		return fmt.Errorf("dpi %d (expected 100 to 600)", p.DPI)
	}
	if len(p.Prefer) == 0 {
		return fmt.Errorf("no code pages preferred")
	}
	for _, name := range p.Prefer {
		if _, ok := codePages[name]; !ok {
			return fmt.Errorf("unknown code page %q", name)
		}
		if _, ok := p.CodePages[name]; !ok && name != "ascii" {
			return fmt.Errorf("prefers %s but has no ESC t number for it", name)
		}
	}
	switch p.Status {
	case "dle_eot", "asb", "none":
	default:
		return fmt.Errorf("status %q", p.Status)
	}
	switch p.Cutter {
	case "partial", "full", "none":
	default:
		return fmt.Errorf("cutter %q", p.Cutter)
	}
	return nil
}

// LookupProfile returns a profile by id.
func LookupProfile(id string) (*Profile, error) {
	p, ok := profiles[id]
	if !ok {
		return nil, fmt.Errorf("printer: unknown profile %q (known: %s)", id, strings.Join(ProfileIDs(), ", "))
	}
	return p, nil
}

// ProfileIDs lists the shipped profiles.
func ProfileIDs() []string {
	ids := make([]string, 0, len(profiles))
	for id := range profiles {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// Width is the printable width in dots for paper paperMM wide.
func (p *Profile) Width(paperMM int) (int, error) {
	if d, ok := p.Dots[fmt.Sprint(paperMM)]; ok {
		return d, nil
	}
	return 0, fmt.Errorf("printer: %s does not take %d mm paper", p.Name, paperMM)
}

// DotsPerMM is the print head's resolution in dots per millimetre.
func (p *Profile) DotsPerMM() float64 { return float64(p.DPI) / 25.4 }

// PaperWidths lists the paper widths the model takes, in mm.
func (p *Profile) PaperWidths() []string {
	out := make([]string, 0, len(p.Dots))
	for mm := range p.Dots {
		out = append(out, mm)
	}
	sort.Strings(out)
	return out
}

// Columns is how many font-A characters (12 dots wide) fit a line.
func Columns(dots int) int { return dots / 12 }

// ColumnsB is how many font-B characters (9 dots wide) fit a line.
func ColumnsB(dots int) int { return dots / 9 }
