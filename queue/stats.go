package queue

import (
	"context"
	"iter"
	"net/http"
	"time"

	"github.com/cherga/kiosk/queue/access"
	"github.com/cherga/kiosk/queue/record"
	"github.com/cherga/kiosk/queue/stats"
)

// statsSource lets package stats read the office's record.
type statsSource struct{ s *Server }

func (ss statsSource) Events(ctx context.Context, from, to string) iter.Seq2[record.Event, error] {
	return func(yield func(record.Event, error) bool) {
		for e, err := range ss.s.q.Events(from, to) {
			if ctx.Err() != nil {
				yield(record.Event{}, ctx.Err())
				return
			}
			if !yield(e, err) {
				return
			}
		}
	}
}

func (ss statsSource) Names() stats.Names {
	n := stats.Names{Operators: map[string]string{}, Services: map[string]stats.Name{}, Groups: map[string]stats.Name{}}
	cfg := ss.s.q.Config()
	for _, g := range cfg.Groups {
		n.Groups[g.ID] = stats.Name(g.Name)
	}
	for _, sv := range cfg.Services {
		n.Services[sv.ID] = stats.Name(sv.Name)
	}
	for _, u := range ss.s.store.Users() {
		n.Operators[u.Name] = u.DisplayName
	}
	return n
}

func (ss statsSource) Location() *time.Location { return ss.s.q.Location() }
func (ss statsSource) Today() string            { return ss.s.q.Today() }

func (s *Server) statsRoutes() {
	h := s.guard.Require(access.ScopeStats, stats.Handler(statsSource{s}))
	s.mux.Handle("GET /api/v1/stats", h)
	s.mux.Handle("GET /reports/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := s.guard.Authenticate(r); err != nil && r.URL.Path == "/reports/" {
			http.Redirect(w, r, "/login?next=/reports/", http.StatusSeeOther)
			return
		}
		h.ServeHTTP(w, r)
	}))
}
