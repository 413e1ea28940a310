package cityd

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"math"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cherga/kiosk/city"
	"github.com/cherga/kiosk/httpapi"
)

// CityStatus is the answer of GET /api/v1/city/status: every centre now.
type CityStatus struct {
	At          time.Time      `json:"at"` // cityd's time of the answer
	StaleAfterS int            `json:"stale_after_s"`
	Name        Text           `json:"name"`     // the city's
	Timezone    string         `json:"timezone"` // the city's, for the times shown
	Offices     []OfficeStatus `json:"offices"`
}

// Text is a name in both languages.
type Text struct {
	UK string `json:"uk"`
	EN string `json:"en"`
}

// OfficeStatus is one centre in CityStatus.
type OfficeStatus struct {
	ID   string `json:"id"`
	Name Text   `json:"name"`
	// Reported is false for a centre that never sent a status; its other
	// figures are then zero.
	Reported    bool `json:"reported"`
	Open        bool `json:"open"`
	WindowsOpen int  `json:"windows_open"`
	Waiting     int  `json:"waiting"` // every group's
	// WaitMin is the longest estimated wait of a group with people
	// waiting, minutes.
	WaitMin int           `json:"wait_min"`
	Groups  []GroupStatus `json:"groups"`
	// StatusAt is the office's time of its status; AgeS how long ago
	// the city received it (seconds, by cityd's clock); Stale: longer
	// than stale_after_s, or never.
	StatusAt *time.Time `json:"status_at"`
	AgeS     int64      `json:"age_s"`
	Stale    bool       `json:"stale"`
}

// GroupStatus is one service group of a centre.
type GroupStatus struct {
	ID      string `json:"id"`
	Name    Text   `json:"name"`
	Waiting int    `json:"waiting"`
	WaitMin int    `json:"wait_min"` // estimated, minutes
}

// cityStatus reads every centre's status.
func (s *Server) cityStatus(ctx context.Context) (*CityStatus, error) {
	list, err := s.db.Statuses(ctx)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	out := &CityStatus{At: now.UTC(), StaleAfterS: int(s.cfg.StaleAfter / time.Second),
		Name: Text(s.cfg.Name), Timezone: s.cfg.Timezone, Offices: make([]OfficeStatus, 0, len(list))}
	for _, os := range list {
		out.Offices = append(out.Offices, officeView(os, now, s.cfg.StaleAfter))
	}
	order := officeOrder(s.cfg.Offices)
	slices.SortFunc(out.Offices, func(a, b OfficeStatus) int { return order(a.ID, b.ID) })
	return out, nil
}

func textOf(m map[string]string, fallback string) Text {
	uk := cmp.Or(m["uk"], fallback)
	return Text{UK: uk, EN: cmp.Or(m["en"], uk)}
}

func officeView(os city.OfficeStatus, now time.Time, staleAfter time.Duration) OfficeStatus {
	v := OfficeStatus{ID: os.Office.ID, Name: textOf(os.Office.Name, os.Office.ID), Groups: []GroupStatus{}, Stale: true}
	st := os.Status
	if st == nil {
		return v
	}
	v.Reported, v.Open, v.WindowsOpen = true, st.Open, st.WindowsOpen
	at := st.At.UTC()
	v.StatusAt = &at
	age := now.Sub(os.ReceivedAt)
	v.AgeS = int64(math.Max(0, math.Floor(age.Seconds())))
	v.Stale = age > staleAfter
	ids := make([]string, 0, len(st.Waiting)+len(st.GroupNames))
	for id := range st.GroupNames {
		ids = append(ids, id)
	}
	for id := range st.Waiting {
		if _, ok := st.GroupNames[id]; !ok {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		g := GroupStatus{ID: id, Name: textOf(st.GroupNames[id], id), Waiting: max(st.Waiting[id], 0), WaitMin: max(st.WaitMinutes[id], 0)}
		v.Waiting += g.Waiting
		if g.Waiting > 0 {
			v.WaitMin = max(v.WaitMin, g.WaitMin)
		}
		v.Groups = append(v.Groups, g)
	}
	return v
}

// statusCache keeps one encoded answer for ttl.
type statusCache struct {
	ttl          time.Duration
	hits, misses prometheus.Counter

	mu   sync.Mutex // held while one request reads the database for all
	body []byte
	at   time.Time
}

func (c *statusCache) get(now time.Time, read func() ([]byte, error)) ([]byte, error) {
	if c.ttl < 0 {
		c.misses.Inc()
		return read()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.body != nil && now.Sub(c.at) < c.ttl && !now.Before(c.at) {
		c.hits.Inc()
		return c.body, nil
	}
	c.misses.Inc()
	b, err := read()
	if err != nil {
		return nil, err
	}
	c.body, c.at = b, now
	return b, nil
}

// cors lets any site's page read the public status: it is public data.
func cors(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Allow-Methods", "GET")
	h.Set("Access-Control-Max-Age", "86400")
}

func (s *Server) handleStatusPreflight(w http.ResponseWriter, r *http.Request) {
	cors(w)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request) {
	cors(w)
	body, err := s.status.get(s.clock.Now(), func() ([]byte, error) {
		// The answer serves everyone waiting for it: one client leaving
		// does not cancel it.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 5*time.Second)
		defer cancel()
		st, err := s.cityStatus(ctx)
		if err != nil {
			return nil, err
		}
		var buf bytes.Buffer
		if err := json.NewEncoder(&buf).Encode(st); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	})
	if err != nil {
		s.log.Error("city status failed", "err", err)
		httpapi.WriteError(w, http.StatusServiceUnavailable, "unavailable", "the city's database does not answer now; try again in a minute")
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(body)
}
