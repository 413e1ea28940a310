package kiosk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/cherga/kiosk/httpapi"
	"github.com/cherga/kiosk/i18n"
	"github.com/cherga/kiosk/link/proto"
	"github.com/cherga/kiosk/printer"
)

// The information terminal's routes: the sample forms kept on the kiosk
// (forms.go) and, before the ticket, a printed list of the documents a
// service needs.
//
//	GET  /forms/{id}              the form's file (PNG, JPEG or PDF); 404 JSON while the kiosk has none
//	GET  /api/v1/forms            {"forms":[{"id","name","type","url","size","cached"}]}
//	POST /api/v1/print/documents  {"service":"<id>","lang":"uk"|"en"} → {"printed":true}

// DocumentPrinter is a printer that also prints lists of documents
// (printer.ESCPOS).
type DocumentPrinter interface {
	PrintDocuments(ctx context.Context, d *printer.DocumentList) error
}

// PrintsPerMinute is how many lists of documents a kiosk prints in any
// minute: enough for a visitor with a few services in mind, too few to
// empty the ticket roll for fun (a list takes 10 to 20 cm of paper).
const PrintsPerMinute = 3

// registerInformation adds the information terminal's routes to mux,
// behind the kiosk page's origin guard.
func (k *Kiosk) registerInformation(mux httpapi.Routes, guard func(http.Handler) http.Handler) {
	forms := k.cfg.Forms
	if forms == nil {
		forms = noForms()
	}
	mux.Handle("GET /forms/{id}", guard(forms))
	mux.Handle("GET /api/v1/forms", guard(http.HandlerFunc(forms.handleList)))
	mux.Handle("POST /api/v1/print/documents", guard(http.HandlerFunc(k.handlePrintDocuments)))
}

// noForms is a kiosk's forms when it keeps none: every one is not cached.
func noForms() *Forms {
	return &Forms{cfg: FormsConfig{Catalogue: func() *proto.Catalogue { return nil }}, log: slog.New(slog.DiscardHandler)}
}

// printLimit counts the lists printed in the last minute, on the kiosk's
// clock.
type printLimit struct {
	mu   sync.Mutex
	last []time.Time
}

// take reports whether one more list may be printed at now, and if not,
// how long until one may.
func (l *printLimit) take(now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	kept := l.last[:0]
	for _, t := range l.last {
		if now.Sub(t) < time.Minute {
			kept = append(kept, t)
		}
	}
	l.last = kept
	if len(l.last) >= PrintsPerMinute {
		return false, time.Minute - now.Sub(l.last[0])
	}
	l.last = append(l.last, now)
	return true, 0
}

// giveBack returns a turn nothing was printed with.
func (l *printLimit) giveBack(at time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := len(l.last) - 1; i >= 0; i-- {
		if l.last[i].Equal(at) {
			l.last = append(l.last[:i], l.last[i+1:]...)
			return
		}
	}
}

// printRefusal is a list not printed, as the page gets it: code for
// programs, error for the log reader, text in the visitor's words.
type printRefusal struct {
	Code  string     `json:"code"`
	Error string     `json:"error"`
	Text  proto.Text `json:"text"`
}

// The codes of POST /api/v1/print/documents's refusals; the page's words
// are i18n's "kiosk.print.<code>".
const (
	printNoCatalogue    = "no_catalogue"
	printUnknownService = "unknown_service"
	printNoDocuments    = "no_documents"
	printTooMany        = "too_many"
	printPaperOut       = "paper_out"
	printPrinterFault   = "printer_fault"
)

func (k *Kiosk) refusePrint(w http.ResponseWriter, status int, code, msg string) {
	key := "kiosk.print." + code
	k.writeJSON(w, status, printRefusal{Code: code, Error: msg, Text: proto.Text{UK: i18n.T("uk", key), EN: i18n.T("en", key)}})
}

func (k *Kiosk) handlePrintDocuments(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Service string `json:"service"`
		Lang    string `json:"lang"`
	}
	if !k.decode(w, r, &req) {
		return
	}
	switch {
	case req.Service == "":
		httpapi.WriteError(w, http.StatusBadRequest, httpapi.CodeBadField,
			`field "service": required, the id of a service (GET /api/v1/services)`)
		return
	case req.Lang == "":
		req.Lang = "uk"
	case req.Lang != "uk" && req.Lang != "en":
		httpapi.WriteError(w, http.StatusBadRequest, httpapi.CodeBadField,
			fmt.Sprintf(`field "lang": got %q, expected "uk" or "en"`, clipText(req.Lang)))
		return
	}
	snap := k.cfg.Tickets.Snapshot()
	if snap == nil {
		k.refusePrint(w, http.StatusServiceUnavailable, printNoCatalogue, ErrNoCatalogue.Error())
		return
	}
	list, ok := documentList(snap, req.Service, req.Lang, k.clock.Now())
	switch {
	case !ok:
		k.refusePrint(w, http.StatusNotFound, printUnknownService, fmt.Sprintf("no service %q in the catalogue", clipText(req.Service)))
		return
	case len(list.Documents) == 0:
		k.refusePrint(w, http.StatusConflict, printNoDocuments, fmt.Sprintf("service %s lists no documents to bring", req.Service))
		return
	}
	dp, ok := k.cfg.Printer.(DocumentPrinter)
	if !ok {
		k.log.Error("list of documents not printed: this printer prints tickets only")
		k.refusePrint(w, http.StatusServiceUnavailable, printPrinterFault, "this kiosk's printer cannot print lists")
		return
	}
	now := k.clock.Now()
	if allowed, after := k.prints.take(now); !allowed {
		secs := int(after.Round(time.Second) / time.Second)
		w.Header().Set("Retry-After", strconv.Itoa(max(1, secs)))
		k.refusePrint(w, http.StatusTooManyRequests, printTooMany,
			fmt.Sprintf("at most %d lists a minute; the next in %d s", PrintsPerMinute, max(1, secs)))
		return
	}
	err := dp.PrintDocuments(r.Context(), list)
	switch {
	case err == nil:
		k.log.Info("list of documents printed", "service", req.Service, "lang", req.Lang, "documents", len(list.Documents))
		k.writeJSON(w, http.StatusOK, map[string]bool{"printed": true})
		return
	case errors.Is(err, printer.ErrCannotPrint):
		k.prints.giveBack(now) // no paper used
	}
	k.log.Error("list of documents not printed", "service", req.Service, "err", err)
	if errors.Is(err, printer.ErrPaperOut) {
		k.refusePrint(w, http.StatusServiceUnavailable, printPaperOut, "the printer has no paper")
		return
	}
	// The driver's words name the printer's port; they are in the log.
	k.refusePrint(w, http.StatusServiceUnavailable, printPrinterFault, "the printer cannot print now (its state is in /healthz)")
}

// documentList is what goes on paper for service, in lang, printed at
// now (in the office's time zone); ok is false for a service the
// catalogue lacks.
func documentList(snap *proto.Welcome, service, lang string, now time.Time) (*printer.DocumentList, bool) {
	cat := &snap.Catalogue
	svc, ok := cat.Service(service)
	if !ok {
		return nil, false
	}
	if loc, err := time.LoadLocation(snap.Office.Timezone); err == nil && snap.Office.Timezone != "" {
		now = now.In(loc)
	}
	d := &printer.DocumentList{Lang: lang, Centre: snap.Office.Name.In(lang), Service: svc.Name.In(lang), PrintedAt: now}
	if in := svc.Info; in != nil {
		for _, id := range in.Documents {
			if doc, ok := cat.Document(id); ok {
				d.Documents = append(d.Documents, doc.Name.In(lang))
			}
		}
		d.Term, d.Cost = in.Term.In(lang), in.Cost.In(lang)
	}
	return d, true
}
