#!/bin/sh
# Some recipients refused (550 and 450): the rest get the message, exit 0,
# and stderr names each refused recipient.
. "$POSTIE_SRCDIR/tests/integration/lib.sh"

start_smtpd --fail 'rcpt:bad@example.com=550 5.1.1 user unknown' \
    --fail 'rcpt:slow@example.com=450 4.2.1 try later'
write_config "$TMP/config" <<CONF
account default
# direct mode: these tests check the exit codes of the contract
queue off
host 127.0.0.1
port $SMTPD_PORT
from sender@example.org
CONF
printf 'Subject: x\n\nhello\n' >"$TMP/msg"
run_postie -C "$TMP/config" good@example.com bad@example.com \
    slow@example.com other@example.com <"$TMP/msg"
check_rc 0
check_count 1
[ "$(json_field 1 rcpt_tos)" = '["good@example.com", "other@example.com"]' ] ||
    fail "rcpt_tos is $(json_field 1 rcpt_tos)"
check_grep 'bad@example.com.*550 5.1.1 user unknown' "$TMP/stderr"
check_grep 'slow@example.com.*450 4.2.1 try later' "$TMP/stderr"
check_no_grep 'good@example.com' "$TMP/stderr"
exit 0
