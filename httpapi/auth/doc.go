// Package auth holds what both daemons need to let a person sign in with a
// password: argon2id password hashes as PHC strings (password.go), and a
// limiter of failed sign-ins per key (limit.go). queued's accounts
// (queue/access) and kioskd's admin listener (terminal) use the same code.
//
// It must never keep, log or return a password in the clear; it knows
// nothing of accounts, sessions or HTTP.
package auth
