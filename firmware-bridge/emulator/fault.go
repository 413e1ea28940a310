package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// FaultKind is a way for a device to misbehave on the bus.
type FaultKind string

// Fault kinds.
const (
	FaultNone    FaultKind = "none"
	FaultSilent  FaultKind = "silent"  // hears nothing, answers nothing (a dead transceiver)
	FaultCorrupt FaultKind = "corrupt" // acts, but its answer has a bad CRC (the host sees a lost answer)
	FaultSlow    FaultKind = "slow"    // acts, and answers Delay late: beyond the host's timeout
	FaultGarbage FaultKind = "garbage" // noise on the line around each answer, without a gap
)

// Fault defaults.
const (
	DefaultSlowDelay    = 250 * time.Millisecond
	DefaultGarbageBytes = 16
)

// Fault makes one device misbehave. Count limits it to that many frames
// addressed to the device (0: until it is cleared with FaultNone).
type Fault struct {
	Kind  FaultKind     `json:"kind"`
	Delay time.Duration `json:"-"`               // slow: how late (default 250 ms)
	Bytes int           `json:"bytes,omitempty"` // garbage: noise bytes per answer, half before and half after (default 16)
	Count int           `json:"count,omitempty"`
}

type faultJSON struct {
	Kind  FaultKind `json:"kind"`
	Delay string    `json:"delay,omitempty"`
	Bytes int       `json:"bytes,omitempty"`
	Count int       `json:"count,omitempty"`
}

// MarshalJSON writes Delay as a duration ("250ms").
func (f Fault) MarshalJSON() ([]byte, error) {
	j := faultJSON{Kind: f.Kind, Bytes: f.Bytes, Count: f.Count}
	if j.Kind == "" {
		j.Kind = FaultNone
	}
	if f.Delay != 0 {
		j.Delay = f.Delay.String()
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads {"kind": "slow", "delay": "300ms", "count": 2};
// unknown fields are refused.
func (f *Fault) UnmarshalJSON(b []byte) error {
	var j faultJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return fmt.Errorf("fault: %w", err)
	}
	g := Fault{Kind: j.Kind, Bytes: j.Bytes, Count: j.Count}
	if j.Delay != "" {
		d, err := time.ParseDuration(j.Delay)
		if err != nil {
			return fmt.Errorf("fault: delay %q: want a duration like 300ms", j.Delay)
		}
		g.Delay = d
	}
	if err := g.Validate(); err != nil {
		return err
	}
	*f = g
	return nil
}

// Validate checks the fault's fields.
func (f Fault) Validate() error {
	switch f.Kind {
	case "", FaultNone, FaultSilent, FaultCorrupt, FaultSlow, FaultGarbage:
	default:
		return fmt.Errorf("fault: kind %q: want silent, corrupt, slow, garbage or none", f.Kind)
	}
	switch {
	case f.Delay < 0 || f.Delay > time.Minute:
		return fmt.Errorf("fault: delay %s: want 0–1m", f.Delay)
	case f.Bytes < 0 || f.Bytes > 1024:
		return fmt.Errorf("fault: bytes %d: want 0–1024", f.Bytes)
	case f.Count < 0:
		return fmt.Errorf("fault: count %d: want 0 (until cleared) or more", f.Count)
	}
	return nil
}

func (f Fault) normal() Fault {
	if f.Kind == "" {
		f.Kind = FaultNone
	}
	if f.Kind == FaultSlow && f.Delay == 0 {
		f.Delay = DefaultSlowDelay
	}
	if f.Kind == FaultGarbage && f.Bytes == 0 {
		f.Bytes = DefaultGarbageBytes
	}
	if f.Kind == FaultNone {
		f = Fault{Kind: FaultNone}
	}
	return f
}

// SetFault makes the device misbehave from now on (FaultNone: behave).
func (d *Device) SetFault(f Fault) error {
	if err := f.Validate(); err != nil {
		return fmt.Errorf("emulator: %w", err)
	}
	d.mu.Lock()
	d.fault = f.normal()
	d.mu.Unlock()
	return nil
}

// Fault is the device's fault now.
func (d *Device) Fault() Fault {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.fault.normal()
}

// takeFault uses up one frame of the fault, if it is of the stage asked
// for (silent acts on hearing, the others on answering). The caller holds
// d.mu.
func (d *Device) takeFault(silentStage bool) (Fault, bool) {
	f := d.fault
	if f.Kind == "" || f.Kind == FaultNone || (f.Kind == FaultSilent) != silentStage {
		return Fault{}, false
	}
	if f.Count > 0 {
		d.fault.Count--
		if d.fault.Count == 0 {
			d.fault = Fault{Kind: FaultNone}
		}
	}
	return f, true
}
