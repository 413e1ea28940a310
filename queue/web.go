package queue

import (
	"net/http"
	"strings"

	"github.com/cherga/kiosk/queue/access"
)

// The pages queued serves: the operator's workplace and the supervisor's
// overview (behind sign-in), the public status page, and the tracking
// page's style. All embedded; nothing comes from elsewhere.

func (s *Server) pages() {
	operator := http.FileServerFS(mustSub(webFS, "web"))
	s.mux.Handle("GET /operator/", s.signedIn(operator))
	s.mux.Handle("GET /status", http.RedirectHandler("/status/", http.StatusFound))
	s.mux.Handle("GET /status/", operator)
	s.mux.Handle("GET /{$}", http.RedirectHandler("/operator/", http.StatusFound))
}

// signedIn sends a browser with no session to the login page when it asks
// for a page (not for the pages' scripts and styles).
func (s *Server) signedIn(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if strings.HasSuffix(p, "/") || strings.HasSuffix(p, ".html") {
			if pr, err := s.guard.Authenticate(r); err != nil || pr.Kind != access.KindUser {
				http.Redirect(w, r, "/login?next="+p, http.StatusSeeOther)
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}
