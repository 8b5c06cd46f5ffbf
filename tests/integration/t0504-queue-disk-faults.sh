#!/bin/sh
# Local faults while queueing (the relay is down, so the message must be
# queued): L1 ENOSPC on write, L2 EFBIG (ulimit -f; SIGXFSZ ignored),
# L3 EIO on fsync, L4 EXDEV on rename (the first and the second one).
# Each: exit 75, no half entry in q/, tmp/ cleaned, nothing sent, and
# the whole message in dead.letter (or stderr saying it was not kept).
# EROFS needs a read-only mount (privileges CI may lack): not covered.
. "$POSTIE_SRCDIR/tests/integration/lib.sh"
. "$POSTIE_SRCDIR/tests/integration/t05lib.sh"

command -v strace >/dev/null || skip "strace not installed"

PORT=$(free_port)
qconf "$PORT"
# Create the queue directories first, so that the faults hit the entry.
run_postie -C "$TMP/config" -bp
run_postie -C "$TMP/config" -q

# inject NAME SPEC: run postie under strace with one fault.
inject() {
	name=$1
	shift
	rm -f "$TMP/dead.letter"
	msg "$name"
	set +e
	POSTIE_SYSCONFIG=/nonexistent HOME="$TMP" strace -f -o /dev/null \
	    "$@" "$POSTIE" -C "$TMP/config" a@example.com \
	    <"$TMP/in" >"$TMP/stdout" 2>"$TMP/stderr"
	rc=$?
	set -e
}

check_dead() {
	check_grep "could not queue" "$TMP/stderr"
	check_grep "appended to '$TMP/dead.letter'" "$TMP/stderr"
	check_grep "^Message-ID: <$1@postie.test>" "$TMP/dead.letter"
	check_grep "^From sender@example.org " "$TMP/dead.letter"
	check_grep "^body of $1$" "$TMP/dead.letter"
}

# L1: the first write(2) is the queue file's (nothing else writes
# before it when the relay refuses the connection).
inject l1 -e trace=write -e inject=write:error=ENOSPC:when=1
check_rc 75
check_queue 0
check_dead l1
check_grep 'No space left on device' "$TMP/stderr"

# L3: fsync of the queue file fails.
inject l3 -e trace=fsync -e inject=fsync:error=EIO:when=1
check_rc 75
check_queue 0
check_dead l3
check_grep 'cannot sync' "$TMP/stderr"

# L4: the rename of the .msg, then of the .env (the .msg already in q/
# must go too).
inject l4a -e trace=rename,renameat,renameat2 \
    -e inject=rename,renameat,renameat2:error=EXDEV:when=1
check_rc 75
check_queue 0
check_dead l4a
check_grep 'cannot rename' "$TMP/stderr"
inject l4b -e trace=rename,renameat,renameat2 \
    -e inject=rename,renameat,renameat2:error=EXDEV:when=2
check_rc 75
check_queue 0
check_dead l4b
[ -z "$(ls "$Q/q")" ] || fail "q/ not empty: $(ls "$Q/q")"

# L1 with dead.letter failing too: the message is reported as not kept.
inject l1b -e trace=write -e inject=write:error=ENOSPC:when=1+
check_rc 75
check_queue 0

# L2: a file size limit below the message size: EFBIG, not SIGXFSZ.
msg l2
i=0
while [ $i -lt 40 ]; do
	echo "padding line $i padding padding padding padding padding padding"
	i=$((i + 1))
done >>"$TMP/in"
rm -f "$TMP/dead.letter"
set +e
(
	ulimit -f 1
	POSTIE_SYSCONFIG=/nonexistent HOME="$TMP" exec "$POSTIE" \
	    -C "$TMP/config" a@example.com <"$TMP/in" >"$TMP/stdout" \
	    2>"$TMP/stderr"
)
rc=$?
set -e
check_rc 75
check_queue 0
check_grep 'could not queue.*File too large' "$TMP/stderr"
check_grep 'not kept' "$TMP/stderr"
[ ! -s "$TMP/dead.letter" ] || fail "a partial dead.letter was left"

# Nothing was ever sent, and after all that the queue still works.
start_smtpd
qconf "$SMTPD_PORT"
run_postie -C "$TMP/config" -qf
check_count 0
msg after
run_postie -C "$TMP/config" a@example.com <"$TMP/in"
check_rc 0
check_count 1
exit 0
