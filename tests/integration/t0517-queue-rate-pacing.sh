#!/bin/sh
# rate_limit N/minute paces one flush instead of ending it: when the
# window is full and its next slot frees within 90 s, postie -q waits for
# it and goes on, so that one run drains a backlog at the provider's rate
# (t0515 has N/hour, whose slot is too far: the flush ends).  The windows
# are seeded in the queue's rate/ files, as earlier sends would have left
# them, so that the waits are seconds, not a minute.  Also: two accounts
# whose windows free at different times, a second flush while one waits
# (it ends: one waiting flush per queue), and SIGTERM during a wait.
. "$POSTIE_SRCDIR/tests/integration/lib.sh"
. "$POSTIE_SRCDIR/tests/integration/t05lib.sh"

start_smtpd
run() {
	POSTIE_SYSCONFIG=/nonexistent HOME="$TMP" "$POSTIE" -C "$TMP/config" "$@"
}
# seed ACCOUNT AGO N: N sends AGO seconds ago in ACCOUNT's window.
seed() {
	mkdir -p "$Q/rate"
	chmod 700 "$Q/rate"
	"$PYTHON" -c 'import sys, time
t = time.time() - float(sys.argv[1])
sys.stdout.write("%.3f\n" % t * int(sys.argv[2]))' "$2" "$3" >"$Q/rate/$1"
	chmod 600 "$Q/rate/$1"
}
# flush_waiting ERR: postie -q in the background (its pid in $pid, which
# cleanup() stops), once it says it waits for a slot.
flush_waiting() {
	POSTIE_SYSCONFIG=/nonexistent HOME="$TMP" "$POSTIE" -C "$TMP/config" \
	    -q 2>"$1" &
	pid=$!
	SMTPD_PIDS="$SMTPD_PIDS $pid"
	i=0
	while ! grep -q 'waiting' "$1" && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	grep -q 'waiting' "$1" || fail "no wait: $(cat "$1")"
}
# arrived N: when the server answered message N's final dot (epoch s).
arrived() {
	"$PYTHON" -c 'import json, sys
print(int(json.load(open(sys.argv[1]))["time"]))' \
	    "$SMTPD_DIR/$(printf %04d "$1").json"
}

# One account, 3/minute, its window full for about 5 more seconds.
qconf "$SMTPD_PORT" "rate_limit 3/minute"
for i in 1 2; do
	msg "p$i"
	run -odq "p$i@example.com" <"$TMP/in" 2>/dev/null ||
	    fail "cannot queue p$i"
done
seed default 55 3
t0=$(date +%s)
run -q 2>"$TMP/q.err" || fail "postie -q: $(cat "$TMP/q.err")"
t1=$(date +%s)
check_queue 0
check_count 2
check_msgids "$SMTPD_DIR" 2
grep -q "rate_limit 3/minute reached.*: waiting [3-6] s for the next slot" \
    "$TMP/q.err" || fail "no wait said: $(cat "$TMP/q.err")"
grep -q 'left for the next try' "$TMP/q.err" &&
    fail "the flush said it left mail: $(cat "$TMP/q.err")"
[ $((t1 - t0)) -ge 3 ] && [ $((t1 - t0)) -le 15 ] ||
    fail "the flush took $((t1 - t0)) s, expected the ~5 s wait"
[ "$(arrived 1)" -ge $((t0 + 3)) ] ||
    fail "sent before the slot freed: at $(arrived 1), flush from $t0"
# each send was counted, at its end: 2 in the window now
[ "$(wc -l <"$Q/rate/default")" -eq 2 ] ||
    fail "rate/default: $(cat "$Q/rate/default")"

# Two accounts: a's window frees in ~6 s, b's in ~12 s.  One flush sends
# a's message after the first wait and b's after the second (a slot not
# due at the first pass is waited for when it is within the waits).
rm -rf "$Q"
write_config "$TMP/config" <<CONF
from sender@example.org
timeout 5
queue_dir $Q
account a
host 127.0.0.1
port $SMTPD_PORT
rate_limit 2/minute
account b
host 127.0.0.1
port $SMTPD_PORT
rate_limit 1/minute
account default : a
CONF
for a in a b; do
	msg "two-$a"
	run --account $a -odq "$a@example.com" <"$TMP/in" 2>/dev/null ||
	    fail "cannot queue $a's message"
done
seed a 54 2
seed b 48 1
t0=$(date +%s)
run -q 2>"$TMP/q2.err" || fail "postie -q (two accounts): $(cat "$TMP/q2.err")"
t1=$(date +%s)
check_queue 0
check_count 4
[ "$(json_field 3 rcpt_tos)" = '["a@example.com"]' ] ||
    fail "third message: $(json_field 3 rcpt_tos), expected a's first"
ta=$(arrived 3) tb=$(arrived 4)
[ "$ta" -ge $((t0 + 4)) ] && [ "$ta" -le $((t0 + 9)) ] ||
    fail "a's message at +$((ta - t0)) s, expected ~6"
[ "$tb" -ge $((t0 + 10)) ] && [ "$tb" -le $((t0 + 16)) ] ||
    fail "b's message at +$((tb - t0)) s, expected ~12"
grep -q 'left for the next try' "$TMP/q2.err" &&
    fail "the flush said it left mail: $(cat "$TMP/q2.err")"

# Only one flush of a queue waits: a second one while the first waits
# (a send's background flush, the next timer run) ends at once, and the
# first sends the message when its slot frees.
msg second
run --account b -odq "s@example.com" <"$TMP/in" 2>/dev/null ||
    fail "cannot queue the message for two flushes"
seed b 52 1
flush_waiting "$TMP/qa.err"
t0=$(date +%s)
run -q 2>"$TMP/qb.err" || fail "second flush: $(cat "$TMP/qb.err")"
t1=$(date +%s)
[ $((t1 - t0)) -le 2 ] || fail "the second flush took $((t1 - t0)) s"
grep -q 'another postie -q of this queue is waiting' "$TMP/qb.err" ||
    fail "second flush: $(cat "$TMP/qb.err")"
set +e
wait $pid
rc=$?
set -e
[ "$rc" -eq 0 ] || fail "the waiting flush: exit $rc: $(cat "$TMP/qa.err")"
check_queue 0
check_count 5
check_msgids "$SMTPD_DIR" 5

# SIGTERM during a wait: the flush ends at once, the mail stays queued,
# and it says what it left.
msg term
run --account b -odq "t@example.com" <"$TMP/in" 2>/dev/null ||
    fail "cannot queue the SIGTERM message"
seed b 30 1
flush_waiting "$TMP/q3.err"
t0=$(date +%s)
kill -TERM $pid
set +e
wait $pid
set -e
t1=$(date +%s)
[ $((t1 - t0)) -le 2 ] || fail "SIGTERM took $((t1 - t0)) s to end the wait"
check_queue 1
check_count 5
grep -q "rate_limit 1/minute reached.*left for the next try" "$TMP/q3.err" ||
    fail "after SIGTERM: $(cat "$TMP/q3.err")"
exit 0
