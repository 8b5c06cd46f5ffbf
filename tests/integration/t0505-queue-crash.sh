#!/bin/sh
# Crashes.  L5: killed after fsync, before rename: the tmp/ files are
# never sent and are removed once stale.  L6: killed after the relay
# accepted, before the entry was removed: the next run sends it again
# (the documented duplicate risk), exactly once more.  L8: a runner
# killed while holding an entry's lock does not block the next runner.
# L9: SIGTERM mid-flush leaves the entry queued.  L11: a sender killed
# before the end of its input leaves nothing, sends nothing.
. "$POSTIE_SRCDIR/tests/integration/lib.sh"
. "$POSTIE_SRCDIR/tests/integration/t05lib.sh"

command -v strace >/dev/null || skip "strace not installed"

# L5
PORT=$(free_port)
qconf "$PORT"
msg l5
set +e
POSTIE_SYSCONFIG=/nonexistent HOME="$TMP" strace -f -o /dev/null \
    -e trace=rename,renameat,renameat2 \
    -e inject=rename,renameat,renameat2:signal=SIGKILL:when=1 \
    "$POSTIE" -C "$TMP/config" a@example.com <"$TMP/in" \
    >"$TMP/stdout" 2>"$TMP/stderr"
rc=$?
set -e
[ "$rc" -ne 0 ] || fail "postie was not killed"
[ "$(qcount)" -eq 0 ] || fail "an entry was published"
[ "$(find "$Q/tmp" -type f | wc -l)" -eq 2 ] || fail "tmp/: $(ls "$Q/tmp")"
start_smtpd
qconf "$SMTPD_PORT"
run_postie -C "$TMP/config" -qf
check_count 0
[ "$(find "$Q/tmp" -type f | wc -l)" -eq 2 ] || fail "fresh tmp/ files removed"
find "$Q/tmp" -type f -exec touch -d '2 hours ago' {} +
run_postie -C "$TMP/config" -qf
check_rc 0
check_count 0
check_queue 0

# L6: the unlink of the delivered entry kills the runner.
msg l6
run_postie -C "$TMP/config" -odq a@example.com <"$TMP/in"
check_queue 1
set +e
POSTIE_SYSCONFIG=/nonexistent HOME="$TMP" strace -f -o /dev/null \
    -e trace=unlink,unlinkat -e inject=unlink,unlinkat:signal=SIGKILL:when=1 \
    "$POSTIE" -C "$TMP/config" -qf >"$TMP/stdout" 2>"$TMP/stderr"
set -e
check_count 1
check_queue 1
run_postie -C "$TMP/config" -qf
check_rc 0
check_count 2
check_queue 0
a=$(grep -i '^Message-ID:' "$SMTPD_DIR/0001.eml")
b=$(grep -i '^Message-ID:' "$SMTPD_DIR/0002.eml")
[ "$a" = "$b" ] || fail "not the same message: $a / $b"
run_postie -C "$TMP/config" -qf
check_count 2

# L8 and L9: runners stuck on a server that never answers.
start_mute
qconf "$MUTE_PORT" "timeout 30"
msg l8
run_postie -C "$TMP/config" -odq a@example.com <"$TMP/in"
POSTIE_SYSCONFIG=/nonexistent HOME="$TMP" "$POSTIE" -C "$TMP/config" -qf \
    >/dev/null 2>&1 &
runner=$!
sleep 1
kill -9 $runner
wait $runner 2>/dev/null || :
POSTIE_SYSCONFIG=/nonexistent HOME="$TMP" "$POSTIE" -C "$TMP/config" -qf \
    >/dev/null 2>&1 &
runner=$!
sleep 1
kill -TERM $runner
# SIGTERM stops it at once (issue 10 item 6): the send had not reached
# the data, so the entry stays queued for the next run
i=0
while kill -0 $runner 2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 50 ] || fail "runner not stopped by SIGTERM"
	sleep 0.1
done
wait $runner || :
check_queue 1
qconf "$SMTPD_PORT"
run_postie -C "$TMP/config" -qf
check_rc 0
check_count 3
check_queue 0
check_grep '<l8@postie.test>' "$SMTPD_DIR/0003.eml"

# L11: the input never ends; the sender is killed.
mkfifo "$TMP/fifo"
POSTIE_SYSCONFIG=/nonexistent HOME="$TMP" "$POSTIE" -C "$TMP/config" \
    a@example.com <"$TMP/fifo" >/dev/null 2>&1 &
sender=$!
exec 3>"$TMP/fifo"
printf 'Subject: l11\n\npart of a body\n' >&3
sleep 0.5
kill -9 $sender
wait $sender 2>/dev/null || :
exec 3>&-
check_queue 0
check_count 3
exit 0
