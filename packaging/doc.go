// Package packaging holds what makes the cherga Debian package (make
// package, scripts/package.sh): the nfpm configuration (nfpm.yaml), the
// maintainer scripts (scripts/), the system user and data directories
// (sysusers.conf, tmpfiles.conf), the copyright file and the lintian
// overrides. It has no Go code; its test builds the package, lints it and
// installs, upgrades, removes and purges it under dpkg --root.
package packaging
