package city

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/cherga/kiosk/queue/record"
)

// eventColumns are events' columns in table order, as Append copies them.
var eventColumns = []string{"office", "seq", "at", "day", "type", "ticket", "service", "grp", "window",
	"operator", "terminal", "to_service", "to_group", "to_window", "reason", "score", "priority", "booked", "offline"}

// createBatch is Append's per-connection staging table: COPY lands here,
// then one INSERT … ON CONFLICT DO NOTHING moves what is new.
const createBatch = `create temp table if not exists city_batch (
	office text, seq bigint, at timestamptz, day date, type text, ticket text, service text, grp text,
	"window" integer, operator text, terminal text, to_service text, to_group text, to_window integer,
	reason text, score smallint, priority integer, booked boolean, offline boolean) on commit delete rows`

// testHookBeforeCommit, if set, runs inside Append's transaction after the
// insert, before the commit (crash tests kill the server there).
var testHookBeforeCommit func()

// Append stores a batch of one office's events idempotently in one
// transaction: an event already there (same office, seq) adds nothing.
// Returns how many were new. Events must be in strictly increasing seq
// order (ErrOrder otherwise) and the office registered (ErrNotRegistered).
//
// The monthly partitions the batch needs are made first, each in its own
// short transaction (city_ensure_month; idempotent), then COPY fills a
// temporary table and one INSERT … SELECT … ON CONFLICT DO NOTHING moves
// it into events.
func (db *DB) Append(ctx context.Context, office string, events []record.Event) (int, error) {
	if len(events) == 0 {
		return 0, nil
	}
	rows, months, err := batchRows(office, events)
	if err != nil {
		return 0, err
	}
	n, err := db.appendRows(ctx, office, rows, months)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23514" && strings.Contains(pe.Message, "no partition") {
		// Retention (maybe another process's) dropped a month we thought was there.
		db.months.Clear()
		n, err = db.appendRows(ctx, office, rows, months)
	}
	if err != nil {
		return 0, fmt.Errorf("city: append %d events of %s from seq %d: %w", len(events), office, events[0].Seq, err)
	}
	return n, nil
}

// batchRows checks a batch and turns it into COPY rows (empty strings and
// zeros as NULL), with the first days of the months it touches.
func batchRows(office string, events []record.Event) ([][]any, []time.Time, error) {
	if office == "" {
		return nil, nil, errors.New("city: append: empty office id")
	}
	rows := make([][]any, len(events))
	var months []time.Time
	var prev uint64
	for i := range events {
		e := &events[i]
		if e.Seq <= prev {
			return nil, nil, fmt.Errorf("%w: seq %d after %d (office %s)", ErrOrder, e.Seq, prev, office)
		}
		prev = e.Seq
		if e.Seq > 1<<63-1 {
			return nil, nil, fmt.Errorf("city: append: seq %d out of range (office %s)", e.Seq, office)
		}
		day, err := time.Parse(time.DateOnly, e.Day)
		if err != nil {
			return nil, nil, fmt.Errorf("city: append: event %d of %s: day %q: not YYYY-MM-DD", e.Seq, office, e.Day)
		}
		if e.Type == "" || e.At.IsZero() {
			return nil, nil, fmt.Errorf("city: append: event %d of %s: no type or time", e.Seq, office)
		}
		if m := time.Date(day.Year(), day.Month(), 1, 0, 0, 0, 0, time.UTC); len(months) == 0 || months[len(months)-1] != m {
			months = append(months, m) // duplicates are harmless: ensureMonth caches
		}
		rows[i] = []any{office, int64(e.Seq), e.At, day, e.Type, str(e.Ticket), str(e.Service), str(e.Group),
			num(e.Window), str(e.Operator), str(e.Terminal), str(e.ToService), str(e.ToGroup), num(e.ToWindow),
			str(e.Reason), small(e.Score), num(e.Priority), flag(e.Booked), flag(e.Offline)}
	}
	return rows, months, nil
}

func str(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func num(n int) any {
	if n == 0 {
		return nil
	}
	return int32(n)
}

func small(n int) any {
	if n == 0 {
		return nil
	}
	return int16(n)
}

func flag(b bool) any {
	if !b {
		return nil
	}
	return true
}

func (db *DB) appendRows(ctx context.Context, office string, rows [][]any, months []time.Time) (int, error) {
	for _, m := range months {
		if err := db.ensureMonth(ctx, m); err != nil {
			return 0, err
		}
	}
	var n int64
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		var one int
		if err := tx.QueryRow(ctx, `select 1 from offices where id = $1`, office).Scan(&one); errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("%w: %s", ErrNotRegistered, office)
		} else if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, createBatch); err != nil {
			return err
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"city_batch"}, eventColumns, pgx.CopyFromRows(rows)); err != nil {
			return err
		}
		// ON CONFLICT catches a resent event (same office, day, seq). The
		// NOT EXISTS also catches one whose day was changed, against the
		// rule; it is only evaluated for seqs not above what is stored
		// (a resend), so a new batch pays one index probe, not one a row.
		// (OFFSET 0 keeps it a per-row probe of events_office_seq: without
		// it the planner may hash the whole table for it; LIMIT 1 does not
		// help, it is simplified away.)
		tag, err := tx.Exec(ctx, `
			insert into events select b.* from city_batch b
			where b.seq > (select coalesce(max(seq), 0) from events where office = $1)
				or not exists (select 1 from events e where e.office = b.office and e.seq = b.seq offset 0)
			on conflict do nothing`, office)
		if err != nil {
			return err
		}
		n = tag.RowsAffected()
		if testHookBeforeCommit != nil {
			testHookBeforeCommit()
		}
		return nil
	})
	return int(n), err
}

// ensureMonth makes the partition of month m (its first day) unless this
// DB already did.
func (db *DB) ensureMonth(ctx context.Context, m time.Time) error {
	if _, ok := db.months.Load(m); ok {
		return nil
	}
	if _, err := db.pool.Exec(ctx, `select city_ensure_month($1)`, m); err != nil {
		return fmt.Errorf("partition for %s: %w", m.Format("2006-01"), err)
	}
	db.months.Store(m, true)
	return nil
}

// Shipped is the highest seq of office stored (0: none). One backward scan
// of events_office_seq per partition.
func (db *DB) Shipped(ctx context.Context, office string) (uint64, error) {
	var n int64
	if err := db.pool.QueryRow(ctx, `select coalesce(max(seq), 0) from events where office = $1`, office).Scan(&n); err != nil {
		return 0, fmt.Errorf("city: shipped of %s: %w", office, err)
	}
	return uint64(n), nil
}

// OfficeEvent is one stored event and its office.
type OfficeEvent struct {
	Office string
	record.Event
}

// Events streams the events of offices (nil: all) whose Day is within
// [from, to] (YYYY-MM-DD), ordered by (office, seq), for
// queue/stats.Compute. The yielded Event has Seq and all fields as
// shipped (At to the microsecond, PostgreSQL's precision). Only the
// months' partitions of [from, to] are read. An error is yielded once,
// with a zero event, and ends the sequence; so does ctx's end.
func (db *DB) Events(ctx context.Context, offices []string, from, to string) iter.Seq2[OfficeEvent, error] {
	return func(yield func(OfficeEvent, error) bool) {
		lo, err1 := time.Parse(time.DateOnly, from)
		hi, err2 := time.Parse(time.DateOnly, to)
		if err := errors.Join(err1, err2); err != nil {
			yield(OfficeEvent{}, fmt.Errorf("city: events: bad range %q..%q: %w", from, to, err))
			return
		}
		// A nil filter is passed as NULL: "all offices".
		var filter []string
		if offices != nil {
			filter = append([]string{}, offices...)
		}
		rows, err := db.pool.Query(ctx, `
			select office, seq, at, day, type, ticket, service, grp, "window", operator, terminal,
				to_service, to_group, to_window, reason, score, priority, booked, offline
			from events
			where day between $1 and $2 and ($3::text[] is null or office = any($3))
			order by office, seq`, lo, hi, filter)
		if err != nil {
			yield(OfficeEvent{}, fmt.Errorf("city: events: %w", err))
			return
		}
		defer rows.Close()
		var dec *eventDecoder
		var oe OfficeEvent
		for rows.Next() {
			if dec == nil { // the formats are known from the first row on
				dec = newEventDecoder(rows.FieldDescriptions())
			}
			if err := dec.decode(rows, &oe); err != nil {
				yield(OfficeEvent{}, fmt.Errorf("city: events: %w", err))
				return
			}
			if !yield(oe, nil) {
				return
			}
		}
		if err := rows.Err(); err != nil {
			yield(OfficeEvent{}, fmt.Errorf("city: events: %w", err))
		}
	}
}

// Retain drops whole monthly partitions whose every day is older than
// keep before now (by the DB's clock); cityd runs it daily. keep ≤ 0
// keeps everything.
func (db *DB) Retain(ctx context.Context, keep time.Duration) error {
	if keep <= 0 {
		return nil
	}
	var now time.Time
	if err := db.pool.QueryRow(ctx, `select now()`).Scan(&now); err != nil {
		return fmt.Errorf("city: retain: %w", err)
	}
	cut := now.Add(-keep).UTC()
	cutDay := time.Date(cut.Year(), cut.Month(), cut.Day(), 0, 0, 0, 0, time.UTC)
	rows, err := db.pool.Query(ctx, `
		select c.relname from pg_inherits i join pg_class c on c.oid = i.inhrelid
		where i.inhparent = 'events'::regclass order by 1`)
	if err != nil {
		return fmt.Errorf("city: retain: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("city: retain: %w", err)
	}
	for _, name := range names {
		m, err := time.Parse("events_200601", name)
		if err != nil {
			continue // not one of ours
		}
		if !m.AddDate(0, 1, 0).After(cutDay) { // its last day is before cutDay
			if _, err := db.pool.Exec(ctx, `drop table if exists `+pgx.Identifier{name}.Sanitize()); err != nil {
				return fmt.Errorf("city: retain: drop %s: %w", name, err)
			}
			db.months.Delete(m)
			db.log.Info("city: retention dropped a month of events", "partition", name, "keep", keep)
		}
	}
	return nil
}
