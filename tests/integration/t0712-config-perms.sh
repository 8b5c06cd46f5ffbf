#!/bin/sh
# T10: a config file holding a password must be private.  The user's file
# (-C): group- or world-readable, or owned by another user, is exit 78
# with msmtp's kind of message and nothing is sent; a world-writable file
# is refused even without a password (passwordeval runs commands).  The
# system file may be shared with a group, never with everyone.
. "$POSTIE_SRCDIR/tests/integration/lib.sh"

start_smtpd --auth user:S3cr3t-pw --no-auth-require-tls
body() {
	cat <<CONF
account default
queue off
host 127.0.0.1
port $SMTPD_PORT
from sender@example.org
auth plain
user user
auth_cleartext on
CONF
}
printf 'Subject: perms\n\nhello\n' >"$TMP/in"
conf="$TMP/config"

# refused MODE [OWNER] PATTERN: the user file with a password.
refused() {
	{ body; printf 'password S3cr3t-pw\n'; } >"$conf"
	chmod "$1" "$conf"
	chown "${2:-$(id -u)}" "$conf"
	run_postie -C "$conf" a@example.com <"$TMP/in"
	check_rc 78
	check_grep "$3" "$TMP/stderr"
	check_fixed_absent S3cr3t-pw "$TMP/stderr"
}
refused 640 "" 'contains a password but is readable by others \(chmod 600'
refused 604 "" 'contains a password but is readable by others'
refused 644 "" 'contains a password but is readable by others'
refused 660 "" 'contains a password but is readable by others'
if [ "$(id -u)" -eq 0 ]; then
	refused 600 nobody 'contains a password but is owned by another user'
	refused 400 nobody 'owned by another user'
else
	echo "note: not root, the other-owner case is not run" >&2
fi
refused 602 "" 'is writable by others'
# passwordeval in a world-writable file: anyone could run commands.
{ body; printf 'passwordeval echo S3cr3t-pw\n'; } >"$conf"
chown "$(id -u)" "$conf"
chmod 646 "$conf"
run_postie -C "$conf" a@example.com <"$TMP/in"
check_rc 78
check_grep 'is writable by others' "$TMP/stderr"
check_count 0
[ ! -s "$(transcript)" ] || fail "postie contacted the server"

# The private file works; a file without a secret may be readable.
{ body; printf 'password S3cr3t-pw\n'; } >"$conf"
chmod 600 "$conf"
run_postie -C "$conf" a@example.com <"$TMP/in"
check_rc 0
{ body; printf 'passwordeval echo S3cr3t-pw\n'; } >"$conf"
chmod 644 "$conf"
run_postie -C "$conf" a@example.com <"$TMP/in"
check_rc 0
check_count 2

# The system file: a group may share it (Debian's msmtp group), others
# may not read it when it holds a password.
sys="$TMP/system.conf"
{ body; printf 'password S3cr3t-pw\n'; } >"$sys"
for mode in 644 604; do
	chmod $mode "$sys"
	set +e
	POSTIE_SYSCONFIG="$sys" POSTIE_CONFIG=/nonexistent/none HOME="$TMP" \
	    "$POSTIE" a@example.com <"$TMP/in" >"$TMP/stdout" 2>"$TMP/stderr"
	rc=$?
	set -e
	check_rc 78
	check_grep "$sys: contains a password but is readable by others" \
	    "$TMP/stderr"
done
chmod 640 "$sys"
set +e
POSTIE_SYSCONFIG="$sys" HOME="$TMP" "$POSTIE" a@example.com <"$TMP/in" \
    >"$TMP/stdout" 2>"$TMP/stderr"
rc=$?
set -e
check_rc 0
check_count 3
exit 0
