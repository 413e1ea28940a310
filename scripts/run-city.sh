#!/bin/sh
# A simulated city on one machine: three Kharkiv centres, each a queued
# (configs/office.yaml with its own id, name, port and data) and a kioskd
# (configs/demo.yaml's kiosk, hall and window 3, without the bus), all
# shipping their record to a throwaway PostgreSQL cluster under
# var/city-pg, and cityd (configs/city.yaml) showing every centre on the
# city's page. The configurations are made again at every start from the
# shipped ones, under var/city/; the data stays there from run to run.
# Ctrl-C stops everything, PostgreSQL last.
#
# The first run also makes the accounts (a city supervisor at cityd; an
# operator for window 3 and a supervisor in each centre) and API tokens;
# later runs keep them and print them again.
#
# Environment (the tests use them; make run-city needs none):
#   CITY_VAR   where the data goes (default var)
#   CITY_PORT  first of the ports used (default 8100): cityd on it, centre
#              N's queued on +10N, its kiosk on +10N+1, its admin page on +10N+2
#   BIN        the binaries (default bin, as make host builds them)
#   VOICE_DIR  the kiosks' phrase packs (default $CITY_VAR/voice, make run's)
set -u

root=$(pwd)
var=${CITY_VAR:-var}
base=${CITY_PORT:-8100}
bin=${BIN:-bin}
case $var in /*) ;; *) var=$root/$var ;; esac
case $bin in /*) ;; *) bin=$root/$bin ;; esac
voice=${VOICE_DIR:-$var/voice}
case $voice in /*) ;; *) voice=$root/$voice ;; esac

pg=$var/city-pg
dir=$var/city
logins=$dir/logins.txt
city_token=$dir/city-token
city_port=$base

offices="kharkiv-shevchenkivskyi kharkiv-kyivskyi kharkiv-saltivskyi"

# office_name ID: the centre's names, Ukrainian | English.
office_name() {
	case $1 in
	kharkiv-shevchenkivskyi) echo "ЦНАП «Прозорий офіс» Шевченківського району|Shevchenkivskyi district Transparent Office" ;;
	kharkiv-kyivskyi) echo "ЦНАП «Прозорий офіс» Київського району|Kyivskyi district Transparent Office" ;;
	kharkiv-saltivskyi) echo "ЦНАП «Прозорий офіс» Салтівського району|Saltivskyi district Transparent Office" ;;
	esac
}

say() { echo "run-city: $*" >&2; }

for b in queued kioskd kioskctl cityd pgcluster; do
	if [ ! -x "$bin/$b" ]; then
		say "$bin/$b is missing; make run-city builds it (or: make host)"
		exit 1
	fi
done

# Every port we listen on must be free: say which one is not, and who
# holds it where ss can tell.
ports="$city_port"
n=1
for o in $offices; do
	p=$((base + 10 * n))
	ports="$ports $p $((p + 1)) $((p + 2))"
	n=$((n + 1))
done
if command -v ss >/dev/null 2>&1; then
	busy=
	for p in $ports; do
		if [ -n "$(ss -ltnH "sport = :$p" 2>/dev/null)" ]; then
			busy="$busy $p"
			say "port $p is taken: $(ss -ltnpH "sport = :$p" 2>/dev/null | sed 's/.*users:((\(.*\)))/\1/' | head -n 1)"
		fi
	done
	if [ -n "$busy" ]; then
		say "free the ports above (a make run or run-city still running?) or start with CITY_PORT=18100; nothing was started"
		exit 1
	fi
fi

# PostgreSQL keeps its files under $pg; the postgres user (when we are
# root) must reach it, so var/ stays traversable.
mkdir -p "$dir" "$voice"
chmod o+x "$var" 2>/dev/null
if ! dsn=$("$bin/pgcluster" -dir "$pg" start); then
	say "PostgreSQL did not start; see $pg/postgres.log; nothing else was started"
	exit 1
fi
say "PostgreSQL is up: $dsn"

# The phrase packs, once, before three kiosks would build them at once.
for lang in uk en; do
	if [ ! -d "$voice/$lang" ]; then
		"$bin/kioskctl" voice build -lang "$lang" -out "$voice/$lang" >/dev/null || say "voice pack $lang not built; the kiosks build it"
	fi
done

# The configurations, made again from the shipped ones.
cityd_conf=$dir/cityd.yaml
office_list=$(echo "$offices" | sed 's/ /, /g')
sed -e "s|^  uk: Київ$|  uk: Харків|" -e "s|^  en: Kyiv$|  en: Kharkiv|" \
	-e "s|^listen: 127.0.0.1:[0-9]*$|listen: 127.0.0.1:$city_port|" \
	-e "s|^data_dir: var/cityd|data_dir: $dir/cityd|" \
	-e "s|^  dsn: .*|  dsn: \"$dsn\"|" \
	-e "s|^offices: \[\]|offices: [$office_list]|" \
	configs/city.yaml >"$cityd_conf"
# A line of configs/city.yaml that moved would leave the demo's cityd on
# the shipped defaults: say so rather than start it wrong.
for want in "^listen: 127.0.0.1:$city_port\$" "^data_dir: $dir/cityd\$" "^  dsn: "; do
	grep -q "$want" "$cityd_conf" || { say "configs/city.yaml changed: no line like $want in $cityd_conf; update scripts/run-city.sh"; exit 1; }
done
mkdir -p "$dir/cityd"

n=1
for o in $offices; do
	p=$((base + 10 * n))
	names=$(office_name "$o")
	mkdir -p "$dir/$o"
	# queued: its id, name, port and data; the forms by their absolute
	# path; and the city's database.
	{
		sed -e "s|^id: demo-office|id: $o|" \
			-e '/^name:$/,/^  en:/d' \
			-e "s|127.0.0.1:8090|127.0.0.1:$p|g" \
			-e "s|^data_dir: var/queued|data_dir: $dir/$o/queued|" \
			-e "s|^forms_dir: forms|forms_dir: $root/configs/forms|" \
			configs/office.yaml
		printf '\nname:\n  uk: %s\n  en: %s\n' "${names%%|*}" "${names#*|}"
		printf '\ncity:\n  dsn: "%s"\n  batch: 500\n  alarm_age: 1m\n' "$dsn"
	} >"$dir/$o/office.yaml"
	# kioskd: its device id, data, ports and queued; no RS-485 bus (the
	# bus emulator is make run's).
	{
		printf 'admin:\n  listen: 127.0.0.1:%d\n\n' $((p + 2))
		sed -e "s|^device_id: demo-01|device_id: $o-kiosk|" \
			-e "s|^data_dir: var/demo-01|data_dir: $dir/$o/kiosk|" \
			-e "s|^  listen: 127.0.0.1:8080|  listen: 127.0.0.1:$((p + 1))|" \
			-e "s|ws://127.0.0.1:8090/|ws://127.0.0.1:$p/|" \
			-e "s|^    pack_dir: var/voice|    pack_dir: $voice|" \
			-e '/^buses:/,/^gpio:/{/^gpio:/!d;}' \
			configs/demo.yaml
	} >"$dir/$o/kiosk.yaml"
	n=$((n + 1))
done

# password: a fresh random password, 72 bits as xxxxxx-xxxxxx-xxxxxx.
password() {
	od -An -N9 -tx1 /dev/urandom | tr -d ' \n' | sed 's/^\(......\)\(......\)/\1-\2-/'
}

# add_user CMD CONFIG WHERE NAME ROLE DISPLAY [-windows W]: makes the
# account with a new password and adds its line to the logins file.
add_user() {
	cmd=$1 conf=$2 where=$3 name=$4 role=$5 display=$6
	shift 6
	pw=$(password)
	if ! out=$(printf '%s\n' "$pw" | "$bin/$cmd" user add "$name" -role "$role" -display "$display" "$@" \
		-password-stdin -config "$conf" 2>&1 >/dev/null); then
		say "$cmd user add $name ($where): $out"
		return 1
	fi
	printf '    %-26s %-14s %-22s\n' "$where" "$name" "$pw" >>"$logins.new"
}

# make_access makes every account and token; on any failure it leaves
# nothing behind, so the next run tries again.
make_access() {
	rm -f "$logins.new" "$city_token"
	printf '  Accounts (sign in at each one'"'"'s /login):\n' >"$logins.new"
	printf '    %-26s %-14s %-22s\n' where account password >>"$logins.new"
	add_user cityd "$cityd_conf" "city (cityd)" supervisor supervisor "Керівник міста" || return 1
	if ! out=$("$bin/cityd" token -name demo -scope stats -config "$cityd_conf" 2>&1 >"$city_token"); then
		say "cityd token: $out"
		return 1
	fi
	for o in $offices; do
		add_user queued "$dir/$o/office.yaml" "$o" operator3 operator "Оператор вікна 3" -windows 3 || return 1
		add_user queued "$dir/$o/office.yaml" "$o" supervisor supervisor "Керівник центру" -windows all || return 1
		if ! out=$("$bin/queued" token -name demo -scope admin -config "$dir/$o/office.yaml" 2>&1 >"$dir/$o/api-token"); then
			say "queued token ($o): $out"
			return 1
		fi
	done
	mv "$logins.new" "$logins"
}

forget_access() {
	rm -f "$dir/cityd/access.json" "$logins.new" "$city_token"
	for o in $offices; do rm -f "$dir/$o/queued/access.json" "$dir/$o/api-token"; done
}

if [ ! -e "$logins" ]; then
	old_umask=$(umask)
	umask 077
	forget_access
	mkdir -p "$dir/cityd"
	for o in $offices; do mkdir -p "$dir/$o/queued"; done
	trap 'forget_access; "$bin/pgcluster" -dir "$pg" stop; exit 130' INT TERM
	if ! make_access; then
		forget_access
		"$bin/pgcluster" -dir "$pg" stop
		say "could not make the accounts; PostgreSQL stopped again, nothing else was started"
		exit 1
	fi
	trap - INT TERM
	umask "$old_umask"
fi

# Each program runs as a background job in a session of its own (setsid,
# where there is one): Ctrl-C then reaches only this script, which stops
# them with one SIGTERM each. A Go program getting the terminal's SIGINT
# and then our SIGTERM could be killed by the second while it exits.
detach=
command -v setsid >/dev/null 2>&1 && detach=setsid
pids=
stopping=
signals=0
stop() {
	stopping=1
	signals=$((signals + 1))
	[ -n "$pids" ] && kill -TERM $pids 2>/dev/null
}
trap stop INT TERM

# wait_exit PID: its exit status. A wait cut short by our trap answers
# 128+signal whether or not the program has exited meanwhile: wait again
# then, which gives the program's own status once it has one.
wait_exit() {
	while :; do
		seen=$signals
		wait "$1"
		status=$?
		[ "$status" -gt 128 ] && [ "$signals" != "$seen" ] && continue
		return $status
	done
}

# cityd first: it makes the schema the offices ship into.
$detach "$bin/cityd" -config "$cityd_conf" &
cityd=$!
pids=$cityd
# The pids, for whoever must clean up after a kill -9 of this script.
echo "$pids" >"$dir/pids"
up=
if "$bin/kioskctl" health -addr "127.0.0.1:$city_port" -wait 30s >/dev/null 2>&1; then
	up=1
	n=1
	for o in $offices; do
		$detach "$bin/queued" -config "$dir/$o/office.yaml" &
		eval "queued_$n=\$!"
		pids="$pids $!"
		n=$((n + 1))
	done
	echo "$pids" >"$dir/pids"
	n=1
	for o in $offices; do
		$detach "$bin/kioskd" -config "$dir/$o/kiosk.yaml" &
		eval "kioskd_$n=\$!"
		pids="$pids $!"
		n=$((n + 1))
	done
	echo "$pids" >"$dir/pids"
	# Up means each kioskd answers ok (its link to its queued is up); one
	# that answers but reports trouble is still worth looking at.
	n=1
	for o in $offices; do
		k=$((base + 10 * n + 1))
		out=$("$bin/kioskctl" health -addr "127.0.0.1:$k" -wait 30s 2>&1)
		if [ $? -ne 0 ]; then
			if printf '%s' "$out" | grep -q "is not ok"; then
				say "the kiosk of $o is up but not ok: $(printf '%s' "$out" | tail -n 1); see http://127.0.0.1:$k/healthz"
			else
				[ -n "$stopping" ] || say "the kiosk of $o did not answer on 127.0.0.1:$k within 30 s; see the log above"
				up=
			fi
		fi
		n=$((n + 1))
	done
elif [ -z "$stopping" ]; then
	say "cityd did not answer on 127.0.0.1:$city_port within 30 s; see the log above"
fi

if [ -n "$up" ] && [ -z "$stopping" ]; then
	cat <<URLS

  The demo city is running: three centres shipping to PostgreSQL ($pg).
    City status page        http://127.0.0.1:$city_port/
    City status API         http://127.0.0.1:$city_port/api/v1/city/status
    City reports (sign in)  http://127.0.0.1:$city_port/city/reports/
    City stats API          http://127.0.0.1:$city_port/api/v1/city/stats?by=office
URLS
	n=1
	for o in $offices; do
		p=$((base + 10 * n))
		cat <<URLS

  $o ($(office_name "$o" | sed 's/|.*//'))
    Kiosk (take a ticket)   http://127.0.0.1:$((p + 1))/kiosk/
    Hall display            http://127.0.0.1:$((p + 1))/hall/
    Terminal admin page     http://127.0.0.1:$((p + 2))/admin/
    Operator (window 3)     http://127.0.0.1:$p/operator/?window=3
    Supervisor              http://127.0.0.1:$p/operator/supervisor.html
    Reports                 http://127.0.0.1:$p/reports/
    Stats API               http://127.0.0.1:$p/api/v1/stats
    Health (city shipping)  http://127.0.0.1:$p/healthz
    API token               $dir/$o/api-token
URLS
		n=$((n + 1))
	done
	echo
	if [ -r "$logins" ]; then
		cat "$logins"
	else
		echo "  Accounts: made before; list them with bin/queued user list -config $dir/<office>/office.yaml"
	fi
	cat <<HINTS

  City API token (scope stats): $(cat "$city_token" 2>/dev/null)
    curl -H "Authorization: Bearer \$(cat $city_token)" 'http://127.0.0.1:$city_port/api/v1/city/stats?by=office'
  A ticket and a call at the first centre, then see it on the city page:
    t=\$(cat $dir/kharkiv-shevchenkivskyi/api-token)
    curl -H "Authorization: Bearer \$t" -H 'Content-Type: application/json' -d '{"service":"pension-age"}' http://127.0.0.1:$((base + 10))/api/v1/tickets
    curl -H "Authorization: Bearer \$t" -X POST http://127.0.0.1:$((base + 10))/api/v1/windows/2/next
  Cut the city's database off (the centres go on; the backlog ships later):
    $bin/pgcluster -dir $pg stop     and again: $bin/pgcluster -dir $pg start
  Ctrl-C stops everything, PostgreSQL too.

HINTS
else
	stop
fi

# Everything ends: the terminals and the centres, cityd, then PostgreSQL.
failed=
report=
n=1
for o in $offices; do
	eval "pid=\${kioskd_$n:-}"
	if [ -n "$pid" ]; then
		wait_exit "$pid"
		s=$?
		report="$report kioskd $o exited $s,"
		[ "$s" -eq 0 ] || failed=1
	fi
	n=$((n + 1))
done
n=1
for o in $offices; do
	eval "pid=\${queued_$n:-}"
	if [ -n "$pid" ]; then
		wait_exit "$pid"
		s=$?
		report="$report queued $o exited $s,"
		[ "$s" -eq 0 ] || failed=1
	fi
	n=$((n + 1))
done
wait_exit "$cityd"
s=$?
[ "$s" -eq 0 ] || failed=1
say "${report# } cityd exited $s"
if "$bin/pgcluster" -dir "$pg" stop; then
	say "PostgreSQL stopped"
else
	say "PostgreSQL did not stop cleanly; see $pg/postgres.log"
	failed=1
fi
[ -z "$failed" ] && [ -n "$up" ]
