// Package access decides who may use queued: the accounts of the people
// who sign in to the operators' and supervisors' pages, the API tokens of
// programs (the booking site, a reception desk, monitoring), their
// sessions, and the HTTP guards every request of queued passes.
//
// Accounts and tokens live in one JSON file (normally data_dir/access.json,
// mode 0600) that both the running server and `queued user` / `queued
// token` from a shell edit under a file lock; sessions live in queued's own
// bbolt database, so a restart signs nobody out.
//
// A server wraps its whole handler in [Guard.Protect] (Host check, CSRF
// check, security headers), registers [Guard.Routes] (sign-in, sign-out,
// /api/v1/me, the /login page) and wraps each protected route in
// [Guard.Require] or [Guard.RequireSession]; handlers read who is asking
// with [FromContext].
//
// This package must never store a password, a session id or an API token
// in the clear, nor log, print or answer one: the file holds argon2id
// hashes of passwords and SHA-256 sums of tokens, the database holds
// SHA-256 sums of session ids, and a new token is shown exactly once, to
// the person who made it.
package access
