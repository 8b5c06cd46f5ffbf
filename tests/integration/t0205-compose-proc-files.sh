#!/bin/sh
# I14 (issue 10 item 13): an attachment or --body from /proc or /sys has
# no size in advance (st_size 0, or a page): it is read whole and sent
# whole, never as an empty part with exit 0.  An empty regular file
# stays an empty part.
. "$POSTIE_SRCDIR/tests/integration/lib.sh"
. "$POSTIE_SRCDIR/tests/integration/t02-compose-lib.sh"

[ -r /proc/self/status ] && [ -r /proc/cpuinfo ] ||
	skip "no /proc on this machine"
: >"$TMP/empty.txt"

run_postie -C "$TMP/config" -s procfs -a /proc/self/status \
    --body /proc/cpuinfo -a "$TMP/empty.txt" a@example.com </dev/null
check_rc 0
check_count 1
"$PYTHON" - "$(eml 1)" <<'PY' || fail "a /proc file arrived empty"
import email, email.policy, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"),
                                   policy=email.policy.default)
parts = {p.get_filename(): p for p in m.walk() if not p.is_multipart()}
status = parts["status"].get_payload(decode=True)
assert b"Name:" in status and b"Pid:" in status, status[:80]
text = parts[None].get_payload(decode=True)
assert b"processor" in text, text[:80]
assert parts["empty.txt"].get_payload(decode=True) == b""
PY
exit 0
