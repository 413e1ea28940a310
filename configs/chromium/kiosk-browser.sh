#!/bin/sh
# Shows the kiosk page full-screen and keeps it there: waits for kioskd,
# starts Chromium in kiosk mode with a profile wiped at every start, and
# starts it again if it ever exits (a kiosk must never show a desktop).
# KIOSK_URL overrides the page (default: kioskd's default address).
set -u

KIOSK_URL=${KIOSK_URL:-http://127.0.0.1:8080/kiosk/}
# kioskd's health check is at the page's origin (scheme://host:port), not
# under the page's path: KIOSK_URL=http://127.0.0.1:8080/hall/ asks
# http://127.0.0.1:8080/healthz.
case $KIOSK_URL in
*://*) ;;
*)
	echo "kiosk-browser: KIOSK_URL=$KIOSK_URL is not an address like http://127.0.0.1:8080/kiosk/" >&2
	exit 2
	;;
esac
hostport=${KIOSK_URL#*://}
hostport=${hostport%%/*}
hostport=${hostport%%[?#]*}
BASE=${KIOSK_URL%%://*}://$hostport
PROFILE=${KIOSK_PROFILE:-${XDG_RUNTIME_DIR:-/tmp}/kiosk-browser}
CHROMIUM=${CHROMIUM:-chromium}

wait_for_kioskd() {
	i=0
	until curl -fsS -o /dev/null "$BASE/healthz" 2>/dev/null || wget -q -O /dev/null "$BASE/healthz" 2>/dev/null; do
		i=$((i + 1))
		if [ $((i % 30)) -eq 1 ]; then
			echo "kiosk-browser: waiting for kioskd at $BASE/healthz" >&2
		fi
		sleep 1
	done
}

while :; do
	wait_for_kioskd
	rm -rf "$PROFILE"
	mkdir -p "$PROFILE"
	"$CHROMIUM" \
		--kiosk "$KIOSK_URL" \
		--user-data-dir="$PROFILE" \
		--no-first-run \
		--noerrdialogs \
		--disable-infobars \
		--disable-session-crashed-bubble \
		--disable-translate \
		--disable-features=Translate,TouchpadOverscrollHistoryNavigation \
		--overscroll-history-navigation=0 \
		--disable-pinch \
		--disable-background-networking \
		--disable-component-update \
		--disable-sync \
		--check-for-update-interval=31536000 \
		--autoplay-policy=no-user-gesture-required \
		--password-store=basic \
		--touch-events=enabled \
		--lang=uk
	echo "kiosk-browser: chromium exited ($?); starting it again" >&2
	sleep 2
done
