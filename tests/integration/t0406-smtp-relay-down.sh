#!/bin/sh
# Nothing listening on the relay's port: exit 75, connection refused.
. "$POSTIE_SRCDIR/tests/integration/lib.sh"

SMTPD_DIR="$TMP"
SMTPD_PORT=$(free_port)
write_config "$TMP/config" <<CONF
account default
# direct mode: these tests check the exit codes of the contract
queue off
host 127.0.0.1
port $SMTPD_PORT
from sender@example.org
CONF
printf 'Subject: x\n\nhello\n' >"$TMP/msg"
run_postie -C "$TMP/config" a@example.com <"$TMP/msg"
check_rc 75
check_grep "connection to 127.0.0.1:$SMTPD_PORT refused" "$TMP/stderr"
exit 0
