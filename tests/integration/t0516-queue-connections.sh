#!/bin/sh
# queue_connections N: one postie -q drains the queue over up to N
# connections at once (N-1 worker processes and itself); the per-entry
# locks give each entry to one of them, so each message arrives exactly
# once; the summary counts what every worker sent.  With the default
# (1) the same flush uses one connection.  The limit is per account:
# a flush of two accounts' mail gives each the connections it allows.
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

# Per account: "one" allows 1 connection, "four" 4; one flush of both
# accounts' entries (worker w takes only the accounts that allow more
# than w) opens exactly one connection to one's relay, up to 4 to four's.
ONE_DIR=$SMTPD_DIR ONE_PORT=$SMTPD_PORT
start_smtpd --delay rcpt=0.02
FOUR_DIR=$SMTPD_DIR
e0=$(grep -c '^EHLO' "$(SMTPD_DIR=$ONE_DIR transcript)")
write_config "$TMP/config" <<CONF
from sender@example.org
timeout 5
queue_dir $Q
account one
host 127.0.0.1
port $ONE_PORT
account four
host 127.0.0.1
port $SMTPD_PORT
queue_connections 4
account default : one
CONF
for a in one four; do
	i=0
	while [ $i -lt 40 ]; do
		msg "$a$i"
		POSTIE_SYSCONFIG=/nonexistent HOME="$TMP" "$POSTIE" \
		    -C "$TMP/config" --account $a -odq "$a$i@example.com" \
		    <"$TMP/in" 2>/dev/null || fail "cannot queue $a's $i"
		i=$((i + 1))
	done
done
check_queue 80
run_postie -C "$TMP/config" -q -v
check_rc 0
check_queue 0
SMTPD_DIR=$ONE_DIR check_count $((N + 40))
check_count 40
c=$(( $(grep -c '^EHLO' "$(SMTPD_DIR=$ONE_DIR transcript)") - e0 ))
[ "$c" -eq 1 ] || fail "$c connections to one's relay (queue_connections 1)"
c=$(grep -c '^EHLO' "$(transcript)")
[ "$c" -ge 2 ] && [ "$c" -le 4 ] ||
    fail "$c connections to four's relay (want 2 to 4)"

# queue_connections 64 is the most; 65 or 0 is a configuration error.
qconf "$SMTPD_PORT" "queue_connections 65"
run_postie -C "$TMP/config" -q
check_rc 78
check_grep "queue_connections" "$TMP/stderr"
exit 0
