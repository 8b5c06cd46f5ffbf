#!/bin/sh
# Issue 10 item 8 (L16): a queue that cannot record an outcome must not
# resend.  The faults are injected with strace (EROFS on unlink, rename
# and fchmod; ENOSPC on fsync), so the test needs no privilege and no
# small file system.
#
# Read-only: a flush that delivered an entry but cannot remove it stops
# at once and says why (exit 73); while the queue stays read-only every
# flush stops before its first send (nothing sent twice); once writable
# again the entry whose outcome was not recorded is held, never sent
# blind, until --queue-release.  (On a real read-only remount the mark
# itself cannot be written: then that one entry, delivered just before
# the remount, is sent once more when the queue is writable again.)
#
# Full: the .env rewrite after a partial accept fails; the recipient
# that accepted never gets a second copy.
. "$POSTIE_SRCDIR/tests/integration/lib.sh"
. "$POSTIE_SRCDIR/tests/integration/t05lib.sh"

command -v strace >/dev/null || skip "strace not installed"

# traced NAME STRACE-ARGS...: postie -qf under strace, stderr kept.
traced() {
	set +e
	POSTIE_SYSCONFIG=/nonexistent HOME="$TMP" strace -f -o /dev/null "$@" \
	    "$POSTIE" -C "$TMP/config" -qf >"$TMP/stdout" 2>"$TMP/stderr"
	rc=$?
	set -e
}

# Read-only.
start_smtpd
qconf "$SMTPD_PORT"
for m in ro1 ro2; do
	msg $m
	run_postie -C "$TMP/config" -odq a@example.com <"$TMP/in"
	check_rc 0
done
check_queue 2
traced -e trace=unlink,unlinkat -e inject=unlink,unlinkat:error=EROFS
[ "$rc" -eq 73 ] || fail "exit $rc, expected 73"
check_grep 'its outcome could not be recorded.*flush stopped' "$TMP/stderr"
check_count 1
[ "$(qcount)" -eq 2 ] || fail "$(qcount) entries"
# still read-only: nothing is sent at all
for i in 1 2 3; do
	traced -e trace=unlink,unlinkat,rename,renameat,renameat2,fchmod \
	    -e inject=unlink,unlinkat,rename,renameat,renameat2,fchmod:error=EROFS
	[ "$rc" -eq 73 ] || fail "exit $rc, expected 73"
	check_grep 'cannot record outcomes.*not flushing, so that no message is sent twice' \
	    "$TMP/stderr"
	check_count 1
done
# writable again: the unrecorded entry is held, the other one sent
run_postie -C "$TMP/config" -qf
check_rc 0
check_grep 'never recorded.*held, not sent again blind' "$TMP/stderr"
check_count 2
check_queue 1
[ "$(cat "$SMTPD_DIR"/*.eml | grep -i '^Message-ID:' | sort -u | wc -l)" -eq 2 ] ||
    fail "not both messages once"
run_postie -C "$TMP/config" -bp
check_grep '^[^ ]+! .* held=admin .*could not be recorded' "$TMP/stdout"
id=$(sed -n 's/^\([^ !]*\)! .*/\1/p' "$TMP/stdout")
run_postie -C "$TMP/config" -qf
check_count 2
# the administrator's decision: send it again
run_postie -C "$TMP/config" --queue-release "$id"
check_rc 0
run_postie -C "$TMP/config" -qf
check_rc 0
check_count 3
check_queue 0

# Full: good@ accepts, slow@ is deferred, and the rewrite cannot be synced.
start_smtpd --fail 'rcpt:slow@example.com=450 4.2.1 mailbox busy'
qconf "$SMTPD_PORT"
msg full
run_postie -C "$TMP/config" -odq good@example.com slow@example.com <"$TMP/in"
check_rc 0
# fsync 1 is the check before the first send; 2 the rewrite's
traced -e trace=fsync -e inject=fsync:error=ENOSPC:when=2+
[ "$rc" -eq 73 ] || fail "exit $rc, expected 73"
check_grep 'its outcome could not be recorded.*flush stopped' "$TMP/stderr"
check_count 1
run_postie -C "$TMP/config" -qf
check_rc 0
check_count 1
check_grep 'never recorded.*held, not sent again blind' "$TMP/stderr"
run_postie -C "$TMP/config" -qf
check_rc 0
check_count 1
[ "$(qcount)" -eq 1 ] || fail "the entry was lost"
exit 0
