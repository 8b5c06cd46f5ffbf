#!/bin/sh
# T8: implicit TLS (smtps, tls on + tls_starttls off), with AUTH.
. "$POSTIE_SRCDIR/tests/integration/lib.sh"

make_certs
start_smtpd --implicit-tls "$C/server.pem" "$C/server.key" --auth user:S3cr3t-pw
write_config "$TMP/config" <<CONF
account default
# direct mode: these tests check the exit codes of the contract
queue off
host 127.0.0.1
port $SMTPD_PORT
from sender@example.org
tls on
tls_starttls off
tls_trust_file $C/ca.pem
auth on
user user
password S3cr3t-pw
CONF
printf 'Subject: smtps\n\nhello\n' >"$TMP/msg"
run_postie -C "$TMP/config" a@example.com <"$TMP/msg"
check_rc 0
check_count 1
[ "$(json_field 1 tls)" = true ] || fail "not TLS"
[ "$(json_field 1 auth)" = '"user"' ] || fail "not authenticated"
check_no_grep 'STARTTLS' "$(transcript)"

# The untrusted certificate fails the same way as with STARTTLS.
start_smtpd --implicit-tls "$C/self.pem" "$C/self.key"
sed -i "s/^port .*/port $SMTPD_PORT/" "$TMP/config"
printf 'Subject: smtps\n\nhello\n' >"$TMP/msg"
run_postie -C "$TMP/config" a@example.com <"$TMP/msg"
check_rc 69
check_count 0
check_grep 'not trusted' "$TMP/stderr"
exit 0
