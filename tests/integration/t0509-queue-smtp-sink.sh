#!/bin/sh
# The relay faults again, with Postfix's smtp-sink fault flags (a second,
# independent server): temporary ones queued (R4 -r CONNECT, R6 -r MAIL,
# R8 -r RCPT, R12 -r ., R16 -q .), permanent ones not (R5 -f CONNECT,
# R7 -f MAIL, R9 -f RCPT, R13 -f ., R14 -f DATA), R17 a slow server
# within limits and R21 a server without ESMTP deliver.  Then one flush
# to a healthy smtp-sink delivers every queued message once.
. "$POSTIE_SRCDIR/tests/integration/lib.sh"
. "$POSTIE_SRCDIR/tests/integration/t05lib.sh"

n=0
# sink_case EXPECTED_RC QUEUED_TOTAL smtp-sink-flags...
sink_case() {
	want=$1 total=$2
	shift 2
	n=$((n + 1))
	start_sink "$TMP/sink$n" "$@"
	qconf "$SINK_PORT"
	msg "s$n"
	run_postie -C "$TMP/config" a@example.com <"$TMP/in"
	check_rc "$want"
	check_queue "$total"
	stop_sinks
}

sink_case 0 1 -r CONNECT	# R4
sink_case 69 1 -f CONNECT	# R5
sink_case 0 2 -r MAIL		# R6
sink_case 69 2 -f MAIL		# R7
sink_case 0 3 -r RCPT		# R8
sink_case 67 3 -f RCPT		# R9
sink_case 0 4 -r .		# R12
sink_case 69 4 -f .		# R13
sink_case 69 4 -f DATA		# R14: 5xx to DATA, before the body
sink_case 0 5 -q .		# R16: dropped after the dot
check_grep 'possible duplicate' "$TMP/stderr"
sink_case 0 5 -w 1		# R17: 1 s per reply, within timeout 5
[ "$(sink_count "$TMP/sink11")" -eq 1 ] || fail "R17 not delivered"
sink_case 0 5 -e		# R21: HELO only
[ "$(sink_count "$TMP/sink12")" -eq 1 ] || fail "R21 not delivered"
check_grep 'X-Client-Proto: SMTP' "$(find "$TMP/sink12" -type f)"

# Every permanent failure left nothing; every queued one arrives once.
start_sink "$TMP/good"
qconf "$SINK_PORT"
run_postie -C "$TMP/config" -qf
check_rc 0
check_queue 0
check_sink_msgids "$TMP/good" 5
for i in 1 3 5 7 10; do
	check_grep "<s$i@postie.test>" "$(grep -l "s$i@" "$TMP/good"/*)"
done
exit 0
