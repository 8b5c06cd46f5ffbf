#!/bin/sh
# A 421 greeting: exit 75, the server's reply quoted; a 554 greeting: 69.
. "$POSTIE_SRCDIR/tests/integration/lib.sh"

start_smtpd --fail 'greeting=421 4.3.2 too busy, try later'
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
check_grep '421 4.3.2 too busy, try later' "$TMP/stderr"

start_smtpd --fail 'greeting=554 5.3.2 no service'
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
check_grep '554 5.3.2 no service' "$TMP/stderr"
exit 0
