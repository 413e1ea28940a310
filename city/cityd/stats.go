package cityd

import (
	"context"
	"iter"
	"net/http"
	"sync"
	"time"

	"github.com/cherga/kiosk/queue/access"
	"github.com/cherga/kiosk/queue/stats"
)

// Paths of the supervisors' side.
const (
	reportsPath  = "/city/reports/"
	cityStatsAPI = "/api/v1/city/stats"
)

func (s *Server) statsRoutes() {
	src := &statsSource{s: s}
	reports := stats.CityHandler(src, reportsPath, cityStatsAPI, s.log)
	// A year of a big city's events takes longer than the server's write
	// timeout (httpapi: 30 s) to read and compute; the report gets its own.
	long := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(reportWriteTimeout))
		reports.ServeHTTP(w, r)
	})
	h := s.guard.Require(access.ScopeStats, long)
	s.mux.Handle("GET "+cityStatsAPI, s.guard.Require(access.ScopeStats, s.metrics.timeStats(long)))
	s.mux.Handle("GET "+reportsPath, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := s.guard.Authenticate(r); err != nil && r.URL.Path == reportsPath {
			http.Redirect(w, r, "/login?next="+reportsPath, http.StatusSeeOther)
			return
		}
		h.ServeHTTP(w, r)
	}))
	s.mux.Handle("GET /city/reports", http.RedirectHandler(reportsPath, http.StatusFound))
}

// reportWriteTimeout is how long a report may take to compute and send:
// a year of five busy centres (11 million events) takes about 35 s.
const reportWriteTimeout = 5 * time.Minute

// statsSource lets package stats read the city's database.
type statsSource struct {
	s *Server

	mu     sync.Mutex
	book   *officeBook
	bookAt time.Time
}

// officeBook is what stats needs of the registered offices.
type officeBook struct {
	names stats.Names
	locs  map[string]*time.Location
}

// bookAge is how long the offices' names and zones are reused.
const bookAge = 10 * time.Second

func (ss *statsSource) offices() *officeBook {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	now := ss.s.clock.Now()
	if ss.book != nil && now.Sub(ss.bookAt) < bookAge && !now.Before(ss.bookAt) {
		return ss.book
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	list, err := ss.s.db.Statuses(ctx)
	if err != nil {
		ss.s.log.Warn("stats: offices' names", "err", err)
		if ss.book != nil {
			return ss.book
		}
		return &officeBook{names: stats.Names{Offices: map[string]stats.Name{}}, locs: map[string]*time.Location{}}
	}
	b := &officeBook{names: stats.Names{Offices: map[string]stats.Name{}, Groups: map[string]stats.Name{},
		Services: map[string]stats.Name{}, Operators: map[string]string{}}, locs: map[string]*time.Location{}}
	for _, os := range list {
		b.names.Offices[os.Office.ID] = stats.Name(textOf(os.Office.Name, os.Office.ID))
		loc, err := time.LoadLocation(os.Office.Timezone)
		if err != nil || os.Office.Timezone == "" {
			loc = ss.s.cfg.Location()
		}
		b.locs[os.Office.ID] = loc
		if os.Status != nil {
			for id, n := range os.Status.GroupNames {
				if _, ok := b.names.Groups[id]; !ok {
					b.names.Groups[id] = stats.Name(textOf(n, id))
				}
			}
		}
	}
	ss.book, ss.bookAt = b, now
	return b
}

func (ss *statsSource) Events(ctx context.Context, offices []string, from, to string) iter.Seq2[stats.OfficeEvent, error] {
	return func(yield func(stats.OfficeEvent, error) bool) {
		for e, err := range ss.s.db.Events(ctx, offices, from, to) {
			if err != nil {
				yield(stats.OfficeEvent{}, err)
				return
			}
			if !yield(stats.OfficeEvent{Office: e.Office, Event: e.Event}, nil) {
				return
			}
		}
	}
}

func (ss *statsSource) Names() stats.Names { return ss.offices().names }

// Location is the office's zone; an office registered since the book was
// read has the city's until the next read.
func (ss *statsSource) Location(office string) *time.Location {
	if loc := ss.offices().locs[office]; loc != nil {
		return loc
	}
	return ss.s.cfg.Location()
}

func (ss *statsSource) Today() string {
	return ss.s.clock.Now().In(ss.s.cfg.Location()).Format(time.DateOnly)
}
