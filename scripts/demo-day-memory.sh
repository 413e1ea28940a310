#!/bin/sh
# A demo day's memory: queued and one kioskd started as `make run` starts
# them (configs/office.yaml and configs/demo.yaml, every device simulated,
# the printer writing PNGs), with their data in a temporary directory and
# ports the system picks, so a `make run` beside it is not disturbed. It
# takes TICKETS tickets at the kiosk API (2,000, spread over ten services
# of ten groups), makes CALLS calls at window 3 (500), waits until kioskd
# has delivered every event to queued, and prints kioskd's resident memory
# now (VmRSS) and at its peak (VmHWM), and queued's. Linux only (/proc).
#
#   scripts/demo-day-memory.sh                    builds the binaries into the temporary directory
#   BIN=bin scripts/demo-day-memory.sh            uses binaries built before (make host)
#   TICKETS=200 CALLS=50 scripts/demo-day-memory.sh
#
# Exits 0 if kioskd's peak stayed under LIMIT_MB (40), 1 if not, 2 if the
# day could not be run. Everything it started and wrote is removed however
# it ends (Ctrl-C included).
set -u
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin:$PWD/.tools/go/bin"

TICKETS=${TICKETS:-2000}
CALLS=${CALLS:-500}
LIMIT_MB=${LIMIT_MB:-40}

fail() {
	echo "demo-day-memory: $*" >&2
	exit 2
}
[ -r /proc/self/status ] || fail "needs Linux: kioskd's memory is read from /proc/PID/status"
command -v curl >/dev/null || fail "needs curl"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/demo-day-memory.XXXXXX") || fail "no temporary directory"
queued=""
kioskd=""
cleanup() {
	for pid in $kioskd $queued; do kill -TERM "$pid" 2>/dev/null; done
	for pid in $kioskd $queued; do wait "$pid" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

if [ -z "${BIN:-}" ]; then
	echo "== building queued and kioskd"
	go build -trimpath -o "$tmp/bin/" ./cmd/queued ./cmd/kioskd || fail "go build failed"
	BIN=$tmp/bin
fi

# edit FILE OUT FROM TO...: OUT is FILE with each whole line FROM replaced
# by TO; a line not found means the shipped config changed shape.
edit() {
	src=$1 out=$2
	shift 2
	cp "$src" "$out"
	while [ $# -ge 2 ]; do
		grep -qxF "$1" "$out" || fail "$src: no line '$1' to change"
		awk -v from="$1" -v to="$2" '$0 == from { print to; next } { print }' "$out" >"$out.new" && mv "$out.new" "$out"
		shift 2
	done
}

# log_value LOG MSG KEY: KEY's value on the first line of LOG with
# msg="MSG", once it is there (10 s at most).
log_value() {
	i=0
	while [ "$i" -lt 100 ]; do
		v=$(sed -n "s/.*msg=\"$2\".* $3=\([^ ]*\).*/\1/p" "$1" | head -n 1)
		[ -n "$v" ] && { echo "$v"; return 0; }
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# Listening on port 0: each daemon logs the port it got. (The tickets'
# QR codes still name 8090: configs/office.yaml's tracking_url is text.)
edit configs/office.yaml "$tmp/office.yaml" \
	"listen: 127.0.0.1:8090" "listen: 127.0.0.1:0" \
	"data_dir: var/queued" "data_dir: $tmp/queued" \
	"forms_dir: forms" "forms_dir: $PWD/configs/forms"
"$BIN/queued" token -name mem -scope admin -config "$tmp/office.yaml" >"$tmp/token" 2>/dev/null ||
	fail "queued token failed"
token=$(cat "$tmp/token")
"$BIN/queued" -config "$tmp/office.yaml" >"$tmp/queued.log" 2>&1 &
queued=$!
qaddr=$(log_value "$tmp/queued.log" "queued started" listen) || fail "queued did not start: $(cat "$tmp/queued.log")"

edit configs/demo.yaml "$tmp/demo.yaml" \
	"data_dir: var/demo-01" "data_dir: $tmp/demo-01" \
	"  listen: 127.0.0.1:8080" "  listen: 127.0.0.1:0" \
	"  url: ws://127.0.0.1:8090/api/v1/link" "  url: ws://$qaddr/api/v1/link" \
	"    pack_dir: var/voice" "    pack_dir: $tmp/voice"
"$BIN/kioskd" -config "$tmp/demo.yaml" >"$tmp/kioskd.log" 2>&1 &
kioskd=$!
kurl=$(log_value "$tmp/kioskd.log" "kioskd started" listen) || fail "kioskd did not start: $(cat "$tmp/kioskd.log")"
log_value "$tmp/kioskd.log" "link up" url >/dev/null || fail "kioskd's link to queued did not come up"

# memory PID: its VmRSS and VmHWM in MB.
memory() {
	awk '/^VmRSS:/ { rss = $2 } /^VmHWM:/ { hwm = $2 }
		END { printf "VmRSS %.1f MB, VmHWM %.1f MB", rss / 1024, hwm / 1024 }' "/proc/$1/status"
}
echo "== started: queued at http://$qaddr, kioskd at $kurl; kioskd $(memory "$kioskd")"

# The kiosk API takes requests from the kiosk page's origin only.
services="subsidy-housing benefit-utilities assist-birth certificate-income veteran-status
	chornobyl-card sanatorium-voucher rehab-wheelchair pension-age other-consultation"
start=$(date +%s)
n=0 bad=0
while [ "$n" -lt "$TICKETS" ]; do
	for s in $services; do
		[ "$n" -lt "$TICKETS" ] || break
		code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
			-H "Origin: $kurl" -d "{\"service\":\"$s\"}" "$kurl/api/v1/tickets")
		[ "$code" = 201 ] || bad=$((bad + 1))
		n=$((n + 1))
	done
	[ "$bad" -le 10 ] || fail "tickets refused ($bad of $n; last answer $code)"
done
echo "== $TICKETS tickets taken ($bad refused) in $(($(date +%s) - start)) s; kioskd $(memory "$kioskd")"

start=$(date +%s)
n=0 bad=0
while [ "$n" -lt "$CALLS" ]; do
	code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $token" \
		"http://$qaddr/api/v1/windows/3/next")
	[ "$code" = 200 ] || bad=$((bad + 1))
	[ "$bad" -le 10 ] || fail "calls refused ($bad of $n; last answer $code)"
	n=$((n + 1))
done
echo "== $CALLS calls made ($bad refused) in $(($(date +%s) - start)) s"

# Settled when kioskd's outbox is empty: queued has every ticket, every
# call shown and announced.
i=0
while :; do
	events=$(curl -s "$kurl/healthz" | tr -d ' \t\n' | sed -n 's/.*"outbox":{"events":\([0-9]*\).*/\1/p')
	[ "$events" = 0 ] && break
	i=$((i + 1))
	[ "$i" -lt 600 ] || fail "kioskd's outbox still holds ${events:-?} events after 60 s"
	sleep 0.1
done
printed=$(find "$tmp/demo-01/tickets" -name '*.png' | wc -l)
spoken=$(find "$tmp/demo-01/announcements" -name '*.wav' | wc -l)
hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$kioskd/status")

echo "== a demo day: $TICKETS tickets ($printed PNGs), $CALLS calls ($spoken announcements)"
echo "   kioskd: $(memory "$kioskd") (target: under $LIMIT_MB MB)"
echo "   queued: $(memory "$queued")"
echo "   machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
[ "$hwm" -lt $((LIMIT_MB * 1024)) ]
