package city

import "errors"

var (
	// ErrSchema: the database's schema is not the one this build knows
	// (older: run cityd, which migrates; newer: upgrade this program).
	ErrSchema = errors.New("city: schema version mismatch")
	// ErrOfficeTaken: another instance has registered the office id.
	ErrOfficeTaken = errors.New("city: office id taken by another instance")
	// ErrOrder: Append was given events not in strictly increasing seq order.
	ErrOrder = errors.New("city: events not in seq order")
	// ErrNotRegistered: the office has never been registered.
	ErrNotRegistered = errors.New("city: office not registered")
)
