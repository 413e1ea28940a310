package queue

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/cherga/kiosk/configs"
	"github.com/cherga/kiosk/link/proto"
	"github.com/cherga/kiosk/queue/record"
)

// A window is closed (nobody signed in), open, or paused for a reason.
// Only open windows count in wait estimates. A window nobody signed in to
// that a program calls through the API opens itself; its keypad does
// nothing there (events.go: the operator signs in first, so every call is
// somebody's in the statistics).
const (
	WindowClosed = "closed"
	WindowOpen   = "open"
	WindowPaused = "paused"
)

// Errors of the windows' actions.
var (
	ErrWindowPaused   = errors.New("queue: the window is paused; resume it first")
	ErrWindowTaken    = errors.New("queue: another operator is signed in to this window")
	ErrNotCome        = errors.New("queue: the visitor has not come yet")
	ErrTooEarly       = errors.New("queue: call the visitor again before marking a no-show")
	ErrBadReason      = errors.New("queue: not one of the office's pause reasons")
	ErrBadTransfer    = errors.New("queue: transfer needs another service or window")
	ErrBadPriority    = errors.New("queue: not one of the office's priorities")
	ErrPriorityOff    = errors.New("queue: this office has no priorities staff may give (priorities: in its configuration)")
	ErrNotWaiting     = errors.New("queue: the ticket is not waiting")
	ErrAlreadyServing = errors.New("queue: the visitor is already being served")
)

// window is one window's state in memory.
type window struct {
	cfg    configs.OfficeWindow
	serves []string    // group ids it calls
	kind   *windowKind // the windows serving the same groups, for estimates

	// state changes through Queue.setWindowState only (the kinds count
	// their open windows).
	state        string
	since        time.Time
	operator     string // account name
	operatorName string
	reason       string
	current      *ticket // called or being served
	// lastDone is the ticket last finished here (its storage key), so a
	// visitor's rating from the window's panel is tied to it.
	lastDone   string
	lastDoneAt time.Time
	// freed is when the window last let its visitor go (finished, no-show,
	// transferred): since when it is idle.
	freed time.Time
	// key is the last keypad key pressed here and refused why it did
	// nothing ("" when it did what it says); memory only.
	key, refused string
}

// windowRecord is a window's state as stored (its visitor is found from
// the tickets).
type windowRecord struct {
	State        string    `json:"state"`
	Since        time.Time `json:"since"`
	Operator     string    `json:"operator,omitempty"`
	OperatorName string    `json:"operator_name,omitempty"`
	Reason       string    `json:"reason,omitempty"`
	LastDone     string    `json:"last_done,omitempty"`
	LastDoneAt   time.Time `json:"last_done_at,omitzero"`
	Freed        time.Time `json:"freed,omitzero"`
}

func (w *window) servesGroup(group string) bool {
	for _, g := range w.serves {
		if g == group {
			return true
		}
	}
	return false
}

func servesGroup(w configs.OfficeWindow, group string) bool {
	if len(w.Serves) == 0 {
		return true
	}
	for _, g := range w.Serves {
		if g == group {
			return true
		}
	}
	return false
}

// configureWindows makes the windows match the configuration, keeping the
// state of the ones that stay.
func (q *Queue) configureWindows() {
	old := q.windows
	q.windows = map[int]*window{}
	q.winOrder = nil
	q.groupWindows = map[string][]*window{}
	q.changes.waitAll = true // what each window may call is new
	for _, c := range q.o.cfg.Windows {
		w := old[c.Number]
		if w == nil {
			w = &window{state: WindowClosed}
		}
		w.cfg = c
		w.serves = nil
		for _, g := range q.o.cfg.Groups {
			if servesGroup(c, g.ID) {
				w.serves = append(w.serves, g.ID)
				q.groupWindows[g.ID] = append(q.groupWindows[g.ID], w)
			}
		}
		q.windows[c.Number] = w
		q.winOrder = append(q.winOrder, w)
	}
	sort.Slice(q.winOrder, func(i, j int) bool { return q.winOrder[i].cfg.Number < q.winOrder[j].cfg.Number })
	q.lines.shareWindows(q.winOrder)
}

// loadWindows reads the windows' states (their visitors come with the
// tickets).
func (q *Queue) loadWindows(tx *bolt.Tx) {
	q.windows = nil
	q.configureWindows()
	b := tx.Bucket(bucketWindows)
	if b == nil {
		return
	}
	for _, w := range q.winOrder {
		v := b.Get([]byte(strconv.Itoa(w.cfg.Number)))
		var r windowRecord
		if v == nil || json.Unmarshal(v, &r) != nil {
			continue
		}
		q.setWindowState(w, r.State)
		w.since, w.operator, w.operatorName, w.reason = r.Since, r.Operator, r.OperatorName, r.Reason
		w.lastDone, w.lastDoneAt, w.freed = r.LastDone, r.LastDoneAt, r.Freed
	}
}

func (q *Queue) saveWindow(tx *bolt.Tx, wk *work, w *window) error {
	q.touchWindow(wk, w.cfg.Number)
	return putJSON(tx.Bucket(bucketWindows), []byte(strconv.Itoa(w.cfg.Number)), windowRecord{
		State: w.state, Since: w.since, Operator: w.operator, OperatorName: w.operatorName, Reason: w.reason,
		LastDone: w.lastDone, LastDoneAt: w.lastDoneAt, Freed: w.freed,
	})
}

// Actor is who asks for a window's action: the terminal or page it came
// from, and the signed-in account when there is one.
type Actor struct {
	Terminal string // device id, "api" or "operator"
	Operator string // account name, for sign-in
	Name     string // display name, for sign-in
}

// windowFor finds window n for a change, rolling the day first.
func (q *Queue) windowFor(tx *bolt.Tx, n int) (*window, error) {
	if err := q.rollDay(tx); err != nil {
		return nil, err
	}
	w := q.windows[n]
	if w == nil {
		return nil, refuse(fmt.Errorf("%w: %d", ErrUnknownWindow, n))
	}
	return w, nil
}

// event is a ticket event at window w.
func (q *Queue) event(typ string, w *window, t *ticket, by Actor) record.Event {
	e := record.Event{Type: typ, Window: w.cfg.Number, Operator: w.operator, Terminal: by.Terminal}
	if t != nil {
		e.Ticket, e.Service, e.Group = t.Number, t.Service, t.Group
	}
	return e
}

// open makes a window that calls open, if nobody opened it.
func (q *Queue) open(tx *bolt.Tx, wk *work, w *window, by Actor) error {
	if w.state != WindowClosed {
		return nil
	}
	q.setWindowState(w, WindowOpen)
	w.since, w.reason = q.now(), ""
	if err := q.logWindow(tx, q.event(record.Resumed, w, nil, by)); err != nil {
		return err
	}
	return q.saveWindow(tx, wk, w)
}

// Result is the outcome of a window's action.
type Result struct {
	Ticket   proto.Ticket // the ticket it concerns (the one called, for next)
	Repeated bool         // a repeated request: nothing was done
	Effects  Effects
}

// Next finishes the visitor at window and calls the longest-waiting ticket
// the window serves.
func (q *Queue) Next(window int) (proto.Ticket, Effects, error) {
	r, err := q.NextAs(window, nil, by0)
	return r.Ticket, r.Effects, err
}

var by0 = Actor{Terminal: "api"}

// NextAs is Next for an actor. current, when given, is the ticket the
// asker saw at the window ("" for nobody): if the window's visitor is no
// longer that one (a second click of the same button, a second tab),
// nothing is done and the window's ticket is answered as repeated.
func (q *Queue) NextAs(window int, current *string, by Actor) (Result, error) {
	var r Result
	w, err := q.update(false, func(tx *bolt.Tx, wk *work) error {
		var err error
		r, err = q.nextTx(tx, wk, window, current, by)
		return err
	})
	r.Effects = w.effects()
	return r, err
}

func (q *Queue) nextTx(tx *bolt.Tx, wk *work, n int, current *string, by Actor) (Result, error) {
	w, err := q.windowFor(tx, n)
	if err != nil {
		return Result{}, err
	}
	if w.state == WindowPaused {
		return Result{}, refuse(fmt.Errorf("%w: window %d", ErrWindowPaused, n))
	}
	if current != nil {
		shown := ""
		if w.current != nil {
			shown = w.current.Number
		}
		if shown != *current {
			if w.current == nil {
				return Result{Repeated: true}, refuse(fmt.Errorf("%w: window %d", ErrQueueEmpty, n))
			}
			return Result{Ticket: w.current.Ticket, Repeated: true}, nil
		}
	}
	if err := q.open(tx, wk, w, by); err != nil {
		return Result{}, err
	}
	if w.current != nil {
		typ := record.Finished
		if w.current.State == proto.StateCalled && q.o.cfg.NoShowAfter > 0 && w.current.Recalls >= q.o.cfg.NoShowAfter {
			typ = record.NoShow // called again and again, and "next": nobody came
		}
		if err := q.leave(tx, wk, w, typ, by); err != nil {
			return Result{}, err
		}
	}
	next := q.lines.next(w)
	if next == nil {
		return Result{}, refuse(fmt.Errorf("%w: window %d", ErrQueueEmpty, n))
	}
	if err := q.callTx(tx, wk, w, next, by); err != nil {
		return Result{}, err
	}
	return Result{Ticket: next.Ticket}, nil
}

// callTx calls t to window w.
func (q *Queue) callTx(tx *bolt.Tx, wk *work, w *window, t *ticket, by Actor) error {
	q.lines.drop(t)
	at := q.now().In(q.o.loc)
	t.State, t.Window, t.CalledAt, t.CameAt, t.FinishedAt, t.Recalls = proto.StateCalled, w.cfg.Number, &at, nil, nil, 0
	t.Operator, t.ForWindow = w.operator, 0
	w.current = t
	q.touchWindow(wk, w.cfg.Number)
	q.touchQueues()
	if err := q.saveTicket(tx, wk, t); err != nil {
		return err
	}
	if err := q.logTicket(tx, t, q.event(record.Called, w, t, by)); err != nil {
		return err
	}
	return q.call(tx, wk, t, proto.TypeCall)
}

// leave ends the window's visitor: finished, no-show; the window then has
// nobody.
func (q *Queue) leave(tx *bolt.Tx, wk *work, w *window, typ string, by Actor) error {
	t := w.current
	at := q.now().In(q.o.loc)
	e := q.event(typ, w, t, by)
	switch typ {
	case record.Finished:
		t.State = proto.StateDone
		if start := serviceStart(t); start != nil {
			q.served(t, *start, at)
		}
		w.lastDone, w.lastDoneAt = t.key, at
	case record.NoShow:
		t.State = proto.StateNoShow
		if err := q.withdrawCall(tx, wk, w, t); err != nil {
			return err
		}
	}
	t.FinishedAt = &at
	w.current, w.freed = nil, at
	if err := q.saveTicket(tx, wk, t); err != nil {
		return err
	}
	if err := q.logTicket(tx, t, e); err != nil {
		return err
	}
	return q.saveWindow(tx, wk, w)
}

// withdrawCall takes t's call at w off the displays.
func (q *Queue) withdrawCall(tx *bolt.Tx, wk *work, w *window, t *ticket) error {
	var callID string
	for _, c := range q.recent {
		if c.Ticket == t.Number && c.Window == w.cfg.Number {
			callID = c.ID
		}
	}
	if callID == "" {
		return nil // long gone from the displays
	}
	return q.push(tx, wk, &proto.Message{Type: proto.TypeCancel, ID: "cancel/" + callID,
		Cancel: &proto.Cancel{Call: callID, Ticket: t.Number, Window: w.cfg.Number}})
}

// Recall calls the window's current ticket again.
func (q *Queue) Recall(window int) (proto.Ticket, Effects, error) {
	r, err := q.Act(window, ActRecall, Actor{Terminal: "api"})
	return r.Ticket, r.Effects, err
}

// Cancel marks the window's visitor as not come (the old name of no-show,
// which it is regardless of recalls).
func (q *Queue) Cancel(window int) (proto.Ticket, Effects, error) {
	r, err := q.Act(window, actCancel, Actor{Terminal: "api"})
	return r.Ticket, r.Effects, err
}

// Window actions for Act.
const (
	ActRecall  = "recall"
	ActCame    = "came"
	ActFinish  = "finish"
	ActNoShow  = "no-show"
	ActResume  = "resume"
	ActSignOut = "sign-out"
	actCancel  = "cancel"
)

// Act does one of the window's actions that need nothing more than who
// asks: recall, came, finish, no-show, resume, sign-out.
func (q *Queue) Act(window int, action string, by Actor) (Result, error) {
	var r Result
	w, err := q.update(false, func(tx *bolt.Tx, wk *work) error {
		var err error
		r, err = q.actTx(tx, wk, window, action, by)
		return err
	})
	r.Effects = w.effects()
	return r, err
}

func (q *Queue) actTx(tx *bolt.Tx, wk *work, n int, action string, by Actor) (Result, error) {
	w, err := q.windowFor(tx, n)
	if err != nil {
		return Result{}, err
	}
	t := w.current
	needVisitor := func() error {
		if t == nil {
			return refuse(fmt.Errorf("%w: window %d", ErrNothingToCall, n))
		}
		return nil
	}
	switch action {
	case ActRecall:
		if err := needVisitor(); err != nil {
			return Result{}, err
		}
		t.Recalls++
		if err := q.saveTicket(tx, wk, t); err != nil {
			return Result{}, err
		}
		if err := q.logTicket(tx, t, q.event(record.Recalled, w, t, by)); err != nil {
			return Result{}, err
		}
		q.touchWindow(wk, n)
		return Result{Ticket: t.Ticket}, q.call(tx, wk, t, proto.TypeRecall)
	case ActCame:
		if err := needVisitor(); err != nil {
			return Result{}, err
		}
		if t.State == proto.StateServing {
			return Result{Ticket: t.Ticket, Repeated: true}, nil
		}
		at := q.now().In(q.o.loc)
		t.State, t.CameAt = proto.StateServing, &at
		q.touchWindow(wk, n)
		if err := q.saveTicket(tx, wk, t); err != nil {
			return Result{}, err
		}
		return Result{Ticket: t.Ticket}, q.logTicket(tx, t, q.event(record.Came, w, t, by))
	case ActFinish:
		if err := needVisitor(); err != nil {
			return Result{}, err
		}
		out := t.Ticket
		if err := q.leave(tx, wk, w, record.Finished, by); err != nil {
			return Result{}, err
		}
		return Result{Ticket: withState(out, t)}, nil
	case ActNoShow, actCancel:
		if err := needVisitor(); err != nil {
			return Result{}, err
		}
		if t.State == proto.StateServing {
			return Result{}, refuse(fmt.Errorf("%w: ticket %s came at %s", ErrAlreadyServing, t.Number, t.CameAt.Format("15:04")))
		}
		if action == ActNoShow && t.Recalls < q.o.cfg.NoShowAfter {
			return Result{}, refuse(fmt.Errorf("%w (%d of %d times so far)", ErrTooEarly, t.Recalls, q.o.cfg.NoShowAfter))
		}
		out := t.Ticket
		if err := q.leave(tx, wk, w, record.NoShow, by); err != nil {
			return Result{}, err
		}
		return Result{Ticket: withState(out, t)}, nil
	case ActResume:
		if w.state == WindowOpen {
			return Result{Repeated: true}, nil
		}
		q.setWindowState(w, WindowOpen)
		w.since, w.reason = q.now(), ""
		q.touchQueues()
		if err := q.logWindow(tx, q.event(record.Resumed, w, nil, by)); err != nil {
			return Result{}, err
		}
		return Result{}, q.saveWindow(tx, wk, w)
	case ActSignOut:
		return Result{}, q.signOutTx(tx, wk, w, by)
	}
	return Result{}, refuse(fmt.Errorf("queue: no window action %q", action))
}

// withState is out with t's state after it left.
func withState(out proto.Ticket, t *ticket) proto.Ticket {
	out.State, out.FinishedAt = t.State, t.FinishedAt
	return out
}

// finishIfAny finishes a visitor still at the window before it closes.
func (q *Queue) finishIfAny(tx *bolt.Tx, wk *work, w *window, by Actor) error {
	if w.current == nil {
		return nil
	}
	return q.leave(tx, wk, w, record.Finished, by)
}

func (q *Queue) signOutTx(tx *bolt.Tx, wk *work, w *window, by Actor) error {
	if err := q.finishIfAny(tx, wk, w, by); err != nil {
		return err
	}
	e := q.event(record.SignedOut, w, nil, by)
	q.setWindowState(w, WindowClosed)
	w.since, w.operator, w.operatorName, w.reason = q.now(), "", "", ""
	q.touchQueues()
	if err := q.logWindow(tx, e); err != nil {
		return err
	}
	return q.saveWindow(tx, wk, w)
}

// SignIn signs an operator in to window n: it opens. An operator holds one
// window: signing in to another signs out of the first. A window another
// operator holds is refused unless force (a supervisor taking it over).
func (q *Queue) SignIn(n int, by Actor, force bool) (Result, error) {
	var r Result
	wk, err := q.update(false, func(tx *bolt.Tx, wk *work) error {
		w, err := q.windowFor(tx, n)
		if err != nil {
			return err
		}
		if w.operator != "" && w.operator != by.Operator && !force {
			return refuse(fmt.Errorf("%w: %s (%s)", ErrWindowTaken, w.operatorName, w.operator))
		}
		for _, other := range q.winOrder {
			if other != w && other.operator == by.Operator {
				if err := q.signOutTx(tx, wk, other, by); err != nil {
					return err
				}
			}
		}
		if w.operator == by.Operator && w.state != WindowClosed {
			r.Repeated = true
			return nil
		}
		if w.operator != "" && w.operator != by.Operator {
			if err := q.signOutTx(tx, wk, w, by); err != nil {
				return err
			}
		}
		q.setWindowState(w, WindowOpen)
		w.since, w.operator, w.operatorName, w.reason = q.now(), by.Operator, by.Name, ""
		q.touchQueues()
		if err := q.logWindow(tx, q.event(record.SignedIn, w, nil, by)); err != nil {
			return err
		}
		return q.saveWindow(tx, wk, w)
	})
	r.Effects = wk.effects()
	return r, err
}

// Pause closes window n for a reason of the office's; a visitor still at
// it is finished first.
func (q *Queue) Pause(n int, reason string, by Actor) (Result, error) {
	var r Result
	wk, err := q.update(false, func(tx *bolt.Tx, wk *work) error {
		var err error
		r, err = q.pauseTx(tx, wk, n, reason, by)
		return err
	})
	r.Effects = wk.effects()
	return r, err
}

func (q *Queue) pauseTx(tx *bolt.Tx, wk *work, n int, reason string, by Actor) (Result, error) {
	w, err := q.windowFor(tx, n)
	if err != nil {
		return Result{}, err
	}
	if _, ok := q.o.reasons[reason]; !ok {
		return Result{}, refuse(fmt.Errorf("%w: %q, expected one of %s", ErrBadReason, reason, q.reasonIDs()))
	}
	if w.state == WindowPaused && w.reason == reason {
		return Result{Repeated: true}, nil
	}
	if err := q.finishIfAny(tx, wk, w, by); err != nil {
		return Result{}, err
	}
	q.setWindowState(w, WindowPaused)
	w.since, w.reason = q.now(), reason
	q.touchQueues()
	e := q.event(record.Paused, w, nil, by)
	e.Reason = reason
	if err := q.logWindow(tx, e); err != nil {
		return Result{}, err
	}
	return Result{}, q.saveWindow(tx, wk, w)
}

func (q *Queue) reasonIDs() string {
	s := ""
	for i, r := range q.o.cfg.PauseReasons {
		if i > 0 {
			s += ", "
		}
		s += r.ID
	}
	return s
}

// Transfer sends the window's visitor on to another service, another
// window, or both: the ticket waits again with its original issue time,
// so it is not sent to the back of the line.
func (q *Queue) Transfer(n int, service string, toWindow int, by Actor) (Result, error) {
	var r Result
	wk, err := q.update(false, func(tx *bolt.Tx, wk *work) error {
		var err error
		r, err = q.transferTx(tx, wk, n, service, toWindow, false, by)
		return err
	})
	r.Effects = wk.effects()
	return r, err
}

// transferTx is Transfer; back (with no service and no window) sends the
// visitor back to the line of the service they waited for, any window
// serving it, as a keypad's transfer key without a window does: keeping
// its issue time, the ticket is at the front again (behind only tickets
// with a higher priority or an earlier issue time), and the next window
// free takes it.
func (q *Queue) transferTx(tx *bolt.Tx, wk *work, n int, service string, toWindow int, back bool, by Actor) (Result, error) {
	var r Result
	err := func() error {
		w, err := q.windowFor(tx, n)
		if err != nil {
			return err
		}
		t := w.current
		if t == nil {
			return refuse(fmt.Errorf("%w: window %d", ErrNothingToCall, n))
		}
		if back && (service != "" || toWindow != 0) {
			return refuse(ErrBadTransfer)
		}
		if !back && (service == "" && toWindow == 0 || (service == t.Service && toWindow == 0)) || toWindow == n && service == "" {
			return refuse(ErrBadTransfer)
		}
		g, ok := q.groupOf(cmpOr(service, t.Service))
		if !ok {
			return refuse(fmt.Errorf("%w %q", ErrUnknownService, service))
		}
		if toWindow != 0 && q.windows[toWindow] == nil {
			return refuse(fmt.Errorf("%w: %d", ErrUnknownWindow, toWindow))
		}
		at := q.now().In(q.o.loc)
		e := q.event(record.Transferred, w, t, by)
		e.ToService, e.ToWindow = service, toWindow
		if service == t.Service {
			e.ToService = ""
		}
		if g.ID != t.Group {
			e.ToGroup = g.ID
		}
		if start := serviceStart(t); start != nil {
			q.served(t, *start, at)
		}
		t.State, t.Service, t.Group, t.ForWindow = proto.StateWaiting, cmpOr(service, t.Service), g.ID, toWindow
		t.Window, t.CalledAt, t.CameAt, t.FinishedAt, t.Recalls, t.Operator = 0, nil, nil, nil, 0, ""
		w.current, w.freed = nil, at
		q.join(t)
		q.touchQueues()
		if toWindow != 0 {
			q.touchWindow(wk, toWindow)
		}
		if err := q.saveTicket(tx, wk, t); err != nil {
			return err
		}
		if err := q.logTicket(tx, t, e); err != nil {
			return err
		}
		r.Ticket = t.Ticket
		return q.saveWindow(tx, wk, w)
	}()
	return r, err
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// SetPriority gives a waiting ticket of today one of the office's
// priorities ("" takes it away); it moves in the lines accordingly.
func (q *Queue) SetPriority(date, number, priority string, by Actor) (proto.Ticket, Effects, error) {
	var out proto.Ticket
	wk, err := q.update(false, func(tx *bolt.Tx, wk *work) error {
		if err := q.rollDay(tx); err != nil {
			return err
		}
		if len(q.o.priorities) == 0 {
			return refuse(ErrPriorityOff)
		}
		level := 0
		if priority != "" {
			p, ok := q.o.priorities[priority]
			if !ok {
				return refuse(fmt.Errorf("%w: %q", ErrBadPriority, priority))
			}
			level = p.Level
		}
		t := q.tickets[number]
		if date != q.day || t == nil {
			return refuse(fmt.Errorf("%w: %s %s", ErrNoTicket, date, number))
		}
		if t.State != proto.StateWaiting {
			return refuse(fmt.Errorf("%w: %s is %s", ErrNotWaiting, number, t.State))
		}
		q.lines.drop(t)
		t.Priority = level
		q.join(t)
		q.touchQueues()
		if err := q.saveTicket(tx, wk, t); err != nil {
			return err
		}
		e := record.Event{Type: record.Prioritized, Ticket: t.Number, Service: t.Service, Group: t.Group,
			Priority: level, Terminal: by.Terminal, Operator: by.Operator, Reason: priority}
		out = t.Ticket
		return q.logTicket(tx, t, e)
	})
	return out, wk.effects(), err
}

// WindowView is a window's state for pages and programs.
type WindowView struct {
	Window       int           `json:"window"`
	State        string        `json:"state"`
	Since        time.Time     `json:"since,omitzero"`
	Operator     string        `json:"operator,omitempty"`
	OperatorName string        `json:"operator_name,omitempty"`
	Reason       string        `json:"reason,omitempty"`
	Serves       []string      `json:"serves"`
	Waiting      int           `json:"waiting"`
	Ticket       *proto.Ticket `json:"ticket,omitempty"`
}

func (q *Queue) viewOf(w *window) WindowView {
	v := WindowView{Window: w.cfg.Number, State: w.state, Since: w.since, Operator: w.operator,
		OperatorName: w.operatorName, Reason: w.reason, Serves: w.serves}
	if q.stale() {
		return v
	}
	v.Waiting = q.lines.waitingFor(w)
	if w.current != nil {
		t := w.current.Ticket
		v.Ticket = &t
	}
	return v
}

// Windows lists every window's state, in number order.
func (q *Queue) Windows() []WindowView {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := make([]WindowView, 0, len(q.winOrder))
	for _, w := range q.winOrder {
		out = append(out, q.viewOf(w))
	}
	return out
}

// Window is one window's state.
func (q *Queue) Window(n int) (WindowView, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	w := q.windows[n]
	if w == nil {
		return WindowView{}, fmt.Errorf("%w: %d", ErrUnknownWindow, n)
	}
	return q.viewOf(w), nil
}

// Waiting is a ticket in a window's queue.
type Waiting struct {
	Number   string    `json:"number"`
	Service  string    `json:"service"`
	Group    string    `json:"group"`
	IssuedAt time.Time `json:"issued_at"`
	WaitingS int       `json:"waiting_s"`
	Priority int       `json:"priority,omitempty"`
	Window   int       `json:"window,omitempty"` // transferred to this window only
	Booked   bool      `json:"booked,omitempty"`
}

// WindowQueue lists at most limit tickets window n may call, in the order
// it would call them, and how many it could call in all.
func (q *Queue) WindowQueue(n, limit int) ([]Waiting, int, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	w := q.windows[n]
	if w == nil {
		return nil, 0, fmt.Errorf("%w: %d", ErrUnknownWindow, n)
	}
	out := []Waiting{}
	if q.stale() {
		return out, 0, nil
	}
	now := q.now()
	for _, t := range q.lines.upcoming(w, limit) {
		out = append(out, Waiting{Number: t.Number, Service: t.Service, Group: t.Group, IssuedAt: t.IssuedAt,
			WaitingS: int(now.Sub(t.IssuedAt).Seconds()), Priority: t.Priority, Window: t.ForWindow, Booked: t.Booking != ""})
	}
	return out, q.lines.waitingFor(w), nil
}
