#!/bin/sh
# L7: 8 runners flush 200 entries at once; the per-entry lock makes each
# message arrive exactly once, and nothing is lost.
. "$POSTIE_SRCDIR/tests/integration/lib.sh"
. "$POSTIE_SRCDIR/tests/integration/t05lib.sh"

N=200
start_smtpd
qconf "$SMTPD_PORT"
i=0
while [ $i -lt $N ]; do
	msg "c$i"
	POSTIE_SYSCONFIG=/nonexistent HOME="$TMP" "$POSTIE" -C "$TMP/config" \
	    -odq "r$i@example.com" <"$TMP/in" 2>/dev/null ||
	    fail "cannot queue message $i"
	i=$((i + 1))
done
check_queue $N
pids=""
r=0
while [ $r -lt 8 ]; do
	POSTIE_SYSCONFIG=/nonexistent HOME="$TMP" "$POSTIE" -C "$TMP/config" \
	    -qf >"$TMP/runner$r.out" 2>&1 &
	pids="$pids $!"
	r=$((r + 1))
done
for p in $pids; do
	wait "$p" || fail "a runner failed: $(cat "$TMP"/runner*.out)"
done
check_queue 0
check_count $N
check_msgids "$SMTPD_DIR" $N
m=$(grep -c '^MAIL FROM' "$(transcript)")
[ "$m" -eq $N ] || fail "$m MAIL FROM commands for $N messages"
# Several runners did share the work (one connection each).
c=$(grep -c '^EHLO' "$(transcript)")
[ "$c" -le 8 ] || fail "$c connections for 8 runners"
exit 0
