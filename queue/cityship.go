package queue

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cherga/kiosk/city"
	"github.com/cherga/kiosk/queue/ship"
)

// The city's shipper as part of the server: started by NewServer when the
// office configures city.dsn, stopped by Close, shown in /healthz and the
// metrics. City settings need a restart (a reload keeps the shipper).

// cityShipper is the running shipper.
type cityShipper struct {
	sh     *ship.Shipper
	cancel context.CancelFunc
	done   chan struct{}
}

// startCity starts the shipper if the office has a city database.
func (s *Server) startCity() error {
	cfg := s.q.Config()
	if !cfg.City.Enabled() {
		return nil
	}
	dsn, err := ship.DSN(cfg.City)
	if err != nil {
		return err
	}
	sh, err := ship.New(s.q, ship.Config{DSN: dsn, Shown: cfg.City.DSN, Batch: cfg.City.Batch, AlarmAge: cfg.City.AlarmAge,
		Office: city.Office{ID: cfg.ID, Name: map[string]string{"uk": cfg.Name.UK, "en": cfg.Name.EN}, Timezone: cfg.Timezone},
		Clock:  s.q.clock, Log: s.log.With("part", "city")})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.city = &cityShipper{sh: sh, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.city.done)
		sh.Run(ctx)
	}()
	return nil
}

// stopCity ends the shipper (it stores its position on the way out).
func (s *Server) stopCity() {
	if s.city == nil {
		return
	}
	s.city.cancel()
	<-s.city.done
}

// CityStatus is the shipping's state; ok is false when the office ships
// to no city.
func (s *Server) CityStatus() (ship.Status, bool) {
	if s.city == nil {
		return ship.Status{}, false
	}
	return s.city.sh.Status(), true
}

// addCityHealth puts the shipping into /healthz: its alarm for anyone,
// the details for those who may see the terminals.
func (s *Server) addCityHealth(out map[string]any, detailed bool) {
	st, ok := s.CityStatus()
	if !ok {
		return
	}
	if st.Alarm != "" {
		out["status"] = "degraded"
		alarms, _ := out["alarms"].([]string)
		out["alarms"] = append(alarms, "city: "+st.Alarm)
	}
	if detailed {
		out["city"] = st
	}
}

var (
	descCityBacklog = prometheus.NewDesc("cherga_queued_city_backlog_events",
		"Events of the office's record not yet in the city's database.", nil, nil)
	descCityLag = prometheus.NewDesc("cherga_queued_city_lag_seconds",
		"Age of the oldest event not yet in the city's database (0: none waits).", nil, nil)
	descCityShipped = prometheus.NewDesc("cherga_queued_city_shipped_events_total",
		"Events the city's database took as new from this queued, since it started.", nil, nil)
	descCityErrors = prometheus.NewDesc("cherga_queued_city_errors_total",
		"Failed connections to and sessions with the city's database, since queued started.", nil, nil)
	descCityConnected = prometheus.NewDesc("cherga_queued_city_connected",
		"1 while queued ships to the city's database, else 0.", nil, nil)
	descCityAlarm = prometheus.NewDesc("cherga_queued_city_alarm",
		"1 while the city alarm is raised (backlog older than city.alarm_age, or the office id taken), else 0.", nil, nil)
)

// cityCollector reads the shipper at scrape time; it reports nothing for
// an office that ships to no city.
type cityCollector struct{ s *Server }

func (cityCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descCityBacklog, descCityLag, descCityShipped, descCityErrors, descCityConnected, descCityAlarm} {
		ch <- d
	}
}

func (c cityCollector) Collect(ch chan<- prometheus.Metric) {
	st, ok := c.s.CityStatus()
	if !ok {
		return
	}
	ch <- prometheus.MustNewConstMetric(descCityBacklog, prometheus.GaugeValue, float64(st.Backlog))
	ch <- prometheus.MustNewConstMetric(descCityLag, prometheus.GaugeValue, st.LagSeconds)
	ch <- prometheus.MustNewConstMetric(descCityShipped, prometheus.CounterValue, float64(st.ShippedNew))
	ch <- prometheus.MustNewConstMetric(descCityErrors, prometheus.CounterValue, float64(st.Errors))
	ch <- prometheus.MustNewConstMetric(descCityConnected, prometheus.GaugeValue, b2f(st.Connected))
	ch <- prometheus.MustNewConstMetric(descCityAlarm, prometheus.GaugeValue, b2f(st.Alarm != ""))
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
