package announce

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/cherga/kiosk/devices"
)

// Output plays clips. Play returns when the clip has finished playing (or
// been written), so the announcer never overlaps two.
type Output interface {
	Play(ctx context.Context, c *Clip) error
	Status() devices.Status
}

// WAVDir is the simulated audio output: every clip becomes DIR/NAME.wav.
type WAVDir struct {
	dir   string
	since time.Time

	mu      sync.Mutex
	written int
	last    string
	lastErr error
}

func NewWAVDir(dir string) (*WAVDir, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("announce: %w", err)
	}
	return &WAVDir{dir: dir, since: time.Now()}, nil
}

func (o *WAVDir) Play(ctx context.Context, c *Clip) error {
	err := o.write(c)
	o.mu.Lock()
	defer o.mu.Unlock()
	o.lastErr = err
	if err == nil {
		o.written++
		o.last = filepath.Join(o.dir, c.Name+".wav")
	}
	return err
}

func (o *WAVDir) write(c *Clip) error {
	path := filepath.Join(o.dir, c.Name+".wav")
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("announce: %w", err)
	}
	if err := c.WriteWAV(f); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("announce: %w", err)
	}
	// Whole files only: a reader never sees half an announcement.
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("announce: %w", err)
	}
	return nil
}

// Last is the path of the latest file written.
func (o *WAVDir) Last() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.last
}

func (o *WAVDir) Status() devices.Status {
	o.mu.Lock()
	defer o.mu.Unlock()
	st := devices.Status{Name: "audio", Kind: "audio", Driver: "wav", State: devices.OK, Since: o.since,
		Detail: fmt.Sprintf("%d announcements written to %s", o.written, o.dir)}
	if o.lastErr != nil {
		st.State, st.Detail = devices.Fault, o.lastErr.Error()
	}
	return st
}
