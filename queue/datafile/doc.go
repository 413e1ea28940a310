// Package datafile writes the files of queued's data directory
// (access.json, booking.key, a backup's copies): atomically, so that a
// crash leaves the old file or the new one and never half of one, and
// with the owner the directory's user expects.
//
// The owner matters because technicians run `queued user`, `queued
// token` and `queued backup` from a root shell while queued itself runs
// as its own user (cherga): a file a root process made is root's, mode
// 0600, and queued could no longer read it. When the process runs as root
// and the file it replaces, or else the directory it writes into, belongs
// to another user, the new file is given that user and group before it
// takes the old one's place. This package never loosens a file's mode:
// everything it makes is 0600.
package datafile
