#!/bin/sh
# Issue 10 item 9 (L17): a flush killed (SIGKILL: OOM, systemd's final
# kill) must not send again what it delivered.  A delivered entry used
# to wait in the reaper thread's backlog (up to 64 entries) before its
# files were removed, so a kill left it queued and the next flush sent
# it again.  Here every unlink is slowed down (strace delay), so the
# backlog is as long as it can get, the runner is killed after a few
# messages, and the next flush must send each message once: at most one
# duplicate, the message whose "250" arrived just before the kill (the
# one window no queue can close).
. "$POSTIE_SRCDIR/tests/integration/lib.sh"
. "$POSTIE_SRCDIR/tests/integration/t05lib.sh"

command -v strace >/dev/null || skip "strace not installed"
N=30

start_smtpd
qconf "$SMTPD_PORT"
i=0
while [ $i -lt $N ]; do
	i=$((i + 1))
	msg "k$i"
	run_postie -C "$TMP/config" -odq a@example.com <"$TMP/in"
	check_rc 0
done
check_queue $N

POSTIE_SYSCONFIG=/nonexistent HOME="$TMP" ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=0" \
    command strace -f -o /dev/null -e trace=unlink,unlinkat \
    -e inject=unlink,unlinkat:delay_enter=200000 \
    "$POSTIE" -C "$TMP/config" -qf >"$TMP/stdout" 2>"$TMP/stderr" &
tracer=$!
# kill the runner itself (not strace) once the server has 5 messages
i=0
while [ "$(find "$SMTPD_DIR" -name '*.eml' | wc -l)" -lt 5 ]; do
	i=$((i + 1))
	[ $i -lt 300 ] || fail "the runner sent nothing"
	sleep 0.05
done
runner=$(pgrep -P $tracer) || fail "no runner under strace"
kill -9 $runner
wait $tracer 2>/dev/null || :

# the next flush sends the rest, and nothing delivered again
run_postie -C "$TMP/config" -qf
check_rc 0
[ "$(qcount)" -eq 0 ] || fail "$(qcount) entries left"
all=$(cat "$SMTPD_DIR"/*.eml | grep -i '^Message-ID:' | wc -l)
uniq=$(cat "$SMTPD_DIR"/*.eml | grep -i '^Message-ID:' | sort -u | wc -l)
[ "$uniq" -eq $N ] || fail "$uniq of $N messages arrived"
[ $((all - uniq)) -le 1 ] ||
    fail "$((all - uniq)) messages sent twice after the kill (at most 1)"
# the message file of an entry done just before the kill is an orphan:
# never sent (no .env), removed once stale
find "$Q/q" -name '*.msg' -exec touch -d '2 hours ago' {} +
run_postie -C "$TMP/config" -q
check_rc 0
check_queue 0
[ "$(cat "$SMTPD_DIR"/*.eml | grep -ci '^Message-ID:')" -eq "$all" ] ||
    fail "an orphan was sent"
exit 0
