package city

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Register claims office.ID for instance (a random id an office's queued
// keeps in its bbolt) and updates its names and timezone. Another instance
// holding the id: ErrOfficeTaken (errors.Is), message naming both.
func (db *DB) Register(ctx context.Context, office Office, instance string) error {
	if office.ID == "" || instance == "" {
		return errors.New("city: register: empty office id or instance")
	}
	names := office.Name
	if names == nil {
		names = map[string]string{}
	}
	var got string
	err := db.pool.QueryRow(ctx, `
		insert into offices as o (id, names, timezone, instance) values ($1, $2, $3, $4)
		on conflict (id) do update set names = excluded.names, timezone = excluded.timezone, last_seen_at = now()
			where o.instance = excluded.instance
		returning instance`, office.ID, names, office.Timezone, instance).Scan(&got)
	if errors.Is(err, pgx.ErrNoRows) {
		var holder string
		var since time.Time
		if err := db.pool.QueryRow(ctx, `select instance, registered_at from offices where id = $1`, office.ID).Scan(&holder, &since); err != nil {
			return fmt.Errorf("city: register %s: %w", office.ID, err)
		}
		return fmt.Errorf("%w: office %q is registered by instance %s since %s; this is instance %s (two offices configured with the same id?)",
			ErrOfficeTaken, office.ID, holder, since.UTC().Format(time.RFC3339), instance)
	}
	if err != nil {
		return fmt.Errorf("city: register %s: %w", office.ID, err)
	}
	return nil
}

// Status is an office's current state, as its queued last sent it.
type Status struct {
	Office      string
	At          time.Time                    // office's (corrected) time of the snapshot
	Open        bool                         // the office is open now (hours) and/or any window open
	WindowsOpen int                          // windows with an operator signed in and not paused
	Waiting     map[string]int               // group id -> tickets waiting
	WaitMinutes map[string]int               // group id -> estimated wait
	GroupNames  map[string]map[string]string // group id -> {"uk","en"} (so cityd needs no catalogue)
	LastSeq     uint64                       // highest event seq the office had at At
}

// PutStatus replaces office's current status (the shipper sends it on
// change, at most once a second). The office must be registered
// (ErrNotRegistered).
func (db *DB) PutStatus(ctx context.Context, s Status) error {
	tag, err := db.pool.Exec(ctx, `
		insert into office_status (office, at, open, windows_open, waiting, wait_minutes, group_names, last_seq, received_at)
		select $1, $2, $3, $4, $5, $6, $7, $8, now() where exists (select 1 from offices where id = $1)
		on conflict (office) do update set at = excluded.at, open = excluded.open, windows_open = excluded.windows_open,
			waiting = excluded.waiting, wait_minutes = excluded.wait_minutes, group_names = excluded.group_names,
			last_seq = excluded.last_seq, received_at = now()`,
		s.Office, s.At, s.Open, s.WindowsOpen, orEmpty(s.Waiting), orEmpty(s.WaitMinutes), orEmpty(s.GroupNames), int64(s.LastSeq))
	if err != nil {
		return fmt.Errorf("city: status of %s: %w", s.Office, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%w: status of %s", ErrNotRegistered, s.Office)
	}
	return nil
}

func orEmpty[V any](m map[string]V) map[string]V {
	if m == nil {
		return map[string]V{}
	}
	return m
}

// OfficeStatus is one registered office with its latest status.
type OfficeStatus struct {
	Office     Office
	Status     *Status   // nil: never sent
	ReceivedAt time.Time // when the DB stored Status, by the DB's clock (zero: never)
	ShippedSeq uint64    // highest seq stored for the office
}

// Statuses is every registered office with its latest status and how
// fresh it is, ordered by office id (one query, on city_office_state).
func (db *DB) Statuses(ctx context.Context) ([]OfficeStatus, error) {
	rows, err := db.pool.Query(ctx, `
		select id, names, timezone, at, open, windows_open, waiting, wait_minutes, group_names, last_seq, received_at, shipped_seq
		from city_office_state order by id`)
	if err != nil {
		return nil, fmt.Errorf("city: statuses: %w", err)
	}
	defer rows.Close()
	var out []OfficeStatus
	for rows.Next() {
		var (
			o           OfficeStatus
			at, recv    *time.Time
			open        *bool
			windowsOpen *int
			lastSeq     *int64
			shipped     int64
			st          Status
		)
		if err := rows.Scan(&o.Office.ID, &o.Office.Name, &o.Office.Timezone, &at, &open, &windowsOpen,
			&st.Waiting, &st.WaitMinutes, &st.GroupNames, &lastSeq, &recv, &shipped); err != nil {
			return nil, fmt.Errorf("city: statuses: %w", err)
		}
		o.ShippedSeq = uint64(shipped)
		if at != nil {
			st.Office, st.At, st.Open, st.WindowsOpen, st.LastSeq = o.Office.ID, *at, *open, *windowsOpen, uint64(*lastSeq)
			o.Status, o.ReceivedAt = &st, *recv
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("city: statuses: %w", err)
	}
	return out, nil
}
