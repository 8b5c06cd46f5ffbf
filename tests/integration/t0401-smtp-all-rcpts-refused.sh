#!/bin/sh
# Every recipient refused with 5xx: exit 67 (EX_NOUSER), nothing sent.
. "$POSTIE_SRCDIR/tests/integration/lib.sh"

start_smtpd --fail 'rcpt:a@example.com=550 5.1.1 user unknown' \
    --fail 'rcpt:b@example.com=553 5.1.3 bad address'
write_config "$TMP/config" <<CONF
account default
# direct mode: these tests check the exit codes of the contract
queue off
host 127.0.0.1
port $SMTPD_PORT
from sender@example.org
CONF
printf 'Subject: x\n\nhello\n' >"$TMP/msg"
run_postie -C "$TMP/config" a@example.com b@example.com <"$TMP/msg"
check_rc 67
check_count 0
check_grep 'all recipients refused: 550 5.1.1 user unknown' "$TMP/stderr"
check_no_grep '^DATA' "$(transcript)"
exit 0
