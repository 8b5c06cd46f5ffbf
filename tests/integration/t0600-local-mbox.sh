#!/bin/sh
# The embedded default: with no relay host, mail for a local user is
# appended to the mbox in the spool directory, one "From " line per
# message, LF line endings, mboxrd quoting, readable by Python's mailbox.
. "$POSTIE_SRCDIR/tests/integration/lib.sh"

me=$(id -un)
mkdir "$TMP/spool"
write_config "$TMP/config" <<EOF
qualify_domain example.org
local_spool $TMP/spool
local_maildir $TMP/md/%u
queue_dir $TMP/queue
EOF
box="$TMP/spool/$me"

printf 'Subject: first\n\nhello\n' >"$TMP/in1"
run_postie -C "$TMP/config" -v "$me" <"$TMP/in1"
check_rc 0
[ -f "$box" ] || fail "no mbox at $box"
check_grep "delivered to $box\$" "$TMP/stderr"
# asctime(3): "Thu Jan  1 00:00:00 1970"
date='[A-Z][a-z]{2} [A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} [0-9]{4}'
sep="^From [^ ]+@example\\.org $date\$"
head -n 1 "$box" | grep -Eq "$sep" ||
    fail "bad separator line: $(head -n 1 "$box")"
if [ "$(id -u)" = 0 ]; then
	# Debian policy 11.6: a new mailbox is user:mail 0660.
	if getent group mail >/dev/null; then
		want="$me:mail 660"
	else
		want="$me:$(id -gn) 600"
	fi
	got=$(stat -c '%U:%G %a' "$box")
	[ "$got" = "$want" ] || fail "mbox is $got, expected $want"
fi

# The second message: an explicit sender, body lines that need quoting,
# CRLF input, and the recipient written as user@localhost.
printf 'Subject: second\r\n\r\nFrom the start\r\n>From quoted\r\nend\r\n' \
    >"$TMP/in2"
run_postie -C "$TMP/config" -f alice@example.org "$me@localhost" <"$TMP/in2"
check_rc 0

if tr -d '\n' <"$box" | grep -q "$(printf '\r')"; then
	fail "CR left in the mbox"
fi
check_grep '^From alice@example\.org ' "$box"
check_grep '^>From the start$' "$box"
check_grep '^>>From quoted$' "$box"
[ "$(tail -c 2 "$box" | od -An -c | tr -d ' ')" = '\n\n' ] ||
    fail "the mbox does not end with an empty line"

"$PYTHON" - "$box" <<'PY' || fail "Python's mailbox cannot read $box"
import mailbox, sys
box = mailbox.mbox(sys.argv[1], create=False)
msgs = list(box)
assert len(msgs) == 2, "%d messages" % len(msgs)
assert msgs[0]["Subject"] == "first", msgs[0]["Subject"]
assert msgs[1]["Subject"] == "second", msgs[1]["Subject"]
assert msgs[1].get_from().startswith("alice@example.org "), msgs[1].get_from()
# (mailbox.mbox keeps or drops the separating empty line by position)
assert msgs[0].get_payload().rstrip("\n") == "hello", msgs[0].get_payload()
# mailbox.mbox does not undo mboxrd quoting: the lines as written.
body = msgs[1].get_payload().rstrip("\n")
assert body == ">From the start\n>>From quoted\nend", repr(body)
for m in msgs:
    assert m["Message-ID"] and m["Date"], "headers missing"
PY

# Nothing else is left in the spool (the dotlock is gone).
[ "$(ls "$TMP/spool")" = "$me" ] || fail "spool holds: $(ls "$TMP/spool")"
exit 0
