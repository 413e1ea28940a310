package fwpkg

import (
	"errors"
	"fmt"
)

// Why Open refuses a file. Each error Open returns wraps exactly one.
var (
	// ErrNotPackage: not a firmware package at all (no magic), or one cut
	// short or with fields that contradict its length.
	ErrNotPackage = errors.New("fwpkg: not a firmware package")
	// ErrFormat: a package format version this program does not read.
	ErrFormat = errors.New("fwpkg: unknown package format")
	// ErrUnsigned: a well-formed package without a signature.
	ErrUnsigned = errors.New("fwpkg: package is not signed")
	// ErrTampered: the signature does not verify with the key it names,
	// or an image does not match its SHA-256.
	ErrTampered = errors.New("fwpkg: package was changed after signing")
	// ErrUnknownKey: signed by a key that is not among the trusted ones.
	ErrUnknownKey = errors.New("fwpkg: signed by an unknown key")
	// ErrExpired: the package's expiry time has passed.
	ErrExpired = errors.New("fwpkg: package expired")
)

// Why Check refuses a package for a device.
var (
	ErrWrongModel    = errors.New("fwpkg: wrong device model")
	ErrWrongHardware = errors.New("fwpkg: wrong hardware revision")
	// ErrNotNewer: the package's version is older than or equal to the
	// running one; forcing installs it anyway.
	ErrNotNewer = errors.New("fwpkg: version not newer")
	// ErrTooBig: the image for the device's inactive slot does not fit it.
	ErrTooBig = errors.New("fwpkg: image too big for the slot")
	// ErrBadSlot: the device reports an active slot other than A or B.
	ErrBadSlot = errors.New("fwpkg: device reports no valid active slot")
)

// Key file problems.
var (
	// ErrKeyPermissions: a private key file readable by group or others.
	ErrKeyPermissions = errors.New("fwpkg: private key file is readable by others")
	// ErrKeyFile: a key file that is not in the format Keygen writes.
	ErrKeyFile = errors.New("fwpkg: not a firmware key file")
)

// refusal is one failed check: a sentinel for errors.Is and a sentence
// that says what was found.
type refusal struct {
	kind error
	msg  string
}

func (r *refusal) Error() string { return r.kind.Error() + ": " + r.msg }
func (r *refusal) Unwrap() error { return r.kind }

func refuse(kind error, format string, a ...any) error {
	return &refusal{kind: kind, msg: fmt.Sprintf(format, a...)}
}
