#!/bin/sh
# Installs, only where missing, what `make test` needs on a Debian machine:
# a C compiler for the race detector, the AVR toolchain and simavr (the
# firmware under simulation), espeak-ng (phrase packs), aplay (the
# ALSA output), Chromium and a font with Cyrillic (the pages, tested in a
# real browser), Go itself (from the Go module proxy) if the machine has
# none, and axe-core (from the npm registry, checked against its published
# sha512) for the pages' accessibility audit. Run it again at will: it
# fetches nothing that is already there.
set -eu
cd "$(dirname "$0")/.."

GO_VERSION=1.26.8   # any Go >= 1.21 fetches the go.mod toolchain by itself

# axe-core, MPL-2.0: only axe.min.js and its licence files are kept, in
# .tools/axe-core/. AXE_SHA512 is the registry's dist.integrity for this
# version (npm view axe-core@$AXE_VERSION dist.integrity), without "sha512-".
AXE_VERSION=4.14.1
AXE_SHA512=FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ==
AXE_DIR=.tools/axe-core

# Debian packages the tests use, as "command:package" or "/file:package".
# gcc-avr, avr-libc, simavr and libsimavr-dev build the ATmega328P firmware
# and its simulator harness (firmware-bridge/firmware, `make firmware`).
# mbpoll, socat, python3-pymodbus and python3-serial-asyncio (its serial
# transport, only recommended) are the independent Modbus implementations
# of the bus's interoperability tests (firmware-bridge/modbus).
# systemd gives systemd-analyze, which verifies configs/systemd/'s units.
# prometheus gives promtool, which lints both daemons' /metrics.
# lintian checks the Debian package (packaging/); dpkg-deb and dpkg are
# Debian's own.
# e2fsprogs (mkfs.ext4) and util-linux (fsfreeze) give the frozen disk of
# cmd/watchdog_test.go (used as root only; SIGSTOP plays it otherwise).
# postgresql is the city's database (city/pgtest runs throwaway clusters of
# it; its binaries live in /usr/lib/postgresql/<version>/bin, not on PATH).
NEEDS="gcc:gcc espeak-ng:espeak-ng aplay:alsa-utils chromium:chromium
/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf:fonts-dejavu-core
avr-gcc:gcc-avr /usr/lib/avr/include/avr/io.h:avr-libc
simavr:simavr /usr/include/simavr/sim_avr.h:libsimavr-dev
mbpoll:mbpoll socat:socat
/usr/lib/python3/dist-packages/pymodbus/__init__.py:python3-pymodbus
/usr/lib/python3/dist-packages/serial_asyncio/__init__.py:python3-serial-asyncio
systemd-analyze:systemd promtool:prometheus lintian:lintian
mkfs.ext4:e2fsprogs fsfreeze:util-linux"
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
	NEEDS="$NEEDS /usr/lib/postgresql/no-initdb:postgresql"
fi

missing=""
for pair in $NEEDS; do
	what=${pair%%:*}; pkg=${pair#*:}
	case $what in
		/*) [ -e "$what" ] || missing="$missing $pkg" ;;
		*) command -v "$what" >/dev/null 2>&1 || missing="$missing $pkg" ;;
	esac
done
need_go=false need_axe=false
if ! command -v go >/dev/null 2>&1 && ! [ -x .tools/go/bin/go ]; then
	need_go=true
	command -v unzip >/dev/null 2>&1 || missing="$missing unzip"
fi
if ! [ -s "$AXE_DIR/axe.min.js" ] || [ "$(cat "$AXE_DIR/VERSION" 2>/dev/null)" != "$AXE_VERSION" ]; then
	need_axe=true
fi
if { $need_go || $need_axe; } && ! command -v curl >/dev/null 2>&1; then
	missing="$missing curl ca-certificates"
fi

if [ -n "$missing" ]; then
	if ! command -v apt-get >/dev/null 2>&1; then
		echo "test-deps: missing:$missing; install them with your package manager" >&2
		exit 1
	fi
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	echo "test-deps: installing$missing"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing
fi

if $need_go; then
	arch=$(uname -m)
	case $arch in
		x86_64) arch=amd64 ;;
		aarch64) arch=arm64 ;;
		armv7l|armv6l) arch=armv6l ;;
	esac
	url="https://proxy.golang.org/golang.org/toolchain/@v/v0.0.1-go$GO_VERSION.linux-$arch.zip"
	echo "test-deps: fetching Go $GO_VERSION from the module proxy"
	mkdir -p .tools
	curl -fsSL -o .tools/go.zip "$url"
	rm -rf .tools/unpack && mkdir -p .tools/unpack
	unzip -q .tools/go.zip -d .tools/unpack
	mv .tools/unpack/golang.org/toolchain@*/ .tools/go
	chmod +x .tools/go/bin/* .tools/go/pkg/tool/*/* 2>/dev/null || true
	rm -rf .tools/unpack .tools/go.zip
fi

if $need_axe; then
	echo "test-deps: fetching axe-core $AXE_VERSION from the npm registry"
	mkdir -p .tools
	rm -rf .tools/axe-core.tgz .tools/axe-unpack
	curl -fsSL -o .tools/axe-core.tgz "https://registry.npmjs.org/axe-core/-/axe-core-$AXE_VERSION.tgz"
	# sha512sum, base64 and od are all in coreutils, on every Debian.
	want=$(printf '%s' "$AXE_SHA512" | base64 -d | od -An -v -tx1 | tr -d ' \n')
	got=$(sha512sum .tools/axe-core.tgz | cut -d' ' -f1)
	if [ "$got" != "$want" ]; then
		rm -f .tools/axe-core.tgz
		echo "test-deps: axe-core-$AXE_VERSION.tgz does not match its sha512 (got $got)" >&2
		exit 1
	fi
	mkdir -p .tools/axe-unpack
	tar -xzf .tools/axe-core.tgz -C .tools/axe-unpack \
		package/axe.min.js package/LICENSE package/LICENSE-3RD-PARTY.txt
	echo "$AXE_VERSION" >.tools/axe-unpack/package/VERSION
	rm -rf "$AXE_DIR"
	mv .tools/axe-unpack/package "$AXE_DIR"
	rm -rf .tools/axe-unpack .tools/axe-core.tgz
fi
