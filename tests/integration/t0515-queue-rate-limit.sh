#!/bin/sh
# rate_limit 5/minute: postie -q sends 5 of 12 queued messages and leaves
# 7 queued, next try about 60 s ahead, none failed; a direct send over the
# limit is queued (exit 0), and with queue off it exits 75.
. "$POSTIE_SRCDIR/tests/integration/lib.sh"
. "$POSTIE_SRCDIR/tests/integration/t05lib.sh"

start_smtpd
qconf "$SMTPD_PORT"
echo "rate_limit 5/minute" >>"$TMP/config"
run() {
	POSTIE_SYSCONFIG=/nonexistent HOME="$TMP" "$POSTIE" -C "$TMP/config" "$@"
}
i=0
while [ $i -lt 12 ]; do
	msg "r$i"
	run -odq "r$i@example.com" <"$TMP/in" 2>/dev/null ||
	    fail "cannot queue message $i"
	i=$((i + 1))
done
check_queue 12
run -q 2>"$TMP/q.err" || fail "postie -q failed: $(cat "$TMP/q.err")"
check_queue 7
check_count 5
grep -q 'rate_limit 5/minute reached' "$TMP/q.err" ||
    fail "no rate_limit word: $(cat "$TMP/q.err")"
msg direct
run "d@example.com" <"$TMP/in" 2>"$TMP/d.err" ||
    fail "the direct send over the limit did not exit 0"
grep -q '^postie: queued: .*rate_limit 5/minute reached, next try at' \
    "$TMP/d.err" || grep -q 'queued: .*rate_limit 5/minute reached' \
    "$TMP/d.err" || fail "direct send: $(cat "$TMP/d.err")"
check_queue 8
check_count 5
echo "queue off" >>"$TMP/config"
set +e
run "e@example.com" <"$TMP/in" 2>"$TMP/e.err"
rc=$?
set -e
[ "$rc" -eq 75 ] || fail "queue off over the limit: exit $rc: $(cat "$TMP/e.err")"
check_count 5

# The first send of a fresh install, before any queue directory exists:
# the limit's count is kept in the queue, which is made for it; the
# message goes out (it used to be queued, "cannot make .../rate").
Q=$TMP/fresh-queue
qconf "$SMTPD_PORT"
echo "rate_limit 5/minute" >>"$TMP/config"
[ ! -e "$Q" ] || fail "the fresh queue exists already"
msg fresh
run "f@example.com" <"$TMP/in" 2>"$TMP/f.err" ||
    fail "first send: $(cat "$TMP/f.err")"
grep -q 'queued' "$TMP/f.err" && fail "first send queued: $(cat "$TMP/f.err")"
check_count 6
exit 0
