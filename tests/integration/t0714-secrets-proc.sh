#!/bin/sh
# The password is never in /proc/PID/cmdline or /proc/PID/environ of a
# running postie (from "password" and from "passwordeval"): the server
# holds its reply to the final "." for a few seconds while the test reads
# /proc; then the send completes normally.
. "$POSTIE_SRCDIR/tests/integration/lib.sh"

PW=Pr0c-S3cr3t
start_smtpd --auth "user:$PW" --no-auth-require-tls --delay dot=3
printf 'Subject: proc\n\nhello\n' >"$TMP/in"

n=0
for how in "password $PW" "passwordeval echo $PW"; do
	write_config "$TMP/config" <<CONF
account default
queue off
host 127.0.0.1
port $SMTPD_PORT
from sender@example.org
timeout 20
auth plain
user user
auth_cleartext on
$how
CONF
	POSTIE_SYSCONFIG=/nonexistent HOME="$TMP" "$POSTIE" -C "$TMP/config" \
	    a@example.com <"$TMP/in" >"$TMP/stdout" 2>"$TMP/stderr" &
	pid=$!
	i=0
	until grep -q '^DATA' "$(transcript)" 2>/dev/null &&
	    [ "$(grep -c '^DATA' "$(transcript)")" -gt $n ]; do
		i=$((i + 1))
		[ $i -lt 100 ] || fail "postie never reached DATA"
		kill -0 $pid 2>/dev/null || fail "postie ended before DATA"
		sleep 0.05
	done
	sleep 0.2
	tr '\0' '\n' <"/proc/$pid/cmdline" >"$TMP/cmdline"
	tr '\0' '\n' <"/proc/$pid/environ" >"$TMP/environ"
	set +e
	wait $pid
	rc=$?
	set -e
	check_rc 0
	n=$((n + 1))
	check_count $n
	check_grep '^-C$' "$TMP/cmdline"
	check_grep '^HOME=' "$TMP/environ"
	for f in "$TMP/cmdline" "$TMP/environ" "$TMP/stdout" "$TMP/stderr"; do
		check_fixed_absent "$PW" "$f"
		check_fixed_absent "$(printf '\0user\0%s' "$PW" | base64)" "$f"
	done
done
[ "$(json_field 2 auth)" = '"user"' ] || fail "not authenticated"
exit 0
