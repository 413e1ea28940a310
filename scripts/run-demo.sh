#!/bin/sh
# The whole simulated office on one machine: queued (the central server)
# and one kioskd doing the kiosk, hall and window roles with simulated
# devices. Data stays under ./var. Ctrl-C stops both cleanly.
set -u

mkdir -p var
bin/queued -config configs/office.yaml &
queued=$!
bin/kioskd -config configs/demo.yaml &
kioskd=$!

stop() {
	kill -TERM "$kioskd" "$queued" 2>/dev/null
}
trap stop INT TERM

# wait_exit PID: its exit status, waiting again when a signal interrupts.
wait_exit() {
	while :; do
		wait "$1"
		status=$?
		kill -0 "$1" 2>/dev/null || return $status
	done
}

if bin/kioskctl health -addr 127.0.0.1:8080 -wait 10s >/dev/null; then
	cat <<URLS

  The simulated office is running. Open:
    Kiosk (take a ticket)   http://127.0.0.1:8080/kiosk/
    Hall display            http://127.0.0.1:8080/hall/
    Window 3 display        http://127.0.0.1:8080/window/
    LED boards (simulated)  http://127.0.0.1:8080/boards/
    Operator, window 3      http://127.0.0.1:8090/operator/?window=3
    Health                  http://127.0.0.1:8080/healthz

  Printed tickets:   var/demo-01/tickets/*.png
  Announcements:     var/demo-01/announcements/*.wav
  Scan a code:       bin/kioskctl scan BK-1234
  Press the button:  bin/kioskctl press BUTTON
  Ctrl-C stops both.

URLS
else
	echo "run-demo: kioskd did not answer on 127.0.0.1:8080 within 10 s; see the log above" >&2
	stop
fi

wait_exit "$kioskd"; k=$?
wait_exit "$queued"; q=$?
echo "run-demo: kioskd exited $k, queued exited $q"
[ "$k" -eq 0 ] && [ "$q" -eq 0 ]
