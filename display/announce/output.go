package announce

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"

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

// NewWAVDir writes clips into dir. clock, if given, is the terminal's (for
// the status's since), else the real clock.
func NewWAVDir(dir string, clock ...clockwork.Clock) (*WAVDir, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("announce: %w", err)
	}
	return &WAVDir{dir: dir, since: clockOr(clock).Now()}, nil
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
	// Whole files only: a reader never sees half an announcement.
	return WriteWAVFile(filepath.Join(o.dir, c.Name+".wav"), c)
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

// Aplay plays through ALSA's aplay, which reaches PulseAudio or PipeWire
// too through their ALSA plugins (device "default" or "pulse"). Play
// returns when aplay has played the whole clip.
type Aplay struct {
	Path   string // the aplay binary
	Device string // ALSA device; "" for default
	since  time.Time

	mu      sync.Mutex
	played  int
	lastErr string
}

// FindAplay finds aplay on the PATH. clock, if given, is the terminal's
// (for the status's since), else the real clock.
func FindAplay(device string, clock ...clockwork.Clock) (*Aplay, error) {
	p, err := exec.LookPath("aplay")
	if err != nil {
		return nil, fmt.Errorf("announce: aplay not found (install alsa-utils): %w", err)
	}
	return &Aplay{Path: p, Device: device, since: clockOr(clock).Now()}, nil
}

func (a *Aplay) Play(ctx context.Context, c *Clip) error {
	args := []string{"-q", "-t", "wav"}
	if a.Device != "" {
		args = append(args, "-D", a.Device)
	}
	var wav, errb bytes.Buffer
	if err := c.WriteWAV(&wav); err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, a.Path, append(args, "-")...)
	cmd.Stdin, cmd.Stderr = &wav, &errb
	err := cmd.Run()
	a.mu.Lock()
	defer a.mu.Unlock()
	if err != nil {
		a.lastErr = fmt.Sprintf("aplay: %v: %s", err, bytes.TrimSpace(errb.Bytes()))
		return errors.New(a.lastErr)
	}
	a.played++
	a.lastErr = ""
	return nil
}

func (a *Aplay) Status() devices.Status {
	a.mu.Lock()
	defer a.mu.Unlock()
	dev := a.Device
	if dev == "" {
		dev = "default"
	}
	st := devices.Status{Name: "audio", Kind: "audio", Driver: "aplay", State: devices.OK, Since: a.since,
		Detail: fmt.Sprintf("%d announcements played on ALSA device %s", a.played, dev)}
	if a.lastErr != "" {
		st.State, st.Detail = devices.Fault, a.lastErr
	}
	return st
}
