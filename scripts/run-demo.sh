#!/bin/sh
# The whole simulated office on one machine: queued (the central server),
# one kioskd doing the kiosk, hall and window roles with simulated
# devices, and the device emulator playing the RS-485 bus of windows 3
# and 4 (window displays, keypads, a rating panel) that kioskd drives.
# Data stays under ./var. Ctrl-C stops all three cleanly.
#
# The first run also makes the demo's accounts (an operator per window, a
# supervisor, an admin) and an API token with every scope; later runs keep
# them and print them again.
set -u

office=configs/office.yaml
# configs/office.yaml's data_dir: queued keeps its accounts and tokens there.
access=var/queued/access.json
logins=var/demo-logins.txt
token_file=var/api-token
# configs/demo.yaml's buses[0]: port and emulator.
bus_link=var/bus1
bus_control=127.0.0.1:8095

mkdir -p var

# password: a fresh random password, 72 bits as xxxxxx-xxxxxx-xxxxxx.
password() {
	od -An -N9 -tx1 /dev/urandom | tr -d ' \n' | sed 's/^\(......\)\(......\)/\1-\2-/'
}

# add_user NAME ROLE WINDOWS DISPLAY HINT: makes the account with a new
# password and adds its line to the logins file.
add_user() {
	pw=$(password)
	if ! out=$(printf '%s\n' "$pw" | bin/queued user add "$1" -role "$2" -windows "$3" -display "$4" \
		-password-stdin -config "$office" 2>&1 >/dev/null); then
		echo "run-demo: queued user add $1: $out" >&2
		return 1
	fi
	printf '    %-12s %-22s %s\n' "$1" "$pw" "$5" >>"$logins.new"
}

# make_access makes every demo account and the API token; on any failure
# it leaves nothing behind, so the next run tries again.
make_access() {
	rm -f "$logins.new" "$token_file"
	printf '  Accounts (sign in at http://127.0.0.1:8090/login):\n' >"$logins.new"
	printf '    %-12s %-22s %s\n' account password "may" >>"$logins.new"
	n=1
	while [ "$n" -le 10 ]; do
		add_user "operator$n" operator "$n" "Оператор вікна $n" "window $n" || return 1
		n=$((n + 1))
	done
	add_user supervisor supervisor all "Керівник центру" "every window, reports" || return 1
	add_user admin admin all "Адміністратор" "everything" || return 1
	if ! out=$(bin/queued token -name demo -scope admin -config "$office" 2>&1 >"$token_file"); then
		echo "run-demo: queued token: $out" >&2
		return 1
	fi
	mv "$logins.new" "$logins"
}

if [ ! -e "$access" ]; then
	# The passwords and the token are secrets: files only we may read.
	old_umask=$(umask)
	umask 077
	trap 'rm -f "$access" "$logins.new" "$token_file"; exit 130' INT TERM
	if ! make_access; then
		rm -f "$access" "$logins.new" "$token_file"
		echo "run-demo: could not make the demo accounts; nothing was started" >&2
		exit 1
	fi
	trap - INT TERM
	umask "$old_umask"
fi

# The bus first: kioskd opens its link as the bus's port. The devices'
# EEPROM and flash (serial numbers, firmware, unacknowledged presses) are
# kept in var/bus1-state from run to run.
rm -f "$bus_link"
bin/kioskctl bridge emulate -link "$bus_link" -state var/bus1-state -http "$bus_control" \
	-devices 1:window-display,2:keypad,3:rating,4:window-display,5:keypad &
emulator=$!
bin/queued -config "$office" &
queued=$!
kioskd=

stopping=
stop() {
	stopping=1
	kill -TERM $kioskd "$queued" "$emulator" 2>/dev/null
}
trap stop INT TERM

# The emulator links the pseudo-terminal once it listens on its control
# address; wait for that, at most 10 s, or for it to fail.
n=0
while [ ! -e "$bus_link" ] && kill -0 "$emulator" 2>/dev/null && [ "$n" -lt 100 ]; do
	sleep 0.1
	n=$((n + 1))
done
if [ ! -e "$bus_link" ] || [ -n "$stopping" ]; then
	[ -n "$stopping" ] || echo "run-demo: the bus emulator did not make $bus_link within 10 s; see the log above" >&2
	stop
	wait
	exit 1
fi
bin/kioskd -config configs/demo.yaml &
kioskd=$!

# wait_exit PID: its exit status, waiting again when a signal interrupts.
wait_exit() {
	while :; do
		wait "$1"
		status=$?
		kill -0 "$1" 2>/dev/null && continue
		# A wait cut short by the trap answers 128+signal even when the
		# program has exited meanwhile: its own status is the next wait's
		# (127: already collected, keep what we have).
		if [ "$status" -gt 128 ]; then
			wait "$1"
			again=$?
			[ "$again" -ne 127 ] && status=$again
		fi
		return $status
	done
}

# Up means kioskd answers; ok is better. A terminal that answers but
# reports trouble (a device in fault) is still worth looking at: say so
# and carry on; /healthz says what is wrong.
health_out=$(bin/kioskctl health -addr 127.0.0.1:8080 -wait 30s 2>&1)
health=$?
if [ "$health" -ne 0 ] && printf '%s' "$health_out" | grep -q "is not ok"; then
	echo "run-demo: kioskd is up but not ok: $(printf '%s' "$health_out" | tail -n 1); see http://127.0.0.1:8080/healthz" >&2
	health=0
fi
if [ "$health" -eq 0 ]; then
	cat <<URLS

  The simulated office is running. Open:
    Kiosk (take a ticket)   http://127.0.0.1:8080/kiosk/
    Hall display            http://127.0.0.1:8080/hall/
    Window 3 display        http://127.0.0.1:8080/window/
    LED boards, bus devices http://127.0.0.1:8080/boards/  (boards, window displays, keypads, rating panel)
    Bus emulator            http://$bus_control/  (the same devices, with faults and power cuts)
    Health                  http://127.0.0.1:8080/healthz
    Terminal admin page     http://127.0.0.1:8081/admin/  (devices, paper, test print, outbox; /metrics)
    Sign in                 http://127.0.0.1:8090/login
    Operator                http://127.0.0.1:8090/operator/  (window 3: operator3, /operator/?window=3)
    Supervisor              http://127.0.0.1:8090/operator/supervisor.html
    Devices and alerts      http://127.0.0.1:8090/operator/devices.html  (supervisor)
    Reports                 http://127.0.0.1:8090/reports/
    Public status           http://127.0.0.1:8090/status

URLS
	if [ -r "$logins" ]; then
		cat "$logins"
	else
		echo "  Accounts: $access was made before; list them with bin/queued user list"
	fi
	if [ -r "$token_file" ]; then
		printf '\n  API token: %s\n' "$(cat "$token_file")"
		echo "  (in $token_file; send it as Authorization: Bearer \$(cat $token_file))"
	else
		echo "  API token: none in $token_file; make one with"
		echo "    bin/queued token -name demo2 -scope admin >$token_file"
	fi
	cat <<HINTS

  Printed tickets:   var/demo-01/tickets/*.png
  Announcements:     var/demo-01/announcements/*.wav
  Scan a code:       bin/kioskctl scan BK-1234
  Press the button:  bin/kioskctl press BUTTON
  Keypad, window 3:  bin/kioskctl bridge press -addr 2 -key next  (or on /boards/; window 4's: -addr 5)
  Rate a visit:      bin/kioskctl bridge press -addr 3 -key 5  (window 3's panel, after a finish)
  The keypads act for a signed-in operator only: sign in as operator3 at
  http://127.0.0.1:8090/login and choose window 3 (/operator/?window=3);
  until then window 3's keypad shows УВІЙДІТЬ У СИСТЕМУ (please sign in).
  Ctrl-C stops all three.

HINTS
else
	echo "run-demo: kioskd did not answer on 127.0.0.1:8080 within 30 s; see the log above" >&2
	stop
fi

wait_exit "$kioskd"; k=$?
wait_exit "$queued"; q=$?
wait_exit "$emulator"; e=$?
echo "run-demo: kioskd exited $k, queued exited $q, the bus emulator exited $e"
[ "$k" -eq 0 ] && [ "$q" -eq 0 ] && [ "$e" -eq 0 ]
