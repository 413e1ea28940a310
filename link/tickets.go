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

// Issued is a ticket a kiosk may now print: it is in the outbox.
type Issued struct {
	proto.Ticket
	Mode string // ModeOnline, ModeLease or ModeFallback
	Seq  uint64 // its event in the outbox
}

// IssueTicket gives a ticket for service and commits it to the outbox
// before returning, so the caller may print it. With the server reachable
// the server numbers it; otherwise (or if the server does not answer
// within ReserveTimeout) the kiosk numbers it from its leased blocks.
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
		seq, err := c.store.Append(&proto.Message{Type: proto.TypeTicketIssued, Ticket: &t})
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
	return c.issueOfflineWith(svc, group, slot, nil)
}

// issueOfflineWith numbers a ticket here; with, if not nil, runs in the
// same transaction once the ticket is numbered (and may refuse it).
func (c *Client) issueOfflineWith(svc proto.Service, group proto.Group, slot int, with func(*bolt.Tx, *proto.Ticket) error) (*Issued, error) {
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
	var mode string
	var seq uint64
	err := c.store.update(func(tx *bolt.Tx) error {
		var err error
		t.Number, mode, err = nextOffline(tx, day, group.Prefix, slot)
		if err != nil {
			return err
		}
		if with != nil {
			if err := with(tx, &t); err != nil {
				return err
			}
		}
		seq, err = c.store.appendTx(tx, &proto.Message{Type: proto.TypeTicketIssued, Ticket: &t})
		return err
	})
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.offline[group.ID]++
	c.mu.Unlock()
	if mode == ModeFallback {
		c.log.Warn("leased numbers used up: fallback series", "number", t.Number, "prefix", group.Prefix)
	}
	return &Issued{Ticket: t, Mode: mode, Seq: seq}, nil
}

// Numbering is how this kiosk would number a ticket now, for /healthz.
type Numbering struct {
	// Mode is online while the server numbers tickets; lease or fallback
	// says where the next offline ticket would come from.
	Mode   string      `json:"mode"`
	Day    string      `json:"day"`
	Leases []LeaseLeft `json:"leases"`
}

// Numbering reports the offline numbers left today.
func (c *Client) Numbering() Numbering {
	c.mu.Lock()
	day := c.clock.Now().In(c.loc).Format(time.DateOnly)
	up := c.sess != nil
	c.mu.Unlock()
	left, err := c.store.Numbers(day)
	if err != nil {
		c.log.Error("read leases", "err", err)
	}
	n := Numbering{Mode: ModeOnline, Day: day, Leases: left}
	if !up {
		n.Mode = ModeLease
		for _, l := range left {
			if l.Left == 0 {
				n.Mode = ModeFallback // at least one prefix is out of leased numbers
			}
		}
		if len(left) == 0 {
			n.Mode = ModeFallback
		}
	}
	return n
}
