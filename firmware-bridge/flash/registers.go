package flash

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash/crc32"

	"github.com/cherga/kiosk/firmware-bridge/fwpkg"
	"github.com/cherga/kiosk/firmware-bridge/modbus"
)

// The registers, files and commands of PROTOCOL.md 4.4 and 10.
const (
	regIdentity = 0x0020 // I ×8: type, map version, hardware, major, minor, patch, serial
	regUpdate   = 0x0080 // I ×8: update status; H: UPD_COMMAND

	fileManifest = 1
	fileImage    = 2

	// ManifestRegisters is the length of file 1 record 0.
	ManifestRegisters = 27
	// ChunkBytes is the image bytes in one chunk; ChunkRegisters the
	// record length of a chunk with its CRC-32.
	ChunkBytes     = 128
	ChunkRegisters = ChunkBytes/2 + 2

	manifestMagic  = 0x4346 // "CF"
	manifestFormat = 1
	mapVersion     = 1

	cmdVerify  = 2
	cmdCommit  = 3
	cmdConfirm = 4
)

// State is UPD_STATE, I 0x0080.
type State uint16

const (
	Idle         State = 0
	Receiving    State = 1
	Verifying    State = 2
	Verified     State = 3
	VerifyFailed State = 4
	Committed    State = 5 // restart pending
	Trial        State = 6 // running the new image, not confirmed
	Reverted     State = 7 // the last trial did not confirm; the old image runs
)

var stateNames = [...]string{"idle", "receiving", "verifying", "verified", "verify failed",
	"committed (restart pending)", "trial (not confirmed)", "reverted"}

func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("state %d", uint16(s))
}

// DeviceError is LAST_ERROR, I 0x0085.
type DeviceError uint16

var deviceErrors = [...]string{
	"no error",
	"bad manifest magic or format",
	"wrong device type",
	"wrong hardware revision",
	"wrong slot",
	"image too big",
	"bad chunk size",
	"chunk out of order",
	"chunk CRC-32 mismatch",
	"flash write failed",
	"SHA-256 mismatch",
	"image not verified",
	"trial not confirmed, reverted",
	"an unconfirmed trial is running",
}

// String says the error in words, with its number.
func (e DeviceError) String() string {
	if int(e) < len(deviceErrors) {
		return fmt.Sprintf("%s (LAST_ERROR %d)", deviceErrors[e], uint16(e))
	}
	return fmt.Sprintf("LAST_ERROR %d", uint16(e))
}

// Status is the update status block, I 0x0080 ×8.
type Status struct {
	State      State       `json:"state"`
	ChunksHeld int         `json:"chunks_held"` // the resume point
	ActiveSlot int         `json:"active_slot"`
	SlotChunks int         `json:"slot_chunks"`
	ChunkSize  int         `json:"chunk_size"`
	LastError  DeviceError `json:"last_error"`
	TrialLeft  int         `json:"trial_left"` // seconds before a trial restarts itself
}

func (s Status) String() string {
	str := fmt.Sprintf("%s, slot %s running, %d chunks held", s.State, fwpkg.SlotName(s.ActiveSlot), s.ChunksHeld)
	if s.LastError != 0 {
		str += ", " + s.LastError.String()
	}
	if s.TrialLeft != 0 {
		str += fmt.Sprintf(", %d s of trial left", s.TrialLeft)
	}
	return str
}

// Device is what the identity block (I 0x0020 ×8) says, with the slots
// from the update status.
type Device struct {
	fwpkg.DeviceInfo
	MapVersion uint16
	Serial     uint32
}

// ReadStatus reads I 0x0080 ×8.
func ReadStatus(ctx context.Context, m *modbus.Master, unit byte) (Status, error) {
	v, err := m.ReadInputRegisters(ctx, unit, regUpdate, 8)
	if err != nil {
		return Status{}, err
	}
	return Status{State: State(v[0]), ChunksHeld: int(v[1]), ActiveSlot: int(v[2]), SlotChunks: int(v[3]),
		ChunkSize: int(v[4]), LastError: DeviceError(v[5]), TrialLeft: int(v[6])}, nil
}

// ReadDevice reads the identity (I 0x0020 ×8) and the update status
// (I 0x0080 ×8) of one of our devices.
func ReadDevice(ctx context.Context, m *modbus.Master, unit byte) (Device, Status, error) {
	v, err := m.ReadInputRegisters(ctx, unit, regIdentity, 8)
	if err != nil {
		return Device{}, Status{}, fmt.Errorf("identity I 0x%04X: %w", regIdentity, err)
	}
	st, err := ReadStatus(ctx, m, unit)
	if err != nil {
		return Device{}, Status{}, fmt.Errorf("update status I 0x%04X: %w", regUpdate, err)
	}
	d := Device{
		DeviceInfo: fwpkg.DeviceInfo{Unit: unit, Type: fwpkg.DeviceType(v[0]), Hardware: v[2],
			Version: fwpkg.Version{Major: v[3], Minor: v[4], Patch: v[5]}, ActiveSlot: st.ActiveSlot,
			SlotBytes: st.SlotChunks * st.ChunkSize},
		MapVersion: v[1],
		Serial:     uint32(v[6])<<16 | uint32(v[7]),
	}
	return d, st, nil
}

// BusManifest is file 1 record 0 (PROTOCOL.md 10.2) for sending the
// package's image for slot to a device.
func BusManifest(p *fwpkg.Package, slot int) []uint16 {
	img := p.Image(slot)
	sum := sha256.Sum256(img)
	r := make([]uint16, 0, ManifestRegisters)
	r = append(r, manifestMagic, manifestFormat, uint16(p.Type), p.Hardware,
		p.Version.Major, p.Version.Minor, p.Version.Patch,
		uint16(len(img)>>16), uint16(len(img)), ChunkBytes, uint16(slot))
	for i := 0; i < len(sum); i += 2 {
		r = append(r, binary.BigEndian.Uint16(sum[i:]))
	}
	return r
}

// Chunks is the number of chunks an image takes.
func Chunks(image []byte) int { return (len(image) + ChunkBytes - 1) / ChunkBytes }

// Chunk is file 2 record k (PROTOCOL.md 10.3): 128 image bytes, the last
// chunk padded with 0xFF, then their CRC-32 (IEEE), high word first.
func Chunk(image []byte, k int) []uint16 {
	var b [ChunkBytes]byte
	for i := range b {
		b[i] = 0xFF
	}
	if off := k * ChunkBytes; off < len(image) {
		copy(b[:], image[off:])
	}
	r := make([]uint16, 0, ChunkRegisters)
	for i := 0; i < ChunkBytes; i += 2 {
		r = append(r, binary.BigEndian.Uint16(b[i:]))
	}
	c := crc32.ChecksumIEEE(b[:])
	return append(r, uint16(c>>16), uint16(c))
}
