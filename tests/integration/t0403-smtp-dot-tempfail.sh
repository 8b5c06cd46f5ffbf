#!/bin/sh
# 451 after the final dot: exit 75, not delivered.
. "$POSTIE_SRCDIR/tests/integration/lib.sh"

start_smtpd --fail 'dot=451 4.3.0 queue full'
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
check_count 0
check_grep 'message refused after the end of data: 451 4.3.0 queue full' "$TMP/stderr"
check_no_grep 'duplicate' "$TMP/stderr"
exit 0
