package bus

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/cherga/kiosk/devices"
	"github.com/cherga/kiosk/firmware-bridge/modbus"
)

// Rating is a rating panel of ours (CHG-RP1, PROTOCOL.md section 8):
// five buttons, 1 (bad) to 5 (excellent). It makes an event only while
// invited by Prompt, and one per prompt.
type Rating struct {
	unit
	q eventQueue // guarded by unit.mu

	pmu        sync.Mutex
	until      time.Time // the prompt's end; zero: none
	promptGen  uint64
	promptDone uint64
}

// MaxPrompt is the longest invitation the panel takes.
const MaxPrompt = 600 * time.Second

func newRating(b *Bus, cfg DeviceConfig) *Rating {
	return &Rating{unit: newUnit(b, cfg, "rating"), q: eventQueue{journal: b.cfg.Journal}}
}

func (r *Rating) base() *unit { return &r.unit }

// Status is the panel's health.
func (r *Rating) Status() devices.Status { return r.deviceStatus() }

// Prompt invites a rating for d (1 s to 10 min; 0 ends an invitation),
// from the panel's next poll. A power cut meanwhile does not end it: the
// resync invites again for what is left.
func (r *Rating) Prompt(d time.Duration) {
	d = min(d, MaxPrompt)
	r.pmu.Lock()
	if d <= 0 {
		r.until = time.Time{}
	} else {
		r.until = r.b.clock.Now().Add(d)
	}
	r.promptGen++
	r.pmu.Unlock()
	r.b.poke()
}

// Prompting reports whether an invitation is open, as far as the host
// knows.
func (r *Rating) Prompting() bool {
	r.pmu.Lock()
	defer r.pmu.Unlock()
	return !r.until.IsZero() && r.b.clock.Now().Before(r.until)
}

func (r *Rating) writePrompt(ctx context.Context, m *modbus.Master) error {
	r.pmu.Lock()
	gen, until := r.promptGen, r.until
	r.pmu.Unlock()
	secs := uint16(0)
	if left := until.Sub(r.b.clock.Now()); !until.IsZero() && left >= time.Second {
		secs = uint16(min(left/time.Second, MaxPrompt/time.Second))
	}
	if _, err := m.Do(ctx, r.cfg.Address, modbus.WriteRegister(rpPrompt, secs)); err != nil {
		return fmt.Errorf("prompt: %w", err)
	}
	r.pmu.Lock()
	r.promptDone = gen
	r.pmu.Unlock()
	return nil
}

func (r *Rating) poll(ctx context.Context, m *modbus.Master, unit byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lastPoll = r.b.lineClock.Now()
	p, err := r.pollCommon(ctx, m, func(bool) error {
		r.smu.Lock()
		serial := r.ident.Serial
		r.smu.Unlock()
		if err := r.q.load(serial); err != nil {
			return err
		}
		if r.Prompting() {
			return r.writePrompt(ctx, m)
		}
		return nil
	})
	if err != nil {
		r.noteErr(err)
		return err
	}
	taken, err := r.q.take(ctx, m, unit, p, func(re rawEvent) (Event, bool) { return r.event(re) })
	if taken > 0 {
		// The panel ended the invitation at the first press.
		r.pmu.Lock()
		r.until = time.Time{}
		r.promptDone = r.promptGen
		r.pmu.Unlock()
	}
	if err != nil {
		r.noteErr(err)
		return err
	}
	if err := r.applyBrightness(ctx, m); err != nil {
		return err
	}
	r.pmu.Lock()
	dirty := r.promptGen != r.promptDone
	r.pmu.Unlock()
	if dirty {
		return r.writePrompt(ctx, m)
	}
	return nil
}
