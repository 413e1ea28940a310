// Package emulator plays the devices of the queue-hardware bus — the
// window display CHG-WD1, the operator keypad CHG-KP1 and the rating panel
// CHG-RP1 — as complete implementations of firmware-bridge/PROTOCOL.md on
// the device side, for the host's tests, for `make run` and for
// `kioskctl bridge emulate`.
//
// A [Device] is one unit: every register of section 4 and of its type
// (sections 6–8), the exceptions of section 3, the broadcast rule, the
// identification objects of section 9, the acknowledged event ring of
// section 5 and the firmware update engine of section 10 with its A/B
// slots, trial and revert. Where PROTOCOL.md leaves a choice open it does
// what the reference firmware (firmware/app) does, and the notes from the
// emulator at the end of PROTOCOL.md say where it differs.
//
// A [Bus] puts many devices on one port behind one modbus.Server and can
// make each of them misbehave at run time ([Fault]: silent, corrupt,
// slow, garbage; power cuts, also in the middle of an update).
//
// # Memory that survives
//
// What the firmware keeps in EEPROM and flash — serial number, line
// settings, BOOT_COUNT, EV_LOST, the event journal, the manifest and the
// saved CHUNKS_HELD, the bootloader's boot state, the two slots' images —
// is one JSON file per device under Options.StateDir, replaced atomically
// (written, synced, renamed, directory synced) at the moment the firmware
// would write its EEPROM. A power cut ([Device.PowerCut]) loses only RAM
// (SYNC, texts, LEDs, blink, prompts, CHUNKS_HELD since the last save); so
// does a restart of the process, even by SIGKILL. Without a StateDir the
// same state lives in memory, and survives power cuts but not the process.
//
// # Time
//
// Everything that depends on time (uptime, event ages, blink, prompts,
// the 60 s trial, VERIFY's duration, a power cut's length) is computed
// from one injected clockwork clock when the device is next touched, so
// tests advance a fake clock instead of sleeping.
//
// # Images
//
// Image bytes are not executed. The version a slot runs is the manifest's
// VERSION at COMMIT; a slot whose first two bytes are 0xFF 0xFF is empty
// and never booted (a trial of it reverts at once, firmware note 14). An
// image may carry a marker, anywhere in its bytes, that the emulator
// reads when it boots the slot:
//
//   - [MarkerCrash] ("CHERGA-EMU:CRASH-AT-BOOT"): the image crashes at
//     once; the watchdog resets the device after Options.WatchdogTime, and
//     a trial reverts (UPD_STATE 7, LAST_ERROR 12);
//   - [MarkerMute] ("CHERGA-EMU:MUTE"): the image runs but never speaks the
//     bus; a trial restarts itself after 60 s and reverts.
//
// What it must never do: answer a broadcast, answer a frame with a bad CRC
// or another address, or lose or repeat an event the host acknowledged.
package emulator
