package proto

// The kiosk's page capacities, which queued checks the catalogue against
// (configs.KioskHomeItems, configs.KioskPageItems): the home screen holds
// HomeItems group tiles, a group's page and a subgroup's page PageItems
// entries each. With every level on one page, any service is at most
// three touches from home: its group, its subgroup, the service.
const (
	HomeItems = 10
	PageItems = 8
)

// GroupPage is what a group's page lists: its subgroups that have
// services, in order, then its services outside any of them, in
// catalogue order. A service naming a subgroup the group does not have is
// listed on the group's page, so nothing is ever out of reach.
func (c *Catalogue) GroupPage(group string) (subgroups []Subgroup, services []Service) {
	g, ok := c.Group(group)
	if !ok {
		return nil, nil
	}
	used := map[string]bool{}
	known := map[string]bool{}
	for _, sg := range g.Subgroups {
		known[sg.ID] = true
	}
	for _, s := range c.Services {
		if s.Group != group {
			continue
		}
		if known[s.Subgroup] {
			used[s.Subgroup] = true
		} else {
			services = append(services, s)
		}
	}
	for _, sg := range g.Subgroups {
		if used[sg.ID] {
			subgroups = append(subgroups, sg)
		}
	}
	return subgroups, services
}

// SubgroupServices lists a subgroup's services in catalogue order.
func (c *Catalogue) SubgroupServices(group, subgroup string) []Service {
	var out []Service
	for _, s := range c.Services {
		if s.Group == group && s.Subgroup == subgroup && subgroup != "" {
			out = append(out, s)
		}
	}
	return out
}

// Document returns the document with id, if the catalogue has it.
func (c *Catalogue) Document(id string) (Document, bool) {
	for _, d := range c.Documents {
		if d.ID == id {
			return d, true
		}
	}
	return Document{}, false
}

// Form returns the sample form with id, if the catalogue has it.
func (c *Catalogue) Form(id string) (Form, bool) {
	for _, f := range c.Forms {
		if f.ID == id {
			return f, true
		}
	}
	return Form{}, false
}

// Brief is the catalogue without what only an information terminal
// shows (services' Info and keywords, the documents and forms): what a
// hall or a window display needs to name a service.
func (c Catalogue) Brief() Catalogue {
	out := Catalogue{Groups: c.Groups, Services: make([]Service, len(c.Services))}
	for i, s := range c.Services {
		s.Info, s.Keywords = nil, Words{}
		out.Services[i] = s
	}
	return out
}
