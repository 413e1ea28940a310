// Package flash is the host's side of a firmware update over the bus
// (firmware-bridge/PROTOCOL.md 10.6): it puts a verified package
// (firmware-bridge/fwpkg) on one device, resumes a transfer that was cut
// short, and confirms the new image only once the device runs it.
//
// [Update] reads the device's identity and update status, checks the
// package against it before a byte is written (fwpkg.Package.Check),
// writes the manifest (file 1) or resumes the transfer the device holds,
// sends the image chunk by chunk (file 2, CRC-32 each), has the device
// verify the SHA-256, commits, waits for the restart and confirms the
// trial. It reports progress for a progress bar and lets a bus scheduler
// poll other devices between requests. Errors name the phase that failed
// and what the device said (LAST_ERROR in words).
//
// It never talks to any unit but the one it updates, never confirms an
// image the device does not run, and never sends a chunk of a package
// that failed a check.
package flash
