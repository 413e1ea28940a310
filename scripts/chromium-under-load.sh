#!/bin/sh
# Runs the tests that drive a real Chromium on a loaded machine: CPU
# burners (busy loops; two by default, as many as a kiosk's cores) keep
# the processor full while `go test -race -count=1 -run Chromium` runs
# the packages RUNS times in a row (3 by default). It stops at the first
# failure, and the burners are stopped however it ends (Ctrl-C included).
#
#   scripts/chromium-under-load.sh                 3 runs, 2 burners, every package with Chromium tests
#   RUNS=5 BURNERS=4 scripts/chromium-under-load.sh ./kiosk/ ./display/
#
# Exits 0 only if every run passed. make test-load runs it after
# scripts/test-deps.sh.
set -eu
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin:$PWD/.tools/go/bin"

RUNS=${RUNS:-3}
BURNERS=${BURNERS:-2}
[ $# -gt 0 ] || set -- ./kiosk/ ./display/ ./cmd/ ./queue/ ./queue/access/ ./configs/

# Build the test binaries first, unloaded: the load is for the tests.
go test -race -count=1 -run '^$' "$@" >/dev/null

burners=""
stop() {
	for pid in $burners; do kill "$pid" 2>/dev/null || true; done
}
trap stop EXIT
trap 'exit 130' INT TERM HUP
i=0
while [ "$i" -lt "$BURNERS" ]; do
	sh -c 'while :; do :; done' &
	burners="$burners $!"
	i=$((i + 1))
done
echo "== $BURNERS CPU burners running (pids$burners)"

run=1
while [ "$run" -le "$RUNS" ]; do
	echo "== run $run of $RUNS: go test -race -count=1 -run Chromium $*"
	start=$(date +%s)
	if ! go test -race -count=1 -run Chromium "$@"; then
		echo "== run $run of $RUNS FAILED with $BURNERS burners"
		exit 1
	fi
	echo "== run $run of $RUNS passed in $(($(date +%s) - start)) s"
	run=$((run + 1))
done
echo "== all $RUNS runs passed, in a row, with $BURNERS CPU burners"
