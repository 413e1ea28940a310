package queue

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/cherga/kiosk/link/proto"
)

// One broadcaster goroutine turns "something was committed" into what
// each audience needs: the queue lengths for kiosks and halls, "window 3
// changed" for the operators' and supervisors' pages, the public status
// for the city website and visitors' phones. Whatever is committed while a
// broadcast is under way goes into the next one, so a busy office sends a
// few broadcasts a second however many changes it makes, and a quiet one
// sends each change at once. Windows' waiting counts, which every ticket
// issued changes, go to the window terminals at most once a second
// (waitingEvery, on the office's clock): at once after a quiet second, else
// when the second is up.

// streamBuffer is how many broadcasts a page's stream may fall behind
// before it is dropped (it reconnects and reads afresh).
const streamBuffer = 16

type watcher struct {
	ch chan []byte
}

type watchers struct {
	mu      sync.Mutex
	staff   map[*watcher]bool // /api/v1/stream: Changed
	public  map[*watcher]bool // /api/v1/public/stream: the public status
	dropped int
}

func newWatchers() *watchers {
	return &watchers{staff: map[*watcher]bool{}, public: map[*watcher]bool{}}
}

func (ws *watchers) add(public bool) *watcher {
	w := &watcher{ch: make(chan []byte, streamBuffer)}
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if public {
		ws.public[w] = true
	} else {
		ws.staff[w] = true
	}
	return w
}

func (ws *watchers) remove(w *watcher) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	delete(ws.staff, w)
	delete(ws.public, w)
}

func (ws *watchers) counts() (staff, public int) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	return len(ws.staff), len(ws.public)
}

// send gives b to every watcher of the set; one too far behind is closed.
func (ws *watchers) send(set map[*watcher]bool, b []byte) {
	for w := range set {
		select {
		case w.ch <- b:
		default:
			delete(set, w)
			close(w.ch)
			ws.dropped++
		}
	}
}

// waitingEvery is how often at most the windows' waiting counts are sent.
const waitingEvery = time.Second

func (s *Server) broadcast() {
	defer close(s.stopped)
	var (
		timer       clockwork.Timer
		due         <-chan time.Time // the next waiting counts, when armed
		lastWaiting time.Time
	)
	for {
		select {
		case <-s.q.Notify():
		case <-due:
			timer, due = nil, nil
			lastWaiting = s.q.clock.Now()
			s.sendWaiting()
			continue
		case <-s.stop:
			if timer != nil {
				timer.Stop()
			}
			return
		}
		c := s.q.Changes()
		if c.waiting && due == nil {
			if now, next := s.q.clock.Now(), lastWaiting.Add(waitingEvery); now.Before(next) {
				timer = s.q.clock.NewTimer(next.Sub(now))
				due = timer.Chan()
			} else {
				lastWaiting = now
				s.sendWaiting()
			}
		}
		if len(c.Windows) == 0 && !c.Queues {
			continue
		}
		if c.Queues && s.takeQueues() {
			if b, err := proto.Encode(&proto.Message{Type: proto.TypeQueues, Queues: s.q.Lengths()}); err == nil {
				s.toQueueTerminals(b)
			}
		}
		staff, public := s.watchers.counts()
		if staff > 0 {
			b, _ := json.Marshal(c)
			s.watchers.mu.Lock()
			s.watchers.send(s.watchers.staff, sse("change", b))
			s.watchers.mu.Unlock()
		}
		if public > 0 && c.Queues {
			b, _ := json.Marshal(s.publicStatus())
			s.watchers.mu.Lock()
			s.watchers.send(s.watchers.public, sse("status", b))
			s.watchers.mu.Unlock()
		}
	}
}

// sendWaiting sends the states of the windows whose waiting counts may
// have changed to their terminals.
func (s *Server) sendWaiting() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sendStates(s.q.takeWaiting(func(n int) bool { return len(s.byWindow[n]) > 0 }), nil)
}

func sse(event string, data []byte) []byte {
	return fmt.Appendf(nil, "event: %s\ndata: %s\n\n", event, data)
}

// handleStream is the operators' and supervisors' live feed: an event
// "change" with what changed, after which the page reads what it shows.
func (s *Server) handleStream(w http.ResponseWriter, r *http.Request) {
	s.stream(w, r, s.watchers, false, nil)
}

// handlePublicStream is the public status, again at every change.
func (s *Server) handlePublicStream(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	b, _ := json.Marshal(s.publicStatus())
	s.stream(w, r, s.watchers, true, sse("status", b))
}

// stream serves one page's event stream from the set ws (public: its
// public watchers), first before anything else.
func (s *Server) stream(w http.ResponseWriter, r *http.Request, ws *watchers, public bool, first []byte) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		writeError(w, http.StatusInternalServerError, "internal", "streaming is not possible on this connection")
		return
	}
	// A stream outlives the server's read and write timeouts; lift them
	// for this one.
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{})
	_ = rc.SetReadDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // a proxy in front must not hold it back
	w.WriteHeader(http.StatusOK)
	wt := ws.add(public)
	defer ws.remove(wt)
	_, _ = fmt.Fprint(w, "retry: 3000\n\n")
	if first != nil {
		_, _ = w.Write(first)
	}
	flusher.Flush()
	keepalive := time.NewTicker(25 * time.Second)
	defer keepalive.Stop()
	for {
		select {
		case b, ok := <-wt.ch:
			if !ok {
				return // too far behind: the page reconnects and reads afresh
			}
			if _, err := w.Write(b); err != nil {
				return
			}
			flusher.Flush()
		case <-keepalive.C:
			if _, err := fmt.Fprint(w, ": keepalive\n\n"); err != nil {
				return
			}
			flusher.Flush()
		case <-r.Context().Done():
			return
		case <-s.stop:
			return
		}
	}
}

// PublicStatus is the office's queue as anyone may see it: no ticket
// numbers, no names.
type PublicStatus struct {
	Office      proto.Office  `json:"office"`
	At          time.Time     `json:"at"`
	OpenWindows int           `json:"open_windows"`
	Groups      []PublicGroup `json:"groups"`
}

// PublicGroup is one service group in the public status.
type PublicGroup struct {
	Group       string     `json:"group"`
	Name        proto.Text `json:"name"`
	Prefix      string     `json:"prefix"`
	Waiting     int        `json:"waiting"`
	WaitMin     int        `json:"wait_min"`
	WindowsOpen int        `json:"windows_open"`
}

func (s *Server) publicStatus() PublicStatus {
	q := s.q
	q.mu.Lock()
	defer q.mu.Unlock()
	st := PublicStatus{Office: q.o.info(), At: q.now().In(q.o.loc), Groups: []PublicGroup{}}
	st.Office.TrackingURL = ""
	for _, w := range q.winOrder {
		if w.state == WindowOpen {
			st.OpenWindows++
		}
	}
	var lengths []proto.QueueLen
	if !q.stale() {
		lengths = q.lengthsLocked()
	}
	for i, g := range q.o.cfg.Groups {
		pg := PublicGroup{Group: g.ID, Name: proto.Text(g.Name), Prefix: g.Prefix}
		if i < len(lengths) {
			pg.Waiting, pg.WaitMin, pg.WindowsOpen = lengths[i].Waiting, lengths[i].WaitMin, lengths[i].WindowsOpen
		}
		st.Groups = append(st.Groups, pg)
	}
	return st
}

func (s *Server) handlePublicStatus(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Header().Set("Cache-Control", "no-cache")
	writeJSON(w, http.StatusOK, s.publicStatus())
}

// takeQueues reports whether a connected terminal takes queue lengths.
func (s *Server) takeQueues() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queueTerms) > 0
}

// toQueueTerminals sends the queue lengths b to the terminals that take
// them.
func (s *Server) toQueueTerminals(b []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for t := range s.queueTerms {
		if !t.enqueue(b) {
			s.tooSlow(t)
		}
	}
}
