package ports

import "strings"

// ParseUevent reads a sysfs uevent file: KEY=value lines (MAJOR=188,
// DEVNAME=ttyUSB0). Lines without "=" are skipped; a key given twice
// keeps its last value.
func ParseUevent(b []byte) map[string]string {
	out := map[string]string{}
	for line := range strings.SplitSeq(string(b), "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		if ok && k != "" {
			out[k] = v
		}
	}
	return out
}
