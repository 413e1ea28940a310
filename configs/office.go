package configs

import (
	"fmt"
	"os"
	"time"
	"unicode"
	"unicode/utf8"
)

// Office is the configuration of the reference queue server, queued: the
// office, its service catalogue and its windows. office.yaml is both the
// demo and the documented example.
type Office struct {
	ID       string          `yaml:"id"`
	Name     Text            `yaml:"name"`
	Timezone string          `yaml:"timezone"`
	Listen   string          `yaml:"listen"`
	DataDir  string          `yaml:"data_dir"`
	Log      Log             `yaml:"log"`
	Groups   []Group         `yaml:"groups"`
	Services []OfficeService `yaml:"services"`
	Windows  []OfficeWindow  `yaml:"windows"`
}

// Text is a visitor-facing text in Ukrainian and English.
type Text struct {
	UK string `yaml:"uk"`
	EN string `yaml:"en"`
}

// Group is one of the about ten service groups shown as kiosk tiles.
type Group struct {
	ID     string `yaml:"id"`
	Name   Text   `yaml:"name"`
	Prefix string `yaml:"prefix"`
	// Minutes is the usual time a window spends on one visitor of this
	// group; wait estimates start from it.
	Minutes int `yaml:"minutes"`
}

func (g *Group) setDefaults() { g.Minutes = 10 }

type OfficeService struct {
	ID    string `yaml:"id"`
	Group string `yaml:"group"`
	Name  Text   `yaml:"name"`
}

type OfficeWindow struct {
	Number int `yaml:"number"`
	// Serves lists the group ids this window calls; empty means every
	// group (the "single window" front office).
	Serves []string `yaml:"serves"`
}

func DefaultOffice() Office {
	return Office{
		Timezone: "Europe/Kyiv",
		Listen:   "127.0.0.1:8090",
		Log:      Log{Format: "text", Level: "info"},
	}
}

// LoadOffice reads and checks a queued configuration file.
func LoadOffice(path string) (*Office, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return ParseOffice(path, data)
}

func ParseOffice(name string, data []byte) (*Office, error) {
	o := DefaultOffice()
	d := parseYAML(name, data, &o)
	o.check(d)
	if err := d.err(); err != nil {
		return nil, err
	}
	return &o, nil
}

// Location is the office's time zone; the day a ticket belongs to and its
// number series follow it.
func (o *Office) Location() *time.Location {
	loc, err := time.LoadLocation(o.Timezone)
	if err != nil {
		return time.UTC // unreachable after check
	}
	return loc
}

func (o *Office) check(d *decoder) {
	if !deviceIDRe.MatchString(o.ID) {
		d.errorf("id", "got %q, expected a short office id of lowercase letters, digits and dashes, like kharkiv-1", o.ID)
	}
	checkText(d, "name", o.Name)
	if _, err := time.LoadLocation(o.Timezone); err != nil {
		d.errorf("timezone", "got %q, expected an IANA time zone like Europe/Kyiv", o.Timezone)
	}
	checkListen(d, "listen", o.Listen)
	if o.DataDir == "" {
		d.errorf("data_dir", "required: the directory for queued's database, like /var/lib/queued")
	}
	if len(o.Groups) == 0 {
		d.errorf("groups", "required: at least one service group")
	}
	groups := map[string]bool{}
	prefixes := map[string]string{}
	for i, g := range o.Groups {
		p := fmt.Sprintf("groups[%d]", i)
		checkID(d, p+".id", g.ID, groups)
		checkText(d, p+".name", g.Name)
		if !isPrefix(g.Prefix) {
			d.errorf(p+".prefix", "got %q, expected one capital Ukrainian letter like А, the first character of this group's ticket numbers", g.Prefix)
		} else if other, dup := prefixes[g.Prefix]; dup {
			d.errorf(p+".prefix", "prefix %s is already used by group %s; ticket numbers would collide", g.Prefix, other)
		}
		prefixes[g.Prefix] = g.ID
		if g.Minutes < 1 || g.Minutes > 240 {
			d.errorf(p+".minutes", "got %d, expected 1 to 240 minutes per visitor", g.Minutes)
		}
	}
	if len(o.Services) == 0 {
		d.errorf("services", "required: at least one service")
	}
	services := map[string]bool{}
	for i, s := range o.Services {
		p := fmt.Sprintf("services[%d]", i)
		checkID(d, p+".id", s.ID, services)
		if !groups[s.Group] {
			d.errorf(p+".group", "got %q, expected the id of a group listed under groups", s.Group)
		}
		checkText(d, p+".name", s.Name)
	}
	windows := map[int]bool{}
	for i, w := range o.Windows {
		p := fmt.Sprintf("windows[%d]", i)
		if w.Number < 1 || w.Number > 999 {
			d.errorf(p+".number", "got %d, expected 1 to 999", w.Number)
		} else if windows[w.Number] {
			d.errorf(p+".number", "window %d is listed twice", w.Number)
		}
		windows[w.Number] = true
		for j, g := range w.Serves {
			if !groups[g] {
				d.errorf(fmt.Sprintf("%s.serves[%d]", p, j), "got %q, expected the id of a group listed under groups", g)
			}
		}
	}
	if len(o.Windows) == 0 {
		d.errorf("windows", "required: at least one window")
	}
}

func checkID(d *decoder, path, id string, seen map[string]bool) {
	if !deviceIDRe.MatchString(id) {
		d.errorf(path, "got %q, expected lowercase letters, digits and dashes", id)
	} else if seen[id] {
		d.errorf(path, "id %q is used twice", id)
	}
	seen[id] = true
}

func checkText(d *decoder, path string, t Text) {
	if t.UK == "" {
		d.errorf(path+".uk", "required: the Ukrainian text")
	}
	if t.EN == "" {
		d.errorf(path+".en", "required: the English text")
	}
}

// isPrefix accepts one capital Cyrillic letter; the voice announces ticket
// numbers by letter name, so Latin look-alikes are refused.
func isPrefix(s string) bool {
	r, n := utf8.DecodeRuneInString(s)
	return n == len(s) && n > 0 && unicode.Is(unicode.Cyrillic, r) && unicode.IsUpper(r)
}
