package queue

import (
	"fmt"
	"time"

	"github.com/cherga/kiosk/link/proto"
)

// A window's state as its terminals show it (proto.WindowState: the
// keypad's lines, the board, the rating panel's prompt). The terminals of
// a window get it in their welcome, then after every change of the window
// with the change's effects (a change records which windows it acted on,
// touchWindow, and their states are taken as it ends, O(1) each), and,
// for the waiting count, which tickets issued anywhere change, coalesced
// by the server's broadcaster: a change only marks the line it touched
// (lines.touch); at most once a second the broadcaster takes the marks and
// sends the states of the windows calling those lines that have a
// terminal, the ones that differ from what they were sent last.

// windowState is a window's state as taken, numbered in the order taken:
// the server never sends a window's terminals a state older than one they
// have.
type windowState struct {
	seq uint64
	proto.WindowState
}

// Codes of WindowState.Refused: why a keypad press did nothing.
const (
	RefusedNobodyWaiting = "nobody_waiting" // next with nobody this window may call
	RefusedNotSignedIn   = "not_signed_in"  // nobody is signed in to the window
	RefusedPaused        = "paused"         // next on a paused window
	RefusedNothingToDo   = "nothing_to_do"  // no visitor to act on, or the key's action was done already
	RefusedTooOld        = "too_old"        // the press reached queued more than a minute after it was made
)

// stateOf is w's state now; q.mu is held.
func (q *Queue) stateOf(w *window) windowState {
	q.stateSeq++
	st := proto.WindowState{Window: w.cfg.Number, Since: w.since, Key: w.key, Refused: w.refused}
	switch w.state {
	case WindowClosed:
		st.State = proto.WindowClosed
	case WindowPaused:
		st.State, st.Reason = proto.WindowPaused, w.reason
	default:
		st.State = proto.WindowIdle
		if w.freed.After(st.Since) {
			st.Since = w.freed
		}
	}
	if !q.stale() {
		st.Waiting = q.lines.waitingFor(w)
		if t := w.current; t != nil {
			st.Ticket, st.Service = t.Number, t.Service
			if w.state == WindowOpen {
				st.State = proto.WindowCalling
				if t.CalledAt != nil {
					st.Since = *t.CalledAt
				}
				if t.State == proto.StateServing {
					st.State = proto.WindowServing
					if t.CameAt != nil {
						st.Since = *t.CameAt
					}
				}
			}
		}
		if t := q.finishedAt(w); t != nil {
			st.Finished, st.FinishedAt = t.Number, w.lastDoneAt
		}
	}
	for _, at := range []*time.Time{&st.Since, &st.FinishedAt} {
		if !at.IsZero() {
			*at = at.In(q.o.loc)
		}
	}
	return windowState{q.stateSeq, st}
}

// finishedAt is the ticket of today last finished at w, nil if none: the
// one its rating panel rates.
func (q *Queue) finishedAt(w *window) *ticket {
	if w.lastDone == "" || q.dayOf(w.lastDoneAt) != q.day {
		return nil
	}
	return q.tickets[w.lastDone]
}

// takeStates records, at the end of a change, the states of the windows it
// acted on; q.mu is held.
func (q *Queue) takeStates(wk *work) {
	for n := range wk.windows {
		if w := q.windows[n]; w != nil {
			wk.states = append(wk.states, q.stateOf(w))
		}
	}
}

// statesOf is the states of the windows of nums that are configured.
func (q *Queue) statesOf(nums []int) []windowState {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []windowState
	for _, n := range nums {
		if w := q.windows[n]; w != nil {
			out = append(out, q.stateOf(w))
		}
	}
	return out
}

// WindowState is window n's state as its terminals are sent it.
func (q *Queue) WindowState(n int) (proto.WindowState, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	w := q.windows[n]
	if w == nil {
		return proto.WindowState{}, fmt.Errorf("%w: %d", ErrUnknownWindow, n)
	}
	return q.stateOf(w).WindowState, nil
}

// takeWaiting takes the marks of the lines changed since it last ran and
// returns the states of the windows that call those lines for which want
// is true (the ones with a terminal). It costs the windows of the changed
// groups, however many tickets changed them.
func (q *Queue) takeWaiting(want func(n int) bool) []windowState {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []windowState
	add := func(w *window, seen map[int]bool) {
		if n := w.cfg.Number; !seen[n] && want(n) {
			seen[n] = true
			out = append(out, q.stateOf(w))
		}
	}
	seen := map[int]bool{}
	if q.changes.waitAll {
		for _, w := range q.winOrder {
			add(w, seen)
		}
	} else {
		for g := range q.lines.dirtyGroups {
			for _, w := range q.groupWindows[g] {
				add(w, seen)
			}
		}
		for n := range q.lines.dirtyWindows {
			if w := q.windows[n]; w != nil {
				add(w, seen)
			}
		}
	}
	q.changes.waitAll = false
	clear(q.lines.dirtyGroups)
	clear(q.lines.dirtyWindows)
	return out
}
