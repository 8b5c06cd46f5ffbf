#!/bin/sh
# STARTTLS required but not offered, or refused: nothing is sent in clear
# (no AUTH, no MAIL).  Not offered: exit 69 (EX_UNAVAILABLE, transport.h);
# refused with 454: exit 75 (4xx is temporary).
. "$POSTIE_SRCDIR/tests/integration/lib.sh"

make_certs
config() {
	write_config "$TMP/config" <<CONF
account default
# direct mode: these tests check the exit codes of the contract
queue off
host 127.0.0.1
port $SMTPD_PORT
from sender@example.org
tls on
tls_starttls on
tls_trust_file $C/ca.pem
auth plain
user user
password S3cr3t-pw
CONF
}

start_smtpd
config
printf 'Subject: x\n\nhello\n' >"$TMP/msg"
run_postie -C "$TMP/config" a@example.com <"$TMP/msg"
check_rc 69
check_count 0
check_grep 'STARTTLS not offered by 127.0.0.1' "$TMP/stderr"
check_no_grep '^(MAIL|AUTH)' "$(transcript)"

start_smtpd --starttls "$C/server.pem" "$C/server.key" \
    --fail 'starttls=454 4.7.0 TLS not available now'
config
printf 'Subject: x\n\nhello\n' >"$TMP/msg"
run_postie -C "$TMP/config" a@example.com <"$TMP/msg"
check_rc 75
check_count 0
check_grep 'STARTTLS refused by 127.0.0.1:[0-9]+: 454 4.7.0' "$TMP/stderr"
check_no_grep '^(MAIL|AUTH)' "$(transcript)"
exit 0
