// Package fwpkg is the signed firmware package (.fw) of our bus devices
// (window display, operator keypad, rating panel): what a release is
// shipped as, and the checks the host makes before a single byte of it
// goes on the bus (firmware-bridge/PROTOCOL.md 10.2 and 10.8).
//
// A package holds one device type's release for one hardware revision:
// its version, when it was made and until when it may be installed, and
// both links of the image (slot A and slot B, PROTOCOL.md 10.1), each with
// its size and SHA-256, signed with ed25519 (crypto/ed25519) over
// everything before the signature.
//
//   - [Keygen], [LoadPrivateKey], [LoadPublicKeys]: the signing key pair,
//     in a one-line text format (PROTOCOL.md 10.8);
//   - [Sign] makes a package; [Open] parses and verifies one (signature,
//     hashes, key, expiry) and says which check failed;
//   - [Package.Check] refuses a package that does not fit a device (model,
//     hardware revision, version, slot size).
//
// Every refusal is a distinct error value for errors.Is and a sentence
// that names both sides. The package never talks to a device:
// firmware-bridge/flash does, after these checks.
package fwpkg
