package queue

import (
	"sort"

	"github.com/cherga/kiosk/configs"
	"github.com/cherga/kiosk/link/proto"
)

// officeCatalogue is an office configuration's catalogue in protocol
// form, made once per configuration: full for kiosks (the information
// terminal's texts), brief for the other terminals.
func officeCatalogue(cfg *configs.Office) (full, brief proto.Catalogue) {
	c := proto.Catalogue{Groups: []proto.Group{}, Services: []proto.Service{}}
	for _, g := range cfg.Groups {
		var windows []int
		for _, w := range cfg.Windows {
			if servesGroup(w, g.ID) {
				windows = append(windows, w.Number)
			}
		}
		sort.Ints(windows)
		pg := proto.Group{ID: g.ID, Name: proto.Text(g.Name), Prefix: g.Prefix, Windows: windows}
		for _, sg := range g.Subgroups {
			pg.Subgroups = append(pg.Subgroups, proto.Subgroup{ID: sg.ID, Name: proto.Text(sg.Name)})
		}
		c.Groups = append(c.Groups, pg)
	}
	for _, s := range cfg.Services {
		ps := proto.Service{ID: s.ID, Group: s.Group, Subgroup: s.Subgroup, Name: proto.Text(s.Name), Code: s.Code,
			Keywords: proto.Words{UK: s.Keywords.UK, EN: s.Keywords.EN}}
		info := proto.ServiceInfo{Description: proto.Text(s.Description), Documents: s.Documents,
			Term: proto.Text(s.Term), Cost: proto.Text(s.Cost), Forms: s.Forms}
		if info.Description != (proto.Text{}) || len(info.Documents) > 0 || info.Term != (proto.Text{}) ||
			info.Cost != (proto.Text{}) || len(info.Forms) > 0 {
			ps.Info = &info
		}
		c.Services = append(c.Services, ps)
	}
	for _, d := range cfg.Documents {
		c.Documents = append(c.Documents, proto.Document{ID: d.ID, Name: proto.Text(d.Name)})
	}
	for _, f := range cfg.Forms {
		c.Forms = append(c.Forms, formOf(cfg.FormsDir, f))
	}
	return c, c.Brief()
}

// fresh copies a catalogue's lists, so a receiver in this process that
// trims them in place leaves the office's own untouched.
func fresh(c proto.Catalogue) proto.Catalogue {
	c.Groups = append([]proto.Group{}, c.Groups...)
	c.Services = append([]proto.Service{}, c.Services...)
	return c
}
