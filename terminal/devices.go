package terminal

import (
	"context"
	"errors"
	"time"

	"github.com/cherga/kiosk/devices"
	"github.com/cherga/kiosk/display/announce"
	"github.com/cherga/kiosk/printer"
)

// missing stands in for a device this build has no driver for, or that
// failed to open: the terminal still runs, and /healthz says what is wrong.
type missing struct {
	st devices.Status
}

func newMissing(name, kind, driver string, err error, since time.Time) *missing {
	return &missing{st: devices.Status{Name: name, Kind: kind, Driver: driver, State: devices.Fault,
		Detail: err.Error(), Since: since}}
}

func (m *missing) Status() devices.Status { return m.st }
func (m *missing) err() error             { return errors.New(m.st.Detail) }

func (m *missing) Print(context.Context, *printer.Ticket) error { return m.err() }
func (m *missing) Play(context.Context, *announce.Clip) error   { return m.err() }
func (m *missing) Scans() <-chan devices.Scan                   { return nil }

var errLaterRelease = errors.New("this kioskd build has no driver for it yet; see the hardware table in README.md")
