package configs

import "os"

// DefaultPath is a daemon's -config default: installed, where the cherga
// package put that file, else checkout, the demo file of a source tree.
func DefaultPath(installed, checkout string) string {
	if _, err := os.Stat(installed); err == nil {
		return installed
	}
	return checkout
}
