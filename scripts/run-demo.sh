#!/bin/sh
# The whole simulated office on one machine: queued (the central server)
# and one kioskd doing the kiosk, hall and window roles with simulated
# devices. Data stays under ./var. Ctrl-C stops both cleanly.
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

bin/queued -config "$office" &
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
    Health                  http://127.0.0.1:8080/healthz
    Sign in                 http://127.0.0.1:8090/login
    Operator                http://127.0.0.1:8090/operator/  (window 3: operator3, /operator/?window=3)
    Supervisor              http://127.0.0.1:8090/operator/supervisor.html
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
  Ctrl-C stops both.

HINTS
else
	echo "run-demo: kioskd did not answer on 127.0.0.1:8080 within 10 s; see the log above" >&2
	stop
fi

wait_exit "$kioskd"; k=$?
wait_exit "$queued"; q=$?
echo "run-demo: kioskd exited $k, queued exited $q"
[ "$k" -eq 0 ] && [ "$q" -eq 0 ]
