package configs

import (
	"io"
	"log/slog"
)

// NewLogger makes the daemon's logger: one line per event, text unless the
// config or forceJSON (the -log-json flag) asks for JSON.
func (l Log) NewLogger(w io.Writer, forceJSON bool) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(l.Level)) // checked when the file was read
	opts := &slog.HandlerOptions{Level: level}
	if forceJSON || l.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
