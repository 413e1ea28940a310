#!/bin/sh
# Builds the cherga Debian packages, one per architecture, into dist/:
#   dist/cherga_<version>_amd64.deb, _arm64.deb, _armhf.deb
# (armhf is GOARCH=arm GOARM=7). The programs are built as `make build`
# builds them (static, CGO_ENABLED=0, -trimpath, -X main.version=VERSION);
# nfpm (pinned in tools/nfpm.mod) packs them with packaging/nfpm.yaml.
#
# Environment (all optional):
#   VERSION      the programs' version (default: git describe, as make's)
#   DEB_VERSION  the package's upstream version (default: from VERSION, below)
#   DEB_RELEASE  the Debian revision (default 1)
#   ARCHS        Debian architectures (default "amd64 arm64 armhf")
#   DIST         output directory (default dist)
#   MAINTAINER   "Name <address>" (default: the last commit's author)
#
# DEB_VERSION from VERSION (git describe --always --dirty):
#   v1.2.0              -> 1.2.0         (a tag; v1.2.0-rc1 -> 1.2.0~rc1)
#   v1.2.0-5-gabc1234   -> 1.2.0+git20261202040513.abc1234
#   abc1234             -> 0.0~git20261202040513.abc1234  (no tag yet)
#   …-dirty             -> …+dirty
# where the number is the commit's time (UTC), so later commits sort later.
set -eu
cd "$(dirname "$0")/.."

VERSION=${VERSION:-$(git describe --always --dirty 2>/dev/null || echo dev)}
ARCHS=${ARCHS:-amd64 arm64 armhf}
DIST=${DIST:-dist}
DEB_RELEASE=${DEB_RELEASE:-1}
MAINTAINER=${MAINTAINER:-$(git log -1 --format='%an <%ae>' 2>/dev/null || echo 'cherga maintainers <maintainers@cherga.invalid>')}
# The files' times: the commit's, so two builds of a commit are alike.
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}

# tagver v1.2.0-rc1 -> 1.2.0~rc1
tagver() {
	printf '%s\n' "${1#v}" | sed 's/-/~/g'
}

if [ -z "${DEB_VERSION:-}" ]; then
	d=$VERSION dirty=""
	case $d in *-dirty) d=${d%-dirty} dirty="+dirty" ;; esac
	ts=$(TZ=UTC git log -1 --format=%cd --date=format-local:%Y%m%d%H%M%S 2>/dev/null || echo 0)
	if printf '%s' "$d" | grep -Eq '^[0-9a-f]{7,40}$'; then
		DEB_VERSION="0.0~git$ts.$d$dirty"
	elif printf '%s' "$d" | grep -Eq '^v?[0-9][0-9A-Za-z.~+-]*-[0-9]+-g[0-9a-f]+$'; then
		hash=${d##*-g} tag=${d%-*-g*}
		DEB_VERSION="$(tagver "$tag")+git$ts.$hash$dirty"
	elif printf '%s' "$d" | grep -Eq '^v?[0-9][0-9A-Za-z.~+-]*$'; then
		DEB_VERSION="$(tagver "$d")$dirty"
	else
		DEB_VERSION="0.0~$(printf '%s' "$d" | tr -c 'A-Za-z0-9.+~' '.')$dirty"
	fi
fi
if command -v dpkg >/dev/null 2>&1 && ! dpkg --validate-version "$DEB_VERSION-$DEB_RELEASE" 2>/dev/null; then
	echo "package: $DEB_VERSION-$DEB_RELEASE is not a Debian version" >&2
	exit 1
fi
# -print-version: the package's full version, nothing built.
if [ "${1:-}" = "-print-version" ]; then
	echo "$DEB_VERSION-$DEB_RELEASE"
	exit 0
fi

STAGE=$DIST/stage
rm -rf "$STAGE"
trap 'rm -rf "$STAGE"' EXIT
mkdir -p "$STAGE/man"

# Man pages and the changelog, gzipped without names or times (-n).
for m in docs/man/*.1; do
	gzip -9nc "$m" >"$STAGE/man/$(basename "$m").gz"
done
when=$(date -u -R -d "@$SOURCE_DATE_EPOCH" 2>/dev/null || date -u -R)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
{
	printf 'cherga (%s-%s) unstable; urgency=medium\n\n' "$DEB_VERSION" "$DEB_RELEASE"
	printf '  * Built by make package from commit %s.\n\n' "$commit"
	printf ' -- %s  %s\n' "$MAINTAINER" "$when"
} | gzip -9n >"$STAGE/changelog.Debian.gz"

# docs/install.md, or a pointer to it while it is not written.
if [ -f docs/install.md ]; then
	cp docs/install.md "$STAGE/install.md"
else
	printf '# Installing cherga\n\nSee README.md in the source: https://github.com/cherga/kiosk\n' >"$STAGE/install.md"
fi

# The installed office: the demo catalogue with an installed system's data
# directory (its forms_dir, forms, is beside it: /etc/queued/forms/).
{
	printf '%s\n' \
		"# Installed by the cherga package as /etc/queued/office.yaml: the demo" \
		"# office of configs/office.yaml with data_dir /var/lib/queued. Replace the" \
		"# office's id, name, catalogue and windows with the centre's own, and for" \
		"# terminals on other machines set listen, names, tls and terminals." \
		"# Check: queued -check -config /etc/queued/office.yaml" \
		""
	sed 's|^data_dir: var/queued$|data_dir: /var/lib/queued|' configs/office.yaml
} >"$STAGE/office.yaml"
if ! grep -q '^data_dir: /var/lib/queued$' "$STAGE/office.yaml" || ! grep -q '^forms_dir: forms$' "$STAGE/office.yaml"; then
	echo "package: configs/office.yaml's data_dir or forms_dir moved; update scripts/package.sh" >&2
	exit 1
fi

# The installed city service: configs/city.yaml with data_dir
# /var/lib/cityd and a database on this machine, reached by its socket as
# the user cherga (peer authentication), which a site changes where the
# database is elsewhere.
{
	printf '%s\n' \
		"# Installed by the cherga package as /etc/cityd/city.yaml: configs/city.yaml" \
		"# with data_dir /var/lib/cityd and database.dsn a PostgreSQL on this machine" \
		"# (its socket, the role cherga). Set the city's name, listen, names, tls" \
		"# and the database's dsn (and password_file) to the city's own." \
		"# Check: cityd -check -config /etc/cityd/city.yaml" \
		""
	sed -e 's|^data_dir: var/cityd$|data_dir: /var/lib/cityd|' \
		-e 's|^  dsn: .*$|  dsn: "host=/run/postgresql dbname=city"|' \
		configs/city.yaml
} >"$STAGE/city.yaml"
if ! grep -q '^data_dir: /var/lib/cityd$' "$STAGE/city.yaml" || ! grep -q '^  dsn: "host=/run/postgresql dbname=city"$' "$STAGE/city.yaml"; then
	echo "package: configs/city.yaml's data_dir or database.dsn moved; update scripts/package.sh" >&2
	exit 1
fi

mkdir -p "$DIST"
for a in $ARCHS; do
	case $a in
	amd64 | arm64) goarch=$a ;;
	armhf) goarch=arm ;;
	*) echo "package: unknown architecture $a" >&2; exit 1 ;;
	esac
	echo "package: build $a"
	CGO_ENABLED=0 GOOS=linux GOARCH=$goarch GOARM=7 \
		go build -trimpath -ldflags "-s -w -X main.version=$VERSION" \
		-o "$STAGE/bin/$a/" ./cmd/kioskd ./cmd/queued ./cmd/kioskctl ./cmd/cityd
	DEB_ARCH=$a DEB_VERSION=$DEB_VERSION DEB_RELEASE=$DEB_RELEASE MAINTAINER=$MAINTAINER \
		STAGE=$STAGE SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH \
		go tool -modfile=tools/nfpm.mod nfpm package --config packaging/nfpm.yaml \
		--packager deb --target "$DIST/cherga_$DEB_VERSION-${DEB_RELEASE}_$a.deb" >/dev/null
	echo "package: $DIST/cherga_$DEB_VERSION-${DEB_RELEASE}_$a.deb"
done
