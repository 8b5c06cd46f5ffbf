#!/bin/sh
# T7: credentials over an unencrypted connection: postie refuses before it
# connects (exit 78) unless auth_cleartext is on.
. "$POSTIE_SRCDIR/tests/integration/lib.sh"

start_smtpd --auth user:S3cr3t-pw --no-auth-require-tls
write_config "$TMP/config" <<CONF
account default
# direct mode: these tests check the exit codes of the contract
queue off
host 127.0.0.1
port $SMTPD_PORT
from sender@example.org
auth plain
user user
password S3cr3t-pw
CONF
printf 'Subject: x\n\nhello\n' >"$TMP/msg"
run_postie -C "$TMP/config" a@example.com <"$TMP/msg"
check_rc 78
check_grep 'refusing to send credentials over an unencrypted connection to 127.0.0.1' \
    "$TMP/stderr"
check_count 0
[ ! -s "$(transcript)" ] || fail "postie talked to the server"

printf 'auth_cleartext on\n' >>"$TMP/config"
printf 'Subject: x\n\nhello\n' >"$TMP/msg"
run_postie -C "$TMP/config" a@example.com <"$TMP/msg"
check_rc 0
check_count 1
[ "$(json_field 1 auth)" = '"user"' ] || fail "not authenticated"

# With the queue on: held, and the fix is the key named, not a
# passwordeval command (none is configured).
sed -i '/^queue off$/d; /^auth_cleartext on$/d' "$TMP/config"
run_postie -C "$TMP/config" a@example.com <"$TMP/msg"
check_rc 78
check_grep '^postie: NOT SENT: refusing to send credentials .*auth_cleartext on\..*held until the configuration is fixed: fix the account.s setting named above; then send it' "$TMP/stderr"
check_no_grep 'passwordeval' "$TMP/stderr"
check_count 1
exit 0
