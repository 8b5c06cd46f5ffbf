#!/bin/sh
# Issue 10 item 6 (L18): SIGTERM, SIGINT or SIGHUP during a direct send (a
# relay that stalls after DATA, a shutdown during a slow cron send) stops
# the send and queues the message before exiting; nothing is lost.
# A script's background job starts with SIGINT ignored (POSIX), which
# postie keeps (as it keeps bsd-mailx's and s-nail's ignored SIGHUP, see
# t0005): postie starts here with every signal at its default, as in the
# foreground of a terminal.
. "$POSTIE_SRCDIR/tests/integration/lib.sh"
. "$POSTIE_SRCDIR/tests/integration/t05lib.sh"

for sig in TERM INT HUP; do
	rm -rf "$Q"
	start_mute
	qconf "$MUTE_PORT" "timeout 30"
	msg "sig$sig"
	set +e
	POSTIE_SYSCONFIG=/nonexistent HOME="$TMP" "$PYTHON" -c 'import os, signal, sys
for s in (signal.SIGINT, signal.SIGQUIT, signal.SIGHUP, signal.SIGTERM):
    signal.signal(s, signal.SIG_DFL)
os.execv(sys.argv[1], sys.argv[1:])' "$POSTIE" -C "$TMP/config" \
	    a@example.com <"$TMP/in" >"$TMP/stdout" 2>"$TMP/stderr" &
	pid=$!
	sleep 1
	kill -"$sig" "$pid"
	i=0
	while kill -0 "$pid" 2>/dev/null; do
		i=$((i + 1))
		[ $i -lt 100 ] || { kill -9 "$pid"; fail "postie ignored SIG$sig"; }
		sleep 0.1
	done
	wait "$pid"
	rc=$?
	set -e
	check_rc 0
	check_grep "^postie: queued as .*interrupted by signal" "$TMP/stderr"
	check_queue 1
	check_grep "^Message-ID: <sig$sig@postie.test>" "$Q"/q/*.msg
done
exit 0
