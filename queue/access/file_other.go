//go:build !(linux || darwin || freebsd || openbsd || netbsd || dragonfly)

package access

// Elsewhere (Windows, for development only) there is no flock and no
// Unix mode: edits from two processes at once may race, and the file's
// protection is the directory's ACL.
const permissionsMatter = false

func lockFile(string) (func(), error) { return func() {}, nil }

func syncDir(string) error { return nil }
