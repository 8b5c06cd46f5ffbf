#!/bin/sh
# Local delivery failures: a remote recipient with no relay (69, says how
# to configure one), an unknown user (67), a partly unknown recipient
# list (0, the rest delivered), a symlinked mbox (refused, never
# followed; 73 with the queue off).
. "$POSTIE_SRCDIR/tests/integration/lib.sh"

me=$(id -un)
mkdir "$TMP/spool"
write_config "$TMP/config" <<EOF
qualify_domain example.org
local_spool $TMP/spool
local_maildir $TMP/md/%u
queue_dir $TMP/queue
queue off
EOF
printf 'Subject: s\n\nbody\n' >"$TMP/in"

# A remote recipient and no "host": EX_UNAVAILABLE, and how to fix it.
run_postie -C "$TMP/config" bob@example.com <"$TMP/in"
check_rc 69
check_grep "no relay configured.*bob@example\.com" "$TMP/stderr"
check_grep "'host'" "$TMP/stderr"
# the system file it names is the one this binary reads ($POSTIE_SYSCONFIG
# in tests), never a fixed /etc path
check_grep "in /nonexistent or" "$TMP/stderr"
# --dry-run exits with the code the routing gives, and says why
run_postie -C "$TMP/config" --dry-run bob@example.com <"$TMP/in"
check_rc 69
check_grep "no relay: local delivery" "$TMP/stderr"
check_grep "no relay configured.*bob@example\.com" "$TMP/stderr"
[ -z "$(ls "$TMP/spool")" ] || fail "something was delivered"

# An unknown user: EX_NOUSER.
run_postie -C "$TMP/config" nosuchuser-postie <"$TMP/in"
check_rc 67
check_grep "unknown local user 'nosuchuser-postie'" "$TMP/stderr"
[ -z "$(ls "$TMP/spool")" ] || fail "something was delivered"

# Known and unknown: delivered to the known one, a warning for the other.
run_postie -C "$TMP/config" "$me" nosuchuser-postie <"$TMP/in"
check_rc 0
check_grep "unknown local user 'nosuchuser-postie'" "$TMP/stderr"
[ "$(grep -c '^From ' "$TMP/spool/$me")" -eq 1 ] ||
    fail "expected one message in $TMP/spool/$me"
rm -f "$TMP/spool/$me"

# A symlinked mbox is never followed; its target stays untouched.
echo secret >"$TMP/target"
ln -s "$TMP/target" "$TMP/spool/$me"
run_postie -C "$TMP/config" "$me" <"$TMP/in"
check_rc 73
check_grep "symbolic link" "$TMP/stderr"
[ "$(cat "$TMP/target")" = secret ] || fail "the symlink target was written"
exit 0
