package terminal

import (
	"context"
	"github.com/cherga/kiosk/httpapi"
)

// linkPart runs the link to queued: the reconnecting websocket that sends
// the outbox and brings the server's pushes, which the terminal fans out
// to the other parts. It is built first, so it stops last; the outbox
// itself is the terminal's and is closed after every part.
type linkPart struct{ t *Terminal }

func newLinkPart(b *build) (part, error) { return linkPart{b.Terminal}, nil }

func (linkPart) Name() string                    { return "link" }
func (linkPart) Register(httpapi.Routes)         {}
func (p linkPart) Run(ctx context.Context) error { return p.t.link.Run(ctx) }
func (linkPart) Close() error                    { return nil }
