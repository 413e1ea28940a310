package link

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/cherga/kiosk/link/proto"
)

// Issued is a ticket a kiosk may now print: it is in the outbox, with a
// hand-out record (handout.go) until the kiosk calls HandedOut.
type Issued struct {
	proto.Ticket
	Mode string // ModeOnline or ModeOffline
	Seq  uint64 // its event in the outbox
}

// IssueTicket gives a ticket for service and commits it to the outbox
// before returning, so the caller may print it. With the server reachable
// the server numbers it; otherwise (or if the server does not answer
// within ReserveTimeout) the kiosk numbers it from its own series
// ("П3-007"). The ticket is pending hand-out: the caller says HandedOut
// once it is printed or shown, and a ticket still pending when kioskd
// next starts is withdrawn (SettleUnhanded).
func (c *Client) IssueTicket(ctx context.Context, service string) (*Issued, error) {
	snap := c.Snapshot()
	if snap == nil {
		return nil, fmt.Errorf("%w: never reached, no catalogue", ErrOffline)
	}
	svc, ok := snap.Catalogue.Service(service)
	if !ok {
		return nil, &proto.Error{Code: proto.CodeUnknownService, Message: "no service " + service + " in the catalogue"}
	}
	group, _ := snap.Catalogue.Group(svc.Group)

	rctx, cancel := withTimeout(ctx, c.clock, c.cfg.ReserveTimeout)
	r, err := c.request(rctx, &proto.Message{Type: proto.TypeReserve, Reserve: &proto.Reserve{Service: service}})
	cancel()
	var perr *proto.Error
	switch {
	case err == nil && r.Type == proto.TypeReserved:
		t := *r.Ticket
		t.State, t.Offline, t.Device = proto.StateWaiting, false, c.cfg.Device
		var seq uint64
		err := c.store.update(func(tx *bolt.Tx) error {
			var err error
			if seq, err = c.store.appendTx(tx, &proto.Message{Type: proto.TypeTicketIssued, Ticket: &t}); err != nil {
				return err
			}
			return putHandout(tx, seq, &t, nil)
		})
		if err != nil {
			return nil, err
		}
		return &Issued{Ticket: t, Mode: ModeOnline, Seq: seq}, nil
	case errors.As(err, &perr) && perr.Code != proto.CodeInternal:
		return nil, err // the server refused the request itself
	case ctx.Err() != nil:
		return nil, ctx.Err()
	}
	if err == nil {
		c.log.Warn("server answered reserve with the wrong message; numbering offline", "type", r.Type)
	} else if !errors.Is(err, ErrOffline) {
		c.log.Warn("no ticket number from the server; numbering offline", "err", err)
	}
	return c.issueOffline(svc, group, snap.Slot)
}

func (c *Client) issueOffline(svc proto.Service, group proto.Group, slot int) (*Issued, error) {
	return c.issueOfflineWith(svc, group, slot, nil, nil)
}

// issueOfflineWith numbers a ticket here; with, if not nil, runs in the
// same transaction once the ticket is numbered (and may refuse it), and
// checkin names the check-in record it makes, if any.
func (c *Client) issueOfflineWith(svc proto.Service, group proto.Group, slot int, with func(*bolt.Tx, *proto.Ticket) error,
	checkin []byte) (*Issued, error) {
	now := c.clock.Now()
	c.mu.Lock()
	loc := c.loc
	ahead, perVisitor := 0, 0.0
	if c.snapshot != nil {
		for _, q := range c.snapshot.Queues {
			if q.Group == group.ID {
				ahead, perVisitor = q.Waiting, q.MinPerVisitor
			}
		}
	}
	ahead += c.offline[group.ID]
	c.mu.Unlock()
	now = now.In(loc) // printed in the office's time
	day := now.Format(time.DateOnly)
	t := proto.Ticket{
		Service: svc.ID, Group: group.ID, IssuedAt: now, TerminalAt: &now,
		Ahead: ahead, WaitMin: int(math.Ceil(float64(ahead) * perVisitor)),
		State: proto.StateWaiting, Offline: true, Device: c.cfg.Device,
	}
	var seq uint64
	err := c.store.update(func(tx *bolt.Tx) error {
		var err error
		t.Number, err = nextOffline(tx, day, group.Prefix, slot)
		if err != nil {
			return err
		}
		if with != nil {
			if err := with(tx, &t); err != nil {
				return err
			}
		}
		if seq, err = c.store.appendTx(tx, &proto.Message{Type: proto.TypeTicketIssued, Ticket: &t}); err != nil {
			return err
		}
		return putHandout(tx, seq, &t, checkin)
	})
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.offline[group.ID]++
	c.mu.Unlock()
	return &Issued{Ticket: t, Mode: ModeOffline, Seq: seq}, nil
}

// Numbering is how this kiosk would number a ticket now, for /healthz.
type Numbering struct {
	// Mode is online while the server numbers tickets, offline while this
	// kiosk numbers them from its own series.
	Mode string `json:"mode"`
	Day  string `json:"day"`
	// Series is, by prefix, the offline numbers given today and the next.
	Series []SeriesState `json:"series"`
}

// Numbering reports today's offline series.
func (c *Client) Numbering() Numbering {
	c.mu.Lock()
	day := c.clock.Now().In(c.loc).Format(time.DateOnly)
	up := c.sess != nil
	snap := c.snapshot
	c.mu.Unlock()
	n := Numbering{Mode: ModeOnline, Day: day, Series: []SeriesState{}}
	if !up {
		n.Mode = ModeOffline
	}
	if snap == nil {
		return n
	}
	var prefixes []string
	for _, g := range snap.Catalogue.Groups {
		prefixes = append(prefixes, g.Prefix)
	}
	series, err := c.store.Series(day, snap.Slot, prefixes)
	if err != nil {
		c.log.Error("read offline series", "err", err)
	}
	if series != nil {
		n.Series = series
	}
	return n
}
