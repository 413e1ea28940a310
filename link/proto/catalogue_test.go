package proto

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func testCatalogue() Catalogue {
	return Catalogue{
		Groups: []Group{{ID: "pensions", Name: Text{UK: "Пенсійне забезпечення", EN: "Pensions"}, Prefix: "П",
			Subgroups: []Subgroup{{ID: "pensions-assign", Name: Text{UK: "Призначення пенсії", EN: "Applying for a pension"}},
				{ID: "pensions-empty", Name: Text{UK: "Порожня", EN: "Empty"}}}}},
		Services: []Service{
			{ID: "pension-age", Group: "pensions", Subgroup: "pensions-assign", Name: Text{UK: "Призначення пенсії за віком", EN: "Old-age pension"}, Code: 1,
				Keywords: Words{UK: []string{"пенсія"}, EN: []string{"pension"}},
				Info: &ServiceInfo{Description: Text{UK: "З 60 років.", EN: "From age 60."}, Documents: []string{"passport"},
					Term: Text{UK: "до 10 робочих днів", EN: "up to 10 working days"}, Cost: Text{UK: "безоплатно", EN: "free of charge"},
					Forms: []string{"form-pension"}}},
			{ID: "pension-consultation", Group: "pensions", Name: Text{UK: "Консультація", EN: "Advice"}, Code: 2},
			{ID: "pension-lost", Group: "pensions", Subgroup: "gone", Name: Text{UK: "Загублена", EN: "Lost"}, Code: 3},
		},
		Documents: []Document{{ID: "passport", Name: Text{UK: "Паспорт", EN: "Passport"}}},
		Forms:     []Form{{ID: "form-pension", File: "pension-application.png", Name: Text{UK: "Заява", EN: "Application"}}},
	}
}

// The information terminal's fields travel in the welcome and come back
// the same; services without them carry none of their keys.
func TestCatalogueRoundTrip(t *testing.T) {
	c := testCatalogue()
	b, err := Encode(&Message{Type: TypeWelcome, Welcome: &Welcome{Catalogue: c}})
	if err != nil {
		t.Fatal(err)
	}
	m, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(m.Welcome.Catalogue, c) {
		t.Errorf("round trip changed the catalogue:\n%+v\n%+v", m.Welcome.Catalogue, c)
	}
	plain, _ := json.Marshal(c.Services[1])
	if strings.Contains(string(plain), "info") || strings.Contains(string(plain), "keywords") || strings.Contains(string(plain), "subgroup") {
		t.Errorf("a service without details encodes as %s", plain)
	}
}

func TestCatalogueBrief(t *testing.T) {
	c := testCatalogue()
	b := c.Brief()
	if b.Documents != nil || b.Forms != nil || b.Services[0].Info != nil || len(b.Services[0].Keywords.UK) != 0 {
		t.Errorf("brief catalogue keeps the details: %+v", b)
	}
	if b.Services[0].Name != c.Services[0].Name || b.Services[0].Subgroup != "pensions-assign" || len(b.Groups[0].Subgroups) != 2 {
		t.Errorf("brief catalogue lost names or places: %+v", b)
	}
	if c.Services[0].Info == nil {
		t.Error("Brief changed the catalogue it was made from")
	}
}

// A group's page lists its subgroups that have services, then its
// services in none; a service naming an unknown subgroup stays
// reachable on the group's page.
func TestCataloguePages(t *testing.T) {
	c := testCatalogue()
	subs, direct := c.GroupPage("pensions")
	if len(subs) != 1 || subs[0].ID != "pensions-assign" {
		t.Errorf("subgroups %+v", subs)
	}
	if len(direct) != 2 || direct[0].ID != "pension-consultation" || direct[1].ID != "pension-lost" {
		t.Errorf("services on the group's page %+v", direct)
	}
	if s := c.SubgroupServices("pensions", "pensions-assign"); len(s) != 1 || s[0].ID != "pension-age" {
		t.Errorf("subgroup's services %+v", s)
	}
	if s := c.SubgroupServices("pensions", ""); s != nil {
		t.Errorf("the empty subgroup lists %+v", s)
	}
	if subs, direct := c.GroupPage("nope"); subs != nil || direct != nil {
		t.Error("an unknown group has a page")
	}
	if d, ok := c.Document("passport"); !ok || d.Name.EN != "Passport" {
		t.Error("Document")
	}
	if f, ok := c.Form("form-pension"); !ok || f.File != "pension-application.png" {
		t.Error("Form")
	}
	if _, ok := c.Form("nope"); ok {
		t.Error("unknown form found")
	}
}
