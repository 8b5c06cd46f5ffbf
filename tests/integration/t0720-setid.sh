#!/bin/sh
# postie refuses to run set-user-ID or set-group-ID (real and effective
# ids differ): exit 77 with a message naming the bit, before it reads a
# config or any input.  A copy of the binary gets u+s (owner root) or g+s
# (group root) and runs as nobody.  Needs root and setpriv.
. "$POSTIE_SRCDIR/tests/integration/lib.sh"

[ "$(id -u)" -eq 0 ] || skip "needs root to make a set-id binary"
command -v setpriv >/dev/null 2>&1 || skip "setpriv (util-linux) not found"
id nobody >/dev/null 2>&1 || skip "no user nobody"
nogroup=$(id -g nobody)

# Other users must reach the copy: $TMP is 0700 by default.
chmod 755 "$TMP"
mkdir "$TMP/bin"
chmod 755 "$TMP/bin"
cp "$POSTIE" "$TMP/bin/postie"
chown root:root "$TMP/bin/postie"
printf 'Subject: x\n\nhello\n' >"$TMP/in"
chmod 644 "$TMP/in"
# A config a set-id postie could be tricked into reading.
printf 'host 127.0.0.1\n' >"$TMP/conf"
chmod 644 "$TMP/conf"

# as_nobody ARGS...: the copy, run as nobody with no groups.
as_nobody() {
	set +e
	setpriv --reuid=nobody --regid="$nogroup" --clear-groups -- \
	    env HOME="$TMP" POSTIE_SYSCONFIG=/nonexistent \
	    "$TMP/bin/postie" "$@" <"$TMP/in" >"$TMP/stdout" 2>"$TMP/stderr"
	rc=$?
	set -e
}

# The plain copy runs as nobody (the test can tell the difference).
chmod 755 "$TMP/bin/postie"
as_nobody --version
check_rc 0

chmod 4755 "$TMP/bin/postie"
as_nobody -C "$TMP/conf" a@example.com
if [ "$rc" -eq 0 ] || ! grep -q 'set-user-ID' "$TMP/stderr"; then
	# a nosuid mount ignores the bit: nothing to test there
	if findmnt -no OPTIONS -T "$TMP/bin" 2>/dev/null | grep -q nosuid; then
		skip "$TMP is on a nosuid mount"
	fi
fi
check_rc 77
check_grep '^postie: refusing to run set-user-ID or set-group-ID' "$TMP/stderr"
as_nobody --version
check_rc 77

chmod 2755 "$TMP/bin/postie"
as_nobody -C "$TMP/conf" a@example.com
check_rc 77
check_grep 'set-group-ID' "$TMP/stderr"

chmod 6755 "$TMP/bin/postie"
as_nobody -q
check_rc 77
check_grep 'set-user-ID' "$TMP/stderr"
exit 0
