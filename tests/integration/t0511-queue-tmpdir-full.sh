#!/bin/sh
# Issue 10 item 4 (L15): a piped message over 256 KiB is spooled while it is
# read.  With $TMPDIR unusable (full, read-only; here a path that is not
# a directory) it goes into the queue's own tmp/, where it can still be
# kept, and is sent.  When nothing can hold it, postie says so with 75
# (the caller keeps the message), never 73 with the message gone quietly.
. "$POSTIE_SRCDIR/tests/integration/lib.sh"
. "$POSTIE_SRCDIR/tests/integration/t05lib.sh"

: >"$TMP/not-a-dir"
big() {
	{ printf 'Subject: big\nMessage-ID: <big@postie.test>\n\n'
	  head -c 400000 /dev/zero | tr '\0' 'y' | fold -w 70; } >"$TMP/in"
}
run_tmp() {	# run_tmp ARGS...: postie with the unusable TMPDIR, piped
	set +e
	cat "$TMP/in" | POSTIE_SYSCONFIG=/nonexistent HOME="$TMP" \
	    TMPDIR="$TMP/not-a-dir" "$POSTIE" "$@" >"$TMP/stdout" 2>"$TMP/stderr"
	rc=$?
	set -e
}

start_smtpd
qconf "$SMTPD_PORT"
mkdir -p "$Q/tmp"
chmod 700 "$Q" "$Q/tmp"
big
run_tmp -C "$TMP/config" a@example.com
check_rc 0
check_count 1
check_grep '^Message-ID: <big@postie.test>' "$SMTPD_DIR/0001.eml"
[ "$(find "$Q/tmp" -type f | wc -l)" -eq 0 ] || fail "spool file left in tmp/"

# No queue and no usable $TMPDIR: 75, saying why.
qconf "$SMTPD_PORT" "queue off"
run_tmp -C "$TMP/config" a@example.com
check_rc 75
check_grep "cannot create a temporary file in $TMP/not-a-dir" "$TMP/stderr"
check_count 1
exit 0
