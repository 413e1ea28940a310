package terminal

import "context"

// Ping returns nil once the terminal's committer (every change to
// kioskd.db goes through it) has taken a ping: with GET /healthz, kioskd's
// systemd watchdog check. It waits until ctx ends while the committer is
// stuck; see link.Store.Ping.
func (t *Terminal) Ping(ctx context.Context) error { return t.store.Ping(ctx) }
