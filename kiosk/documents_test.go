package kiosk

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/cherga/kiosk/devices"
	"github.com/cherga/kiosk/i18n"
	"github.com/cherga/kiosk/link/proto"
	"github.com/cherga/kiosk/printer/simprinter"
)

// printed waits for the simulated printer's next job and returns its
// text lines.
func (r *rig) printedText(t *testing.T) string {
	t.Helper()
	select {
	case p := <-r.dev.Printed():
		return p.Text
	case <-time.After(20 * time.Second): // a guard, never a measurement
		t.Fatal("nothing printed")
		return ""
	}
}

// refusedWith checks a print refusal's code and that its words are the
// page's, in both languages.
func refusedWith(t *testing.T, got map[string]any, code string) {
	t.Helper()
	text, _ := got["text"].(map[string]any)
	if got["code"] != code || got["error"] == "" || text["uk"] != i18n.T("uk", "kiosk.print."+code) || text["en"] != i18n.T("en", "kiosk.print."+code) {
		t.Errorf("refusal %v, want code %s with the page's words", got, code)
	}
}

// POST /api/v1/print/documents prints the documents a service needs, on
// the kiosk's printer, in the visitor's language; it refuses a bad body,
// an unknown service and a printer that cannot print, in words the page
// shows; and it prints at most PrintsPerMinute lists a minute.
func TestPrintDocuments(t *testing.T) {
	start := time.Date(2026, 11, 23, 8, 15, 0, 0, time.UTC) // 10:15 in Kyiv
	r := newRig(t, true, rigClock{start})
	const path = "/api/v1/print/documents"

	for _, body := range []string{`not json`, `{}`, `{"service":""}`, `{"service":7}`, `{"service":"subsidy-housing","lang":"de"}`,
		`{"service":"subsidy-housing","copies":3}`} {
		got := r.post(t, path, body, http.StatusBadRequest)
		if got["code"] == "" || got["error"] == "" {
			t.Errorf("%s: %v", body, got)
		}
	}
	resp, err := http.Post(r.api.URL+path, "text/plain", strings.NewReader(`{"service":"subsidy-housing"}`))
	if err != nil || resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("text/plain body: %v %v", resp, err)
	}
	refusedWith(t, r.post(t, path, `{"service":"teleport","lang":"uk"}`, http.StatusNotFound), "unknown_service")

	if got := r.post(t, path, `{"service":"subsidy-housing","lang":"uk"}`, http.StatusOK); got["printed"] != true {
		t.Fatalf("answer %v", got)
	}
	text := r.printedText(t)
	for _, want := range []string{"Центр надання соціальних послуг «Прозорий офіс»", "Документи, які потрібно мати з собою",
		"Призначення житлової субсидії", "1. Заява (бланк видає адміністратор;", "3. Паспорт громадянина України",
		"5. Договір найму (оренди) житла", "6. Реквізити власного банківського", "Термін: до 10 робочих днів",
		"Вартість: безоплатно", "Надруковано 23.11.2026 10:15"} {
		if !strings.Contains(text, want) {
			t.Errorf("the list lacks %q:\n%s", want, text)
		}
	}
	r.post(t, path, `{"service":"pension-age","lang":"en"}`, http.StatusOK)
	text = r.printedText(t)
	for _, want := range []string{"Transparent Office social services centre", "Documents to bring for the service:", "Old-age pension",
		"1. Application", "Term: up to 10 working days", "Printed 23.11.2026 10:15"} {
		if !strings.Contains(text, want) {
			t.Errorf("the English list lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "Документи") {
		t.Errorf("the English list has Ukrainian captions:\n%s", text)
	}

	// A third within the minute is printed, a fourth is not.
	r.post(t, path, `{"service":"subsidy-housing"}`, http.StatusOK)
	r.printedText(t)
	got := r.post(t, path, `{"service":"subsidy-housing"}`, http.StatusTooManyRequests)
	refusedWith(t, got, "too_many")

	// A minute later the printer has run out of paper: refused, and the
	// turn is not used up.
	r.clock.(*clockwork.FakeClock).Advance(time.Minute)
	r.dev.SetCondition(simprinter.PaperOut)
	r.waitPrinter(t, devices.Fault)
	for range PrintsPerMinute + 1 {
		refusedWith(t, r.post(t, path, `{"service":"subsidy-housing"}`, http.StatusServiceUnavailable), "paper_out")
	}
	r.dev.SetCondition(simprinter.CoverOpen)
	r.waitPrinter(t, devices.Fault)
	refusedWith(t, r.post(t, path, `{"service":"subsidy-housing"}`, http.StatusServiceUnavailable), "printer_fault")
	r.dev.SetCondition(simprinter.Ready)
	r.waitPrinter(t, devices.OK)
	r.post(t, path, `{"service":"subsidy-housing"}`, http.StatusOK)
	r.printedText(t)

	// Only the kiosk page may ask.
	if err := r.k.AllowOrigin(r.api.URL); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, r.api.URL+path, strings.NewReader(`{"service":"subsidy-housing"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", "http://attacker.example")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("from another origin: %v %v", resp, err)
	}
}

// A service whose catalogue entry lists no documents has nothing to
// print; the list is in the office's time zone and the visitor's language.
func TestDocumentListOf(t *testing.T) {
	snap := &proto.Welcome{Office: proto.Office{Name: proto.Text{UK: "Центр", EN: "Centre"}, Timezone: "Europe/Kyiv"},
		Catalogue: proto.Catalogue{
			Services: []proto.Service{
				{ID: "bare", Name: proto.Text{UK: "Послуга", EN: "Service"}},
				{ID: "full", Name: proto.Text{UK: "Повна", EN: "Full"}, Info: &proto.ServiceInfo{Documents: []string{"passport", "gone"},
					Cost: proto.Text{UK: "безоплатно", EN: "free"}}},
			},
			Documents: []proto.Document{{ID: "passport", Name: proto.Text{UK: "Паспорт", EN: "Passport"}}},
		}}
	at := time.Date(2026, 11, 23, 22, 30, 0, 0, time.UTC)
	if d, ok := documentList(snap, "bare", "uk", at); !ok || len(d.Documents) != 0 {
		t.Errorf("bare: %+v %v", d, ok)
	}
	d, ok := documentList(snap, "full", "en", at)
	if !ok || d.Centre != "Centre" || d.Service != "Full" || strings.Join(d.Documents, ",") != "Passport" || d.Cost != "free" ||
		d.Term != "" || d.PrintedAt.Day() != 24 {
		t.Errorf("full: %+v", d)
	}
	if _, ok := documentList(snap, "none", "uk", at); ok {
		t.Error("an unknown service has a list")
	}
}
