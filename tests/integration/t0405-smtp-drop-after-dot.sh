#!/bin/sh
# The connection drops after the final dot with no reply (the duplicate
# window): exit 75 and stderr says the message may have been delivered.
. "$POSTIE_SRCDIR/tests/integration/lib.sh"

start_smtpd --fail 'dot=drop'
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
check_grep 'connection lost after the end of data' "$TMP/stderr"
check_grep 'possible duplicate' "$TMP/stderr"
# The server kept it (that is the point of the warning).
check_count 1
exit 0
