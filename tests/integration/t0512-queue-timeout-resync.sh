#!/bin/sh
# Issue 10 item 1 (R22): the relay answers the first message's final dot only
# after postie's timeout.  That connection must be closed, never reused
# (else each reply answers the previous command, and a message is
# dropped as refused).  The first entry stays queued with its outcome
# unknown; and since a relay whose wait ran out is not tried again in
# the same run (item 11), the second waits, untried, for the next run,
# which delivers it over a new connection.
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
check_queue 2
[ "$(grep -l '^unknown 1$' "$Q"/q/*.env | wc -l)" -eq 1 ] ||
    fail "not one entry with its outcome unknown"
[ "$(grep -l 'not tried: .*no reply in time.*(earlier in this run)' "$Q"/q/*.env | wc -l)" -eq 1 ] ||
    fail "the second entry was tried behind the timeout"
check_msgids "$SMTPD_DIR" 1	# the first was cut off before its late reply
check_no_grep 'refused for good' "$TMP/stderr"
# The next run: the second goes out over a new connection, never taking
# the late reply for its own; the first is resent (possible duplicate).
run_postie -C "$TMP/config" -q
check_rc 0
check_queue 0
[ "$(grep -c '^EHLO' "$(transcript)")" -ge 2 ] ||
    fail "the timed-out connection was reused"
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

# ... and so does one that stalls after a step began: before the data
# (the reply to MAIL) or after it (the reply to the final dot).
for delay in mail=10 dot=10; do
	rm -rf "$Q"
	PORT=$(free_port)
	qconf "$PORT" "timeout 1"
	for m in s1 s2 s3; do
		msg $m
		run_postie -C "$TMP/config" -odq a@example.com <"$TMP/in"
	done
	start_smtpd --delay "$delay"
	qconf "$SMTPD_PORT" "timeout 1"
	run_postie -C "$TMP/config" -q
	check_rc 0
	check_queue 3
	[ "$(grep -c '^MAIL' "$(transcript)")" -eq 1 ] ||
	    fail "$delay: a message was tried behind the relay's timeout"
	[ "$(grep -l 'not tried: .*(earlier in this run)' "$Q"/q/*.env | wc -l)" -eq 2 ] ||
	    fail "$delay: the other entries are not marked untried"
done

# Entries whose outcome is unknown: "resending (possible duplicate)" is
# said for the one sent again, not for those left untried behind it.
rm -rf "$Q"
PORT=$(free_port)
qconf "$PORT" "timeout 1"
for m in u1 u2 u3; do
	msg $m
	run_postie -C "$TMP/config" -odq a@example.com <"$TMP/in"
done
sed -i 's/^unknown 0$/unknown 1/' "$Q"/q/*.env
start_smtpd --delay mail=10
qconf "$SMTPD_PORT" "timeout 1"
run_postie -C "$TMP/config" -q
check_rc 0
check_queue 3
[ "$(grep -c 'outcome is unknown: resending' "$TMP/stderr")" -eq 1 ] ||
    fail "untried entries were said to be resent"
exit 0
