#!/bin/sh
# STARTTLS: delivered when the CA is trusted; an untrusted certificate or a
# certificate for another name stops postie before MAIL (exit 69).
. "$POSTIE_SRCDIR/tests/integration/lib.sh"

make_certs
msg() { printf 'Subject: tls\n\nhello\n'; }
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
CONF
}

start_smtpd --starttls "$C/server.pem" "$C/server.key"
config
msg >"$TMP/msg"
run_postie -C "$TMP/config" a@example.com <"$TMP/msg"
check_rc 0
check_count 1
[ "$(json_field 1 tls)" = true ] || fail "message not sent over TLS"
check_grep '^--- TLS started ---' "$(transcript)"
# -v: the account and why, the TLS version and cipher, the result; the
# dialogue only with -vv.
run_postie -v -C "$TMP/config" a@example.com <"$TMP/msg"
check_rc 0
check_grep "^postie: account 'default' \(relay 127.0.0.1, port $SMTPD_PORT\) chosen" "$TMP/stderr"
check_grep '^postie: TLS: TLSv1\.[23] / [A-Z0-9_-]+' "$TMP/stderr"
check_grep "^postie: result: accepted for 1 of 1 recipient\(s\) by 127.0.0.1:$SMTPD_PORT: 2.0.0 Ok: queued as SINK0002\$" "$TMP/stderr"
check_no_grep '^postie: (<-|->) ' "$TMP/stderr"
run_postie -vv -C "$TMP/config" a@example.com <"$TMP/msg"
check_rc 0
check_grep '^postie: -> MAIL FROM:<sender@example.org>' "$TMP/stderr"
check_grep '^postie: <- 250' "$TMP/stderr"

# Self-signed certificate, not in the trust file.
start_smtpd --starttls "$C/self.pem" "$C/self.key"
config
msg >"$TMP/msg"
run_postie -C "$TMP/config" a@example.com <"$TMP/msg"
check_rc 69
check_count 0
check_grep 'TLS certificate of 127.0.0.1 not trusted' "$TMP/stderr"
check_no_grep '^MAIL' "$(transcript)"

# Trusted CA, but the certificate is for wrong.test.
start_smtpd --starttls "$C/wrong.pem" "$C/wrong.key"
config
msg >"$TMP/msg"
run_postie -C "$TMP/config" a@example.com <"$TMP/msg"
check_rc 69
check_count 0
check_grep 'not trusted' "$TMP/stderr"
check_no_grep '^MAIL' "$(transcript)"

# tls_host_override: verify the same certificate against wrong.test.
printf 'tls_host_override wrong.test\n' >>"$TMP/config"
msg >"$TMP/msg"
run_postie -C "$TMP/config" a@example.com <"$TMP/msg"
check_rc 0
check_count 1
exit 0
