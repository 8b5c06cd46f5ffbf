#!/bin/sh
# With no relay host and the user's Maildir present (local_maildir
# template, %u the user), mail lands in new/ and the mbox is not used.
. "$POSTIE_SRCDIR/tests/integration/lib.sh"

me=$(id -un)
mkdir "$TMP/spool" "$TMP/md" "$TMP/md/$me"
write_config "$TMP/config" <<EOF
qualify_domain example.org
local_spool $TMP/spool
local_maildir $TMP/md/%u
queue_dir $TMP/queue
EOF
md="$TMP/md/$me"

printf 'Subject: to maildir\n\nFrom here\nbody\n' >"$TMP/in"
run_postie -C "$TMP/config" -v "$me" <"$TMP/in"
check_rc 0
[ ! -e "$TMP/spool/$me" ] || fail "the mbox was written too"
[ "$(ls "$md/tmp" | wc -l)" -eq 0 ] || fail "tmp/ is not empty"
[ "$(ls "$md/new" | wc -l)" -eq 1 ] || fail "new/ should hold one file"
f=$(ls "$md/new")
check_grep "delivered to $md/new/$f\$" "$TMP/stderr"
case $f in *:*) fail "':' in a Maildir file name: $f" ;; esac
check_grep '^From here$' "$md/new/$f"
if tr -d '\n' <"$md/new/$f" | grep -q "$(printf '\r')"; then
	fail "CR left in the Maildir file"
fi

"$PYTHON" - "$md" <<'PY' || fail "Python's mailbox cannot read $md"
import mailbox, sys
md = mailbox.Maildir(sys.argv[1], factory=None, create=False)
msgs = list(md)
assert len(msgs) == 1, "%d messages" % len(msgs)
assert msgs[0]["Subject"] == "to maildir", msgs[0]["Subject"]
body = msgs[0].get_payload()
assert body == "From here\nbody\n", repr(body)
PY
exit 0
