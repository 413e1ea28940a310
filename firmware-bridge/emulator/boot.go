package emulator

import (
	"bytes"
	"time"
)

// Image markers the emulator reads in a slot it boots (see the package
// documentation).
const (
	MarkerCrash = "CHERGA-EMU:CRASH-AT-BOOT"
	MarkerMute  = "CHERGA-EMU:MUTE"
)

const trialTime = 60 * time.Second

type dueKind int

const (
	dueNone dueKind = iota
	duePowerUp
	dueWatchdog
	dueRestart
	dueVerify
	dueTrial
)

// due is the next thing that happens by itself, and when.
func (d *Device) due() (time.Time, dueKind) {
	switch d.phase {
	case phaseOff:
		if d.offUntil.IsZero() {
			return time.Time{}, dueNone
		}
		return d.offUntil, duePowerUp
	case phaseCrashed:
		return d.nextBoot, dueWatchdog
	case phaseDead:
		return time.Time{}, dueNone
	}
	at, kind := time.Time{}, dueNone
	take := func(t time.Time, k dueKind) {
		if kind == dueNone || t.Before(at) {
			at, kind = t, k
		}
	}
	if !d.restartAt.IsZero() {
		take(d.restartAt, dueRestart)
	}
	if d.ram.upd.st == 2 {
		take(d.ram.upd.verifyDone, dueVerify)
	}
	if d.ram.upd.st == 6 {
		take(d.resetAt.Add(trialTime), dueTrial)
	}
	return at, kind
}

// advance carries out, in order, whatever was due by now: a power cut's
// end, a restart owed after an answer, the end of a VERIFY, the trial
// image's 60 s rule. The caller holds d.mu.
func (d *Device) advance(now time.Time) {
	for range 32 {
		at, kind := d.due()
		if kind == dueNone || at.After(now) {
			return
		}
		switch kind {
		case duePowerUp:
			d.powerUp(at, resetPowerOn)
		case dueWatchdog:
			d.powerUp(at, resetWatchdog)
		case dueRestart:
			if d.restartCommit {
				d.bootCommit()
			}
			d.powerUp(at, resetWatchdog)
		case dueVerify:
			d.finishVerify()
		case dueTrial:
			// Not confirmed in 60 s: the image restarts itself and the
			// bootloader reverts.
			d.powerUp(at, resetWatchdog)
		}
	}
}

func (d *Device) slotEmpty(slot int) bool {
	f := d.nv.Slots[slot].Flash
	return f[0] == 0xFF && f[1] == 0xFF
}

// powerUp is a reset at the moment at: the bootloader picks the slot
// (PROTOCOL.md 10.5), then the application starts with fresh RAM.
func (d *Device) powerUp(at time.Time, cause byte) {
	d.phase = phaseOn
	d.offUntil, d.restartAt, d.restartCommit, d.cutNow = time.Time{}, time.Time{}, false, false
	bs := d.nv.Boot
	slot, trial, reverted := bs.Active, false, false
	switch bs.State {
	case bootPending:
		d.nv.Boot.State = bootTrialBooted
		slot, trial = bs.Trial, true
	case bootTrialBooted:
		d.nv.Boot = nvBoot{State: bootConfirmed, Active: bs.Active, Trial: bs.Active}
		reverted = true
	}
	if d.slotEmpty(slot) {
		if trial {
			// Nothing to try: back to the confirmed image (firmware note 14).
			d.nv.Boot = nvBoot{State: bootConfirmed, Active: bs.Active, Trial: bs.Active}
			slot, trial, reverted = bs.Active, false, true
		}
		if d.slotEmpty(slot) {
			slot, trial, reverted = slot^1, false, false
		}
	}
	saveErr := d.save()
	if d.slotEmpty(slot) {
		d.phase = phaseDead // no application at all: waits for ISP
		d.ram = ram{}
		return
	}
	image := d.nv.Slots[slot].Flash
	if bytes.Contains(image, []byte(MarkerCrash)) {
		d.ram = ram{}
		if !trial {
			// A confirmed image that crashes crashes at every boot.
			d.phase = phaseDead
			return
		}
		d.phase, d.nextBoot = phaseCrashed, at.Add(d.o.WatchdogTime)
		return
	}

	// The application.
	d.nv.BootCount++
	if err := d.save(); err != nil && saveErr == nil {
		saveErr = err
	}
	d.ram = ram{
		running: slot, trial: trial, reverted: reverted,
		mute:       bytes.Contains(image, []byte(MarkerMute)),
		resetCause: cause, brightness: 10,
		lastHostFrame: at,
	}
	d.resetAt, d.listenAt = at, at.Add(d.o.BootTime)
	if c := d.nv.Config; c != nil {
		d.ram.brightness = c.Brightness
		d.ram.cfgNew = [3]uint16{uint16(c.Address), c.Baud, c.Format}
	} else {
		d.ram.status |= stCfgFault
		d.ram.cfgNew = [3]uint16{247, 192, 0}
	}
	if saveErr != nil {
		d.ram.status |= stEEFault
	}
	d.updInit()
	d.evInit()
	d.typeInit()
}

// powerCut: the power goes at now, for dur (0: until PowerOn). RAM is
// lost; what the firmware had written to EEPROM and flash stays.
func (d *Device) powerCut(now time.Time, dur time.Duration) {
	d.phase = phaseOff
	d.offUntil = time.Time{}
	if dur > 0 {
		d.offUntil = now.Add(dur)
	}
	d.restartAt, d.restartCommit, d.cutNow = time.Time{}, false, false
	d.ram = ram{}
}

// PowerCut cuts the device's power now, for dur; dur ≤ 0 keeps it off
// until PowerOn.
func (d *Device) PowerCut(dur time.Duration) {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.o.Clock.Now()
	d.advance(now)
	d.cutAfterChunk = -1
	d.powerCut(now, dur)
}

// PowerCutAfterChunk arms a power cut in the middle of an update: once
// the device has written chunk k (file 2, record k) to flash and
// answered it, the power goes for dur. CHUNKS_HELD after the power comes
// back is what the firmware had saved: a multiple of 16, or all of them.
func (d *Device) PowerCutAfterChunk(k int, dur time.Duration) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.cutAfterChunk, d.cutFor = k, dur
}

// PowerOn gives power back to a device that is off.
func (d *Device) PowerOn() {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.o.Clock.Now()
	d.advance(now)
	if d.phase == phaseOff {
		d.powerUp(now, resetPowerOn)
	}
}
