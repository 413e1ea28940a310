package queue

import (
	"embed"
	"errors"
	"html/template"
	"net/http"
	"path/filepath"
	"strings"

	"github.com/cherga/kiosk/i18n"
	"github.com/cherga/kiosk/link/proto"
)

//go:embed track.html
var trackFS embed.FS

var trackPage = template.Must(template.New("track.html").Funcs(template.FuncMap{
	"t": func(lang, key string, args ...any) string { return i18n.T(lang, key, args...) },
}).ParseFS(trackFS, "track.html"))

// handleTrack is the page a ticket's QR code opens: where the visitor
// stands, in Ukrainian and English, refreshed every half minute; and,
// while the visitor waits, what the information terminal says of the
// ticket's service (in Ukrainian, or in English with ?lang=en): its
// description, the documents to bring, the term, the cost, and links to
// the sample forms. Nothing about the visitor: the ticket's number opens
// it, as the QR code does.
func (s *Server) handleTrack(w http.ResponseWriter, r *http.Request) {
	date, number := r.PathValue("date"), r.PathValue("number")
	t, ahead, err := s.q.Track(date, number)
	status := http.StatusOK
	switch {
	case errors.Is(err, ErrNoTicket), errors.Is(err, ErrBadDate):
		status = http.StatusNotFound
	case err != nil:
		s.internal(w, err)
		return
	}
	lang := "uk"
	if r.URL.Query().Get("lang") == "en" {
		lang = "en"
	}
	waiting, called := t.State == proto.StateWaiting, t.State == proto.StateCalled
	data := map[string]any{
		"Office": s.q.Office(), "Number": number, "Found": err == nil, "Ticket": t, "Ahead": ahead,
		"Waiting": waiting, "Called": called,
		"Langs": []string{"uk", "en"}, "Lang": lang,
	}
	if err == nil && (waiting || called) {
		if info, ok := s.q.serviceInfo(t.Service, lang); ok {
			data["Info"] = info
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := trackPage.Execute(w, data); err != nil {
		s.log.Error("track page", "err", err)
	}
}

// trackInfo is a service's information, in one language, as the tracking
// page shows it.
type trackInfo struct {
	Name, Description, Term, Cost string
	Documents                     []string
	Forms                         []trackForm
	// Other is the language the page can switch to.
	Other string
}

type trackForm struct {
	ID, Name, Kind string
	KB             int64
}

// serviceInfo is what the information terminal shows of service, in lang.
func (q *Queue) serviceInfo(service, lang string) (trackInfo, bool) {
	q.mu.Lock()
	o := q.o
	q.mu.Unlock()
	// o.cat is never changed once made: Reload swaps the whole office.
	svc, ok := o.cat.Service(service)
	if !ok {
		return trackInfo{}, false
	}
	out := trackInfo{Name: svc.Name.In(lang), Other: map[string]string{"uk": "en", "en": "uk"}[lang]}
	if svc.Info == nil {
		return out, true
	}
	in := svc.Info
	out.Description, out.Term, out.Cost = in.Description.In(lang), in.Term.In(lang), in.Cost.In(lang)
	for _, id := range in.Documents {
		if d, ok := o.cat.Document(id); ok {
			out.Documents = append(out.Documents, d.Name.In(lang))
		}
	}
	for _, id := range in.Forms {
		f, ok := o.cat.Form(id)
		if !ok || f.SHA256 == "" {
			continue // not served: no link that leads nowhere
		}
		kind := strings.ToUpper(strings.TrimPrefix(filepath.Ext(f.File), "."))
		if kind == "JPG" {
			kind = "JPEG"
		}
		out.Forms = append(out.Forms, trackForm{ID: f.ID, Name: f.Name.In(lang), Kind: kind, KB: (f.Size + 1023) / 1024})
	}
	return out, true
}
