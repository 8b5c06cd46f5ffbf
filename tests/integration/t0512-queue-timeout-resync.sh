#!/bin/sh
# Issue 10 item 1 (R22): the relay answers the first message's final dot only
# after postie's timeout.  That connection must be closed, never reused:
# the next queued message goes over a new one (else each reply answers
# the previous command, and a message is dropped as refused).  The first
# entry stays queued with its outcome unknown; the second is delivered.
. "$POSTIE_SRCDIR/tests/integration/lib.sh"
. "$POSTIE_SRCDIR/tests/integration/t05lib.sh"

PORT=$(free_port)
qconf "$PORT" "timeout 1"
msg one
run_postie -C "$TMP/config" -odq a@example.com <"$TMP/in"
check_rc 0
msg two
run_postie -C "$TMP/config" -odq b@example.com <"$TMP/in"
check_rc 0
check_queue 2

start_smtpd --delay dot-once=3
qconf "$SMTPD_PORT" "timeout 1"
run_postie -C "$TMP/config" -q
check_rc 0
# two connections: the second EHLO is on a fresh one
[ "$(grep -c '^EHLO' "$(transcript)")" -ge 2 ] ||
    fail "the timed-out connection was reused"
check_queue 1
check_grep '^unknown 1$' "$Q"/q/*.env
check_grep '^rcpt [PT] a@example.com$' "$Q"/q/*.env
check_msgids "$SMTPD_DIR" 1	# the first was cut off before its late reply
grep -l '"b@example.com"' "$SMTPD_DIR"/*.json >/dev/null ||
    fail "the second message did not arrive"
check_no_grep 'refused for good' "$TMP/stderr"

# Issue 10 item 11: a relay that never greets costs a flush one timeout,
# not one per queued message; the others stay queued, untried.
rm -rf "$Q"
start_mute
qconf "$MUTE_PORT" "timeout 2"
for m in m1 m2 m3; do
	msg $m
	run_postie -C "$TMP/config" -odq a@example.com <"$TMP/in"
done
check_queue 3
t0=$(date +%s)
run_postie -C "$TMP/config" -q
t1=$(date +%s)
check_rc 0
check_queue 3
[ $((t1 - t0)) -lt 5 ] || fail "the flush waited $((t1 - t0)) s: one timeout per message"
# and the first says what happened: connected, then no greeting
[ "$(cat "$Q"/q/*.env | grep -c 'connected to .*, but it sent no greeting in time$')" -eq 1 ] ||
    fail "the greeting stall is misreported"
[ "$(cat "$Q"/q/*.env | grep -c 'not tried: connected to .*, but it sent no greeting in time (earlier in this run)')" -eq 2 ] ||
    fail "the other entries were tried"
exit 0
