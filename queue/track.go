package queue

import (
	"embed"
	"errors"
	"html/template"
	"net/http"

	"github.com/cherga/kiosk/i18n"
	"github.com/cherga/kiosk/link/proto"
)

//go:embed track.html
var trackFS embed.FS

var trackPage = template.Must(template.New("track.html").Funcs(template.FuncMap{
	"t": func(lang, key string, args ...any) string { return i18n.T(lang, key, args...) },
}).ParseFS(trackFS, "track.html"))

// handleTrack is the page a ticket's QR code opens: where the visitor
// stands, in Ukrainian and English, refreshed every half minute.
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
	data := map[string]any{
		"Office": s.q.Office(), "Number": number, "Found": err == nil, "Ticket": t, "Ahead": ahead,
		"Waiting": t.State == proto.StateWaiting, "Called": t.State == proto.StateCalled,
		"Langs": []string{"uk", "en"},
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := trackPage.Execute(w, data); err != nil {
		s.log.Error("track page", "err", err)
	}
}
