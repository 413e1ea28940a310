package flash

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/cherga/kiosk/firmware-bridge/fwpkg"
	"github.com/cherga/kiosk/firmware-bridge/modbus"
)

// Phase is a step of the procedure, named in progress and errors.
type Phase string

const (
	PhaseIdentify Phase = "identify" // read I 0x0020 and I 0x0080
	PhaseCheck    Phase = "check"    // the package against the device
	PhaseManifest Phase = "manifest" // compare or write file 1
	PhaseTransfer Phase = "transfer" // chunks, file 2
	PhaseVerify   Phase = "verify"   // the device's SHA-256
	PhaseCommit   Phase = "commit"
	PhaseRestart  Phase = "restart" // waiting for the device to run the new image
	PhaseConfirm  Phase = "confirm"
	PhaseDone     Phase = "done"
)

// Progress is reported at each phase and after each chunk.
type Progress struct {
	Phase Phase
	// Done of Total chunks are in the device (Done starts at the resume
	// point).
	Done, Total int
}

// Options tune Update. The zero value is PROTOCOL.md 10.6's procedure.
type Options struct {
	// Force installs a version that is not newer than the running one.
	// It overrides nothing else.
	Force bool
	// Progress, if set, is called at every phase and after every chunk.
	Progress func(Progress)
	// Between, if set, is called between requests while the transfer
	// runs, while the device verifies and while it restarts, so a bus
	// scheduler can poll the other devices. An error stops the update.
	Between func(ctx context.Context) error
	// ChunkRetries: a chunk is retried this many times (default 3) after
	// a timeout, a garbled answer, or a busy or flash-failure exception.
	ChunkRetries int
	// RestartTimeout bounds the wait for the device after COMMIT
	// (default 10 s); VerifyTimeout the wait for its SHA-256 (default
	// 30 s). Both on the master's clock.
	RestartTimeout, VerifyTimeout time.Duration
}

func (o Options) normal() Options {
	if o.ChunkRetries <= 0 {
		o.ChunkRetries = 3
	}
	if o.RestartTimeout <= 0 {
		o.RestartTimeout = 10 * time.Second
	}
	if o.VerifyTimeout <= 0 {
		o.VerifyTimeout = 30 * time.Second
	}
	return o
}

// Result is what an update did.
type Result struct {
	Unit     byte
	From, To fwpkg.Version
	Slot     int // the slot the new image runs from
	Chunks   int // of the image
	// Resumed: the device held this package's manifest and ResumedAt
	// chunks of it, which were not sent again.
	Resumed   bool
	ResumedAt int
	Sent      int // chunk writes that were answered
	Retries   int // chunk writes repeated
	Serial    uint32
}

// The failures Update reports, beside fwpkg's refusals (phase check),
// modbus errors and the context's.
var (
	// ErrVerifyFailed: the device's SHA-256 of the staged image differs
	// from the manifest (LAST_ERROR 10).
	ErrVerifyFailed = errors.New("flash: the device's SHA-256 of the image does not match the manifest")
	// ErrReverted: the device came back running the old image (state 7).
	ErrReverted = errors.New("flash: the device reverted to the old firmware")
	// ErrNoRestart: the device did not come back in time after COMMIT.
	ErrNoRestart = errors.New("flash: the device did not come back after COMMIT")
	// ErrTrial: the device runs an unconfirmed trial of another image.
	ErrTrial = errors.New("flash: the device runs an unconfirmed trial")
	// ErrUnsupported: a device whose register map or chunk size this
	// host does not speak.
	ErrUnsupported = errors.New("flash: device not supported")
)

// Error is a failed update: which unit, in which phase, the cause, and
// the device's update status when it could be read.
type Error struct {
	Unit   byte
	Phase  Phase
	Status *Status
	Err    error
}

func (e *Error) Error() string {
	s := fmt.Sprintf("flash: unit %d: %s: %v", e.Unit, e.Phase, e.Err)
	if e.Status != nil && e.Status.LastError != 0 {
		s += "; device's last error: " + e.Status.LastError.String()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Update puts the package on the device at unit, as PROTOCOL.md 10.6
// says, and returns when the device runs and has confirmed the new image.
//
// It talks through m's port with masters of its own, made from m's
// options: they never back the device off (it is silent while it
// restarts), and writes of UPD_COMMAND get the file-record turnaround
// (firmware note 3: CONFIRM writes EEPROM before it answers). So m's
// health table does not see these requests.
func Update(ctx context.Context, m *modbus.Master, unit byte, pkg *fwpkg.Package, o Options) (*Result, error) {
	u := newUpdater(m, unit, pkg, o.normal())
	err := u.run(ctx)
	if err != nil {
		var fe *Error
		if !errors.As(err, &fe) {
			err = u.fail(ctx, u.phase, err)
		}
		return &u.res, err
	}
	return &u.res, nil
}

type updater struct {
	unit  byte
	pkg   *fwpkg.Package
	o     Options
	clock interface{ Now() time.Time }

	q    *modbus.Master // reads and the manifest: m's attempts
	cmd  *modbus.Master // UPD_COMMAND writes: the file-record turnaround
	once *modbus.Master // chunks (retried here) and probes: one attempt

	phase Phase
	res   Result
}

func newUpdater(m *modbus.Master, unit byte, pkg *fwpkg.Package, o Options) *updater {
	base := m.Options()
	base.OfflineAfter = 1 << 30
	cmd, once := base, base
	cmd.Turnaround = base.FileTurnaround
	once.Attempts = 1
	return &updater{
		unit: unit, pkg: pkg, o: o, clock: m.RTU().Clock(),
		q:    modbus.NewMaster(m.RTU(), base),
		cmd:  modbus.NewMaster(m.RTU(), cmd),
		once: modbus.NewMaster(m.RTU(), once),
		res:  Result{Unit: unit, To: pkg.Version},
	}
}

func (u *updater) progress(p Phase, done, total int) {
	u.phase = p
	if u.o.Progress != nil {
		u.o.Progress(Progress{Phase: p, Done: done, Total: total})
	}
}

func (u *updater) between(ctx context.Context) error {
	if u.o.Between == nil {
		return ctx.Err()
	}
	if err := u.o.Between(ctx); err != nil {
		return fmt.Errorf("between requests: %w", err)
	}
	return ctx.Err()
}

// fail wraps err with the phase and, when the bus still works, the
// device's status (for LAST_ERROR).
func (u *updater) fail(ctx context.Context, p Phase, err error) error {
	e := &Error{Unit: u.unit, Phase: p, Err: err}
	if ctx.Err() == nil && !errors.Is(err, ErrNoRestart) {
		if st, serr := ReadStatus(ctx, u.once, u.unit); serr == nil {
			e.Status = &st
		}
	}
	return e
}

func (u *updater) run(ctx context.Context) error {
	u.progress(PhaseIdentify, 0, 0)
	dev, st, err := ReadDevice(ctx, u.q, u.unit)
	if err != nil {
		return &Error{Unit: u.unit, Phase: PhaseIdentify, Err: err}
	}
	u.res.From, u.res.Serial = dev.Version, dev.Serial
	img := u.pkg.Image(dev.InactiveSlot())
	total := Chunks(img)
	u.res.Chunks = total

	u.progress(PhaseCheck, 0, total)
	switch {
	case dev.MapVersion != mapVersion:
		return u.fail(ctx, PhaseCheck, fmt.Errorf("%w: register map version %d, this host speaks %d", ErrUnsupported, dev.MapVersion, mapVersion))
	case st.ChunkSize != ChunkBytes:
		return u.fail(ctx, PhaseCheck, fmt.Errorf("%w: chunk size %d, this host sends %d", ErrUnsupported, st.ChunkSize, ChunkBytes))
	}
	if st.State == Verifying {
		// An earlier run's VERIFY: let it finish before looking further.
		if st, err = u.waitVerified(ctx); err != nil && !errors.Is(err, ErrVerifyFailed) {
			return u.fail(ctx, PhaseIdentify, err)
		}
	}
	if st.State == Trial {
		return u.trialAtStart(ctx, dev, st)
	}
	if err := u.pkg.Check(dev.DeviceInfo, u.o.Force); err != nil {
		return &Error{Unit: u.unit, Phase: PhaseCheck, Err: err}
	}

	// Resume or start anew (10.6 step 2).
	u.progress(PhaseManifest, 0, total)
	slot := dev.InactiveSlot()
	u.res.Slot = slot
	manifest := BusManifest(u.pkg, slot)
	held := 0
	resumable := (st.State >= Receiving && st.State <= Verified) ||
		(st.State == Reverted && st.ChunksHeld == total) // 10.5: the staged image stays
	if resumable && st.ChunksHeld <= total {
		stored, err := u.q.ReadFileRecord(ctx, u.unit, fileManifest, 0, ManifestRegisters)
		switch {
		case err == nil && slices.Equal(stored, manifest):
			held = st.ChunksHeld
			u.res.Resumed, u.res.ResumedAt = true, held
		case err != nil && !modbus.IsException(err, modbus.IllegalDataAddress):
			return u.fail(ctx, PhaseManifest, fmt.Errorf("read file 1: %w", err))
		}
	}
	if !u.res.Resumed {
		if err := u.q.WriteFileRecord(ctx, u.unit, fileManifest, 0, manifest); err != nil {
			return u.fail(ctx, PhaseManifest, fmt.Errorf("write file 1: %w", err))
		}
	}

	// The chunks (step 3).
	u.progress(PhaseTransfer, held, total)
	for k := held; k < total; k++ {
		if err := u.sendChunk(ctx, img, k); err != nil {
			return u.fail(ctx, PhaseTransfer, fmt.Errorf("chunk %d of %d: %w", k, total, err))
		}
		u.progress(PhaseTransfer, k+1, total)
		if k+1 < total {
			if err := u.between(ctx); err != nil {
				return u.fail(ctx, PhaseTransfer, err)
			}
		}
	}

	// VERIFY (step 4).
	u.progress(PhaseVerify, total, total)
	if err := u.command(ctx, cmdVerify); err != nil && !modbus.IsException(err, modbus.ServerDeviceBusy) {
		// Busy: a repeat whose first answer was lost found it verifying.
		return u.fail(ctx, PhaseVerify, fmt.Errorf("VERIFY: %w", err))
	}
	if _, err := u.waitVerified(ctx); err != nil {
		return u.fail(ctx, PhaseVerify, err)
	}
	return u.commitAndConfirm(ctx, total, slot)
}

// trialAtStart: the device runs an unconfirmed trial. If it is this
// package (a host that stopped between COMMIT and CONFIRM), confirm it;
// else it is not ours to touch.
func (u *updater) trialAtStart(ctx context.Context, dev Device, st Status) error {
	stored, err := u.q.ReadFileRecord(ctx, u.unit, fileManifest, 0, ManifestRegisters)
	ours := err == nil && slices.Equal(stored, BusManifest(u.pkg, dev.ActiveSlot)) && dev.Version == u.pkg.Version
	if !ours {
		return u.fail(ctx, PhaseCheck, fmt.Errorf("%w: firmware %s in slot %s, %d s before it reverts by itself; not this package's, so it is left alone",
			ErrTrial, dev.Version, fwpkg.SlotName(dev.ActiveSlot), st.TrialLeft))
	}
	// Model and hardware still have to match; the version is the running one.
	if err := u.pkg.Check(fwpkg.DeviceInfo{Unit: u.unit, Type: dev.Type, Hardware: dev.Hardware,
		ActiveSlot: 1 - dev.ActiveSlot, SlotBytes: dev.SlotBytes}, true); err != nil {
		return &Error{Unit: u.unit, Phase: PhaseCheck, Err: err}
	}
	// What ran before the trial is not known any more: From is the trial's.
	u.res.Chunks = Chunks(u.pkg.Image(dev.ActiveSlot))
	u.res.Slot, u.res.Resumed, u.res.ResumedAt = dev.ActiveSlot, true, u.res.Chunks
	return u.confirm(ctx, st, u.res.Chunks)
}

// sendChunk writes chunk k, retrying what a retry can cure: a lost or
// garbled answer (the device accepts the repeat of its last chunk), busy,
// a flash write whose read-back differed.
func (u *updater) sendChunk(ctx context.Context, img []byte, k int) error {
	data := Chunk(img, k)
	var err error
	for try := 0; try <= u.o.ChunkRetries; try++ {
		if try > 0 {
			u.res.Retries++
		}
		err = u.once.WriteFileRecord(ctx, u.unit, fileImage, uint16(k), data)
		if err == nil {
			u.res.Sent++
			return nil
		}
		var exc *modbus.Exception
		if ctx.Err() != nil || (errors.As(err, &exc) && exc.Code != modbus.ServerDeviceBusy && exc.Code != modbus.ServerDeviceFailure) {
			return err
		}
	}
	return fmt.Errorf("%d attempts: %w", u.o.ChunkRetries+1, err)
}

// command writes UPD_COMMAND (H 0x0080).
func (u *updater) command(ctx context.Context, c uint16) error {
	return u.cmd.WriteRegister(ctx, u.unit, regUpdate, c)
}

// waitVerified polls the status until the device has verified (3) or
// refused (4) the image.
func (u *updater) waitVerified(ctx context.Context) (Status, error) {
	deadline := u.clock.Now().Add(u.o.VerifyTimeout)
	for {
		st, err := ReadStatus(ctx, u.q, u.unit)
		if err != nil {
			return st, fmt.Errorf("status: %w", err)
		}
		switch st.State {
		case Verified:
			return st, nil
		case VerifyFailed:
			return st, fmt.Errorf("%w (%s)", ErrVerifyFailed, st.LastError)
		case Verifying:
		default:
			return st, fmt.Errorf("device is %s, not verifying", st)
		}
		if u.clock.Now().After(deadline) {
			return st, fmt.Errorf("still verifying after %v", u.o.VerifyTimeout)
		}
		if err := u.between(ctx); err != nil {
			return st, err
		}
	}
}

func (u *updater) commitAndConfirm(ctx context.Context, total, slot int) error {
	u.progress(PhaseCommit, total, total)
	if err := u.command(ctx, cmdCommit); err != nil {
		// A lost answer: the repeat finds the device restarting (timeout)
		// or restarted (03, LAST_ERROR 13); the wait below tells.
		if !errors.Is(err, modbus.ErrTimeout) && !modbus.IsException(err, modbus.IllegalDataValue) {
			return u.fail(ctx, PhaseCommit, fmt.Errorf("COMMIT: %w", err))
		}
	}

	// Wait for the restart (step 5): the old image answers "committed"
	// until its watchdog resets it; then nothing; then the new image.
	u.progress(PhaseRestart, total, total)
	deadline := u.clock.Now().Add(u.o.RestartTimeout)
	var (
		st   Status
		last error
	)
	for {
		var err error
		st, err = ReadStatus(ctx, u.once, u.unit)
		if err == nil && st.State != Committed && st.State != Verified {
			break
		}
		if ctx.Err() != nil {
			return u.fail(ctx, PhaseRestart, ctx.Err())
		}
		last = err
		if err == nil {
			last = fmt.Errorf("device still %s", st)
		}
		if u.clock.Now().After(deadline) {
			return u.fail(ctx, PhaseRestart, fmt.Errorf("%w within %v: %v", ErrNoRestart, u.o.RestartTimeout, last))
		}
		if err := u.between(ctx); err != nil {
			return u.fail(ctx, PhaseRestart, err)
		}
	}
	if st.State == Reverted {
		return &Error{Unit: u.unit, Phase: PhaseRestart, Status: &st,
			Err: fmt.Errorf("%w: %s runs again", ErrReverted, u.res.From)}
	}
	if st.State != Trial || st.ActiveSlot != slot {
		return &Error{Unit: u.unit, Phase: PhaseRestart, Status: &st,
			Err: fmt.Errorf("after the restart the device is %s; want a trial in slot %s", st, fwpkg.SlotName(slot))}
	}
	return u.confirm(ctx, st, total)
}

// confirm checks that the device runs the package's version in its trial
// (step 6), then confirms it.
func (u *updater) confirm(ctx context.Context, st Status, total int) error {
	id, err := u.q.ReadIdentification(ctx, u.unit)
	if err != nil {
		return u.fail(ctx, PhaseConfirm, fmt.Errorf("identification: %w", err))
	}
	v, err := u.q.ReadInputRegisters(ctx, u.unit, regIdentity+3, 3)
	if err != nil {
		return u.fail(ctx, PhaseConfirm, fmt.Errorf("version I 0x0023: %w", err))
	}
	running := fwpkg.Version{Major: v[0], Minor: v[1], Patch: v[2]}
	if running != u.pkg.Version || id.Revision != u.pkg.Version.String() {
		return &Error{Unit: u.unit, Phase: PhaseConfirm, Status: &st,
			Err: fmt.Errorf("%w: it reports %s (identification %q), the package is %s; not confirmed, it reverts within %d s",
				ErrTrial, running, id.Revision, u.pkg.Version, st.TrialLeft)}
	}
	u.progress(PhaseConfirm, total, total)
	cerr := u.command(ctx, cmdConfirm)
	after, err := ReadStatus(ctx, u.q, u.unit)
	switch {
	case err != nil:
		return u.fail(ctx, PhaseConfirm, fmt.Errorf("status after CONFIRM (%v): %w", cerr, err))
	case after.State == Reverted:
		return &Error{Unit: u.unit, Phase: PhaseConfirm, Status: &after,
			Err: fmt.Errorf("%w before it was confirmed (it restarted in its trial): %s runs again", ErrReverted, u.res.From)}
	case after.State != Idle || after.ActiveSlot != st.ActiveSlot:
		return &Error{Unit: u.unit, Phase: PhaseConfirm, Status: &after,
			Err: fmt.Errorf("CONFIRM: %v; the device is %s", errOr(cerr, "answered"), after)}
	}
	// Idle in the new slot: confirmed, whatever happened to the answer
	// (a repeated CONFIRM is accepted, firmware note 4).
	u.progress(PhaseDone, total, total)
	return nil
}

func errOr(err error, s string) string {
	if err != nil {
		return err.Error()
	}
	return s
}
