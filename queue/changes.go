package queue

import "sort"

// What changed, for the pages that show windows and queues and for the
// queue-length pushes to terminals. Changes mark it while they run; after
// each commit the committer signals Notify, and whoever shows things takes
// the set with Changes. Whatever changes while a broadcast is under way is
// gathered into the next one: pushes are coalesced under load, and a lone
// change goes out at once.

type changeSet struct {
	windows map[int]bool
	queues  bool
	// waitAll: every window's waiting count may have changed (a new day,
	// a new configuration); kept until the waiting counts are next sent
	// (takeWaiting), unlike the rest.
	waitAll bool
}

// Changed is what changed since the last call of Changes.
type Changed struct {
	Windows []int `json:"windows,omitempty"`
	Queues  bool  `json:"queues,omitempty"`
	// waiting: windows' waiting counts may have changed; they are sent to
	// the window terminals coalesced (windowstate.go).
	waiting bool
}

// touchWindow marks window n as changed by the change wk (nil: by no
// change, as at a reload): the pages learn it from Changes, and the
// window's terminals get its state with the change's effects.
func (q *Queue) touchWindow(wk *work, n int) {
	if q.changes.windows == nil {
		q.changes.windows = map[int]bool{}
	}
	q.changes.windows[n] = true
	if wk != nil {
		if wk.windows == nil {
			wk.windows = map[int]bool{}
		}
		wk.windows[n] = true
	}
}

func (q *Queue) touchQueues() { q.changes.queues = true }

// signal tells the watcher that something was committed.
func (q *Queue) signal() {
	select {
	case q.notify <- struct{}{}:
	default:
	}
}

// Notify receives a value after a commit that changed windows or queues.
// There is one receiver: the server's broadcaster.
func (q *Queue) Notify() <-chan struct{} { return q.notify }

// Changes takes what changed since the last call.
func (q *Queue) Changes() Changed {
	q.mu.Lock()
	defer q.mu.Unlock()
	var c Changed
	for n := range q.changes.windows {
		c.Windows = append(c.Windows, n)
	}
	sort.Ints(c.Windows)
	c.Queues = q.changes.queues
	c.waiting = q.changes.waitAll || q.lines.dirty()
	q.changes.windows, q.changes.queues = nil, false
	return c
}
