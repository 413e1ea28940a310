package queue

import (
	"net/http"
	"time"

	"github.com/cherga/kiosk/queue/access"
)

// The supervisors' devices page (web/operator/devices.html) and what it
// reads: every terminal with its devices and the alerts, live through
// their own event stream. All behind the terminals scope, which
// supervisors and admins have, as has a token made for it (queued token
// -name monitor -scope terminals).

func (s *Server) deviceRoutes() {
	s.route("GET /api/v1/devices", access.ScopeTerminals, s.handleDevices)
	s.route("GET /api/v1/alerts", access.ScopeTerminals, s.handleAlerts)
	s.route("GET /api/v1/devices/stream", access.ScopeTerminals, s.handleDevicesStream)
}

func (s *Server) handleDevices(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.alerts.view())
}

func (s *Server) handleAlerts(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, struct {
		At     time.Time `json:"at"`
		Alerts []Alert   `json:"alerts"`
	}{s.q.clock.Now(), s.alerts.alerts()})
}

// handleDevicesStream sends an event "devices" whenever a terminal, a
// device or an alert changed; the page then reads GET /api/v1/devices.
func (s *Server) handleDevicesStream(w http.ResponseWriter, r *http.Request) {
	s.stream(w, r, s.deviceWatchers, false, nil)
}
