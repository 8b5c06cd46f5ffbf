#!/bin/sh
# AUTH PLAIN and LOGIN over STARTTLS; a 535 is exit 77, and with -vv the
# password never shows, in clear or in its SASL base64 forms.
. "$POSTIE_SRCDIR/tests/integration/lib.sh"

make_certs
PW=S3cr3t-pw
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
auth $1
user user
password $PW
CONF
}
no_secret() {
	for f in "$TMP/stderr" "$TMP/stdout"; do
		check_fixed_absent "$PW" "$f"
		check_fixed_absent "$(printf '%s' "$PW" | base64)" "$f"
		check_fixed_absent "$(printf '\0user\0%s' "$PW" | base64)" "$f"
		check_fixed_absent "$(printf 'user\0%s' "$PW" | base64)" "$f"
	done
}

start_smtpd --starttls "$C/server.pem" "$C/server.key" --auth "user:$PW"
for mech in plain login on; do
	config $mech
	printf 'Subject: auth\n\nhello\n' >"$TMP/msg"
	run_postie -vv -C "$TMP/config" a@example.com <"$TMP/msg"
	check_rc 0
	check_grep '<redacted>' "$TMP/stderr"
	no_secret
done
check_count 3
[ "$(json_field 1 auth)" = '"user"' ] || fail "not authenticated"
check_grep '^AUTH PLAIN' "$(transcript)"
check_grep '^AUTH LOGIN' "$(transcript)"

start_smtpd --starttls "$C/server.pem" "$C/server.key" --auth "user:$PW" \
    --fail 'auth=535 5.7.8 bad credentials'
for mech in plain login; do
	config $mech
	printf 'Subject: auth\n\nhello\n' >"$TMP/msg"
	run_postie -vv -C "$TMP/config" a@example.com <"$TMP/msg"
	check_rc 77
	check_grep 'authentication failed: 535 5.7.8 bad credentials' \
	    "$TMP/stderr"
	no_secret
done
check_count 0
check_no_grep '^MAIL' "$(transcript)"

# No password nor passwordeval (postie never prompts): the refused login
# is held, and the line says that no password is configured for the user.
write_config "$TMP/config" <<CONF
account default
host 127.0.0.1
port $SMTPD_PORT
from sender@example.org
tls on
tls_starttls on
tls_trust_file $C/ca.pem
auth plain
user user
CONF
run_postie -C "$TMP/config" a@example.com <"$TMP/msg"
check_rc 77
check_grep "^postie: NOT SENT: .*held until the configuration is fixed: no password is configured for user 'user' \\(postie never prompts\\): set 'password' or 'passwordeval'" \
    "$TMP/stderr"
check_count 0
exit 0
