#!/bin/sh
# 4xx to MAIL FROM: exit 75, the step and the reply in the one error line;
# 5xx to MAIL FROM: exit 69.
. "$POSTIE_SRCDIR/tests/integration/lib.sh"

start_smtpd --fail 'mail=451 4.3.0 try later'
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
check_grep 'cannot send to 127.0.0.1:[0-9]+: MAIL FROM refused: 451 4.3.0 try later' \
    "$TMP/stderr"
[ "$(wc -l <"$TMP/stderr")" -eq 1 ] || fail "more than one line on stderr"

start_smtpd --fail 'mail=553 5.7.1 sender rejected'
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
check_grep 'MAIL FROM refused: 553 5.7.1 sender rejected' "$TMP/stderr"
exit 0
