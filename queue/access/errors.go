package access

import (
	"errors"

	"github.com/cherga/kiosk/httpapi/auth"
)

// Errors that callers may test with errors.Is. Each is wrapped with what
// to fix where that is known.
var (
	// ErrBadName: a user or token name is not 1–32 lowercase letters,
	// digits, dots and dashes.
	ErrBadName = errors.New("access: bad name")
	// ErrBadRole: a role other than operator, supervisor or admin.
	ErrBadRole = errors.New("access: bad role")
	// ErrBadScope: a scope other than the ones in Scopes.
	ErrBadScope = errors.New("access: bad scope")
	// ErrBadWindow: a window number below 1 or listed twice.
	ErrBadWindow = errors.New("access: bad window")
	// ErrBadPassword: a new password too short or too long.
	ErrBadPassword = errors.New("access: bad password")
	// ErrUserExists and ErrTokenExists: the name is taken.
	ErrUserExists  = errors.New("access: the account exists")
	ErrTokenExists = errors.New("access: the token exists")
	// ErrNoUser and ErrNoToken: no account or token has that name.
	ErrNoUser  = errors.New("access: no such account")
	ErrNoToken = errors.New("access: no such token")

	// ErrInsecureFile: group or others may read or write the accounts
	// file.
	ErrInsecureFile = errors.New("access: the accounts file is not private")
	// ErrBadStore: the accounts file is not what this package writes.
	ErrBadStore = errors.New("access: bad accounts file")
	// ErrBadHash: a password hash is not an argon2id PHC string this
	// package can check.
	ErrBadHash = auth.ErrBadHash

	// ErrNoCredential: the request carries neither a session cookie nor
	// an Authorization header.
	ErrNoCredential = errors.New("access: no credential")
	// ErrBadToken: the Authorization header is not a known Bearer token.
	ErrBadToken = errors.New("access: unknown API token")
	// ErrSessionEnded: the session cookie names no live session (signed
	// out, expired, or its account was removed, disabled or given a new
	// password).
	ErrSessionEnded = errors.New("access: the session has ended")
)
