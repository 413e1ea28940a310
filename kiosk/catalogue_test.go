package kiosk

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/cherga/kiosk/link/proto"
)

// servicesView is GET /api/v1/services as the page reads it.
type servicesView struct {
	Version   string           `json:"version"`
	Office    *proto.Office    `json:"office"`
	Groups    []proto.Group    `json:"groups"`
	Services  []proto.Service  `json:"services"`
	Documents []proto.Document `json:"documents"`
	Forms     []proto.Form     `json:"forms"`
	Queues    []proto.QueueLen `json:"queues"`
	Popular   []string         `json:"popular"`
}

func (r *rig) services(t *testing.T, query string) (servicesView, int) {
	t.Helper()
	a := do(t, http.MethodGet, r.api.URL+"/api/v1/services"+query, "", "")
	if a.status != http.StatusOK || a.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("GET /api/v1/services%s: %d %q, Cache-Control %q", query, a.status, a.body, a.header.Get("Cache-Control"))
	}
	var v servicesView
	if err := json.Unmarshal([]byte(a.body), &v); err != nil {
		t.Fatal(err)
	}
	return v, len(a.body)
}

// The page keeps the catalogue: asked with the version it holds, kioskd
// answers the queue lengths and the kiosk's state only, a few hundred
// bytes instead of the catalogue's 260; asked with another version (or
// none), the whole catalogue, with what the information terminal shows.
func TestServicesByVersion(t *testing.T) {
	r := newRig(t, true)
	full, size := r.services(t, "")
	if len(full.Version) != 16 || full.Office == nil || len(full.Groups) != 10 || len(full.Services) < 380 ||
		len(full.Documents) == 0 || len(full.Forms) == 0 || len(full.Queues) == 0 || len(full.Popular) == 0 {
		t.Fatalf("full answer: version %q, %d groups, %d services, %d documents, %d forms, %d queues",
			full.Version, len(full.Groups), len(full.Services), len(full.Documents), len(full.Forms), len(full.Queues))
	}
	if i := slices.IndexFunc(full.Services, func(s proto.Service) bool { return s.ID == "pension-age" }); i < 0 ||
		full.Services[i].Info == nil || len(full.Services[i].Info.Documents) == 0 || len(full.Services[i].Keywords.UK) == 0 {
		t.Errorf("pension-age comes without what the information terminal shows")
	}
	same, small := r.services(t, "?have="+full.Version)
	if same.Version != full.Version || same.Office != nil || same.Groups != nil || same.Services != nil || same.Documents != nil ||
		same.Forms != nil || len(same.Queues) == 0 || len(same.Popular) == 0 {
		t.Errorf("answer to the same version: %+v", same)
	}
	if small > 2048 || size < 100<<10 {
		t.Errorf("the catalogue is %d bytes, the answer to its version %d", size, small)
	}
	t.Logf("the catalogue: %d bytes; the same version: %d bytes", size, small)
	other, _ := r.services(t, "?have=0123456789abcdef")
	if other.Version != full.Version || len(other.Services) != len(full.Services) {
		t.Errorf("answer to another version: version %q, %d services", other.Version, len(other.Services))
	}
}

// The version names the catalogue, not the rest of the snapshot: queue
// lengths leave it (and its encoding) alone; any change of the catalogue
// or the office gives another.
func TestCatalogueVersion(t *testing.T) {
	r := newRig(t, true)
	snap := r.k.cfg.Tickets.Snapshot()
	var c catalogueCache
	first, err := c.get(snap)
	if err != nil {
		t.Fatal(err)
	}
	queues := *snap
	queues.Queues = append(slices.Clone(snap.Queues), proto.QueueLen{Group: "pensions", Waiting: 99})
	if again, _ := c.get(&queues); again != first {
		t.Error("new queue lengths encoded the catalogue again")
	}
	renamed := *snap
	renamed.Catalogue.Services = slices.Clone(snap.Catalogue.Services)
	renamed.Catalogue.Services[0].Name.UK += " (змінено)"
	office := *snap
	office.Office.Name.EN += " (changed)"
	seen := map[string]string{first.version: "the first"}
	for what, w := range map[string]*proto.Welcome{"a service renamed": &renamed, "the office renamed": &office} {
		enc, err := c.get(w)
		if err != nil {
			t.Fatal(err)
		}
		if prev, ok := seen[enc.version]; ok {
			t.Errorf("%s: version %s, as %s", what, enc.version, prev)
		}
		seen[enc.version] = what
	}
	if back, _ := c.get(snap); back.version != first.version {
		t.Errorf("the first catalogue again: version %s, was %s", back.version, first.version)
	}
}

// BenchmarkServicesAnswer: GET /api/v1/services as the page asks it on
// every home screen, the first time (the whole catalogue) and after
// (the version it holds), through the handler.
func BenchmarkServicesAnswer(b *testing.B) {
	r := newRig(b, true)
	var full servicesView
	rec := httptest.NewRecorder()
	r.k.handleServices(rec, httptest.NewRequest(http.MethodGet, "/api/v1/services", nil))
	if err := json.Unmarshal(rec.Body.Bytes(), &full); err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct{ name, query string }{{"catalogue", ""}, {"same-version", "?have=" + full.Version}} {
		b.Run(c.name, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, "/api/v1/services"+c.query, nil)
			size := 0
			for b.Loop() {
				rec := httptest.NewRecorder()
				r.k.handleServices(rec, req)
				size = rec.Body.Len()
			}
			b.ReportMetric(float64(size), "answer-bytes")
		})
	}
}
