#!/bin/sh
# Installs, only where missing, what `make test` needs on a Debian machine:
# a C compiler for the race detector, espeak-ng (phrase packs), aplay (the
# ALSA output), Chromium and a font with Cyrillic (the pages, tested in a
# real browser), and Go itself (from the Go module proxy) if the machine has
# none.
set -eu

GO_VERSION=1.26.8   # any Go >= 1.21 fetches the go.mod toolchain by itself

# Debian packages the tests use, as "command:package" or "/file:package".
NEEDS="gcc:gcc espeak-ng:espeak-ng aplay:alsa-utils chromium:chromium
/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf:fonts-dejavu-core"

missing=""
for pair in $NEEDS; do
	what=${pair%%:*}; pkg=${pair#*:}
	case $what in
		/*) [ -e "$what" ] || missing="$missing $pkg" ;;
		*) command -v "$what" >/dev/null 2>&1 || missing="$missing $pkg" ;;
	esac
done
if ! command -v go >/dev/null 2>&1 && ! [ -x .tools/go/bin/go ]; then
	command -v curl >/dev/null 2>&1 || missing="$missing curl ca-certificates"
	command -v unzip >/dev/null 2>&1 || missing="$missing unzip"
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

if ! command -v go >/dev/null 2>&1 && ! [ -x .tools/go/bin/go ]; then
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
