package link

import (
	"time"

	"github.com/cherga/kiosk/link/proto"
)

// What the server hears of the outbox while the link is up: nothing while
// events are acknowledged as they come (the usual case), a report every
// outboxReportEvery while the outbox holds outboxReportEvents or more, or
// an event older than outboxReportAge, and it changed since the last
// report; one more report when that is over. Never per event: a connected terminal
// whose events are not acknowledged costs the server one small message a
// ping period at most. The hello says how the outbox stood at connect.

const (
	outboxReportEvery  = pingEvery
	outboxReportEvents = 100
	outboxReportAge    = pingEvery
)

// outboxState is the outbox as the protocol tells it.
func outboxState(ob OutboxStats) *proto.OutboxState {
	st := &proto.OutboxState{Events: ob.Events}
	if ob.Events > 0 {
		st.OldestAt, st.LastSeq = ob.OldestAt, ob.NextSeq-1
	}
	return st
}

// outboxReporter decides at each ping whether the server should hear how
// the outbox stands. One per connection; only the writer uses it.
type outboxReporter struct {
	last    proto.OutboxState
	notable bool // the last report (or the hello) was worth one
}

func notableOutbox(st *proto.OutboxState, now time.Time) bool {
	return st.Events >= outboxReportEvents || st.Events > 0 && now.Sub(st.OldestAt) >= outboxReportAge
}

// started records what the hello said.
func (r *outboxReporter) started(st *proto.OutboxState, now time.Time) {
	r.last, r.notable = *st, notableOutbox(st, now)
}

// next returns the report to send now, nil for none.
func (r *outboxReporter) next(st *proto.OutboxState, now time.Time) *proto.OutboxState {
	notable := notableOutbox(st, now)
	if !notable && !r.notable {
		return nil
	}
	if notable && r.notable && st.OldestAt.Equal(r.last.OldestAt) && abs(st.Events-r.last.Events) < max(10, r.last.Events/10) {
		return nil // about what the server knows already; it ages the oldest itself
	}
	r.last, r.notable = *st, notable
	return st
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
