package queue

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/cherga/kiosk/configs"
	"github.com/cherga/kiosk/link/proto"
)

// shippedQueue runs the demo office of configs/office.yaml: its 400
// services, not a trimmed catalogue.
func shippedQueue(t testing.TB) *Queue {
	t.Helper()
	cfg, err := configs.LoadOffice(filepath.Join("..", "configs", "office.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	q, err := Open(filepath.Join(t.TempDir(), "q.db"), cfg, Options{Clock: newClock(), Version: "v1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	return q
}

func welcomeOf(t testing.TB, q *Queue, device string, roles ...string) (*proto.Welcome, int) {
	t.Helper()
	w, _, _, err := q.Connect(&proto.Hello{Device: device, Roles: roles, Version: "test", Epoch: "e-" + device, Time: q.clock.Now()})
	if err != nil {
		t.Fatal(err)
	}
	b, err := proto.Encode(&proto.Message{Type: proto.TypeWelcome, Welcome: w})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := proto.Decode(b); err != nil {
		t.Fatalf("the welcome does not decode: %v", err)
	}
	return w, len(b)
}

// A kiosk's welcome carries the whole shipped catalogue with what the
// information terminal shows, well inside one message; the other
// terminals get the brief one.
func TestWelcomeShippedCatalogue(t *testing.T) {
	q := shippedQueue(t)
	kiosk, kioskBytes := welcomeOf(t, q, "kiosk-01", "kiosk")
	hall, hallBytes := welcomeOf(t, q, "hall-01", "hall")
	t.Logf("welcome with %d services: kiosk %d bytes, hall %d bytes (limit %d)", len(kiosk.Catalogue.Services), kioskBytes, hallBytes, proto.MaxMessageBytes)
	if kioskBytes > proto.MaxMessageBytes/2 {
		t.Errorf("a kiosk's welcome has %d bytes, want well under the %d a message may have", kioskBytes, proto.MaxMessageBytes)
	}
	var cat proto.Catalogue
	b, _ := json.Marshal(kiosk.Catalogue)
	t.Logf("catalogue %d bytes, queued's estimate %d, limit %d", len(b), q.Config().CatalogueBytes(), configs.MaxCatalogueBytes)
	if len(b) > q.Config().CatalogueBytes() || q.Config().CatalogueBytes() > configs.MaxCatalogueBytes {
		t.Errorf("the catalogue encodes to %d bytes, above the estimate queued -check bounds (%d, limit %d)", len(b), q.Config().CatalogueBytes(), configs.MaxCatalogueBytes)
	}
	cat = kiosk.Catalogue
	if len(cat.Services) < 380 || len(cat.Documents) == 0 || len(cat.Forms) == 0 {
		t.Fatalf("kiosk catalogue: %d services, %d documents, %d forms", len(cat.Services), len(cat.Documents), len(cat.Forms))
	}
	described := 0
	for _, s := range cat.Services {
		if s.Info == nil || len(s.Info.Documents) == 0 {
			t.Errorf("service %s reaches the kiosk without the documents to bring", s.ID)
			continue
		}
		for _, id := range s.Info.Documents {
			if _, ok := cat.Document(id); !ok {
				t.Errorf("service %s names document %s the catalogue does not have", s.ID, id)
			}
		}
		for _, id := range s.Info.Forms {
			if _, ok := cat.Form(id); !ok {
				t.Errorf("service %s names form %s the catalogue does not have", s.ID, id)
			}
		}
		if s.Info.Description.UK != "" && s.Info.Term.UK != "" && s.Info.Cost.UK != "" {
			described++
		}
	}
	if described < 60 {
		t.Errorf("%d services reach the kiosk fully described, want at least 60", described)
	}
	if hallBytes >= kioskBytes*3/4 || hall.Catalogue.Documents != nil || hall.Catalogue.Services[0].Info != nil {
		t.Errorf("a hall's welcome carries the information terminal's texts (%d bytes)", hallBytes)
	}
	if len(hall.Catalogue.Services) != len(cat.Services) || hall.Catalogue.Services[0].Name != cat.Services[0].Name {
		t.Error("a hall's welcome lacks services or their names")
	}
	// What a terminal does to its copy stays in its copy.
	kiosk.Catalogue.Services[0].Name.UK = "змінено"
	kiosk.Catalogue.Groups = kiosk.Catalogue.Groups[:0]
	if c := q.Catalogue(); c.Services[0].Name.UK == "змінено" || len(c.Groups) != 10 {
		t.Error("a welcome shares its lists with the office's catalogue")
	}
}

// Every service of the shipped catalogue, as a kiosk receives it, is at
// most three touches from the home screen, and every level fits one
// kiosk page: the check queued -check makes, proven on what terminals get.
func TestCatalogueThreeTouches(t *testing.T) {
	if proto.HomeItems != configs.KioskHomeItems || proto.PageItems != configs.KioskPageItems {
		t.Fatalf("page capacities differ: proto %d/%d, configs %d/%d", proto.HomeItems, proto.PageItems, configs.KioskHomeItems, configs.KioskPageItems)
	}
	q := shippedQueue(t)
	w, _ := welcomeOf(t, q, "kiosk-01", "kiosk")
	cat := w.Catalogue
	if len(cat.Groups) > proto.HomeItems {
		t.Errorf("home lists %d groups, one page holds %d", len(cat.Groups), proto.HomeItems)
	}
	touches := map[string]int{}
	for _, g := range cat.Groups { // 1: the group's tile
		subs, direct := cat.GroupPage(g.ID)
		if n := len(subs) + len(direct); n > proto.PageItems || n == 0 {
			t.Errorf("group %s's page lists %d entries, want 1 to %d", g.ID, n, proto.PageItems)
		}
		for _, s := range direct { // 2: the service
			touches[s.ID] = 2
		}
		for _, sg := range subs { // 2: the subgroup's tile
			list := cat.SubgroupServices(g.ID, sg.ID)
			if len(list) > proto.PageItems {
				t.Errorf("subgroup %s lists %d services, one page holds %d", sg.ID, len(list), proto.PageItems)
			}
			for _, s := range list { // 3: the service
				touches[s.ID] = 3
			}
		}
	}
	for _, s := range cat.Services {
		if n, ok := touches[s.ID]; !ok || n > 3 {
			t.Errorf("service %s: %d touches from home (0: unreachable)", s.ID, n)
		}
	}
}

// A reload pushes the whole catalogue to every terminal in one update.
func TestCatalogueUpdateSize(t *testing.T) {
	q := shippedQueue(t)
	eff, err := q.Reload(q.Config(), "v2")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range eff.Pushes {
		if m.Type != proto.TypeUpdate {
			continue
		}
		b, err := proto.Encode(m)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > proto.MaxMessageBytes/2 || len(m.Update.Catalogue.Services) < 380 {
			t.Errorf("update: %d bytes, %d services", len(b), len(m.Update.Catalogue.Services))
		}
		return
	}
	t.Fatal("reload pushed no update")
}

// BenchmarkWelcomeShippedCatalogue: a kiosk's hello answered and encoded
// with the 400-service catalogue, as at every reconnection.
func BenchmarkWelcomeShippedCatalogue(b *testing.B) {
	q := shippedQueue(b)
	h := &proto.Hello{Device: "kiosk-01", Roles: []string{"kiosk"}, Version: "test", Epoch: "e", Time: q.clock.Now()}
	b.ReportAllocs()
	size := 0
	for b.Loop() {
		w, _, _, err := q.Connect(h)
		if err != nil {
			b.Fatal(err)
		}
		out, err := proto.Encode(&proto.Message{Type: proto.TypeWelcome, Welcome: w})
		if err != nil {
			b.Fatal(err)
		}
		size = len(out)
	}
	b.ReportMetric(float64(size), "bytes/welcome")
}
