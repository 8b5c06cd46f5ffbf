#!/bin/sh
# Compose mode: a missing, unreadable, directory or FIFO attachment is
# EX_NOINPUT (66), naming the file, before any connection.
. "$POSTIE_SRCDIR/tests/integration/lib.sh"
. "$POSTIE_SRCDIR/tests/integration/t02-compose-lib.sh"

printf 'body\n' >"$TMP/in"
printf 'ok\n' >"$TMP/ok.txt"
mkdir "$TMP/dir"
mkfifo "$TMP/fifo"

run_postie -C "$TMP/config" -s x -a "$TMP/ok.txt" -a "$TMP/missing.pdf" \
    a@example.com <"$TMP/in"
check_rc 66
check_grep "cannot open attachment '.*/missing.pdf': No such file" "$TMP/stderr"
run_postie -C "$TMP/config" -s x -a "$TMP/dir" a@example.com <"$TMP/in"
check_rc 66
check_grep "attachment '.*/dir' is a directory" "$TMP/stderr"
# A FIFO would block open(2) without O_NONBLOCK: this must return.
run_postie -C "$TMP/config" -s x -a "$TMP/fifo" a@example.com <"$TMP/in"
check_rc 66
check_grep "attachment '.*/fifo' is a FIFO" "$TMP/stderr"
run_postie -C "$TMP/config" -s x --html "$TMP/nothere.html" a@example.com \
    <"$TMP/in"
check_rc 66
run_postie -C "$TMP/config" -s x --body "$TMP/nothere.txt" a@example.com \
    </dev/null
check_rc 66
run_postie -C "$TMP/config" -s x -a /dev/null a@example.com <"$TMP/in"
check_rc 66
check_grep "not a regular file" "$TMP/stderr"
if [ "$(id -u)" -ne 0 ]; then
	printf 'secret\n' >"$TMP/unreadable"
	chmod 000 "$TMP/unreadable"
	run_postie -C "$TMP/config" -s x -a "$TMP/unreadable" a@example.com \
	    <"$TMP/in"
	check_rc 66
	check_grep "cannot open attachment '.*/unreadable': Permission denied" \
	    "$TMP/stderr"
fi
check_count 0
[ ! -s "$(transcript)" ] || fail "postie connected before checking files"
exit 0
