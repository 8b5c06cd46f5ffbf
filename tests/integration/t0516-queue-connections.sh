#!/bin/sh
# queue_connections N: one postie -q drains the queue over up to N
# connections at once (N-1 worker processes and itself); the per-entry
# locks give each entry to one of them, so each message arrives exactly
# once; the summary counts what every worker sent.  With the default
# (1) the same flush uses one connection.
. "$POSTIE_SRCDIR/tests/integration/lib.sh"
. "$POSTIE_SRCDIR/tests/integration/t05lib.sh"

N=200
start_smtpd --delay rcpt=0.02
qconf "$SMTPD_PORT" "queue_connections 8"
i=0
while [ $i -lt $N ]; do
	msg "p$i"
	POSTIE_SYSCONFIG=/nonexistent HOME="$TMP" "$POSTIE" -C "$TMP/config" \
	    -odq "r$i@example.com" <"$TMP/in" 2>/dev/null ||
	    fail "cannot queue message $i"
	i=$((i + 1))
done
check_queue $N
run_postie -C "$TMP/config" -q -v
check_rc 0
check_queue 0
check_count $N
check_msgids "$SMTPD_DIR" $N
m=$(grep -c '^MAIL FROM' "$(transcript)")
[ "$m" -eq $N ] || fail "$m MAIL FROM commands for $N messages"
c=$(grep -c '^EHLO' "$(transcript)")
[ "$c" -ge 2 ] && [ "$c" -le 8 ] ||
    fail "$c connections for queue_connections 8 (want 2 to 8)"
check_grep "queue: $N sent, 0 still queued, 0 held" "$TMP/stderr"

# queue_connections 64 is the most; 65 or 0 is a configuration error.
qconf "$SMTPD_PORT" "queue_connections 65"
run_postie -C "$TMP/config" -q
check_rc 78
check_grep "queue_connections" "$TMP/stderr"
exit 0
