package emulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Flash and EEPROM geometry (PROTOCOL.md 10.1, 5.1).
const (
	slotBytes  = 14336
	chunkBytes = 128
	slotChunks = slotBytes / chunkBytes
	ringSize   = 64
)

// Boot states of the bootloader (PROTOCOL.md 10.5).
const (
	bootConfirmed   = "confirmed"
	bootPending     = "pending"
	bootTrialBooted = "trial-booted"
)

// nvState is what the firmware keeps in EEPROM and flash: everything that
// survives a power cut. It is the device's state file, as JSON.
type nvState struct {
	Format    int       `json:"format"` // of this file: 1
	Type      Type      `json:"type"`
	HWRev     uint16    `json:"hw_rev"`
	Serial    uint32    `json:"serial"`
	BootCount uint16    `json:"boot_count"`
	EvLost    uint16    `json:"ev_lost"`
	Config    *nvConfig `json:"config"` // nil: EEPROM defaults (STATUS bit 0)
	// Journal is the event ring (PROTOCOL.md 5.1), slot by slot.
	Journal    [ringSize]nvEvent `json:"journal"`
	Manifest   *[27]uint16       `json:"manifest"`    // nil: none stored
	ChunksHeld int               `json:"chunks_held"` // as last saved
	Boot       nvBoot            `json:"boot"`
	Slots      [2]nvSlot         `json:"slots"`
}

type nvConfig struct {
	Address    byte   `json:"address"`
	Baud       uint16 `json:"baud"`   // ÷100, as CFG_BAUD
	Format     uint16 `json:"format"` // as CFG_FORMAT
	Brightness uint16 `json:"brightness"`
}

// nvEvent is one journal slot; Code 0 is an empty slot.
type nvEvent struct {
	Seq     uint16 `json:"seq"`
	Code    uint8  `json:"code"` // key | 0x80 for a long press
	Pending bool   `json:"pending"`
}

type nvBoot struct {
	State  string `json:"state"`
	Active int    `json:"active"`
	Trial  int    `json:"trial"`
}

// nvSlot is one flash slot: the version its image runs (set at COMMIT)
// and its 14,336 bytes.
type nvSlot struct {
	Version Version `json:"version"`
	Flash   []byte  `json:"flash"`
}

func (c *nvConfig) valid() bool {
	return c.Address >= 1 && c.Address <= 247 && baudCode(c.Baud) >= 0 && c.Format <= 3 && c.Brightness <= 15
}

func (e nvEvent) used() bool { return keyCodeOK(e.Code) && e.Seq != 0 }

func (e nvEvent) pending() bool { return e.used() && e.Pending }

// keyCodeOK: the codes of sections 7.1 and 8.1, with the long-press bit.
func keyCodeOK(c uint8) bool {
	k := c & 0x7F
	return (k >= 0x01 && k <= 0x07) || (k >= 0x10 && k <= 0x19)
}

func emptyFlash() []byte { return bytes.Repeat([]byte{0xFF}, slotBytes) }

// check refuses a state file the emulator could not have written.
func (s *nvState) check() error {
	switch {
	case s.Format != 1:
		return fmt.Errorf("format %d, want 1", s.Format)
	case !s.Type.valid():
		return fmt.Errorf("device type %d", s.Type)
	case s.Serial == 0 || s.Serial == 0xFFFFFFFF:
		return fmt.Errorf("serial %#x", s.Serial)
	case s.Config != nil && !s.Config.valid():
		return fmt.Errorf("config %+v", *s.Config)
	case s.ChunksHeld < 0 || s.ChunksHeld > slotChunks:
		return fmt.Errorf("chunks held %d", s.ChunksHeld)
	case s.Boot.State != bootConfirmed && s.Boot.State != bootPending && s.Boot.State != bootTrialBooted:
		return fmt.Errorf("boot state %q", s.Boot.State)
	case s.Boot.Active < 0 || s.Boot.Active > 1 || s.Boot.Trial < 0 || s.Boot.Trial > 1:
		return fmt.Errorf("boot slots %d, %d", s.Boot.Active, s.Boot.Trial)
	}
	for i, sl := range s.Slots {
		if len(sl.Flash) != slotBytes {
			return fmt.Errorf("slot %d holds %d bytes, want %d", i, len(sl.Flash), slotBytes)
		}
	}
	return nil
}

// parseState reads a state file's bytes.
func parseState(b []byte) (*nvState, error) {
	var s nvState
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("data after the state")
	}
	if err := s.check(); err != nil {
		return nil, err
	}
	return &s, nil
}

// loadState reads path; a missing file is (nil, nil).
func loadState(path string) (*nvState, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("emulator: state: %w", err)
	}
	s, err := parseState(b)
	if err != nil {
		return nil, fmt.Errorf("emulator: state %s: %w", path, err)
	}
	return s, nil
}

// saveState replaces path with s: a reader (or the next start, after a
// SIGKILL or a machine's power cut) sees the old file or the new, never a
// mix.
func saveState(path string, s *nvState) error {
	b, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("emulator: state: %w", err)
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("emulator: state: %w", err)
	}
	tmp := f.Name()
	_, werr := f.Write(b)
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("emulator: state %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("emulator: state: %w", err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("emulator: state: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("emulator: state: sync %s: %w", dir, err)
	}
	return nil
}

// stateFile is the name of a device's file: by the address and type it
// was made with, so it is found again after its address changed.
func stateFile(dir string, s Spec) string {
	return filepath.Join(dir, fmt.Sprintf("unit%03d-%s.json", s.Addr, s.Type))
}
