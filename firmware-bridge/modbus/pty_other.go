//go:build !linux

package modbus

import (
	"errors"
	"time"
)

// PTY is a pseudo-terminal pair for a simulated bus; only on Linux.
type PTY struct{}

var errNoPTY = errors.New("modbus: pty: only on Linux")

// OpenPTY fails outside Linux.
func OpenPTY() (*PTY, error)                      { return nil, errNoPTY }
func (p *PTY) Path() string                       { return "" }
func (p *PTY) Link(string) error                  { return errNoPTY }
func (p *PTY) SetReadTimeout(time.Duration) error { return errNoPTY }
func (p *PTY) Read([]byte) (int, error)           { return 0, errNoPTY }
func (p *PTY) Write([]byte) (int, error)          { return 0, errNoPTY }
func (p *PTY) Drain() error                       { return errNoPTY }
func (p *PTY) Close() error                       { return nil }
