#!/bin/sh
# 554 after the final dot: exit 69; 554 to DATA itself: exit 69 too.
. "$POSTIE_SRCDIR/tests/integration/lib.sh"

start_smtpd --fail 'dot=554 5.7.1 message rejected as spam'
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
check_rc 69
check_count 0
check_grep 'message refused after the end of data: 554 5.7.1 message rejected as spam' \
    "$TMP/stderr"

start_smtpd --fail 'data=554 5.5.1 no valid recipients'
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
check_rc 69
check_count 0
check_grep 'DATA refused: 554 5.5.1 no valid recipients' "$TMP/stderr"
exit 0
