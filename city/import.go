package city

import (
	"context"
	"fmt"
	"iter"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cherga/kiosk/queue/record"
)

// Import COPYs events (office id, event; each office's in seq order)
// straight into the events table in one transaction: the bulk way to fill
// a new city database from offices' whole logs, and the benchmarks' way
// to make millions of events. Unlike Append it is not idempotent: any
// event already stored fails the whole import (nothing is doubled). The
// offices need not be registered. Partitions are made for the months of
// [from, to] (YYYY-MM-DD) first; an event outside fails the import.
func (db *DB) Import(ctx context.Context, from, to string, events iter.Seq2[string, record.Event]) (int64, error) {
	lo, err1 := time.Parse(time.DateOnly, from)
	hi, err2 := time.Parse(time.DateOnly, to)
	if err1 != nil || err2 != nil || hi.Before(lo) {
		return 0, fmt.Errorf("city: import: bad range %q..%q", from, to)
	}
	for m := time.Date(lo.Year(), lo.Month(), 1, 0, 0, 0, 0, time.UTC); !m.After(hi); m = m.AddDate(0, 1, 0) {
		if err := db.ensureMonth(ctx, m); err != nil {
			return 0, fmt.Errorf("city: import: %w", err)
		}
	}
	next, stop := iter.Pull2(events)
	defer stop()
	prevSeq := map[string]uint64{}
	one := make([]record.Event, 1)
	src := pgx.CopyFromFunc(func() ([]any, error) {
		office, e, ok := next()
		if !ok {
			return nil, nil
		}
		if e.Seq <= prevSeq[office] {
			return nil, fmt.Errorf("%w: seq %d after %d (office %s)", ErrOrder, e.Seq, prevSeq[office], office)
		}
		prevSeq[office] = e.Seq
		one[0] = e
		rows, _, err := batchRows(office, one)
		if err != nil {
			return nil, err
		}
		return rows[0], nil
	})
	var n int64
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		var err error
		n, err = tx.CopyFrom(ctx, pgx.Identifier{"events"}, eventColumns, src)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("city: import: %w", err)
	}
	return n, nil
}
